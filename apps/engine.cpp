// One training epoch and evaluation, with deit's MetricLogger output.
#include "apps/engine.h"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "apps/args.h"
#include "apps/runtime.h"
#include "core/autograd.h"
#include "core/dist.h"
#include "core/ops.h"
#include "core/rng.h"
#include "nn/distillation.h"

namespace vt::apps {

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
constexpr uint64_t kStepStream = 0x73746570ULL;  // "step": dropout / drop-path draws

// Data parallelism: every rank's gradients are summed and divided by the world size, so each
// rank takes the same optimiser step as one process with the whole batch would. One flat buffer
// (a single allreduce) after the backward pass. Overlapping buckets with the backward could hide
// at most the reduction's own time, which is part of what each epoch reports (`allreduce_s`):
// with 2 ranks on one machine, 10 ms of a 1.2 s step for a deit_tiny-sized model (README.md,
// "Several machines"), so it is not done.
void average_gradients(const nn::Parameters& params, std::vector<float>& buffer) {
  int64_t total = 0;
  for (const nn::NamedTensor& p : params) total += p.tensor.numel();
  buffer.assign(static_cast<size_t>(total), 0.f);
  int64_t at = 0;
  for (const nn::NamedTensor& p : params) {
    const Tensor g = p.tensor.grad();
    if (g.defined()) std::copy(g.data(), g.data() + g.numel(), buffer.data() + at);
    at += p.tensor.numel();
  }
  dist::allreduce_sum(buffer.data(), total);
  const float inv = 1.f / static_cast<float>(dist::world_size());
  at = 0;
  for (const nn::NamedTensor& p : params) {
    Tensor g = p.tensor.grad();
    if (g.defined()) {
      float* d = g.data();
      for (int64_t i = 0; i < g.numel(); ++i) d[i] = buffer[static_cast<size_t>(at + i)] * inv;
    }
    at += p.tensor.numel();
  }
}

// The mean of a value over the ranks (every rank gets it).
double global_mean(double v) {
  dist::allreduce_sum(&v, 1);
  return v / dist::world_size();
}

// deit's "[ 40/147]": the index right-aligned to the width of the total.
std::string progress_index(int64_t i, int64_t total) {
  const int width = static_cast<int>(std::to_string(total).size());
  char buf[64];
  std::snprintf(buf, sizeof buf, "[%*lld/%lld]", width, static_cast<long long>(i), static_cast<long long>(total));
  return buf;
}
std::string weight_text(double w) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "  residual_weight: %.4f", w);
  return buf;
}

// Adds the forward's densities (empty when it used no mask) to the epoch's sums.
void accumulate_density(const std::vector<std::vector<double>>& d, Progress& p) {
  if (d.empty() || d[0].empty()) return;
  if (p.density_sum.empty()) {
    for (const auto& block : d) p.density_sum.emplace_back(block.size(), 0.0);
  }
  for (size_t b = 0; b < d.size(); ++b)
    for (size_t h = 0; h < d[b].size(); ++h) p.density_sum[b][h] += d[b][h];
  ++p.masked_steps;
}
}  // namespace

double training_progress(const TrainArgs& a, int64_t epoch, int64_t step, int64_t steps_per_epoch) {
  return static_cast<double>(epoch * steps_per_epoch + step) /
         static_cast<double>(std::max<int64_t>(1, a.epochs * steps_per_epoch - 1));
}

float residual_weight_at(const TrainArgs& a, const vit::AttentionKindSpec& kind, int64_t epoch, int64_t step,
                         int64_t steps_per_epoch) {
  if (!kind.residual_weight) return 1.f;
  return kind.residual_weight(training_progress(a, epoch, step, steps_per_epoch),
                              vit::ResidualAnneal{a.sparse_anneal == "cosine", a.sparse_anneal_end});
}

