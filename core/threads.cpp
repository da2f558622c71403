// Thread settings shared by OpenMP and OpenBLAS.
#include "core/threads.h"

#include <cblas.h>

#include <cstdlib>
#include <thread>

#include "core/error.h"
#include "core/simd.h"

namespace vt {

void set_num_threads(int n) {
  VT_CHECK(n >= 1, "set_num_threads: need at least 1 thread, got ", n);
  // More threads than cores only makes the parallel loops wait on each other (OpenMP's barriers
  // spin): refuse it rather than run several times slower without saying why.
  VT_CHECK(n <= hardware_threads(), "--threads ", n, " is more than the ", hardware_threads(),
           " hardware threads of this machine (with several processes per machine, divide the cores between them)");
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
  openblas_set_num_threads(n);
}

int num_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return openblas_get_num_threads();
#endif
}

int hardware_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n ? static_cast<int>(n) : 1;
}

bool in_parallel_region() {
#ifdef _OPENMP
  return omp_in_parallel();
#else
  return false;
#endif
}

std::string blas_info() {
  const char* parallel = "serial";
  switch (openblas_get_parallel()) {
    case 1: parallel = "pthread"; break;
    case 2: parallel = "openmp"; break;
    default: break;
  }
  std::string config = openblas_get_config();  // "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY ..."
  std::string version = config.substr(0, config.find(' ', config.find(' ') + 1));
  return str_cat(version, " (core ", openblas_get_corename(), ", ", parallel, ", ", openblas_get_num_threads(),
                 " threads)");
}

std::string kernel_path() {
  if (detail::cpu_has_avx2_fma()) return "AVX2+FMA";
  const char* forced = std::getenv("VITALITY_NO_AVX2");
  return forced && *forced ? "baseline SSE2 (VITALITY_NO_AVX2 is set)" : "baseline SSE2 (no AVX2+FMA on this CPU)";
}

namespace detail {
bool cpu_has_avx2_fma() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  // VITALITY_NO_AVX2 (any non-empty value) takes the baseline paths on an AVX2 machine: the
  // tests run the core and vit suites once more that way (tests/CMakeLists.txt).
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                          !(std::getenv("VITALITY_NO_AVX2") && *std::getenv("VITALITY_NO_AVX2"));
  return has;
#else
  return false;
#endif
}
}  // namespace detail

}  // namespace vt
