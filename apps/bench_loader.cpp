// `vitality bench-loader`: does the data loader keep a DeiT busy? Issue 4's target: with
// deit_tiny at 224 on this machine's cores, training on 500x375 JPEGs, the model waits for data
// less than 5% of the step time. Measured in one run, side by side:
//   1. decode and train-transform cost per image on one thread (where the loader's time goes);
//   2. loader-only throughput with 1 and --num_workers workers (images/s);
//   3. compute-only step time: forward, backward and AdamW on one batch held in memory;
//   4. real training steps (deit's full augmentation: RandomResizedCrop, flip, RandAugment,
//      random erasing, mixup/cutmix) through the loader: step time, and the share of it spent
//      waiting for data. The ratio of 4's step time to 3's is what the workers cost the model by
//      sharing its cores.
// Without --data-path the images are synthesised: photo-like scenes (gradients, soft shapes,
// texture, sensor noise) written as quality-90 JPEGs of --width x --height into a temporary
// ImageFolder that is removed afterwards.
#define STB_IMAGE_WRITE_IMPLEMENTATION  // the only user of stb's JPEG writer
#define STB_IMAGE_WRITE_STATIC
#define STBI_WRITE_NO_STDIO
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#include <stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "apps/args.h"
#include "apps/commands.h"
#include "apps/engine.h"
#include "apps/train_args.h"
#include "core/fileio.h"
#include "core/ops.h"
#include "core/rng.h"
#include "core/threads.h"

namespace vt::apps {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// A photo-like RGB scene: a two-colour vertical gradient, a few soft-edged ellipses, value-noise
// texture at three scales and per-pixel noise (sigma 20), so that a JPEG of it costs what a
// photograph of the same size costs to decode (the entropy decoder's work grows with detail).
data::Image synth_scene(int width, int height, Generator& gen) {
  data::Image img = data::make_image(width, height, 3);
  float top[3], bottom[3];
  for (int c = 0; c < 3; ++c) {
    top[c] = static_cast<float>(gen.uniform(40, 230));
    bottom[c] = static_cast<float>(gen.uniform(20, 200));
  }
  struct Blob {
    float cx, cy, rx, ry, col[3];
  };
  std::vector<Blob> blobs(static_cast<size_t>(gen.randint(3, 8)));
  for (Blob& b : blobs) {
    b.cx = static_cast<float>(gen.uniform(0, width));
    b.cy = static_cast<float>(gen.uniform(0, height));
    b.rx = static_cast<float>(gen.uniform(20, width / 3.0));
    b.ry = static_cast<float>(gen.uniform(20, height / 3.0));
    for (float& c : b.col) c = static_cast<float>(gen.uniform(0, 255));
  }
  // value noise: random lattices of spacing 64, 16 and 4 pixels, bilinearly interpolated
  const int spacings[3] = {64, 16, 4};
  const float amplitudes[3] = {30, 18, 16};
  std::vector<std::vector<float>> lattice(3);
  std::vector<int> lw(3);
  for (int o = 0; o < 3; ++o) {
    lw[o] = width / spacings[o] + 2;
    const int lh = height / spacings[o] + 2;
    lattice[o].resize(static_cast<size_t>(lw[o]) * lh);
    for (float& v : lattice[o]) v = static_cast<float>(gen.uniform(-1, 1));
  }
  for (int y = 0; y < height; ++y) {
    const float t = static_cast<float>(y) / static_cast<float>(height - 1 > 0 ? height - 1 : 1);
    for (int x = 0; x < width; ++x) {
      float texture = 0;
      for (int o = 0; o < 3; ++o) {
        const float fx = static_cast<float>(x) / spacings[o], fy = static_cast<float>(y) / spacings[o];
        const int ix = static_cast<int>(fx), iy = static_cast<int>(fy);
        const float ax = fx - ix, ay = fy - iy;
        const float* l = lattice[o].data() + static_cast<size_t>(iy) * lw[o] + ix;
        texture +=
            amplitudes[o] * ((1 - ay) * ((1 - ax) * l[0] + ax * l[1]) + ay * ((1 - ax) * l[lw[o]] + ax * l[lw[o] + 1]));
      }
      float rgb[3];
      for (int c = 0; c < 3; ++c) rgb[c] = (1 - t) * top[c] + t * bottom[c];
      for (const Blob& b : blobs) {
        const float dx = (x - b.cx) / b.rx, dy = (y - b.cy) / b.ry;
        const float r2 = dx * dx + dy * dy;
        const float w = std::clamp((1.2f - r2) * 5.f, 0.f, 1.f);  // soft edge
        for (int c = 0; c < 3; ++c) rgb[c] = (1 - w) * rgb[c] + w * b.col[c];
      }
      for (int c = 0; c < 3; ++c) {
        const float v = rgb[c] + texture + 20.f * static_cast<float>(gen.normal());
        img.at(y, x, c) = static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
      }
    }
  }
  return img;
}

void append_bytes(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<size_t>(size));
}

void make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
    throw Error(str_cat(path, ": cannot create directory: ", std::strerror(errno)));
}

