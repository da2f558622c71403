// `vitality bench-ops`: micro-benchmarks of core's hot kernels, each measured side by side with
// its bound in the same run (machines here are noisy, so only ratios mean something):
//   - the matmul wrapper against raw cblas_sgemm on DeiT-Tiny's GEMM shapes at batch 32,
//     forward (A B) and both backward products (dC B^T, A^T dC);
//   - attention's per-head products (DeiT-Tiny, batch 32) through one single-threaded BLAS call
//     each against gemm_serial, heads spread over the threads;
//   - gelu and layer_norm forward+backward against the bandwidth of a plain parallel copy, both
//     starting with their operands in memory (caches evicted before every run);
//   - the cost of a disabled op trace.
// Each number is the median of --repeat timings, the two sides of a comparison run alternately.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <tuple>
#include <vector>

#include "apps/args.h"
#include "apps/commands.h"
#include "core/autograd.h"
#include "core/ops.h"
#include "core/rng.h"
#include "core/threads.h"
#include "core/trace.h"

namespace vt::apps {

namespace {

double seconds_of(const std::function<void()>& f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Writes a buffer larger than the last-level cache, so that the next timed run reads its
// operands from memory. Both sides of a comparison start from the same cold state.
void evict_caches() {
  static std::vector<float> scratch(64 << 20 >> 2);  // 64 MiB, twice this machine's L3
  float* p = scratch.data();
  const int64_t n = static_cast<int64_t>(scratch.size());
  parallel_for(n, kElementwiseGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) p[i] += 1.f;
  });
}

// Times `a` and `b` alternately (a, b, a, b, ...) so that both see the same machine state, and
// returns the median time of each. With `cold`, caches are evicted before every run.
std::pair<double, double> time_pair(int repeat, bool cold, const std::function<void()>& a,
                                    const std::function<void()>& b) {
  a();  // warm-up: buffer pool, BLAS threads
  b();
  std::vector<double> ta, tb;
  for (int i = 0; i < repeat; ++i) {
    if (cold) evict_caches();
    ta.push_back(seconds_of(a));
    if (cold) evict_caches();
    tb.push_back(seconds_of(b));
  }
  std::sort(ta.begin(), ta.end());
  std::sort(tb.begin(), tb.end());
  return {ta[ta.size() / 2], tb[tb.size() / 2]};
}

double median_seconds(int repeat, const std::function<void()>& f) {
  return time_pair(repeat, false, f, [] {}).first;
}

struct GemmCase {
  const char* what;
  int64_t M, N, K;
  bool ta, tb;
};

}  // namespace

