// Threads: one setting drives both OpenMP (our loops) and OpenBLAS (GEMM). Parallel loops split
// work into contiguous ranges; every kernel computes each output element the same way whatever
// the partition, so results do not depend on the thread count (or on OpenMP being compiled in).
// BLAS is never called from inside a parallel region (matmul checks it).
#pragma once

#include <cstdint>
#include <string>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace vt {

void set_num_threads(int n);  // 1 <= n <= hardware_threads(); sets OpenMP's and OpenBLAS's thread counts
int num_threads();
int hardware_threads();   // what the machine offers (std::thread::hardware_concurrency)
std::string blas_info();  // e.g. "OpenBLAS 0.3.21 (core Haswell, pthread, 2 threads)"
// The path our own kernels take on this CPU (core/simd.h): "AVX2+FMA", or "baseline SSE2" with
// the reason. Results are bitwise the same from run to run with one path, one BLAS core and one
// thread count; another path or BLAS core changes the last bits (a fused multiply-add, another
// summation order).
std::string kernel_path();
bool in_parallel_region();

// Below this many elements a loop runs on one thread: forking costs a few microseconds.
constexpr int64_t kElementwiseGrain = 1 << 15;

// f(begin, end) over [0, n) in at most num_threads() contiguous ranges.
template <class F>
void parallel_for(int64_t n, int64_t grain, F&& f) {
  if (n <= 0) return;
#ifdef _OPENMP
  if (n > grain && !omp_in_parallel() && omp_get_max_threads() > 1) {
#pragma omp parallel
    {
      const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
      const int64_t chunk = (n + nt - 1) / nt;
      const int64_t lo = t * chunk, hi = lo + chunk < n ? lo + chunk : n;
      if (lo < hi) f(lo, hi);
    }
    return;
  }
#endif
  (void)grain;
  f(int64_t{0}, n);
}

}  // namespace vt
