// Matrix products: matmul and batched matmul with transpose flags, through cblas_sgemm
// (core/README.md, "Conventions"); gemm_serial, the single-threaded product for attention's per-head loops, on the
// 6x16 micro-kernel of core/gemm_kernel.h where the CPU has AVX2; and a naive reference GEMM with
// the same semantics for the tests. Transposes are never materialised: the kernels read the
// operand in the transposed order.
//
// Shapes: op(A) is (M, K), op(B) is (K, N), C is (M, N); leading batch dims as in ops.h.
#include <cblas.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <vector>

#include "core/autograd.h"
#include "core/gemm_kernel.h"
#include "core/ops.h"
#include "core/simd.h"
#include "core/threads.h"
#include "core/trace.h"
#include "core/vecmath.h"

namespace vt {

bool blas_serial_in_parallel_region() {
  static const bool serial = openblas_get_parallel() != 1;  // 0 serial build, 2 OpenMP build, 1 pthreads
  return serial;
}

namespace {

// Products with many rows (the linear layers: M = batch x tokens) run as single-threaded BLAS
// calls on panels of kRowPanel rows, each thread taking a contiguous range of panels, instead of
// one call that OpenBLAS threads itself. Measured on 2 cores with DeiT-Tiny's batch-32 shapes
// (6304 x 192..768 x 192..768, forward and dx): 2-18% faster in bench-ops (medians of
// alternating runs; 10-40% in a standalone test), because each panel of A and C stays in the
// core's L2 cache while B is reused from it. The weight gradients (few rows, K =
// batch x tokens) gain nothing this way and keep OpenBLAS's threading. Every element of C is
// computed by the same kernel over the same K blocks either way.
constexpr int64_t kRowPanel = 256;

bool split_rows(int64_t M, int64_t K) {
  return M >= 8 * kRowPanel && K <= 4096 && num_threads() > 1 && !in_parallel_region() &&
         blas_serial_in_parallel_region();
}

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              static_cast<int>(M), static_cast<int>(N), static_cast<int>(K), alpha, A, static_cast<int>(lda), B,
              static_cast<int>(ldb), beta, C, static_cast<int>(ldc));
}

}  // namespace

void gemm_then(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
               const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
               const std::function<void(int64_t, int64_t)>& epilogue) {
  // A threaded BLAS inside an OpenMP region would oversubscribe the cores (core/README.md, "Threads").
  VT_ASSERT(!in_parallel_region() || blas_serial_in_parallel_region());
  if (M == 0 || N == 0) return;
  auto rest = [&] {  // the epilogue over all rows, in parallel, after a product not split by rows
    if (epilogue)
      parallel_for(M, std::max<int64_t>(1, kElementwiseGrain / N),
                   [&](int64_t lo, int64_t hi) { epilogue(lo, hi - lo); });
  };
  if (K == 0) {  // C = beta * C; BLAS implementations disagree on touching C here
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.f ? 0.f : beta * C[i * ldc + j];
    rest();
    return;
  }
  for (int64_t v : {M, N, K, lda, ldb, ldc})
    VT_CHECK(v <= INT_MAX, "gemm: dimension ", v, " exceeds the BLAS integer range");
  if (!split_rows(M, K)) {
    sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    rest();
    return;
  }
  // About kRowPanel rows each, as many panels for every thread (6304 rows on 2 threads: 24 panels
  // of 263 rows, not 25 of 256, which left one thread a panel more than the other).
  const int64_t nt = num_threads();
  const int64_t panels = ((M + kRowPanel - 1) / kRowPanel + nt - 1) / nt * nt;
  const int64_t panel_rows = (M + panels - 1) / panels;
  parallel_for(panels, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t p = lo; p < hi; ++p) {
      const int64_t r0 = p * panel_rows, rows = std::min(panel_rows, M - r0);
      if (rows <= 0) continue;
      // rows r0.. of op(A): A + r0 * lda without transpose, A + r0 (columns) with it
      sgemm(trans_a, trans_b, rows, N, K, alpha, trans_a ? A + r0 : A + r0 * lda, lda, B, ldb, beta, C + r0 * ldc, ldc);
      if (epilogue) epilogue(r0, rows);
    }
  });
}

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  gemm_then(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, nullptr);
}