// Removes the synthetic ImageFolder: root/train/<class>/<files>, nothing else.
void remove_tree(const std::string& path) {
  if (DIR* d = ::opendir(path.c_str())) {
    while (dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      const std::string child = path + "/" + name;
      struct stat st;
      if (::lstat(child.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) remove_tree(child);
      else ::unlink(child.c_str());
    }
    ::closedir(d);
  }
  ::rmdir(path.c_str());
}

struct Synthetic {
  std::string root;
  double mean_bytes = 0, seconds = 0;
};

Synthetic write_synthetic_folder(int images, int classes, int width, int height, uint64_t seed) {
  Synthetic s;
  char tmpl[] = "/tmp/vitality-bench-loader-XXXXXX";
  if (!::mkdtemp(tmpl)) throw Error(str_cat("cannot create a temporary directory in /tmp: ", std::strerror(errno)));
  s.root = tmpl;
  const auto t0 = Clock::now();
  make_dir(s.root + "/train");
  for (int k = 0; k < classes; ++k) make_dir(str_cat(s.root, "/train/class", k));
  std::vector<size_t> sizes(static_cast<size_t>(images));
  std::vector<std::string> errors(static_cast<size_t>(images));  // no exception may leave a parallel loop
  parallel_for(images, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      try {
        Generator gen = Generator::derive(seed, static_cast<uint64_t>(i));
        const data::Image img = synth_scene(width, height, gen);
        std::string jpeg;
        if (!stbi_write_jpg_to_func(append_bytes, &jpeg, width, height, 3, img.pixels.data(), 90))
          throw Error("stb_image_write could not encode a JPEG");
        write_file_atomic(str_cat(s.root, "/train/class", i % classes, "/img", i, ".jpg"), jpeg);
        sizes[static_cast<size_t>(i)] = jpeg.size();
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(i)] = e.what();
      }
    }
  });
  for (const std::string& e : errors)
    if (!e.empty()) {
      remove_tree(s.root);
      throw Error(e);
    }
  s.seconds = since(t0);
  double total = 0;
  for (size_t b : sizes) total += static_cast<double>(b);
  s.mean_bytes = total / std::max(images, 1);
  return s;
}

// Removes the temporary folder however the benchmark ends.
struct TreeRemover {
  std::string path;
  ~TreeRemover() {
    if (!path.empty()) remove_tree(path);
  }
};

}  // namespace

