// Softmax attention for one head, forward and backward, per block of 6 query rows: the fast path
// of attention_softmax.cpp on CPUs with AVX2+FMA when d is a multiple of 16. Same math as the
// steps there, reordered so that nothing n x n leaves the L1 cache (unless the caller asks for P):
//
//   pack K^T and V into 16-column panels              Kp: (n/16) x d x 16,  Vp: (d/16) x n x 16
//   for each block of 6 query rows i = i0 .. i0+5:
//     S_b = s Q_b K^T                                  6 x n    (tile_6x16 over K's panels, depth d)
//     E_b = exp(S_b - rowmax),  l = rowsum(E_b)        6 x n    (in place)
//     Z_b = (E_b V) / l                                6 x d    (tile_6x16 over V's panels, depth n)
//
// With P requested (training keeps it for backward) the rows are normalised first, P_b = E_b / l,
// copied out, and Z_b = P_b V: the products are then the ones the three-step version computes.
// The backward (further down) works the same way per block.
//
// Why: OpenBLAS runs the 197 x 197 x 64 products of a deit_tiny head at about half of its large-GEMM
// rate (packing and edge cases dominate at this size), and the softmax between the two products
// reads and writes the n x n block once more. Here both products run in core's 6x16 micro-kernel
// (core/gemm_kernel.h: 12 accumulators of 8 floats, two panel loads and six broadcasts per step
// of depth) and a block's scores stay in L1 from the first product to the second: the attention
// part of a deit_tiny step went from 229 to 162 ms forward and from 307 to 253 ms backward.
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
// Not core's max_f32: inlined here, GCC 12 left its lane loop scalar (49 scalar compares in this
// object file against 6 with this version).
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

// One thread's buffers for one head. pack() lays out the head's two B operands: `across` (n x d,
// its rows becoming panel columns: products against its transpose, depth d) as np / 16 panels,
// `down` (n x d, depth n) as d / 16 panels; np is n in whole panels, also the row stride of e,
// the block's 6 x np scores (or score gradients).
struct Scratch {
  std::vector<float> across, down, e, q, pb, dzb, qs;
  int64_t np = 0;
  void pack(int64_t n, int64_t d, const float* a, int64_t lda, const float* b, int64_t ldb) {
    np = (n + kTileCols - 1) / kTileCols * kTileCols;
    across.resize(np * d);  // zero past row n: those scores are never read
    vt::detail::pack_panels_transposed(a, lda, d, n, 0, np / kTileCols, across.data());
    down.resize(n * d);
    vt::detail::pack_panels(b, ldb, n, d, 0, d / kTileCols, down.data());
    e.resize(kTileRows * np);
  }
};

// y[j][0:d] += sum_r w[r][j] x[r][0:d] for j < n: the transposed products P_b^T dZ_b and
// dS_b^T Q_b of one 6-row block, added into an n x d result (row stride ldy). Per 16 columns,
// the 6 rows of x stay in 12 registers and each y row is loaded, updated and stored once.
// w: 6 rows of n (row stride ldw); x: 6 rows of d (row stride ldx), d a multiple of 16.
VT_TARGET_AVX2 inline void add_rank6(int64_t n, int64_t d, const float* w, int64_t ldw, const float* x, int64_t ldx,
                                     float* y, int64_t ldy) {
  for (int64_t c0 = 0; c0 < d; c0 += kTileCols) {
    __m256 xr[kTileRows][2];
#pragma GCC unroll 6
    for (int r = 0; r < kTileRows; ++r) {
      xr[r][0] = _mm256_loadu_ps(x + r * ldx + c0);
      xr[r][1] = _mm256_loadu_ps(x + r * ldx + c0 + 8);
    }
    for (int64_t j = 0; j < n; ++j) {
      float* yj = y + j * ldy + c0;
      __m256 y0 = _mm256_loadu_ps(yj), y1 = _mm256_loadu_ps(yj + 8);
#pragma GCC unroll 6
      for (int r = 0; r < kTileRows; ++r) {
        const __m256 wr = _mm256_broadcast_ss(w + r * ldw + j);
        y0 = _mm256_fmadd_ps(wr, xr[r][0], y0);
        y1 = _mm256_fmadd_ps(wr, xr[r][1], y1);
      }
      _mm256_storeu_ps(yj, y0);
      _mm256_storeu_ps(yj + 8, y1);
    }
  }
}

// Rows [r0, r0 + rows) of a (row stride lda, len floats each) into a 6-row block with row stride
// len, zero rows after them.
inline const float* padded_rows(const float* a, int64_t lda, int64_t r0, int rows, int64_t len,
                                std::vector<float>& buf) {
  buf.assign(kTileRows * len, 0.f);
  for (int r = 0; r < rows; ++r) std::memcpy(buf.data() + r * len, a + (r0 + r) * lda, len * sizeof(float));
  return buf.data();
}

}  // namespace

