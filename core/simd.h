// Internal to core: runtime dispatch of hot loops to an AVX2+FMA build of the same source.
//
// The default build targets baseline x86-64 (SSE2), so the binary runs on any 64-bit PC. Loops
// wrapped in simd_dispatch() are compiled twice, once as they are and once with AVX2+FMA enabled
// (`flatten` inlines the loop body, so the whole loop is generated for the target), and the
// CPU picks at run time. Both versions compute the same formulas; the AVX2 one may fuse a
// multiply and an add, so the last bit can differ between CPUs (never between runs or thread
// counts on one machine).
//
//   parallel_for(n, grain, [&](int64_t lo, int64_t hi) {
//     simd_dispatch([&] { for (int64_t i = lo; i < hi; ++i) y[i] = f(x[i]); });
//   });
//
// Dispatch inside the parallel chunk, never around an OpenMP region. VITALITY_NO_AVX2=1 in the
// environment forces the baseline versions (the test suite runs core and vit both ways).
#pragma once

namespace vt::detail {

bool cpu_has_avx2_fma();  // cached CPUID check; false on non-x86 machines

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
template <class Body>
__attribute__((target("avx2,fma"), flatten)) void run_avx2(Body& body) {
  body();
}
template <class Body>
__attribute__((flatten)) void run_baseline(Body& body) {
  body();
}
template <class Body>
inline void simd_dispatch(Body&& body) {
  if (cpu_has_avx2_fma()) run_avx2(body);
  else run_baseline(body);
}
#else
template <class Body>
inline void simd_dispatch(Body&& body) {
  body();
}
#endif

}  // namespace vt::detail