namespace {

// C (M x N, ldc) = alpha * A (M x K, lda) * B (K x N, ldb) + beta * C, all "no transpose".
// A 4 x 16 register block held in eight 8-float vectors (GCC vector extensions: one AVX register
// each under the AVX2 build, two SSE registers each otherwise): per k, two loads of B, four
// broadcasts of A, eight multiply-adds.
// (GCC notes that passing such vectors by value changes the ABI without AVX; these helpers are
// internal and always inlined, so no ABI boundary is crossed.)
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float v8f __attribute__((vector_size(32)));

inline v8f load8(const float* p) {
  v8f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store8(float* p, v8f v) { std::memcpy(p, &v, sizeof v); }

void gemm_nn_blocked(int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
                     int64_t ldb, float beta, float* C, int64_t ldc) {
  int64_t i = 0;
  for (; i + 4 <= M; i += 4) {
    const float *a0 = A + i * lda, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
    int64_t j = 0;
    for (; j + 16 <= N; j += 16) {
      v8f c00 = {}, c01 = {}, c10 = {}, c11 = {}, c20 = {}, c21 = {}, c30 = {}, c31 = {};
      for (int64_t k = 0; k < K; ++k) {
        const v8f b0 = load8(B + k * ldb + j), b1 = load8(B + k * ldb + j + 8);
        const v8f x0 = v8f{} + a0[k], x1 = v8f{} + a1[k], x2 = v8f{} + a2[k], x3 = v8f{} + a3[k];
        c00 += x0 * b0;
        c01 += x0 * b1;
        c10 += x1 * b0;
        c11 += x1 * b1;
        c20 += x2 * b0;
        c21 += x2 * b1;
        c30 += x3 * b0;
        c31 += x3 * b1;
      }
      const v8f acc[4][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}};
      for (int r = 0; r < 4; ++r)
        for (int h = 0; h < 2; ++h) {
          float* c = C + (i + r) * ldc + j + 8 * h;
          store8(c, beta == 0.f ? alpha * acc[r][h] : alpha * acc[r][h] + beta * load8(c));
        }
    }
    for (; j < N; ++j)  // the last columns
      for (int r = 0; r < 4; ++r) {
        float acc = 0.f;
        for (int64_t k = 0; k < K; ++k) acc += A[(i + r) * lda + k] * B[k * ldb + j];
        float* c = C + (i + r) * ldc + j;
        *c = alpha * acc + (beta == 0.f ? 0.f : beta * *c);
      }
  }
  for (; i < M; ++i) {  // the last rows
    float* c = C + i * ldc;
    for (int64_t j = 0; j < N; ++j) c[j] = beta == 0.f ? 0.f : beta * c[j];
    for (int64_t k = 0; k < K; ++k) {
      const float a = alpha * A[i * lda + k];
      const float* b = B + k * ldb;
      for (int64_t j = 0; j < N; ++j) c[j] += a * b[j];
    }
  }
}

// op(A) = A^T (A stored K x M): C[i, :] += A[k, i] * B[k, :] for every k, i -- rows of A and B
// are read in order and each update is a vectorised axpy over N; no transpose of A is made.
void gemm_tn_axpy(int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
                  int64_t ldb, float beta, float* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i) {
    float* c = C + i * ldc;
    for (int64_t j = 0; j < N; ++j) c[j] = beta == 0.f ? 0.f : beta * c[j];
  }
  for (int64_t k = 0; k < K; ++k) {
    const float* a = A + k * lda;
    const float* b = B + k * ldb;
    for (int64_t i = 0; i < M; ++i) {
      const float x = alpha * a[i];
      float* c = C + i * ldc;
      for (int64_t j = 0; j < N; ++j) c[j] += x * b[j];
    }
  }
}

}  // namespace