VT_TARGET_AVX2 void softmax_head_fused(int64_t n, int64_t d, float s, const float* q, int64_t ldq, const float* k,
                                       int64_t ldk, const float* v, int64_t ldv, float* z, int64_t ldz, float* p,
                                       int64_t row_begin, int64_t row_end) {
  thread_local Scratch t;
  t.pack(n, d, k, ldk, v, ldv);  // K^T's panels (for S = Q K^T) and V's (for E V)
  const int64_t np = t.np;
  float* E = t.e.data();
  const float s_rows[kTileRows] = {s, s, s, s, s, s};

  for (int64_t i0 = row_begin; i0 < row_end; i0 += kTileRows) {
    const int rows = static_cast<int>(std::min<int64_t>(kTileRows, row_end - i0));
    // The block's query rows; the last block is copied and padded with zero rows.
    const bool pad = rows < kTileRows;
    const float* qb = pad ? padded_rows(q, ldq, i0, rows, d, t.q) : q + i0 * ldq;
    const int64_t ldqb = pad ? d : ldq;
    // S_b = s Q_b K^T  (6 x np)
    for (int64_t j0 = 0; j0 < np; j0 += kTileCols)
      tile_6x16(d, qb, ldqb, t.across.data() + j0 * d, E + j0, np, kTileRows, s_rows);
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
      tile_6x16(n, E, np, t.down.data() + cb * n * kTileCols, z + i0 * ldz + cb * kTileCols, ldz, rows, inv);
  }
}

// Backward of one head, per block of 6 query rows, with P (n x n) from the forward:
//   dP_b = dZ_b V^T                         6 x n   (micro-kernel over V^T's panels, depth d)
//   dS_b = P_b o (dP_b - rowsum(dP_b o P_b))       (in place, in L1)
//   dQ_b = s dS_b K                         6 x d   (micro-kernel over K's panels, depth n)
//   dV  += P_b^T dZ_b,  dK += s dS_b^T Q_b  n x d   (add_rank6: dV and dK stay in L2)
// dV and dK are zeroed first; blocks are added in order, so the result does not depend on threads.
VT_TARGET_AVX2 void softmax_head_fused_backward(int64_t n, int64_t d, float s, const float* q, int64_t ldq,
                                                const float* k, int64_t ldk, const float* v, int64_t ldv,
                                                const float* p, const float* dz, int64_t lddz, float* dq, int64_t lddq,
                                                float* dk, int64_t lddk, float* dv, int64_t lddv) {
  thread_local Scratch t;
  t.pack(n, d, v, ldv, k, ldk);  // V^T's panels (for dP = dZ V^T) and K's (for dS K)
  const int64_t np = t.np;
  float* dS = t.e.data();
  for (int64_t j = 0; j < n; ++j) {
    std::fill(dv + j * lddv, dv + j * lddv + d, 0.f);
    std::fill(dk + j * lddk, dk + j * lddk + d, 0.f);
  }
  const float s_rows[kTileRows] = {s, s, s, s, s, s};
  t.qs.resize(kTileRows * d);
  for (int64_t i0 = 0; i0 < n; i0 += kTileRows) {
    const int rows = static_cast<int>(std::min<int64_t>(kTileRows, n - i0));
    const bool pad = rows < kTileRows;  // the last block: zero rows after the real ones
    const float* dzb = pad ? padded_rows(dz, lddz, i0, rows, d, t.dzb) : dz + i0 * lddz;
    const float* pb = pad ? padded_rows(p, n, i0, rows, n, t.pb) : p + i0 * n;
    const float* qb = pad ? padded_rows(q, ldq, i0, rows, d, t.q) : q + i0 * ldq;
    const int64_t ld_dzb = pad ? d : lddz, ld_qb = pad ? d : ldq;
    // dP_b = dZ_b V^T
    for (int64_t j0 = 0; j0 < np; j0 += kTileCols)
      tile_6x16(d, dzb, ld_dzb, t.across.data() + j0 * d, dS + j0, np, kTileRows, nullptr);
    // dS_b = P_b o (dP_b - rowsum(dP_b o P_b)); rows past n are zero (their P_b rows are)
    for (int r = 0; r < kTileRows; ++r) {
      float* ds = dS + r * np;
      const float* pr = pb + r * n;
      const float dot = vt::detail::dot_f32(pr, ds, n);
      for (int64_t j = 0; j < n; ++j) ds[j] = pr[j] * (ds[j] - dot);
    }
    // dQ_b = s dS_b K
    for (int64_t cb = 0; cb < d / kTileCols; ++cb)
      tile_6x16(n, dS, np, t.down.data() + cb * n * kTileCols, dq + i0 * lddq + cb * kTileCols, lddq, rows, s_rows);
    // dV += P_b^T dZ_b;  dK += dS_b^T (s Q_b)
    add_rank6(n, d, pb, n, dzb, ld_dzb, dv, lddv);
    for (int r = 0; r < kTileRows; ++r)
      for (int64_t c = 0; c < d; ++c) t.qs[r * d + c] = s * qb[r * ld_qb + c];
    add_rank6(n, d, dS, np, t.qs.data(), d, dk, lddk);
  }
}
#else
void softmax_head_fused(int64_t, int64_t, float, const float*, int64_t, const float*, int64_t, const float*, int64_t,
                        float*, int64_t, float*, int64_t, int64_t) {
  VT_CHECK(false, "softmax_head_fused: not built for this CPU");
}
void softmax_head_fused_backward(int64_t, int64_t, float, const float*, int64_t, const float*, int64_t, const float*,
                                 int64_t, const float*, const float*, int64_t, float*, int64_t, float*, int64_t, float*,
                                 int64_t) {
  VT_CHECK(false, "softmax_head_fused_backward: not built for this CPU");
}
#endif

}  // namespace vt::vit::detail
