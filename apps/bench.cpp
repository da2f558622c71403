// `vitality bench`: timm's benchmark.py for this framework. Inference (forward under no-grad) and
// training steps (forward, loss, backward, AdamW) of a DeiT on random inputs, reported with timm's
// column names (infer_samples_per_sec, infer_step_time, train_samples_per_sec, ..., param_count,
// infer_gmacs) plus how close the model runs to OpenBLAS on its own GEMM shapes, measured in the
// same run (gflops_per_sec, sgemm_gflops_per_sec, roofline_fraction), peak memory, threads and
// the BLAS core. --profile times every op and backward closure from the op trace.
// apps/bench_vs_torch.py runs the same workloads in PyTorch beside it.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>

#include "apps/args.h"
#include "apps/commands.h"
#include "apps/engine.h"
#include "apps/runtime.h"
#include "core/autograd.h"
#include "core/fileio.h"
#include "core/json.h"
#include "core/ops.h"
#include "core/rng.h"
#include "core/threads.h"
#include "core/trace.h"
#include "nn/optim.h"
#include "vit/deit.h"

namespace vt::apps {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct BenchArgs {
  std::string model = "deit_tiny_patch16_224", attn = "softmax", bench = "both", device = "cpu";
  int batch_size = 32, input_size = 0, threads = 0, warm = 3, iters = 10, num_classes = 1000;
  std::string results_file, results_format = "csv";
  bool profile = false;
  double sparse_threshold = -1;  // < 0: the model's default
};

// One GEMM shape of the model: C (M x N) = A (M x K) B (K x N), `count` independent copies.
struct GemmShape {
  int64_t M, N, K, count;
  bool operator<(const GemmShape& o) const { return std::tie(M, N, K, count) < std::tie(o.M, o.N, o.K, o.count); }
};

// The forward's GEMMs from its trace (linear layers and the attention products), and their MACs.
// Kinds that are not GEMMs (layer_norm, gelu, softmax rows, ...) are left out: the roofline is
// the BLAS rate, and "model FLOPs" are the GEMM FLOPs (as fvcore and timm count MACs).
std::map<GemmShape, int64_t> forward_gemms(const std::vector<TraceRecord>& records, double& macs) {
  std::map<GemmShape, int64_t> shapes;
  macs = 0;
  for (const TraceRecord& r : records) {
    auto a = [&](const char* k) { return static_cast<int64_t>(r.attrs.at(k)); };
    if (r.kind == "linear") {
      shapes[{a("M"), a("N"), a("K"), 1}] += 1;
      macs += double(a("M")) * a("N") * a("K");
    } else if (r.kind == "gemm" && a("N") > 1) {  // an attention step's per-head product (matrix-vector ones aside)
      const GemmShape s{a("M"), a("N"), a("K"), a("heads")};
      shapes[s] += 1;
      macs += double(s.M) * s.N * s.K * s.count;
    } else if (r.kind == "sddmm" || r.kind == "spmm") {
      macs += r.flops / 2;  // kept entries only: no dense GEMM shape to compare with
    }
  }
  return shapes;
}

// OpenBLAS's rate on the model's GEMMs: every shape timed with cblas_sgemm (batched ones, the
// attention heads, in a parallel loop of single-threaded calls, the fastest way to run them with
// BLAS); with `train`, also the two backward products of each (dA = dC B^T, dB = A^T dC).
double sgemm_gflops(const std::map<GemmShape, int64_t>& shapes, bool train) {
  double flops = 0, seconds = 0;
  Generator gen(3);
  for (const auto& [s, uses] : shapes) {
    struct Product {
      int64_t M, N, K;
      bool ta, tb;
    };
    std::vector<Product> products = {{s.M, s.N, s.K, false, false}};
    if (train) {
      products.push_back({s.M, s.K, s.N, false, true});  // dA (M x K) = dC (M x N) B^T
      products.push_back({s.K, s.N, s.M, true, false});  // dB (K x N) = A^T dC
    }
    for (const Product& p : products) {
      const int64_t lda = p.ta ? p.M : p.K, ldb = p.tb ? p.K : p.N;
      Tensor A = randn({s.count, p.ta ? p.K : p.M, p.ta ? p.M : p.K}, &gen);
      Tensor B = randn({s.count, p.tb ? p.N : p.K, p.tb ? p.K : p.N}, &gen);
      Tensor C = empty({s.count, p.M, p.N});
      auto run = [&] {
        auto one = [&](int64_t i) {
          cblas_sgemm(CblasRowMajor, p.ta ? CblasTrans : CblasNoTrans, p.tb ? CblasTrans : CblasNoTrans, int(p.M),
                      int(p.N), int(p.K), 1.f, A.data() + i * p.M * p.K, int(lda), B.data() + i * p.K * p.N, int(ldb),
                      0.f, C.data() + i * p.M * p.N, int(p.N));
        };
        if (s.count == 1) {
          one(0);
        } else {
          parallel_for(s.count, 1, [&](int64_t lo, int64_t hi) {
            for (int64_t i = lo; i < hi; ++i) one(i);
          });
        }
      };
      run();  // warm-up
      std::vector<double> t;
      for (int rep = 0; rep < 5; ++rep) {
        const auto t0 = Clock::now();
        run();
        t.push_back(since(t0));
      }
      std::sort(t.begin(), t.end());
      flops += 2.0 * p.M * p.N * p.K * s.count * uses;
      seconds += t[t.size() / 2] * uses;
    }
  }
  return seconds > 0 ? flops / seconds * 1e-9 : 0;
}

// Per op kind and per module (block index folded to "*"), the time of one step from the trace.
void print_profile(const std::vector<TraceRecord>& records, int steps, double step_seconds) {
  std::map<std::string, double> by_kind, by_module;
  double traced = 0;
  for (const TraceRecord& r : records) {
    if (r.backward && !r.attrs.count("closure")) continue;  // counted inside its closure's time
    // the attention node is named after its kind ("softmax"): say it is the whole attention
    const bool attention =
        r.backward && r.scope.size() >= 9 && r.scope.compare(r.scope.size() - 9, 9, "attn.core") == 0;
    // an attention step: its kind, number and primitive ("taylor 5a gemm")
    const std::string what = r.step.empty() ? r.kind : str_cat(r.step_of, " ", r.step, " ", r.kind);
    const std::string kind = (attention ? "attention " : "") + what +
                             (r.attrs.count("time_split_by_flops") ? " ~" : "") + (r.backward ? " (backward)" : "");
    std::string module = r.scope;
    if (module.rfind("blocks.", 0) == 0) {
      const size_t dot = module.find('.', 7);
      module = "blocks.*" + (dot == std::string::npos ? std::string() : module.substr(dot));
    }
    if (module.empty()) module = "(top level)";
    by_kind[kind] += r.seconds / steps;
    by_module[module + (r.backward ? " (backward)" : "")] += r.seconds / steps;
    traced += r.seconds / steps;
  }
  auto print = [&](const char* title, const std::map<std::string, double>& m) {
    std::vector<std::pair<double, std::string>> rows;
    for (const auto& [k, v] : m) rows.push_back({v, k});
    std::sort(rows.rbegin(), rows.rend());
    std::printf("\n%-44s %10s %8s\n", title, "ms/step", "share");
    for (const auto& [v, k] : rows) std::printf("%-44s %10.2f %7.1f%%\n", k.c_str(), 1e3 * v, 100 * v / step_seconds);
  };
  print("op kind", by_kind);
  bool split = false;
  for (const auto& [k, v] : by_kind) split |= k.find(" ~") != std::string::npos;
  if (split) std::printf("(~: steps a kernel computes fused; its measured time is split over them by FLOPs)\n");
  print("module", by_module);
  std::printf("\n%-44s %10.2f %7.1f%%\n", "outside traced ops (optimizer, autograd, ...)",
              1e3 * (step_seconds - traced), 100 * (step_seconds - traced) / step_seconds);
}

struct Timing {
  double samples_per_sec = 0, step_ms = 0;
};

template <class Step>
Timing time_steps(int warm, int iters, int batch, Step step) {
  for (int i = 0; i < warm; ++i) step();
  double total = 0;
  const auto t_run = Clock::now();
  for (int i = 0; i < iters; ++i) {
    const auto t0 = Clock::now();
    step();
    total += since(t0);
  }
  const double run = since(t_run);
  return {batch * iters / run, 1e3 * total / iters};
}

}  // namespace