Datasets load_datasets(const TrainArgs& a, bool need_train) {
  Datasets d;
  if (a.data_set == "FMNIST") {
    const std::string dir = a.data_path.empty() ? data::kFashionMnistDir : a.data_path;
    auto val = std::make_shared<data::IdxDataset>(dir, "t10k", data::fashion_mnist_classes());
    d.classes = val->classes();
    d.val = val;
    if (need_train) {
      auto train = std::make_shared<data::IdxDataset>(dir, "train", data::fashion_mnist_classes());
      d.summary += data::format_summary(train->summary("train"), d.classes);
      d.train = train;
    }
    d.summary += data::format_summary(val->summary("val"), d.classes);
    return d;
  }
  VT_CHECK(!a.data_path.empty(), "--data-set ", a.data_set, " needs --data-path");
  data::FolderOptions fo;
  fo.class_map = a.class_map;
  fo.max_pixels = a.max_image_pixels;
  fo.strict = a.strict;
  std::shared_ptr<data::ImageFolder> train;
  if (need_train) {
    train = std::make_shared<data::ImageFolder>(a.data_path, a.train_split, fo);
    d.summary += data::format_summary(train->summary(), train->classes());
    fo.classes = train->classes();
    d.train = train;
  }
  auto val = std::make_shared<data::ImageFolder>(a.data_path, a.val_split, fo);
  d.summary += data::format_summary(val->summary(), val->classes());
  d.classes = val->classes();
  d.val = val;
  return d;
}

data::LoaderOptions loader_options(const TrainArgs& a, bool train, int64_t num_classes) {
  data::LoaderOptions o;
  o.batch_size = train ? a.batch_size : static_cast<int64_t>(1.5 * a.batch_size);  // deit's eval batch
  o.train = train;
  o.shuffle = train;
  o.drop_last = train;
  o.num_workers = a.num_workers;
  o.seed = static_cast<uint64_t>(a.seed);
  o.rank = a.rank;
  o.world_size = a.world_size;
  o.pad_shards = train;  // evaluation: disjoint shards, every image exactly once
  o.strict = a.strict;
  o.cache_decoded = a.cache_decoded;
  o.transform = transform_config(a);
  if (train && (a.mixup > 0 || a.cutmix > 0) && a.mixup_prob > 0) {
    data::MixupConfig m;
    m.mixup_alpha = a.mixup;
    m.cutmix_alpha = a.cutmix;
    m.prob = a.mixup_prob;
    m.switch_prob = a.mixup_switch_prob;
    m.smoothing = a.smoothing;
    m.num_classes = num_classes;
    o.mixup = m;
  }
  return o;
}

nn::LrSchedule lr_schedule(const TrainArgs& a, int64_t steps_per_epoch) {
  nn::LrSchedule s;
  s.kind = a.sched;
  s.lr = effective_lr(a);
  s.min_lr = a.min_lr;
  s.warmup_lr = a.warmup_lr;
  s.warmup_epochs = a.warmup_epochs;
  s.epochs = a.epochs;
  s.decay_epochs = a.decay_epochs;
  s.decay_rate = a.decay_rate;
  s.per_update = a.sched_on_updates;
  s.steps_per_epoch = steps_per_epoch;
  return s;
}

std::unique_ptr<nn::Optimizer> make_optimizer(const TrainArgs& a, const nn::Parameters& params) {
  auto groups = nn::param_groups_weight_decay(params, a.weight_decay);
  if (a.opt == "adamw") {
    nn::AdamWOptions o;
    if (!a.opt_betas.empty()) {
      o.beta1 = a.opt_betas[0];
      o.beta2 = a.opt_betas[1];
    }
    o.eps = a.opt_eps;
    return std::make_unique<nn::AdamW>(std::move(groups), o);
  }
  return std::make_unique<nn::SGD>(std::move(groups), nn::SgdOptions{a.momentum, a.opt == "sgd"});
}

