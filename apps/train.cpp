// `vitality train`: deit's main.py. One run trains, evaluates every epoch, logs log.txt and
// writes checkpoints; without --data-path (and without --attn) it is the Quick start's main job:
// Fashion-MNIST with the "fmnist" preset, trained with softmax, ViTALiTy and Taylor attention,
// then a summary table and an SVG chart of the three runs.
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "apps/checkpointing.h"
#include "apps/commands.h"
#include "apps/engine.h"
#include "apps/hw.h"
#include "apps/plot.h"
#include "apps/preflight.h"
#include "apps/runtime.h"
#include "apps/teacher.h"
#include "apps/train_args.h"
#include "core/dist.h"
#include "core/fileio.h"
#include "core/rng.h"
#include "core/threads.h"
#include "data/transforms.h"
#include "hwmodel/config.h"
#include "vit/pretrained.h"

namespace vt::apps {

namespace {

// log.txt gains one JSON line per epoch, deit's keys first; the file is rewritten atomically so a
// crash never leaves half a line.
void append_log(const std::string& dir, const Json& line) {
  const std::string path = dir + "/log.txt";
  std::string text;
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) text = read_file(path);
  write_file_atomic(path, text + line.dump() + "\n");
}

struct RunResult {
  std::string name, output_dir;
  double acc1 = 0, acc5 = 0, max_acc1 = 0, acc1_sparse_kept = NAN;
  double epoch_seconds = 0, images_per_s = 0, wait_fraction = 0, total_seconds = 0;
  double mean_density = NAN;  // over the steps that used the mask
  int64_t masked_steps = 0;
  int64_t params = 0;
  std::shared_ptr<vit::Deit> model;  // the trained model (the main job estimates it on the accelerators)
  int exit_code = 0;
};

double mean_density(const std::vector<std::vector<double>>& d) {
  double s = 0;
  int64_t n = 0;
  for (const auto& layer : d)
    for (double v : layer) {
      s += v;
      ++n;
    }
  return n ? s / n : NAN;
}

// The run's model: built from the settings, initialised from the seed, --finetune weights loaded.
std::unique_ptr<vit::Deit> build_model(const TrainArgs& a) {
  auto model = std::make_unique<vit::Deit>(model_config(a));
  Generator init(static_cast<uint64_t>(a.seed));
  model->init(init);
  check_memory(*model, a.batch_size);
  std::printf("Creating model: %s (%s attention)\nnumber of params: %lld\n",
              a.model == "custom" ? "custom DeiT" : a.model.c_str(), a.attn.c_str(),
              static_cast<long long>(model->num_parameters()));
  if (!a.finetune.empty()) {
    vit::FinetuneReport fr = vit::load_pretrained(*model, nn::load_safetensors(a.finetune));
    for (const std::string& m : fr.messages) std::printf("%s\n", m.c_str());
    if (!fr.ignored.empty())
      std::printf("ignored %zu tensors of %s not in the model\n", fr.ignored.size(), a.finetune.c_str());
  }
  return model;
}

// --resume: weights, and with a state file the optimizer, EMA and progress. Returns the settings
// of the run that wrote the checkpoint (null without a state file).
Json resume_run(const TrainArgs& a, vit::Deit& model, nn::Optimizer& opt, std::unique_ptr<nn::ModelEma>& ema,
                Progress& progress) {
  const Resumed r = resume_training(a.resume, model, opt, ema.get(), progress);
  if (!r.with_state) {
    std::printf("Loaded weights from %s (no .state file: fresh optimizer, starting at epoch %d)\n", a.resume.c_str(),
                a.start_epoch);
    if (ema) ema = std::make_unique<nn::ModelEma>(model.parameters(), a.model_ema_decay);  // from the loaded weights
    return Json();
  }
  if (r.world_size != a.world_size && progress.step_in_epoch > 0) {
    // the steps of an epoch are cut differently with another number of ranks: redo this epoch
    std::printf(
        "Resuming with %d processes (the checkpoint was written by %lld): epoch %lld restarts from its first step\n",
        a.world_size, static_cast<long long>(r.world_size), static_cast<long long>(progress.epoch));
    progress.global_step -= progress.step_in_epoch;
    progress.restart_epoch();
  }
  std::printf("Resumed from %s at epoch %lld step %lld\n", a.resume.c_str(), static_cast<long long>(progress.epoch),
              static_cast<long long>(progress.step_in_epoch));
  return r.args;
}

// A kind whose sparse residual is annealed over the run (vitality) anneals over the run's
// --epochs: resuming with other values than the checkpoint's changes the weight from this step
// on, which is said here with both values.
void report_anneal_change(const TrainArgs& a, const Json& saved, const vit::Deit& model, const Progress& p,
                          int64_t steps_per_epoch) {
  const vit::AttentionKindSpec& kind = model.attention();
  if (!kind.residual_weight || saved.is_null()) return;
  TrainArgs before = a;
  if (const Json* e = saved.find("epochs")) before.epochs = static_cast<int>(e->as_int("epochs"));
  if (const Json* m = saved.find("sparse_anneal")) before.sparse_anneal = m->as_string("sparse_anneal");
  if (const Json* f = saved.find("sparse_anneal_end")) before.sparse_anneal_end = f->as_double("sparse_anneal_end");
  if (before.epochs == a.epochs && before.sparse_anneal == a.sparse_anneal &&
      before.sparse_anneal_end == a.sparse_anneal_end)
    return;
  std::printf(
      "Resuming with --epochs %d --sparse-anneal %s --sparse-anneal-end %g (the checkpoint's run: %d, %s, %g): the %s "
      "residual's weight is annealed over the new run from here on, %.4f at this step (it would have been %.4f)\n",
      a.epochs, a.sparse_anneal.c_str(), a.sparse_anneal_end, before.epochs, before.sparse_anneal.c_str(),
      before.sparse_anneal_end, kind.name, residual_weight_at(a, kind, p.epoch, p.step_in_epoch, steps_per_epoch),
      residual_weight_at(before, kind, p.epoch, p.step_in_epoch, steps_per_epoch));
}

// The evaluation after an epoch: the model's weights, or the EMA's with --eval-ema (swapped in
// for the evaluation and back).
EvalStats evaluate_epoch(vit::Deit& model, const nn::ModelEma* ema, data::DataLoader& val_loader, const TrainArgs& a) {
  const nn::Parameters params = model.parameters();
  std::vector<Tensor> saved;
  if (ema && a.eval_ema) {
    for (size_t i = 0; i < params.size(); ++i) {
      Tensor w = params[i].tensor;  // a handle: writes go to the model's storage
      saved.push_back(w.clone());
      std::copy(ema->shadow()[i].tensor.data(), ema->shadow()[i].tensor.data() + w.numel(), w.data());
    }
  }
  EvalStats ev = evaluate(model, val_loader, a.log_interval, true);
  for (size_t i = 0; i < saved.size(); ++i) {
    Tensor w = params[i].tensor;
    std::copy(saved[i].data(), saved[i].data() + saved[i].numel(), w.data());
  }
  return ev;
}

// log.txt's line for a finished epoch: deit's keys first.
Json epoch_log_line(const EpochStats& es, const EvalStats& ev, int64_t epoch, int64_t params, const TrainArgs& a) {
  Json line = Json::object();
  line.set("train_lr", es.train_lr);
  line.set("train_loss", es.train_loss);
  line.set("test_loss", ev.loss);
  line.set("test_acc1", ev.acc1);
  line.set("test_acc5", ev.acc5);
  line.set("epoch", epoch);
  line.set("n_parameters", params);
  line.set("epoch_time_s", es.seconds);
  line.set("train_images_per_s", es.images_per_s);
  line.set("data_wait_s", es.wait_seconds);
  if (dist::world_size() > 1) line.set("allreduce_s", es.allreduce_seconds);
  line.set("rss_mb", resident_mb());
  line.set("attn", a.attn);
  line.set("kernels", kernel_path());  // what the bits depend on besides the settings (core/threads.h)
  line.set("blas", blas_info());
  if (!std::isnan(es.residual_weight)) line.set("residual_weight", es.residual_weight);
  if (a.distillation_type != "none") line.set("teacher_s", es.teacher_seconds);
  if (!es.densities.empty()) {  // the mean over the epoch's steps that used the mask
    Json dens = Json::array();
    for (const auto& layer : es.densities) {
      Json heads = Json::array();
      for (double v : layer) heads.push(v);
      dens.push(heads);
    }
    line.set("density", dens);
    line.set("density_steps", es.masked_steps);
  }
  return line;
}

// What dropping ViTALiTy's sparse part costs, for a run that kept its weight at 1: the same
// weights evaluated with it kept.
double accuracy_with_sparse_part(vit::Deit& model, data::DataLoader& val_loader, const TrainArgs& a) {
  for (vit::Block& b : model.blocks) b.attn.eval_sparse = true;
  const double acc1 = evaluate(model, val_loader, a.log_interval, false).acc1;
  for (vit::Block& b : model.blocks) b.attn.eval_sparse = a.eval_sparse;
  return acc1;
}

// The teacher of a distillation run. A resumed run continues the distillation its state file
// records (teacher path, type, alpha, tau) unless the command line names one, and says when the
// teacher's weights are not the ones the run started with.
std::shared_ptr<Teacher> load_teacher(TrainArgs& a, const Json& saved, std::shared_ptr<Teacher> given) {
  const Json* saved_type = saved.is_null() ? nullptr : saved.find("distillation_type");
  if (a.distillation_type == "none" && saved_type && saved_type->as_string() != "none" && !given) {
    a.distillation_type = saved_type->as_string();
    a.distillation_alpha = saved.find("distillation_alpha")->as_double("distillation_alpha");
    a.distillation_tau = saved.find("distillation_tau")->as_double("distillation_tau");
    a.teacher_path = saved.find("teacher_path")->as_string("teacher_path");
    a.teacher_model = saved.find("teacher_model")->as_string("teacher_model");
    std::printf(
        "Continuing the checkpoint's distillation: --distillation-type %s --distillation-alpha %g "
        "--distillation-tau %g --teacher-path %s\n",
        a.distillation_type.c_str(), a.distillation_alpha, a.distillation_tau, a.teacher_path.c_str());
    require_file("teacher-path", a.teacher_path);
  }
  if (a.distillation_type == "none") return nullptr;
  std::shared_ptr<Teacher> t = given ? given : std::make_shared<Teacher>(a.teacher_path, a.teacher_model);
  VT_CHECK(t->model().cfg.num_classes == a.num_classes, "teacher ", t->label(), " has ", t->model().cfg.num_classes,
           " classes, the dataset ", a.num_classes);
  a.teacher_fingerprint = t->fingerprint();
  if (const Json* f = saved.is_null() ? nullptr : saved.find("teacher_fingerprint");
      f && f->as_string() != t->fingerprint())
    std::printf("warning: the teacher %s holds other weights than the run started with (fingerprint %s, now %s)\n",
                t->label().c_str(), f->as_string().c_str(), t->fingerprint().c_str());
  std::printf("distillation: %s, alpha %g%s, through the %s; %s\n", a.distillation_type.c_str(), a.distillation_alpha,
              a.distillation_type == "soft" ? str_printf(", tau %g", a.distillation_tau).c_str() : "",
              model_config(a).distilled ? "distillation head" : "class head (the model has no distillation token)",
              t->describe().c_str());
  return t;
}

RunResult run_single(TrainArgs a, const Datasets& ds, std::shared_ptr<Teacher> given_teacher = nullptr) {
  using Clock = std::chrono::steady_clock;
  const auto t_start = Clock::now();
  RunResult res;
  res.name = a.attn;
  res.output_dir = a.output_dir;
  a.num_classes = ds.val->num_classes();
  a.class_names = ds.classes;
  std::unique_ptr<vit::Deit> model_ptr = build_model(a);
  vit::Deit& model = *model_ptr;
  res.params = model.num_parameters();
  const nn::Parameters params = model.parameters();
  std::unique_ptr<nn::Optimizer> opt = make_optimizer(a, params);
  std::unique_ptr<nn::ModelEma> ema = a.model_ema ? std::make_unique<nn::ModelEma>(params, a.model_ema_decay) : nullptr;
  Progress progress;
  progress.epoch = a.start_epoch;
  const Json saved_args = a.resume.empty() ? Json() : resume_run(a, model, *opt, ema, progress);

  data::DataLoader val_loader(ds.val, loader_options(a, /*train=*/false, a.num_classes));
  if (a.eval) {
    EvalStats ev = evaluate(model, val_loader, a.log_interval, true);
    std::printf("Accuracy of the network on the %lld test images: %.1f%%\n", static_cast<long long>(ev.images),
                ev.acc1);
    res.acc1 = ev.acc1;
    res.acc5 = ev.acc5;
    return res;
  }
  data::DataLoader train_loader(ds.train, loader_options(a, /*train=*/true, a.num_classes));
  VT_CHECK(train_loader.batches_per_epoch() > 0, "the training set (", train_loader.samples_per_epoch(),
           " images per process) is smaller than one batch of ", a.batch_size);
  const int64_t steps_per_epoch =
      a.max_steps > 0 ? std::min(a.max_steps, train_loader.batches_per_epoch()) : train_loader.batches_per_epoch();
  report_anneal_change(a, saved_args, model, progress, steps_per_epoch);
  const std::shared_ptr<Teacher> teacher = load_teacher(a, saved_args, given_teacher);
  const nn::LrSchedule sched = lr_schedule(a, steps_per_epoch);
  if (!a.output_dir.empty() && dist::is_main()) make_directories(a.output_dir);
  // rank 0 alone writes checkpoints and log.txt (the others hold the same weights)
  const std::string ckpt = a.output_dir.empty() || !dist::is_main() ? "" : a.output_dir + "/checkpoint.safetensors";
  std::printf("Start training for %d epochs\n", a.epochs);
  std::fflush(stdout);
  TrainContext ctx{model, train_loader, *opt, sched, ema.get(), a, teacher.get(), transform_config(a)};
  double seconds_sum = 0, images_per_s_sum = 0, wait_sum = 0, density_sum = 0;
  int epochs_done = 0;
  int64_t masked_steps = 0;
  for (; progress.epoch < a.epochs; ++progress.epoch) {
    EpochStats es;
    try {
      es = train_one_epoch(ctx, progress);
    } catch (const NonFiniteLoss& e) {
      struct stat st;
      const bool have = !ckpt.empty() && ::stat(ckpt.c_str(), &st) == 0;
      std::printf("%s; last good checkpoint: %s\n", e.what(),
                  ckpt.empty() ? "none (no --output_dir)"
                  : have
                      ? (ckpt + " (written after the previous epoch; continue with --resume and a lower --lr)").c_str()
                      : "none yet (the first epoch did not finish)");
      res.exit_code = 1;
      return res;
    }
    if (es.interrupted) {
      if (!ckpt.empty()) {
        save_training_checkpoint(ckpt, SaveInputs{model, *opt, ema.get(), progress, a, ds.classes});
        std::printf("\nInterrupted at epoch %lld step %lld; checkpoint saved to %s (continue with --resume %s)\n",
                    static_cast<long long>(progress.epoch), static_cast<long long>(progress.step_in_epoch),
                    ckpt.c_str(), ckpt.c_str());
      } else {
        std::printf("\nInterrupted at epoch %lld step %lld (no --output_dir: nothing saved)\n",
                    static_cast<long long>(progress.epoch), static_cast<long long>(progress.step_in_epoch));
      }
      res.exit_code = 130;
      return res;
    }
    const EvalStats ev = evaluate_epoch(model, ema.get(), val_loader, a);
    std::printf("Accuracy of the network on the %lld test images: %.1f%%\n", static_cast<long long>(ev.images),
                ev.acc1);
    const bool best = ev.acc1 > progress.max_accuracy;  // deit: strictly better
    progress.max_accuracy = std::max(progress.max_accuracy, ev.acc1);
    std::printf("Max accuracy: %.2f%%\n", progress.max_accuracy);
    const int64_t finished_epoch = progress.epoch;
    progress.restart_epoch();
    if (!ckpt.empty()) {
      Progress next = progress;
      next.epoch = finished_epoch + 1;
      save_training_checkpoint(ckpt, SaveInputs{model, *opt, ema.get(), next, a, ds.classes});
      if (best)
        save_training_checkpoint(a.output_dir + "/best_checkpoint.safetensors",
                                 SaveInputs{model, *opt, ema.get(), next, a, ds.classes});
      append_log(a.output_dir, epoch_log_line(es, ev, finished_epoch, res.params, a));
    }
    res.acc1 = ev.acc1;
    res.acc5 = ev.acc5;
    if (es.masked_steps > 0) {
      density_sum += mean_density(es.densities) * double(es.masked_steps);
      masked_steps += es.masked_steps;
    }
    seconds_sum += es.seconds;
    images_per_s_sum += es.images_per_s;
    wait_sum += es.wait_seconds;
    ++epochs_done;
  }
  res.max_acc1 = progress.max_accuracy;
  res.masked_steps = masked_steps;
  if (masked_steps > 0) res.mean_density = density_sum / double(masked_steps);
  if (epochs_done) {
    res.epoch_seconds = seconds_sum / epochs_done;
    res.images_per_s = images_per_s_sum / epochs_done;
    res.wait_fraction = wait_sum / seconds_sum;
  }
  if (model.attention().residual_weight && epochs_done && a.sparse_anneal == "none") {
    res.acc1_sparse_kept = accuracy_with_sparse_part(model, val_loader, a);
    std::printf("%s with the sparse part kept at evaluation: Acc@1 %.3f (deployed %s: %.3f)\n", a.attn.c_str(),
                res.acc1_sparse_kept, model.attention().deployed().name, res.acc1);
  }
  res.total_seconds = std::chrono::duration<double>(Clock::now() - t_start).count();
  std::printf("Training time %s\n", format_duration(res.total_seconds).c_str());
  res.model = std::move(model_ptr);
  return res;
}

// The paths of the run, before the dataset is scanned or a model built.
void preflight(const TrainArgs& a) {
  if (!a.resume.empty()) require_file("resume", a.resume);
  if (!a.finetune.empty()) require_file("finetune", a.finetune);
  if (!a.class_map.empty()) require_file("class-map", a.class_map);
  if (!a.teacher_path.empty()) require_file("teacher-path", a.teacher_path);
  if (!a.data_path.empty()) require_dir("data-path", a.data_path);
  if (!a.output_dir.empty() && dist::is_main()) require_writable_dir("output_dir", a.output_dir);
}

// Every rank must run the same job: rank 0's resolved settings (and the checkpoint it resumes
// from) against each rank's own; a difference ends the job naming the rank and the setting.
void check_same_settings(const TrainArgs& a) {
  Json mine = settings_json(a);
  mine.set("rank", 0);      // the only setting allowed to differ
  if (!a.resume.empty()) {  // the same file on every rank (a shared file system, or copies of one save)
    const nn::SafetensorsFile f = nn::load_safetensors(a.resume);
    auto id = f.metadata.find("checkpoint_id");
    mine.set("resume_checkpoint_id", Json(id == f.metadata.end() ? std::string("(none)") : id->second));
  }
  std::string text = mine.dump();
  const std::string own = text;
  dist::broadcast(text);
  if (text == own) return;
  const Json ref = Json::parse(text);
  for (const auto& [key, value] : mine.members()) {
    const Json* other = ref.find(key);
    if (!other || other->dump() != value.dump())
      throw Error(str_cat("setting '", key, "' is ", value.dump(), " here but ",
                          other ? other->dump() : std::string("absent"),
                          " on rank 0: every rank must run the same job"));
  }
  throw Error("the settings differ from rank 0's");
}

void print_startup(const TrainArgs& a, const Datasets& ds) {
  std::printf("%s", settings_table(a).c_str());
  std::printf("effective lr: %.6g (%s)\n", effective_lr(a),
              a.unscale_lr
                  ? "--unscale-lr: as given"
                  : str_cat("lr ", a.lr, " x batch ", a.batch_size, " x world ", a.world_size, " / 512").c_str());
  std::printf("%s", ds.summary.c_str());
  std::printf("threads: %d (hardware %d), data workers: %d, kernels: %s, BLAS: %s\n", num_threads(), hardware_threads(),
              a.num_workers, kernel_path().c_str(), blas_info().c_str());
  if (a.world_size > 1)
    std::printf("distributed: %d processes over MPI, batch %d per process (%d in all); rank 0 logs and checkpoints\n",
                a.world_size, a.batch_size, a.batch_size * a.world_size);
  std::fflush(stdout);
}

// How a kind is evaluated: itself, or its deployed form ("taylor (deployed)").
std::string evaluated_as(const std::string& kind) {
  const vit::AttentionKindSpec& k = vit::attention_kind(kind);
  return k.inference_kind ? str_cat(k.inference_kind, " (deployed)") : kind;
}

// The main job: three attention kinds on Fashion-MNIST, a summary table and one chart.
// `save`: write runs (checkpoints, log.txt) and the summary under base.output_dir; without it (an
// explicitly empty --output_dir, as deit means it) nothing is written.
int run_main_job(TrainArgs base, bool save) {
  const Datasets ds = load_datasets(base);
  print_startup(base, ds);
  std::vector<RunResult> results;
  std::shared_ptr<Teacher> teacher;  // --distill-from-softmax: the softmax run teaches the others
  for (const char* kind : {"softmax", "vitality", "taylor"}) {
    TrainArgs a = base;
    a.attn = kind;
    a.output_dir = save ? base.output_dir + "/" + kind : "";
    if (teacher) {  // deit's recipe: a distillation token and head, hard distillation unless asked otherwise
      a.distilled = true;
      if (a.distillation_type == "none") a.distillation_type = "hard";
    } else if (base.distill_from_softmax) {
      a.distillation_type = "none";  // the teacher itself
    }
    std::printf("\n==== %s attention%s -> %s ====\n", kind, teacher ? " (distilled from the softmax run)" : "",
                save ? a.output_dir.c_str() : "(nothing saved)");
    RunResult r = run_single(a, ds, teacher);
    if (r.exit_code) return r.exit_code;
    results.push_back(r);
    if (base.distill_from_softmax && !teacher)
      teacher = std::make_shared<Teacher>(r.model, transform_config(base), "the softmax run of this job");
  }
  // The trained models on the accelerators (hwmodel/): one test image, batch 1.
  const hw::EnergyTable energy = hw::load_energy_table("energy-45nm");
  std::vector<hw::Report> estimates;
  const data::TransformConfig transform = transform_config(base);
  data::DecodeResult img = ds.val->load(0);
  VT_CHECK(img.image, ds.val->describe(0), ": ", img.error);
  Tensor x = empty({1, transform.in_chans, transform.input_size, transform.input_size});
  data::eval_transform(*img.image, transform, x.data());
  for (const RunResult& r : results)
    estimates.push_back(
        estimate_on_accelerator(*r.model, x, hw::load_arch_config(vit::attention_kind(r.name).accelerator), energy));
  std::ostringstream table;
  table << "\nSummary (" << base.preset << " preset, " << base.epochs << " epochs, Fashion-MNIST test set of "
        << ds.val->size() << " images; " << num_threads() << " threads, kernels " << kernel_path() << ", "
        << blas_info() << ": the same bits on every run with these, the last digits may differ with others)\n";
  table << "| attention | top-1 (%) | top-5 (%) | epoch time (s) | train img/s | data wait | mask density | evaluated "
           "as |"
           " accelerator | us / image | uJ / image |\n";
  table << "|---|---|---|---|---|---|---|---|---|---|---|\n";
  char row[512];
  for (size_t i = 0; i < results.size(); ++i) {
    const RunResult& r = results[i];
    std::snprintf(row, sizeof row, "| %s | %.2f | %.2f | %.1f | %.0f | %.1f%% | %s | %s | %s | %.2f | %.3f |\n",
                  (r.name + (i > 0 && teacher ? " (distilled)" : "")).c_str(), r.acc1, r.acc5, r.epoch_seconds,
                  r.images_per_s, 100 * r.wait_fraction,
                  std::isnan(r.mean_density) ? "-" : str_cat(std::round(r.mean_density * 1000) / 1000).c_str(),
                  evaluated_as(r.name).c_str(), estimates[i].arch_name.c_str(), estimates[i].latency_s * 1e6,
                  estimates[i].energy_pj() * 1e-6);
    table << row;
  }
  if (!std::isnan(results[1].acc1_sparse_kept)) {
    std::snprintf(row, sizeof row,
                  "ViTALiTy with its sparse part kept at evaluation: %.2f%% (dropping it costs %.2f points)\n",
                  results[1].acc1_sparse_kept, results[1].acc1_sparse_kept - results[1].acc1);
    table << row;
  } else if (base.sparse_anneal == "cosine") {
    std::snprintf(
        row, sizeof row,
        "ViTALiTy: the exp residual (on pairs kept at threshold %g; mask density %.3f, the mean over the %lld steps "
        "that used the mask) was annealed from weight 1 to 0 over the first %.0f%% of training, so the trained model "
        "is the deployed Taylor-only one\n",
        base.sparse_threshold, results[1].mean_density, static_cast<long long>(results[1].masked_steps),
        100 * base.sparse_anneal_end);
    table << row;
  }
  std::snprintf(row, sizeof row, "ViTALiTy (Taylor-only) vs softmax: %+.2f points\n",
                results[1].acc1 - results[0].acc1);
  table << row;
  const int64_t tokens = model_config(base).tokens(), head_dim = base.embed_dim / base.num_heads;
  std::snprintf(
      row, sizeof row,
      "Accelerator estimates (vitality hw, batch 1): attention %.2f us with ViTALiTy's Taylor steps against %.2f us "
      "with "
      "softmax; at %lld tokens and head dim %lld Taylor saves MACs only by n/d = %.2fx (3.1x for DeiT at 224 px, "
      "see hwmodel/README.md)\n",
      estimates[1].attention_cycles / estimates[1].clock_hz * 1e6,
      estimates[0].attention_cycles / estimates[0].clock_hz * 1e6, static_cast<long long>(tokens),
      static_cast<long long>(head_dim), double(tokens) / double(head_dim));
  table << row;
  std::printf("%s", table.str().c_str());
  if (!save) {
    std::printf("nothing written (--output_dir is empty)\n");
    return 0;
  }
  write_file_atomic(base.output_dir + "/summary.md", table.str());
  std::vector<RunLog> logs;
  for (const RunResult& r : results) {
    RunLog l = read_run_log(r.output_dir);
    l.name = r.name;
    logs.push_back(l);
  }
  write_file_atomic(base.output_dir + "/training.svg",
                    training_chart_svg(logs, "Fashion-MNIST: softmax, ViTALiTy, Taylor"));
  std::printf("wrote %s/summary.md and %s/training.svg\n", base.output_dir.c_str(), base.output_dir.c_str());
  return 0;
}

}  // namespace

