// Softmax attention forward for one head in one sweep: the fast path of attention_softmax.cpp on
// CPUs with AVX2+FMA when d is a multiple of 16. Same math as the three steps there, reordered
// so that nothing n x n ever leaves the L1 cache (unless the caller asks for P):
//
//   pack K^T and V into 16-column panels              Kp: (n/16) x d x 16,  Vp: (d/16) x n x 16
//   for each block of 6 query rows i = i0 .. i0+5:
//     S_b = s Q_b K^T                                  6 x n    (tile_6x16 over K's panels, depth d)
//     E_b = exp(S_b - rowmax),  l = rowsum(E_b)        6 x n    (in place)
//     Z_b = (E_b V) / l                                6 x d    (tile_6x16 over V's panels, depth n)
//
// With P requested (training keeps it for backward) the rows are normalised first, P_b = E_b / l,
// copied out, and Z_b = P_b V: the products are then the ones the three-step version computes.
//
// Why: OpenBLAS runs the 197 x 197 x 64 products of a deit_tiny head at about half of its large-GEMM
// rate (packing and edge cases dominate at this size), and the softmax between the two products
// reads and writes the n x n block once more. Here both products run in one 6x16 micro-kernel
// (12 accumulators of 8 floats, two panel loads and six broadcasts per step of depth), near the
// FMA units' peak, and a block's scores stay in L1 from the first product to the second.
#include <algorithm>
#include <cstring>
#include <vector>

#include "core/vecmath.h"
#include "vit/attention_kernel.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define VT_FUSED_SOFTMAX 1
#define VT_AVX2 __attribute__((target("avx2,fma")))
#else
#define VT_FUSED_SOFTMAX 0
#endif