// A batch that cannot fit is refused before anything large is allocated: the saved activations
// (an estimate per image) plus weights, gradients, AdamW's two moments and the EMA copy.
void check_memory(const vit::Deit& model, int64_t batch_size) {
  const double per_image = model.training_bytes_per_image();
  const double need = per_image * batch_size + 4.0 * 5 * double(model.num_parameters());
  const double avail = available_memory_bytes();
  if (avail > 0 && need > avail)
    throw UsageError(str_cat("--batch-size ", batch_size, ": a training step needs about ",
                             std::lround(need / 1e9 * 10) / 10.0, " GB (", std::lround(per_image / 1e6),
                             " MB of activations per image), more than the ", std::lround(avail / 1e9 * 10) / 10.0,
                             " GB this machine has available; lower --batch-size"));
}

EpochStats train_one_epoch(TrainContext& c, Progress& p) {
  const TrainArgs& a = c.args;
  EpochStats st;
  const int64_t total = c.loader.batches_per_epoch();
  const int64_t limit = a.max_steps > 0 ? std::min<int64_t>(total, a.max_steps) : total;
  const std::string header = str_cat("Epoch: [", p.epoch, "]");
  const bool tty = stdout_is_terminal() && dist::world_size() == 1;  // mpirun gives rank 0 a pty: plain lines
  SmoothedValue loss_meter, iter_time, data_time, teacher_time;
  const nn::DistillationType distillation = nn::parse_distillation_type(a.distillation_type);  // once, not per step
  const nn::Parameters params = c.model.parameters();
  std::vector<float> grad_buffer;
  const auto t_epoch = Clock::now();
  c.loader.start_epoch(p.epoch, p.step_in_epoch);
  int64_t images = 0;
  auto t_iter = Clock::now();
  for (int64_t step = p.step_in_epoch; step < limit; ++step) {
    const double wait_before = c.loader.wait_seconds();
    std::optional<data::Batch> batch = c.loader.next();
    if (!batch) break;
    const double data_s = c.loader.wait_seconds() - wait_before;
    const double lr = c.sched.lr_at(p.epoch, step);
    const bool annealed = bool(c.model.attention().residual_weight);  // the kind's own schedule (ViTALiTy's)
    if (annealed) {
      st.residual_weight = residual_weight_at(a, c.model.attention(), p.epoch, step, limit);
      c.model.set_residual_weight(st.residual_weight);
    }
    Generator gen = Generator::derive(static_cast<uint64_t>(a.seed), static_cast<uint64_t>(p.epoch),
                                      kStepStream + static_cast<uint64_t>(step));
    const vit::Deit::Heads heads = c.model.forward_heads(batch->images, nn::Context{true, &gen});
    accumulate_density(c.model.densities(), p);
    // deit's criterion on the class head (a distilled model's second head learns from the teacher)
    Tensor loss = batch->targets.defined() ? cross_entropy_soft(heads.cls, batch->targets)
                                           : cross_entropy(heads.cls, batch->labels, static_cast<float>(a.smoothing));
    if (c.teacher) {  // deit's DistillationLoss; a model without a distillation head distils through its class head
      const auto t_teacher = Clock::now();
      const Tensor teacher_logits = c.teacher->logits(batch->images, c.student_transform);
      const double ts = since(t_teacher);
      st.teacher_seconds += ts;
      teacher_time.update(ts);
      loss = nn::distillation_loss(loss, heads.dist.defined() ? heads.dist : heads.cls, teacher_logits, distillation,
                                   static_cast<float>(a.distillation_alpha), static_cast<float>(a.distillation_tau));
    }
    // the mean over all ranks: what one process with the whole batch would log, and every rank
    // sees the same value, so a non-finite loss stops them all at the same step
    const float loss_value = static_cast<float>(dist::world_size() > 1 ? global_mean(loss.item()) : loss.item());
    if (!std::isfinite(loss_value))
      throw NonFiniteLoss(str_cat("Loss is ", loss_value, " at epoch ", p.epoch, " step ", step, " (global step ",
                                  p.global_step, "), stopping training"));
    c.opt.zero_grad();
    loss.backward();
    if (dist::world_size() > 1) {
      const auto t_reduce = Clock::now();
      average_gradients(params, grad_buffer);
      st.allreduce_seconds += since(t_reduce);
    }
    if (a.clip_grad) nn::clip_grad_norm(params, *a.clip_grad);
    c.opt.step(lr);
    if (c.ema) c.ema->update(params);
    images += batch->images.size(0);
    p.loss_sum += loss_value;
    p.lr_sum += lr;
    p.step_in_epoch = step + 1;
    ++p.global_step;
    loss_meter.update(loss_value);
    data_time.update(data_s);
    iter_time.update(since(t_iter));
    t_iter = Clock::now();
    const bool last = step + 1 == limit;
    if (step % a.log_interval == 0 || last) {
      if (tty) std::printf("\r\033[K");
      const double eta = iter_time.global_avg() * (limit - step - 1);
      std::printf(
          "%s  %s  eta: %s  lr: %.6f  loss: %.4f (%.4f)  time: %.4f  data: %.4f%s  img/s: %.1f  rss: %.0f MB%s\n",
          header.c_str(), progress_index(step, limit).c_str(), format_duration(eta).c_str(), lr, loss_meter.median(),
          loss_meter.global_avg(), iter_time.median(), data_time.median(),
          c.teacher ? str_printf("  teacher: %.4f", teacher_time.median()).c_str() : "",
          batch->images.size(0) / std::max(iter_time.median(), 1e-9), resident_mb(),
          annealed ? weight_text(st.residual_weight).c_str() : "");
    } else if (tty) {
      const int width = 30, done = static_cast<int>(width * (step + 1) / limit);
      std::printf("\r%s [%s%s] %lld/%lld loss %.4f", header.c_str(), std::string(done, '#').c_str(),
                  std::string(width - done, '.').c_str(), static_cast<long long>(step + 1),
                  static_cast<long long>(limit), loss_meter.median());
    }
    std::fflush(stdout);
    // Ctrl-C reaches the ranks at different moments: they agree to stop after the same step.
    const bool stop = dist::world_size() > 1 ? global_mean(interrupted() ? 1.0 : 0.0) > 0 : interrupted();
    if (stop) {
      st.interrupted = true;
      break;
    }
  }
  st.steps = p.step_in_epoch;
  st.seconds = since(t_epoch);
  st.wait_seconds = c.loader.wait_seconds();
  double all_images = static_cast<double>(images);
  dist::allreduce_sum(&all_images, 1);  // throughput of the whole job
  st.images_per_s = all_images / std::max(st.seconds, 1e-9);
  st.train_loss = st.steps ? p.loss_sum / st.steps : 0;
  st.train_lr = st.steps ? p.lr_sum / st.steps : 0;
  st.masked_steps = p.masked_steps;
  for (const auto& block : p.density_sum) {
    st.densities.emplace_back();
    for (double v : block) st.densities.back().push_back(v / static_cast<double>(p.masked_steps));
  }
  if (!st.interrupted) {
    std::printf("%s Total time: %s (%.4f s / it)\n", header.c_str(), format_duration(st.seconds).c_str(),
                st.seconds / std::max<int64_t>(1, limit));
    std::printf("Averaged stats: lr: %.6f  loss: %.4f (%.4f)  wait: %.1f s (%.1f%%)", st.train_lr, loss_meter.median(),
                st.train_loss, st.wait_seconds, 100 * st.wait_seconds / std::max(st.seconds, 1e-9));
    if (c.teacher)
      std::printf("  teacher: %.1f s (%.1f%%)", st.teacher_seconds,
                  100 * st.teacher_seconds / std::max(st.seconds, 1e-9));
    if (dist::world_size() > 1)
      std::printf("  allreduce: %.1f s (%.1f%%)", st.allreduce_seconds,
                  100 * st.allreduce_seconds / std::max(st.seconds, 1e-9));
    std::printf("\n");
  }
  return st;
}