int run_bench_loader(int argc, char** argv) {
  TrainArgs a;
  a.data_set = "IMNET";
  int images = 0, classes = 10, width = 500, height = 375, steps = 10, worker_nice = 0;
  bool keep = false;
  ArgParser args("bench-loader", "Data-loader throughput and the model's data wait with DeiT training steps.");
  args.add("data-path", &a.data_path, "an ImageFolder root with a train split");
  args.value_hint("data-path", "DIR");
  args.default_text("data-path", "synthesised JPEGs");
  args.add("model", &a.model, "model to train (a registry name)");
  args.value_hint("model", "NAME");
  args.add("input-size", &a.input_size, "image size fed to the model");
  args.add("batch-size", &a.batch_size, "images per step");
  args.add("steps", &steps, "timed training steps (and loader-only batches)");
  args.add("num-workers", &a.num_workers, "loader worker threads");
  args.add("threads", &a.threads, "threads for OpenMP and OpenBLAS");
  args.default_text("threads", "all cores");
  args.add("images", &images, "synthetic images to write");
  args.default_text("images", "enough for the steps");
  args.add("classes", &classes, "synthetic classes");
  args.add("width", &width, "synthetic image width");
  args.add("height", &height, "synthetic image height");
  args.add_flag("keep", &keep, "keep the synthetic folder (its path is printed)");
  args.add("worker-nice", &worker_nice, "nice value of the loader workers (0: the model's priority)");
  if (!args.parse(argc, argv, 2)) return 0;
  if (steps < 2) throw UsageError("--steps must be at least 2");
  if (classes < 1 || width < 8 || height < 8)
    throw UsageError("--classes must be positive, --width and --height at least 8");
  if (a.batch_size < 2 || a.batch_size % 2)
    throw UsageError("--batch-size must be even and at least 2 (mixup pairs images)");
  if (a.num_workers < 1) throw UsageError("--num-workers must be at least 1");
  set_num_threads(a.threads > 0 ? a.threads : hardware_threads());
  a.epochs = 1;
  a.max_steps = steps;
  a.log_interval = 1000000;  // the benchmark prints its own summary

  TreeRemover remover;
  if (a.data_path.empty()) {
    if (images == 0) images = a.batch_size * steps;
    const Synthetic s = write_synthetic_folder(images, classes, width, height, 0);
    a.data_path = s.root;
    if (!keep) remover.path = s.root;
    std::printf("synthesised %d JPEGs of %dx%d (quality 90, mean %.0f KB) in %s in %.1f s\n", images, width, height,
                s.mean_bytes / 1024, s.root.c_str(), s.seconds);
  }
  data::FolderOptions fo;
  fo.max_pixels = a.max_image_pixels;
  auto train = std::make_shared<data::ImageFolder>(a.data_path, a.train_split, fo);
  const int64_t K = train->num_classes();
  std::printf("%s", data::format_summary(train->summary(), train->classes()).c_str());
  std::printf(
      "bench-loader: %s at %d, batch %d, %d threads, %d workers, deit augmentation (%s, mixup %.1f, cutmix %.1f, "
      "reprob %.2f)\n\n",
      a.model.c_str(), a.input_size, a.batch_size, num_threads(), a.num_workers, a.aa.c_str(), a.mixup, a.cutmix,
      a.reprob);
  VT_CHECK(train->size() >= a.batch_size * 2, a.data_path, ": ", train->size(),
           " images are fewer than two batches of ", a.batch_size);

  // 1. decode and transform, one thread
  const data::TransformConfig tc = transform_config(a);
  const int64_t probe = std::min<int64_t>(train->size(), 64);
  double decode_s = 0, transform_s = 0;
  std::vector<float> out(static_cast<size_t>(3) * a.input_size * a.input_size);
  for (int64_t i = 0; i < probe; ++i) {
    auto t0 = Clock::now();
    data::DecodeResult r = train->load(i);
    decode_s += since(t0);
    VT_CHECK(r.image, train->describe(i), ": ", r.error);
    Generator gen = Generator::derive(0, static_cast<uint64_t>(i));
    t0 = Clock::now();
    data::train_transform(*r.image, tc, gen, out.data());
    transform_s += since(t0);
  }
  std::printf("one thread: decode %.2f ms/image, train transform %.2f ms/image\n", 1e3 * decode_s / probe,
              1e3 * transform_s / probe);

  // 2. loader alone
  auto loader_rate = [&](int workers) {
    data::LoaderOptions lo = loader_options(a, /*train=*/true, K);
    lo.num_workers = workers;
    data::DataLoader loader(train, lo);
    loader.start_epoch(0);
    const int64_t batches = std::min<int64_t>(steps, loader.batches_per_epoch());
    const auto t0 = Clock::now();
    for (int64_t b = 0; b < batches; ++b) VT_CHECK(loader.next(), "the loader ended early");
    return static_cast<double>(batches * a.batch_size) / since(t0);
  };
  const double rate1 = loader_rate(1), rate_n = a.num_workers > 1 ? loader_rate(a.num_workers) : rate1;
  std::printf("loader alone: %.1f images/s with 1 worker, %.1f images/s with %d\n", rate1, rate_n, a.num_workers);

  // 3 and 4 use the same model, optimiser and schedule.
  a.num_classes = K;
  vit::Deit model(model_config(a));
  Generator init(0);
  model.init(init);
  const nn::Parameters params = model.parameters();
  std::unique_ptr<nn::Optimizer> opt = make_optimizer(a, params);

  // 3. compute only: one batch in memory, the training step of engine.cpp without the loader
  const Tensor x = randn({a.batch_size, 3, a.input_size, a.input_size}, &init);
  const Tensor targets = data::smooth_one_hot(std::vector<int64_t>(static_cast<size_t>(a.batch_size), 0), K, 0.1);
  std::vector<double> compute;
  for (int s = 0; s < steps; ++s) {
    const auto t0 = Clock::now();
    Generator gen = Generator::derive(0, static_cast<uint64_t>(s));
    Tensor loss = cross_entropy_soft(model.forward(x, nn::Context{true, &gen}), targets);
    opt->zero_grad();
    loss.backward();
    opt->step(1e-6);
    compute.push_back(since(t0));
  }
  std::sort(compute.begin(), compute.end());
  const double compute_step = compute[compute.size() / 2];
  std::printf("compute only: %.3f s/step (median of %d), %.1f images/s\n", compute_step, steps,
              a.batch_size / compute_step);

  // 4. real training through the loader
  data::LoaderOptions lo = loader_options(a, /*train=*/true, K);
  lo.worker_nice = worker_nice;
  data::DataLoader loader(train, lo);
  const nn::LrSchedule sched = lr_schedule(a, std::min<int64_t>(steps, loader.batches_per_epoch()));
  TrainContext ctx{model, loader, *opt, sched, nullptr, a, nullptr, transform_config(a)};
  Progress progress;
  std::printf("\ntraining %d steps through the loader:\n", steps);
  std::fflush(stdout);
  const EpochStats es = train_one_epoch(ctx, progress);
  const double step_s = es.seconds / std::max<int64_t>(es.steps, 1);
  std::printf(
      "\nwith loader: %.3f s/step, %.1f images/s; data wait %.2f s of %.1f s = %.2f%% of step time (target < 5%%)\n",
      step_s, es.images_per_s, es.wait_seconds, es.seconds, 100 * es.wait_seconds / es.seconds);
  std::printf("step time with loader / compute only: %.3f (the workers' share of the cores)\n", step_s / compute_step);
  if (keep && !remover.path.empty()) std::printf("kept %s\n", a.data_path.c_str());
  return 0;
}

}  // namespace vt::apps