#if VT_GEMM_KERNEL
// gemm_serial on AVX2+FMA CPUs: op(B) packed into 16-column panels (zero-padded past N), and all
// of op(A) packed into micro-panels of 6 rows, depth x 6 each (zero rows past M), in one pass in
// A's storage order: a sequential sweep the hardware prefetcher follows even when A comes from
// memory, where gathering 6 strided rows (or columns) per block stalled on every cache line.
// The micro-kernel then reads each micro-panel sequentially across all of B's panels. Tiles that
// are full and need no beta are stored straight into C; the others go through a 6 x 16 buffer.
VT_TARGET_AVX2 void gemm_serial_packed(bool ta, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                                       int64_t lda, const float* panels, float beta, float* C, int64_t ldc) {
  using detail::kTileCols;
  using detail::kTileRows;
  const int64_t blocks = (M + kTileRows - 1) / kTileRows, npanels = (N + kTileCols - 1) / kTileCols;
  // ap[b][k][r] = op(A)[6 b + r][k]
  thread_local std::vector<float> ap;
  ap.resize(blocks * K * kTileRows);
  float* pa = ap.data();
  if (M % kTileRows)  // the last block's missing rows
    for (int64_t k = 0; k < K; ++k)
      for (int64_t r = M % kTileRows; r < kTileRows; ++r) pa[((blocks - 1) * K + k) * kTileRows + r] = 0.f;
  if (ta) {  // A stored K x M: row k holds column k of op(A), 6 consecutive floats per block
    for (int64_t k = 0; k < K; ++k) {
      const float* src = A + k * lda;
      for (int64_t b = 0; b < blocks; ++b) {
        const int64_t rows = std::min<int64_t>(kTileRows, M - b * kTileRows);
        float* dst = pa + (b * K + k) * kTileRows;
        for (int64_t r = 0; r < rows; ++r) dst[r] = src[b * kTileRows + r];
      }
    }
  } else {  // 6 rows of A at a time, written in order
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t rows = std::min<int64_t>(kTileRows, M - b * kTileRows);
      const float* src = A + b * kTileRows * lda;
      float* dst = pa + b * K * kTileRows;
      if (rows == kTileRows) {
        for (int64_t k = 0; k < K; ++k)
          for (int r = 0; r < kTileRows; ++r) dst[k * kTileRows + r] = src[r * lda + k];
      } else {
        for (int64_t k = 0; k < K; ++k)
          for (int64_t r = 0; r < rows; ++r) dst[k * kTileRows + r] = src[r * lda + k];
      }
    }
  }
  const float scale[kTileRows] = {alpha, alpha, alpha, alpha, alpha, alpha};
  const float* sc = alpha == 1.f ? nullptr : scale;
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t i0 = b * kTileRows;
    const int rows = static_cast<int>(std::min<int64_t>(kTileRows, M - i0));
    const float* a = pa + b * K * kTileRows;
    for (int64_t jb = 0; jb < npanels; ++jb) {
      const float* panel = panels + jb * K * kTileCols;
      const int64_t j0 = jb * kTileCols, cols = std::min<int64_t>(kTileCols, N - j0);
      float* c = C + i0 * ldc + j0;
      if (beta == 0.f && cols == kTileCols) {
        detail::tile_6x16<true>(K, a, kTileRows, panel, c, ldc, rows, sc);
        continue;
      }
      float t[kTileRows * kTileCols];
      detail::tile_6x16<true>(K, a, kTileRows, panel, t, kTileCols, rows, sc);
      for (int r = 0; r < rows; ++r) {
        const float* tr = t + r * kTileCols;
        float* cr = c + r * ldc;
        if (cols == kTileCols) {  // constant trip count: vectorised
          for (int j = 0; j < kTileCols; ++j) cr[j] = tr[j] + beta * cr[j];
        } else {
          for (int64_t j = 0; j < cols; ++j) cr[j] = beta == 0.f ? tr[j] : tr[j] + beta * cr[j];
        }
      }
    }
  }
}
#endif

