// Internal to core (and vit's fused attention): one GEMM micro-kernel for AVX2+FMA CPUs and the
// packing it reads, shared by gemm_serial (ops_matmul.cpp: attention's per-head products) and the
// fused softmax attention (vit/attention_softmax_fused.cpp). The model's large products (the
// linear layers) stay with OpenBLAS: every plain GEMM goes through cblas_sgemm (core/README.md).
//
// The micro-kernel computes a 6 x 16 tile of C as 12 accumulators of 8 floats: per step of depth
// it loads 16 floats of a packed panel of B (two registers), broadcasts one float from each of 6
// rows of A, and issues 12 fused multiply-adds, which keeps both FMA units of a Zen or Intel
// core busy (15 of the 16 vector registers in use). A is read in place (row stride lda); B must
// be packed as panels of 16 columns, depth x 16 contiguous floats each:
//
//   panel jb, row k = B[k][16 jb .. 16 jb + 15]         (pack_panels, from B stored K x N)
//                   = Bt[16 jb .. 16 jb + 15][k]         (pack_panels_transposed, from B^T stored N x K)
//
// Each element of C is one chain of FMAs over k = 0 .. depth-1 in order: the result does not
// depend on how rows or panels are spread over threads.
//
// Only x86-64 with GCC or clang (VT_GEMM_KERNEL is 1); callers also check cpu_has_avx2_fma().
#pragma once

#include <cstdint>

#include "core/simd.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define VT_GEMM_KERNEL 1
#include <immintrin.h>
#define VT_TARGET_AVX2 __attribute__((target("avx2,fma")))
#else
#define VT_GEMM_KERNEL 0
#endif

namespace vt::detail {

constexpr int kTileRows = 6;   // rows of A (and C) per micro-kernel call
constexpr int kTileCols = 16;  // columns of a packed panel of B (and of C)

#if VT_GEMM_KERNEL

// c[r][0:16] = scale[r] * sum_k A(r, k) b[16 k + 0:16] for r < rows (scale null: 1), with
// A(r, k) = a[r lda + k], or a[k lda + r] when kTransA (A stored depth x rows). The six rows of A
// are always read (callers pad a short last block with zero rows).
template <bool kTransA = false>
VT_TARGET_AVX2 __attribute__((always_inline)) inline void tile_6x16(int64_t depth, const float* a, int64_t lda,
                                                                    const float* b, float* c, int64_t ldc, int rows,
                                                                    const float* scale) {
  __m256 acc[kTileRows][2];
#pragma GCC unroll 6
  for (int r = 0; r < kTileRows; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (int64_t k = 0; k < depth; ++k) {
    const __m256 b0 = _mm256_loadu_ps(b + k * kTileCols), b1 = _mm256_loadu_ps(b + k * kTileCols + 8);
#pragma GCC unroll 6
    for (int r = 0; r < kTileRows; ++r) {  // unrolled: acc stays in registers
      const __m256 ar = _mm256_broadcast_ss(kTransA ? a + k * lda + r : a + r * lda + k);
      acc[r][0] = _mm256_fmadd_ps(ar, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(ar, b1, acc[r][1]);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < kTileRows; ++r)
    if (r < rows) {
      if (scale) {
        const __m256 sr = _mm256_set1_ps(scale[r]);
        acc[r][0] = _mm256_mul_ps(acc[r][0], sr);
        acc[r][1] = _mm256_mul_ps(acc[r][1], sr);
      }
      _mm256_storeu_ps(c + r * ldc, acc[r][0]);
      _mm256_storeu_ps(c + r * ldc + 8, acc[r][1]);
    }
}

#endif  // VT_GEMM_KERNEL

// Panels of 16 columns of B (K x N, row stride ldb), columns [16 jb_begin, 16 jb_end) only;
// dst holds whole panels (panel jb at dst + jb K 16), columns past N are zero.
inline void pack_panels(const float* B, int64_t ldb, int64_t K, int64_t N, int64_t jb_begin, int64_t jb_end,
                        float* dst) {
  for (int64_t jb = jb_begin; jb < jb_end; ++jb) {
    float* panel = dst + jb * K * kTileCols;
    const int64_t j0 = jb * kTileCols, cols = N - j0 < kTileCols ? N - j0 : kTileCols;
    for (int64_t k = 0; k < K; ++k) {
      const float* src = B + k * ldb + j0;
      float* out = panel + k * kTileCols;
      for (int64_t c = 0; c < cols; ++c) out[c] = src[c];
      for (int64_t c = cols; c < kTileCols; ++c) out[c] = 0.f;
    }
  }
}

// The same panels from B^T stored N x K (row stride ldbt): row j of Bt becomes column j.
inline void pack_panels_transposed(const float* Bt, int64_t ldbt, int64_t K, int64_t N, int64_t jb_begin,
                                   int64_t jb_end, float* dst) {
  for (int64_t jb = jb_begin; jb < jb_end; ++jb) {
    float* panel = dst + jb * K * kTileCols;
    const int64_t j0 = jb * kTileCols, cols = N - j0 < kTileCols ? N - j0 : kTileCols;
    const float* src = Bt + j0 * ldbt;
    if (cols == kTileCols) {  // 16 rows of Bt read side by side, the panel written in order
      for (int64_t k = 0; k < K; ++k)
        for (int c = 0; c < kTileCols; ++c) panel[k * kTileCols + c] = src[c * ldbt + k];
    } else {
      for (int64_t k = 0; k < K; ++k) {
        for (int64_t c = 0; c < cols; ++c) panel[k * kTileCols + c] = src[c * ldbt + k];
        for (int64_t c = cols; c < kTileCols; ++c) panel[k * kTileCols + c] = 0.f;
      }
    }
  }
}

}  // namespace vt::detail
