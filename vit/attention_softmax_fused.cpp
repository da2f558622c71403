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
// reads and writes the n x n block once more. Here both products run in core's 6x16 micro-kernel
// (core/gemm_kernel.h: 12 accumulators of 8 floats, two panel loads and six broadcasts per step
// of depth), near the FMA units' peak, and a block's scores stay in L1 from the first product to
// the second.
#include <algorithm>
#include <cstring>
#include <vector>

#include "core/gemm_kernel.h"
#include "core/vecmath.h"
#include "vit/attention_kernel.h"

namespace vt::vit::detail {

bool softmax_head_fused_supported(int64_t d) {
  return VT_GEMM_KERNEL && d > 0 && d % 16 == 0 && vt::detail::cpu_has_avx2_fma();
}

#if VT_GEMM_KERNEL
namespace {

using vt::detail::kTileCols;
using vt::detail::kTileRows;
using vt::detail::tile_6x16;

// Row maximum with 8 lanes (n >= 1). A NaN anywhere makes the row's exponentials NaN anyway.
VT_TARGET_AVX2 inline float row_max(const float* x, int64_t n) {
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
VT_TARGET_AVX2 inline float exp_row(float* row, int64_t n) {
  const float m = row_max(row, n);
  for (int64_t j = 0; j < n; ++j) row[j] = vt::detail::exp_f32(row[j] - m);
  return 1.f / vt::detail::sum_f32(row, n);
}

struct Scratch {
  std::vector<float> kp, vp, e, q;
};

}  // namespace

VT_TARGET_AVX2 void softmax_head_fused(int64_t n, int64_t d, float s, const float* q, int64_t ldq, const float* k, int64_t ldk,
                                const float* v, int64_t ldv, float* z, int64_t ldz, float* p, int64_t row_begin,
                                int64_t row_end) {
  thread_local Scratch t;
  const int64_t np = (n + kTileCols - 1) / kTileCols * kTileCols;  // n rounded up to whole panels; E's row stride
  // Kp: panel jb, row c = K[16 jb .. 16 jb + 15][c], zero past row n (those scores are never read)
  t.kp.resize(np * d);
  vt::detail::pack_panels_transposed(k, ldk, d, n, 0, np / kTileCols, t.kp.data());
  // Vp: panel cb, row j = V[j][16 cb .. 16 cb + 15]
  t.vp.resize(n * d);
  vt::detail::pack_panels(v, ldv, n, d, 0, d / kTileCols, t.vp.data());
  t.e.resize(kTileRows * np);
  t.q.resize(kTileRows * d);
  float* E = t.e.data();
  const float s_rows[kTileRows] = {s, s, s, s, s, s};

  for (int64_t i0 = row_begin; i0 < row_end; i0 += kTileRows) {
    const int rows = static_cast<int>(std::min<int64_t>(kTileRows, row_end - i0));
    // The block's query rows; the last block is copied and padded with zero rows.
    const float* qb = q + i0 * ldq;
    int64_t ldqb = ldq;
    if (rows < kTileRows) {
      std::fill(t.q.begin(), t.q.end(), 0.f);
      for (int r = 0; r < rows; ++r) std::memcpy(t.q.data() + r * d, qb + r * ldq, d * sizeof(float));
      qb = t.q.data();
      ldqb = d;
    }
    // S_b = s Q_b K^T  (6 x np)
    for (int64_t j0 = 0; j0 < np; j0 += kTileCols) tile_6x16(d, qb, ldqb, t.kp.data() + j0 * d, E + j0, np, kTileRows, s_rows);
    // E_b = exp(S_b - rowmax), inv = 1 / rowsum(E_b); with P wanted, E_b becomes P_b
    float inv[kTileRows] = {1, 1, 1, 1, 1, 1};
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
    for (int64_t cb = 0; cb < d / kTileCols; ++cb)
      tile_6x16(n, E, np, t.vp.data() + cb * n * kTileCols, z + i0 * ldz + cb * kTileCols, ldz, rows, inv);
  }
}
#else
void softmax_head_fused(int64_t, int64_t, float, const float*, int64_t, const float*, int64_t, const float*, int64_t, float*,
                        int64_t, float*, int64_t, int64_t) {
  VT_CHECK(false, "softmax_head_fused: not built for this CPU");
}
#endif

}  // namespace vt::vit::detail