EvalStats evaluate(vit::Deit& model, data::DataLoader& loader, int log_interval, bool verbose, bool confusion) {
  NoGradGuard no_grad;
  EvalStats st;
  std::vector<double> counts(confusion ? size_t(model.cfg.num_classes * model.cfg.num_classes) : 0, 0.0);
  SmoothedValue loss_meter, acc1_meter, acc5_meter, iter_time, data_time;
  loader.start_epoch(0);
  const int64_t total = loader.batches_per_epoch();
  const int64_t K = model.cfg.num_classes, top = std::min<int64_t>(5, K);  // top-5 clamped to the class count
  double loss_sum = 0;
  int64_t batches = 0, correct1 = 0, correct5 = 0;
  auto t_iter = Clock::now();
  const auto t0 = Clock::now();
  for (int64_t i = 0; i < total; ++i) {
    const double wait_before = loader.wait_seconds();
    std::optional<data::Batch> batch = loader.next();
    if (!batch) break;
    data_time.update(loader.wait_seconds() - wait_before);
    Tensor logits = model.forward(batch->images, nn::Context{false, nullptr});
    const double loss = cross_entropy(logits, batch->labels).item();
    const int64_t B = logits.size(0);
    int64_t c1 = 0, c5 = 0;
    for (int64_t r = 0; r < B; ++r) {
      const float* row = logits.data() + r * K;
      const float target = row[batch->labels[r]];
      int64_t rank = 0;  // classes scoring above the label (ties go to the lower index, as topk)
      for (int64_t k = 0; k < K; ++k) rank += row[k] > target || (row[k] == target && k < batch->labels[r]);
      c1 += rank < 1;
      c5 += rank < top;
      if (confusion) {
        const int64_t predicted = std::max_element(row, row + K) - row;  // the first of equal maxima
        counts[batch->labels[r] * K + predicted] += 1;
      }
    }
    correct1 += c1;
    correct5 += c5;
    st.images += B;
    loss_sum += loss;
    ++batches;
    loss_meter.update(loss, B);
    acc1_meter.update(100.0 * c1 / B, B);
    acc5_meter.update(100.0 * c5 / B, B);
    iter_time.update(since(t_iter));
    t_iter = Clock::now();
    if (verbose && (i % log_interval == 0 || i + 1 == total)) {
      std::printf(
          "Test:  %s  eta: %s  loss: %.4f (%.4f)  acc1: %.4f (%.4f)  acc5: %.4f (%.4f)  time: %.4f  data: %.4f\n",
          progress_index(i, total).c_str(), format_duration(iter_time.global_avg() * (total - i - 1)).c_str(),
          loss_meter.median(), loss_meter.global_avg(), acc1_meter.median(), acc1_meter.global_avg(),
          acc5_meter.median(), acc5_meter.global_avg(), iter_time.median(), data_time.median());
      std::fflush(stdout);
    }
  }
  // Ranks evaluate disjoint shards: sum the counts (deit's dist_eval, without duplicated samples).
  double sums[5] = {double(st.images), loss_sum, double(batches), double(correct1), double(correct5)};
  dist::allreduce_sum(sums, 5);
  st.images = static_cast<int64_t>(sums[0]);
  loss_sum = sums[1];
  batches = static_cast<int64_t>(sums[2]);
  correct1 = static_cast<int64_t>(sums[3]);
  correct5 = static_cast<int64_t>(sums[4]);
  if (confusion) {
    dist::allreduce_sum(counts.data(), static_cast<int64_t>(counts.size()));
    for (double c : counts) st.confusion.push_back(static_cast<int64_t>(c));
  }
  // deit: accuracies weighted by batch size, the loss an unweighted mean of per-batch means
  st.loss = batches ? loss_sum / batches : 0;
  st.acc1 = st.images ? 100.0 * correct1 / st.images : 0;
  st.acc5 = st.images ? 100.0 * correct5 / st.images : 0;
  if (verbose) {
    const double secs = since(t0);
    std::printf("Test: Total time: %s (%.4f s / it)\n", format_duration(secs).c_str(),
                secs / std::max<int64_t>(batches, 1));
    std::printf("* Acc@1 %.3f Acc@5 %.3f loss %.3f\n", st.acc1, st.acc5, st.loss);
    std::fflush(stdout);
  }
  return st;
}

}  // namespace vt::apps