// With AVX2+FMA: the packed micro-kernel above. Otherwise op(B) = B^T is copied into a contiguous
// K x N scratch first (in attention B^T is the small d x n side) and op(A) = A^T uses the axpy
// order above.
void gemm_serial(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                 const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
#if VT_GEMM_KERNEL
  if (K > 0 && detail::cpu_has_avx2_fma()) {
    thread_local std::vector<float> panels;
    const int64_t npanels = (N + detail::kTileCols - 1) / detail::kTileCols;
    panels.resize(static_cast<size_t>(npanels * K * detail::kTileCols));
    if (tb) detail::pack_panels_transposed(B, ldb, K, N, 0, npanels, panels.data());
    else detail::pack_panels(B, ldb, K, N, 0, npanels, panels.data());
    gemm_serial_packed(ta, M, N, K, alpha, A, lda, panels.data(), beta, C, ldc);
    return;
  }
#endif
  thread_local std::vector<float> b_scratch;
  if (tb) {  // B is stored N x K: make it K x N
    b_scratch.resize(static_cast<size_t>(K) * N);
    for (int64_t j = 0; j < N; ++j)
      for (int64_t k = 0; k < K; ++k) b_scratch[k * N + j] = B[j * ldb + k];
    B = b_scratch.data();
    ldb = N;
  }
  detail::simd_dispatch([&] {
    if (ta) gemm_tn_axpy(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    else gemm_nn_blocked(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  });
}

namespace {

struct MatmulDims {
  int64_t batch = 1, M = 0, N = 0, K = 0;
  bool a_batched = false, b_batched = false;
  Shape out;
};

std::string operand_str(const Tensor& t, bool trans) { return shape_str(t.shape()) + (trans ? "^T" : ""); }

MatmulDims matmul_dims(const char* op, const Tensor& a, const Tensor& b, bool ta, bool tb) {
  const std::string what = str_cat(op, ": ", operand_str(a, ta), " @ ", operand_str(b, tb));
  VT_CHECK(a.dim() >= 2 && b.dim() >= 2, what,
           ": both operands need at least 2 dimensions "
           "(reshape a vector to (1,K) or (K,1))");
  MatmulDims d;
  d.M = ta ? a.size(-1) : a.size(-2);
  const int64_t Ka = ta ? a.size(-2) : a.size(-1);
  const int64_t Kb = tb ? b.size(-1) : b.size(-2);
  d.N = tb ? b.size(-2) : b.size(-1);
  VT_CHECK(Ka == Kb, what, ": inner dimensions ", Ka, " != ", Kb);
  d.K = Ka;
  const Shape ba(a.shape().begin(), a.shape().end() - 2), bb(b.shape().begin(), b.shape().end() - 2);
  d.a_batched = !ba.empty();
  d.b_batched = !bb.empty();
  VT_CHECK(!(d.a_batched && d.b_batched) || ba == bb, what, ": batch dimensions ", shape_str(ba), " and ",
           shape_str(bb), " differ (a 2-D operand is shared across the batch)");
  d.out = d.a_batched ? ba : bb;
  d.batch = shape_numel(d.out);
  d.out.push_back(d.M);
  d.out.push_back(d.N);
  return d;
}

// C (batch, M, N) = op(A) op(B) for every batch entry, with `kernel` doing one product.
template <class Gemm>
void batched_product(const MatmulDims& d, const Tensor& a, const Tensor& b, bool ta, bool tb, float* C, Gemm&& kernel) {
  const int64_t lda = ta ? d.M : d.K, ldb = tb ? d.K : d.N;
  if (!ta && !d.b_batched) {
    // A shared B: all batch rows of A form one (batch*M, K) matrix, so one GEMM does it all.
    kernel(false, tb, d.batch * d.M, d.N, d.K, a.data(), lda, b.data(), ldb, C, d.N);
    return;
  }
  for (int64_t i = 0; i < d.batch; ++i) {
    const float* Ai = a.data() + (d.a_batched ? i * d.M * d.K : 0);
    const float* Bi = b.data() + (d.b_batched ? i * d.K * d.N : 0);
    kernel(ta, tb, d.M, d.N, d.K, Ai, lda, Bi, ldb, C + i * d.M * d.N, d.N);
  }
}

}  // namespace

// out = op(a) op(b)
//   da = g op(b)^T  (ta = 0)   or  op(b) g^T  (ta = 1), summed over the batch when a is shared
//   db = op(a)^T g  (tb = 0)   or  g^T op(a)  (tb = 1), summed over the batch when b is shared
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  OpTrace tr("matmul");
  const MatmulDims d = matmul_dims("matmul", a, b, trans_a, trans_b);
  Tensor out = empty(d.out);
  batched_product(d, a, b, trans_a, trans_b, out.data(),
                  [](bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
                     int64_t ldb, float* C, int64_t ldc) { gemm(ta, tb, M, N, K, 1.f, A, lda, B, ldb, 0.f, C, ldc); });
  if (TraceRecord* r = tr.record({&a, &b}, out, 2.0 * d.batch * d.M * d.N * d.K)) {
    r->attrs = {{"batch", double(d.batch)}, {"M", double(d.M)},           {"N", double(d.N)},
                {"K", double(d.K)},         {"trans_a", double(trans_a)}, {"trans_b", double(trans_b)}};
  }
  if (needs_grad(a, b)) {
    const bool ga = a.requires_grad(), gb = b.requires_grad();
    record_op(out, "matmul", {a, b},
              [ga, gb, ta = trans_a, tb = trans_b, a = a.detach(), b = b.detach(), d](const Tensor& g) -> Grads {
                Tensor da, db;
                if (ga) {
                  da = ta ? matmul(b, g, tb, true) : matmul(g, b, false, !tb);
                  da = sum_to(da, a.shape());
                }
                if (gb) {
                  if (!ta && d.a_batched && !d.b_batched) {
                    // Shared weight: fold the batch into the rows, one GEMM instead of a sum.
                    Tensor a2 = a.reshape({-1, d.K}), g2 = g.reshape({-1, d.N});
                    db = tb ? matmul(g2, a2, true, false) : matmul(a2, g2, true, false);
                  } else {
                    db = tb ? matmul(g, a, true, ta) : matmul(a, g, !ta, false);
                    db = sum_to(db, b.shape());
                  }
                }
                return {da, db};
              });
  }
  return out;
}

Tensor matmul_reference(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  const MatmulDims d = matmul_dims("matmul_reference", a, b, trans_a, trans_b);
  Tensor out = empty(d.out);
  batched_product(d, a, b, trans_a, trans_b, out.data(),
                  [](bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
                     int64_t ldb, float* C, int64_t ldc) {
                    for (int64_t i = 0; i < M; ++i)
                      for (int64_t j = 0; j < N; ++j) {
                        float acc = 0.f;
                        for (int64_t k = 0; k < K; ++k)
                          acc += (ta ? A[k * lda + i] : A[i * lda + k]) * (tb ? B[j * ldb + k] : B[k * ldb + j]);
                        C[i * ldc + j] = acc;
                      }
                  });
  return out;
}

}  // namespace vt