int run_train(int argc, char** argv) {
  TrainArgs a;
  ArgParser p("train",
              "Train (or with --eval, evaluate) a DeiT with deit's recipe. Without --data-path: the Fashion-MNIST "
              "main job (softmax, ViTALiTy and Taylor attention compared).");
  add_train_flags(p, a);
  if (!p.parse(argc, argv, 2)) return 0;
  const bool main_job = a.data_path.empty() && !p.was_set("data-set") && !p.was_set("attn") && !p.was_set("vitality") &&
                        !a.eval && a.resume.empty();
  if (a.distill_from_softmax && !main_job)
    throw UsageError("--distill-from-softmax applies to the main job (train without --data-path and --attn)");
  if (a.data_path.empty() && a.preset.empty() && !p.was_set("data-set")) a.preset = "fmnist";
  apply_preset(a, p);
  a.rank = dist::rank();
  a.world_size = dist::world_size();
  validate(a);
  set_num_threads(a.threads > 0 ? a.threads : hardware_threads());
  if (a.world_size > 1) check_same_settings(a);
  install_interrupt_handler();
  if (main_job && a.output_dir.empty() && !p.was_set("output_dir")) a.output_dir = "runs/" + a.preset;
  if (a.eval && a.resume.empty()) throw UsageError("--eval needs --resume CHECKPOINT (the weights to evaluate)");
  preflight(a);
  if (main_job) return run_main_job(a, !a.output_dir.empty());
  const Datasets ds = load_datasets(a, /*need_train=*/!a.eval);
  print_startup(a, ds);
  return run_single(a, ds).exit_code;
}

}  // namespace vt::apps