namespace vt::vit::detail {

bool softmax_head_fused_supported(int64_t d) {
  return VT_FUSED_SOFTMAX && d > 0 && d % 16 == 0 && vt::detail::cpu_has_avx2_fma();
}

#if VT_FUSED_SOFTMAX
namespace {

constexpr int kRows = 6;   // query rows per block (6 x 2 accumulators + 2 panel rows + 1 broadcast = 15 registers)
constexpr int kCols = 16;  // panel width: two 8-float registers

// c[r][0:16] = scale[r] * sum_k a[r * lda + k] * b[k * 16 + 0:16] for r < rows; the 6 rows of a
// are always read (a block's rows past n are zero padding). b is a packed panel, depth x 16.
VT_AVX2 inline void tile_6x16(int64_t depth, const float* a, int64_t lda, const float* b, const float* scale, float* c,
                              int64_t ldc, int rows) {
  __m256 acc[kRows][2];
  for (int r = 0; r < kRows; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (int64_t k = 0; k < depth; ++k) {
    const __m256 b0 = _mm256_loadu_ps(b + k * kCols), b1 = _mm256_loadu_ps(b + k * kCols + 8);
    for (int r = 0; r < kRows; ++r) {  // unrolled by the compiler: acc stays in registers
      const __m256 ar = _mm256_broadcast_ss(a + r * lda + k);
      acc[r][0] = _mm256_fmadd_ps(ar, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(ar, b1, acc[r][1]);
    }
  }
  for (int r = 0; r < kRows; ++r)
    if (r < rows) {
      const __m256 sr = _mm256_set1_ps(scale[r]);
      _mm256_storeu_ps(c + r * ldc, _mm256_mul_ps(acc[r][0], sr));
      _mm256_storeu_ps(c + r * ldc + 8, _mm256_mul_ps(acc[r][1], sr));
    }
}

// Row maximum with 8 lanes (n >= 1). A NaN anywhere makes the row's exponentials NaN anyway.
VT_AVX2 inline float row_max(const float* x, int64_t n) {
  int64_t j = 0;
  float m = x[0];
  if (n >= 8) {
    __m256 mv = _mm256_loadu_ps(x);
    for (j = 8; j + 8 <= n; j += 8) mv = _mm256_max_ps(mv, _mm256_loadu_ps(x + j));
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(mv), _mm256_extractf128_ps(mv, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    m = _mm_cvtss_f32(h);
  }
  for (; j < n; ++j) m = x[j] > m ? x[j] : m;
  return m;
}

// E = exp(S - rowmax) in place (exp_f32, vectorised by the compiler); returns 1 / rowsum(E).
VT_AVX2 inline float exp_row(float* row, int64_t n) {
  const float m = row_max(row, n);
  for (int64_t j = 0; j < n; ++j) row[j] = vt::detail::exp_f32(row[j] - m);
  return 1.f / vt::detail::sum_f32(row, n);
}

struct Scratch {
  std::vector<float> kp, vp, e, q;
};

}  // namespace

VT_AVX2 void softmax_head_fused(int64_t n, int64_t d, float s, const float* q, int64_t ldq, const float* k, int64_t ldk,
                                const float* v, int64_t ldv, float* z, int64_t ldz, float* p, int64_t row_begin,
                                int64_t row_end) {
  thread_local Scratch t;
  const int64_t np = (n + kCols - 1) / kCols * kCols;  // n rounded up to whole panels; E's row stride
  // Kp[jb][c][0:16] = K[jb*16 + 0:16][c], zero past row n (those scores are never read).
  t.kp.resize(np * d);
  for (int64_t j0 = 0; j0 < np; j0 += kCols) {
    float* panel = t.kp.data() + j0 * d;
    for (int64_t r = 0; r < kCols; ++r) {
      if (j0 + r < n) {
        const float* src = k + (j0 + r) * ldk;
        for (int64_t c = 0; c < d; ++c) panel[c * kCols + r] = src[c];
      } else {
        for (int64_t c = 0; c < d; ++c) panel[c * kCols + r] = 0.f;
      }
    }
  }
  // Vp[cb][j][0:16] = V[j][cb*16 + 0:16]
  t.vp.resize(n * d);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t cb = 0; cb < d / kCols; ++cb)
      std::memcpy(t.vp.data() + (cb * n + j) * kCols, v + j * ldv + cb * kCols, kCols * sizeof(float));
  t.e.resize(kRows * np);
  t.q.resize(kRows * d);
  float* E = t.e.data();
  const float s_rows[kRows] = {s, s, s, s, s, s};

  for (int64_t i0 = row_begin; i0 < row_end; i0 += kRows) {
    const int rows = static_cast<int>(std::min<int64_t>(kRows, row_end - i0));
    // The block's query rows; the last block is copied and padded with zero rows.
    const float* qb = q + i0 * ldq;
    int64_t ldqb = ldq;
    if (rows < kRows) {
      std::fill(t.q.begin(), t.q.end(), 0.f);
      for (int r = 0; r < rows; ++r) std::memcpy(t.q.data() + r * d, qb + r * ldq, d * sizeof(float));
      qb = t.q.data();
      ldqb = d;
    }
    // S_b = s Q_b K^T  (6 x np)
    for (int64_t j0 = 0; j0 < np; j0 += kCols) tile_6x16(d, qb, ldqb, t.kp.data() + j0 * d, s_rows, E + j0, np, kRows);
    // E_b = exp(S_b - rowmax), inv = 1 / rowsum(E_b); with P wanted, E_b becomes P_b
    float inv[kRows] = {1, 1, 1, 1, 1, 1};
    for (int r = 0; r < rows; ++r) {
      float* row = E + r * np;
      inv[r] = exp_row(row, n);
      if (p) {
        for (int64_t j = 0; j < n; ++j) row[j] *= inv[r];
        std::memcpy(p + (i0 + r) * n, row, n * sizeof(float));
        inv[r] = 1.f;
      }
    }
    // Z_b = diag(inv) E_b V  (6 x d); padding rows of E_b are read but not stored
    for (int64_t cb = 0; cb < d / kCols; ++cb)
      tile_6x16(n, E, np, t.vp.data() + cb * n * kCols, inv, z + i0 * ldz + cb * kCols, ldz, rows);
  }
}
#else
void softmax_head_fused(int64_t, int64_t, float, const float*, int64_t, const float*, int64_t, const float*, int64_t, float*,
                        int64_t, float*, int64_t, int64_t) {
  VT_CHECK(false, "softmax_head_fused: not built for this CPU");
}
#endif

}  // namespace vt::vit::detail