int run_bench(int argc, char** argv) {
  BenchArgs a;
  ArgParser p(
      "bench",
      "Inference and training throughput of a DeiT with timm's benchmark columns, against OpenBLAS's rate on the "
      "model's own GEMM shapes.");
  p.group("model");
  p.add("model", &a.model, "registry model (deit_tiny_patch16_224, deit_small_patch16_224, deit_base_patch16_224)");
  p.value_hint("model", "NAME");
  add_attention_flag(p, &a.attn, "attention kind");
  p.group("benchmark");
  p.add_choice("bench", &a.bench, {"inference", "train", "both"}, "what to time");
  p.add("batch-size", &a.batch_size, "images per step");
  p.add_alias("b", "batch-size");
  p.add("input-size", &a.input_size, "image size in pixels");
  p.default_text("input-size", "the model's");
  p.add_alias("img-size", "input-size");
  p.add("num-classes", &a.num_classes, "classifier outputs");
  p.group("run");
  p.add("threads", &a.threads, "threads for OpenMP and OpenBLAS");
  p.default_text("threads", "all cores");
  add_device_flag(p, &a.device);
  p.group("benchmark");
  p.add("num-warm-iter", &a.warm, "untimed steps first");
  p.add("num-bench-iter", &a.iters, "timed steps");
  p.add("results-file", &a.results_file, "write the results row here");
  p.value_hint("results-file", "FILE");
  p.add_choice("results-format", &a.results_format, {"csv", "json"}, "format of --results-file");
  p.group("model");
  p.add("sparse-threshold", &a.sparse_threshold, "masked kinds: keep predicted probabilities above this (the density)");
  p.default_text("sparse-threshold", "the model's, 0.002");
  p.group("benchmark");
  p.add_flag("profile", &a.profile, "time every op and backward closure (train steps when --bench both)");
  if (!p.parse(argc, argv, 2)) return 0;
  check_device(a.device);
  if (a.batch_size < 1 || a.iters < 1 || a.warm < 0 || a.num_classes < 1 || a.input_size < 0)
    throw UsageError("--batch-size, --num-bench-iter and --num-classes must be positive, --num-warm-iter not negative");
  if (a.sparse_threshold >= 1) throw UsageError("--sparse-threshold must lie in [0, 1)");
  set_num_threads(a.threads > 0 ? a.threads : hardware_threads());

  vit::DeitConfig cfg = vit::deit_config(a.model);
  if (a.input_size > 0) cfg.img_size = a.input_size;
  cfg.num_classes = a.num_classes;
  cfg.attn = a.attn;
  if (a.sparse_threshold >= 0) cfg.mask.threshold = static_cast<float>(a.sparse_threshold);
  // as timm's benchmark.py creates models: no dropout, no stochastic depth
  vit::Deit model(cfg);
  check_memory(model, a.batch_size);
  Generator gen(0);
  model.init(gen);
  const int64_t B = a.batch_size, S = cfg.img_size;
  const Tensor x = randn({B, cfg.in_chans, S, S}, &gen);
  std::vector<int64_t> labels(static_cast<size_t>(B));
  for (auto& l : labels) l = gen.randint(0, cfg.num_classes);

  // The forward's GEMMs and MACs, from one traced forward at this batch size.
  Trace shape_trace;
  {
    NoGradGuard no_grad;
    TraceSession on(shape_trace);
    model.forward(x, nn::Context{});
  }
  double macs = 0;
  const auto shapes = forward_gemms(shape_trace.records, macs);
  const double gmacs_per_image = macs / B * 1e-9;

  Json row = Json::object();
  row.set("model", a.model + (a.attn == "softmax" ? "" : "+" + a.attn));
  std::printf("Benchmarking %s (%s attention) at %lld px, batch %lld, %d threads, %s\n", a.model.c_str(),
              a.attn.c_str(), static_cast<long long>(S), static_cast<long long>(B), num_threads(), blas_info().c_str());
  const bool infer = a.bench != "train", train = a.bench != "inference";
  // One printed line and timm's columns (prefix infer_ or train_) per benchmark.
  auto report = [&](const char* title, const std::string& prefix, const Timing& t, double gflops, double blas) {
    std::printf(
        "%s: %.2f samples/sec, %.2f ms/step, %.1f GFLOP/s = %.1f%% of OpenBLAS on the same GEMMs (%.1f GFLOP/s)\n",
        title, t.samples_per_sec, t.step_ms, gflops, 100 * gflops / blas, blas);
    row.set(prefix + "_samples_per_sec", Json(std::round(t.samples_per_sec * 100) / 100));
    row.set(prefix + "_step_time", Json(std::round(t.step_ms * 1000) / 1000));
    row.set(prefix + "_batch_size", Json(B));
    row.set(prefix + "_img_size", Json(S));
    row.set(prefix + "_gflops_per_sec", Json(std::round(gflops * 10) / 10));
    row.set(prefix + "_sgemm_gflops_per_sec", Json(std::round(blas * 10) / 10));
    row.set(prefix + "_roofline_fraction", Json(std::round(gflops / blas * 1000) / 1000));
  };
  std::vector<TraceRecord> profile_records;
  double profile_step = 0;
  // Three more steps with every op and backward closure timed.
  auto profile = [&](const auto& one_step) {
    Trace t2;
    t2.time_ops = true;
    const auto t0 = Clock::now();
    {
      TraceSession on(t2);
      for (int i = 0; i < 3; ++i) one_step();
    }
    profile_step = since(t0) / 3;
    profile_records = std::move(t2.records);
  };
  if (infer) {
    const Timing t = time_steps(a.warm, a.iters, static_cast<int>(B), [&] {
      NoGradGuard no_grad;
      Tensor y = model.forward(x, nn::Context{});
    });
    const double gflops = 2 * macs / (t.step_ms * 1e-3) * 1e-9, blas = sgemm_gflops(shapes, false);
    report("Inference", "infer", t, gflops, blas);
    row.set("infer_gmacs", Json(std::round(gmacs_per_image * 100) / 100));
    if (a.profile && !train)
      profile([&] {
        NoGradGuard no_grad;
        model.forward(x, nn::Context{});
      });
  }
  if (train) {
    nn::AdamW opt(nn::param_groups_weight_decay(model.parameters(), 0.05), nn::AdamWOptions{});
    int64_t step_index = 0;
    auto step = [&] {
      Generator g = Generator::derive(0, 0, static_cast<uint64_t>(step_index++));
      Tensor loss = cross_entropy(model.forward(x, nn::Context{true, &g}), labels, 0.1f);
      opt.zero_grad();
      loss.backward();
      opt.step(5e-4);
    };
    const Timing t = time_steps(a.warm, a.iters, static_cast<int>(B), step);
    // forward + backward: 3x the forward's GEMM FLOPs (the backward computes two products per GEMM)
    const double gflops = 6 * macs / (t.step_ms * 1e-3) * 1e-9, blas = sgemm_gflops(shapes, true);
    report("Train", "train", t, gflops, blas);
    if (a.profile) profile(step);
  }
  // sparse kinds: the kept fraction of the attention map in the last timed step, over all heads
  double density = 0;
  int64_t heads = 0;
  for (const auto& block : model.densities())
    for (double d : block) density += d, ++heads;
  if (heads > 0) {
    row.set("attn_density", Json(std::round(density / heads * 1000) / 1000));
    std::printf("Attention density (kept fraction, last step): %.3f\n", density / heads);
  }
  row.set("param_count", Json(std::round(double(model.num_parameters()) / 1e4) / 100));
  row.set("peak_rss_mb", Json(std::round(peak_resident_mb())));
  row.set("threads", Json(num_threads()));
  row.set("blas", Json(blas_info()));
  std::printf("%s\n", row.dump().c_str());
  if (a.profile) print_profile(profile_records, 3, profile_step);
  if (!a.results_file.empty()) {
    std::string text;
    if (a.results_format == "json") {
      text = row.dump() + "\n";
    } else {
      std::string head, vals;
      for (const auto& [k, v] : row.members()) {
        head += (head.empty() ? "" : ",") + k;
        vals += (vals.empty() ? "" : ",") + (v.is_string() ? "\"" + v.as_string() + "\"" : v.dump());
      }
      text = head + "\n" + vals + "\n";
    }
    write_file_atomic(a.results_file, text);
  }
  return 0;
}

}  // namespace vt::apps