int run_bench_ops(int argc, char** argv) {
  int threads = 0, repeat = 15;
  ArgParser args("bench-ops", "Micro-benchmarks of core kernels against raw BLAS and copy bandwidth.");
  args.add("threads", &threads, "threads for OpenMP and OpenBLAS");
  args.default_text("threads", "all cores");
  args.add("repeat", &repeat, "timed repetitions per case (the median is reported)");
  if (!args.parse(argc, argv, 2)) return 0;
  if (repeat < 1) throw UsageError("--repeat must be at least 1");
  set_num_threads(threads > 0 ? threads : hardware_threads());
  Generator gen(0);
  std::printf("bench-ops: %d threads, %s\n\n", num_threads(), blas_info().c_str());

  // ---- matmul wrapper vs raw cblas_sgemm (DeiT-Tiny, batch 32: 32*197 = 6304 rows) ----
  std::printf("%-34s %10s %10s %8s\n", "GEMM (M x N x K)", "raw GF/s", "ours GF/s", "ratio");
  const GemmCase cases[] = {
      {"qkv fwd  X W", 6304, 576, 192, false, false},   {"qkv bwd  dY W^T", 6304, 192, 576, false, true},
      {"qkv bwd  X^T dY", 192, 576, 6304, true, false}, {"fc2 fwd  H W", 6304, 192, 768, false, false},
      {"fc2 bwd  dY W^T", 6304, 768, 192, false, true}, {"fc2 bwd  H^T dY", 768, 192, 6304, true, false},
  };
  for (const GemmCase& c : cases) {
    Tensor a = randn(c.ta ? Shape{c.K, c.M} : Shape{c.M, c.K}, &gen);
    Tensor b = randn(c.tb ? Shape{c.N, c.K} : Shape{c.K, c.N}, &gen);
    Tensor out = empty({c.M, c.N});
    const double flop = 2.0 * c.M * c.N * c.K;
    auto [raw, ours] = time_pair(
        repeat, /*cold=*/false,
        [&] {
          cblas_sgemm(CblasRowMajor, c.ta ? CblasTrans : CblasNoTrans, c.tb ? CblasTrans : CblasNoTrans, int(c.M),
                      int(c.N), int(c.K), 1.f, a.data(), int(c.ta ? c.M : c.K), b.data(), int(c.tb ? c.K : c.N), 0.f,
                      out.data(), int(c.N));
        },
        [&] { Tensor r = matmul(a, b, c.ta, c.tb); });
    char label[64];
    std::snprintf(label, sizeof label, "%s (%lldx%lldx%lld)", c.what, (long long)c.M, (long long)c.N, (long long)c.K);
    std::printf("%-34s %10.1f %10.1f %7.1f%%\n", label, flop / raw * 1e-9, flop / ours * 1e-9, 100 * raw / ours);
  }

  // ---- per-head products of attention: one single-threaded BLAS call vs gemm_serial ----
  // Heads spread over the threads as the attention kernels do (vit/attention_kernel.h), operands
  // read in place from (n, 3d) rows: DeiT-Tiny at batch 32 (96 heads, n = 197, d = 64; these
  // keep BLAS) and the fmnist-long model at batch 128 (512 heads, n = 50, d = 16; gemm_serial).
  if (blas_serial_in_parallel_region()) {
    std::printf("\n%-34s %10s %10s %8s\n", "head products (heads: M x N x K)", "BLAS GF/s", "ours GF/s", "ratio");
    struct HeadCase {
      const char* what;
      bool ta, tb, a_is_nn;  // a_is_nn: A is an n x n matrix (P or dS), else q
    };
    const HeadCase head_cases[] = {
        {"S = Q K^T", false, true, false},
        {"Z = P V", false, false, true},
        {"dV = P^T dZ", true, false, true},
        {"dK = dS^T Q", true, false, true},
    };
    for (auto [heads, n, d] : {std::tuple<int64_t, int64_t, int64_t>{96, 197, 64}, {512, 50, 16}}) {
      const int64_t ld = 3 * d;
      Tensor qkv = randn({heads, n, ld}, &gen), pn = randn({heads, n, n}, &gen), out = empty({heads, n, n});
      for (const HeadCase& c : head_cases) {
        const int64_t M = n, N = c.tb ? n : d, K = c.tb ? d : n;
        auto run = [&](bool ours) {
          parallel_for(heads, 1, [&](int64_t lo, int64_t hi) {
            for (int64_t h = lo; h < hi; ++h) {
              const float* a = c.a_is_nn ? pn.data() + h * n * n : qkv.data() + h * n * ld;
              const float* b = qkv.data() + h * n * ld + d;
              (ours ? gemm_serial : gemm)(c.ta, c.tb, M, N, K, 1.f, a, c.a_is_nn ? n : ld, b, ld, 0.f,
                                          out.data() + h * n * n, N);
            }
          });
        };
        const double flop = 2.0 * heads * M * N * K;
        auto [blas, ours] = time_pair(
            repeat, /*cold=*/false, [&] { run(false); }, [&] { run(true); });
        char label[64];
        std::snprintf(label, sizeof label, "%s (%lld: %lldx%lldx%lld)", c.what, (long long)heads, (long long)M,
                      (long long)N, (long long)K);
        std::printf("%-34s %10.1f %10.1f %7.1f%%\n", label, flop / blas * 1e-9, flop / ours * 1e-9, 100 * blas / ours);
      }
    }
  }

  // ---- elementwise kernels vs copy bandwidth ----
  std::printf("\n%-34s %10s %10s %8s\n", "kernel (bytes moved)", "copy GB/s", "ours GB/s", "ratio");
  auto bandwidth_case = [&](const char* name, Shape shape, int arrays_moved,
                            const std::function<void(const Tensor&)>& f) {
    Tensor x = randn(shape, &gen);
    Tensor src = randn(shape, &gen), dst = empty(shape);
    const double bytes = 4.0 * x.numel();
    // Both start from memory (caches evicted): the copy's rate is the machine's memory bandwidth.
    auto [copy, ours] = time_pair(
        repeat, /*cold=*/true,
        [&] {
          const float* s = src.data();
          float* d = dst.data();
          parallel_for(src.numel(), kElementwiseGrain,
                       [&](int64_t lo, int64_t hi) { std::memcpy(d + lo, s + lo, sizeof(float) * (hi - lo)); });
        },
        [&] { f(x); });
    const double copy_gbs = 2 * bytes / copy * 1e-9, ours_gbs = arrays_moved * bytes / ours * 1e-9;
    std::printf("%-34s %10.1f %10.1f %7.1f%%\n", name, copy_gbs, ours_gbs, 100 * ours_gbs / copy_gbs);
  };
  // gelu: forward reads x, writes y; backward reads g and x, writes dx: 5 arrays.
  bandwidth_case("gelu fwd+bwd (6304,768)", {6304, 768}, 5, [](const Tensor& x) {
    Tensor xs = x.detach().set_requires_grad();
    Tensor y = gelu(xs);
    y.backward(y.detach());
  });
  // layer_norm: forward reads x, writes y; backward reads g and x, writes dx (+ tiny dw, db).
  Tensor w = randn({192}, &gen).set_requires_grad(), b = randn({192}, &gen).set_requires_grad();
  bandwidth_case("layer_norm fwd+bwd (6304,192)", {6304, 192}, 5, [&](const Tensor& x) {
    Tensor xs = x.detach().set_requires_grad();
    Tensor y = layer_norm(xs, w, b, 1e-6f);
    y.backward(y.detach());
  });

  // ---- a disabled trace ----
  const int n = 1000000;
  const double per_op = median_seconds(3,
                                       [&] {
                                         for (int i = 0; i < n; ++i) {
                                           TraceScope s("blocks");
                                           OpTrace tr("noop");
                                           if (tr.on()) std::abort();
                                         }
                                       }) /
                        n;
  const Tensor tiny = ones({8});
  const double tiny_add = median_seconds(3,
                                         [&] {
                                           for (int i = 0; i < 10000; ++i) Tensor r = tiny + tiny;
                                         }) /
                          10000;
  std::printf("\ndisabled trace: %.1f ns per op and scope (an 8-element add takes %.0f ns)\n", per_op * 1e9,
              tiny_add * 1e9);
  return 0;
}

}  // namespace vt::apps
