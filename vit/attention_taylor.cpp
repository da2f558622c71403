// ViTALiTy's linear Taylor attention, Algorithm 1 (vit/README.md), forward and backward.
//
// Per head, with Q, K, V (n x d), c = sqrt(d) and 1 the all-ones n-vector:
//   1. kbar = (1/n) 1^T K;  Khat = K - 1 kbar          centre the keys over the tokens
//   2. G = Khat^T V                                    (d x d) the global context matrix
//   3. v_sum = 1^T V;  khat_sum = 1^T Khat            (1 x d) each
//   4. t_D = n c 1 + Q khat_sum^T                      (n x 1) the normaliser
//   5. T_N = c 1 v_sum + Q G                           (n x d) the numerator
//   6. Z = diag(t_D)^-1 T_N                            each row divided by its own t_D entry
// This is exp(x) ~ 1 + x applied to the row-centred scores s Q K^T, times c on both sides of the
// fraction: Z = diag(A 1)^-1 A V with A = 1 1^T + s Q Khat^T, at O(n d^2) work and O(d^2) state.
// (khat_sum is 0 up to rounding, so t_D ~ n c; the steps are kept as the accelerator runs them.)
//
// Backward, per head, given dZ (n x d):
//   dT = diag(t_D)^-1 dZ;          dt_i = -(dZ_i . Z_i) / t_D_i             (step 6)
//   dQ = dT G^T + dt khat_sum;     dG = Q^T dT;   dv_sum = c 1^T dT;         (steps 4, 5)
//   dkhat_sum = dt^T Q
//   dKhat = V dG^T + 1 dkhat_sum;  dV = Khat dG + 1 dv_sum                   (steps 2, 3)
//   dK = dKhat - 1 (1^T dKhat) / n                                           (step 1)
// Only G, kbar, khat_sum and t_D are kept for backward (besides the inputs and Z); Khat and the
// other n x d temporaries live in per-head scratch buffers.
#include <cmath>
#include <vector>

#include "core/trace.h"
#include "vit/attention_kernel.h"
#include "vit/attention_steps.h"

namespace vt::vit::detail {

namespace {

// out (d) = sum over the n rows of x (row stride ld)
void column_sum(const float* x, int64_t ld, int64_t n, int64_t d, float* out) {
  for (int64_t j = 0; j < d; ++j) out[j] = 0.f;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) out[j] += x[i * ld + j];
}

// khat (n x d, contiguous) = k - 1 kbar
void center_rows(const float* k, int64_t ld, const float* kbar, int64_t n, int64_t d, float* khat) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) khat[i * d + j] = k[i * ld + j] - kbar[j];
}

class TaylorKernel : public AttentionKernel {
 public:
  const char* name() const override { return "taylor"; }

  void forward(const QkvViews& in, const HeadView& z) override {
    const int64_t heads = in.q.heads(), n = in.q.n, d = in.q.d;
    const float c = std::sqrt(static_cast<float>(d));
    g_ = empty({heads, d, d});
    kbar_ = empty({heads, d});
    ksum_ = empty({heads, d});
    t_ = empty({heads, n});
    clamped_.assign(static_cast<size_t>(heads * n), 0);
    for_each_head(heads, n, d, [&](int64_t h, GemmFn gemm_fn) {
      const float *Q = in.q.head(h), *K = in.k.head(h), *V = in.v.head(h);
      const int64_t lq = in.q.row_stride, lk = in.k.row_stride, lv = in.v.row_stride, lz = z.row_stride;
      float *G = g_.data() + h * d * d, *kbar = kbar_.data() + h * d, *ksum = ksum_.data() + h * d;
      float *t = t_.data() + h * n, *Z = z.head(h);
      std::vector<float> khat(n * d), vsum(d);
      // Step 1: kbar = (1/n) 1^T K (column sums, one shared divisor n); Khat = K - 1 kbar
      column_sum(K, lk, n, d, kbar);
      for (int64_t j = 0; j < d; ++j) kbar[j] /= static_cast<float>(n);
      center_rows(K, lk, kbar, n, d, khat.data());
      // Step 2: G = Khat^T V  (d x d)
      gemm_fn(true, false, d, d, n, 1.f, khat.data(), d, V, lv, 0.f, G, d);
      // Step 3: v_sum = 1^T V,  khat_sum = 1^T Khat
      column_sum(V, lv, n, d, vsum.data());
      column_sum(khat.data(), d, n, d, ksum);
      // Step 4: t_D = n c 1 + Q khat_sum^T (guarded: attention_kernel.h)
      for (int64_t i = 0; i < n; ++i) {
        float dot = 0.f;
        for (int64_t j = 0; j < d; ++j) dot += Q[i * lq + j] * ksum[j];
        t[i] = guarded_normalizer(static_cast<float>(n) * c, dot, &clamped_[h * n + i]);
      }
      // Step 5: T_N = c 1 v_sum + Q G, accumulated straight into Z's rows
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < d; ++j) Z[i * lz + j] = c * vsum[j];
      gemm_fn(false, false, n, d, d, 1.f, Q, lq, G, d, 1.f, Z, lz);
      // Step 6: Z = diag(t_D)^-1 T_N  (one divisor per row)
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < d; ++j) Z[i * lz + j] /= t[i];
    });
    if (active_trace()) append_records(taylor_steps({heads, n, d}));  // one record per step of Algorithm 1
  }

  void backward(const QkvViews& in, const HeadView& z, const HeadView& dz, const QkvViews& grad) override {
    const int64_t heads = in.q.heads(), n = in.q.n, d = in.q.d;
    const float c = std::sqrt(static_cast<float>(d));
    for_each_head(heads, n, d, [&](int64_t h, GemmFn gemm_fn) {
      const float *Q = in.q.head(h), *K = in.k.head(h), *V = in.v.head(h), *Z = z.head(h), *dZ = dz.head(h);
      const int64_t lq = in.q.row_stride, lk = in.k.row_stride, lv = in.v.row_stride, lz = z.row_stride,
                    ldz = dz.row_stride;
      const float *G = g_.data() + h * d * d, *kbar = kbar_.data() + h * d, *ksum = ksum_.data() + h * d,
                  *t = t_.data() + h * n;
      float *dQ = grad.q.head(h), *dK = grad.k.head(h), *dV = grad.v.head(h);
      const int64_t lgq = grad.q.row_stride, lgk = grad.k.row_stride, lgv = grad.v.row_stride;
      std::vector<float> khat(n * d), dT(n * d), dt(n), dG(d * d), dvsum(d), dksum(d, 0.f), col(d);
      // step 6: dT = dZ / t, dt = -(dZ . Z) / t
      for (int64_t i = 0; i < n; ++i) {
        float dot = 0.f;
        for (int64_t j = 0; j < d; ++j) {
          dT[i * d + j] = dZ[i * ldz + j] / t[i];
          dot += dZ[i * ldz + j] * Z[i * lz + j];
        }
        dt[i] = -dot / t[i];
      }
      // steps 4 and 5: dQ = dT G^T + dt khat_sum, dG = Q^T dT, dv_sum = c 1^T dT, dkhat_sum = dt^T Q
      gemm_fn(false, true, n, d, d, 1.f, dT.data(), d, G, d, 0.f, dQ, lgq);
      for (int64_t i = 0; i < n; ++i) {
        if (clamped_[h * n + i]) dt[i] = 0.f;  // a clamped normaliser is a constant
        for (int64_t j = 0; j < d; ++j) dQ[i * lgq + j] += dt[i] * ksum[j];
      }
      gemm_fn(true, false, d, d, n, 1.f, Q, lq, dT.data(), d, 0.f, dG.data(), d);
      column_sum(dT.data(), d, n, d, dvsum.data());
      for (int64_t j = 0; j < d; ++j) dvsum[j] *= c;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < d; ++j) dksum[j] += dt[i] * Q[i * lq + j];
      // steps 2 and 3: dKhat = V dG^T + 1 dkhat_sum, dV = Khat dG + 1 dv_sum
      center_rows(K, lk, kbar, n, d, khat.data());
      gemm_fn(false, true, n, d, d, 1.f, V, lv, dG.data(), d, 0.f, dK, lgk);
      gemm_fn(false, false, n, d, d, 1.f, khat.data(), d, dG.data(), d, 0.f, dV, lgv);
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < d; ++j) {
          dK[i * lgk + j] += dksum[j];
          dV[i * lgv + j] += dvsum[j];
        }
      // step 1: centring is a projection: dK = dKhat - 1 (1^T dKhat) / n
      column_sum(dK, lgk, n, d, col.data());
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < d; ++j) dK[i * lgk + j] -= col[j] / static_cast<float>(n);
    });
  }

 private:
  Tensor g_, kbar_, ksum_, t_;
  std::vector<uint8_t> clamped_;  // per head and row: step 4's guard bit
};

}  // namespace

std::shared_ptr<AttentionKernel> make_taylor_kernel() { return std::make_shared<TaylorKernel>(); }

// Algorithm 1 as the accelerator runs it: each step split by the unit that computes it (a: the
// product or the reduction, b: what is added or divided after it), and v_sum (step 3) as its own
// step 3b because it needs only V. The kernel above computes the same quantities per head.
std::vector<TraceRecord> taylor_steps(const StepDims& dims) {
  const StepContext c{"taylor", dims.heads, dims.n, dims.d};
  const int64_t n = dims.n, d = dims.d;
  TraceRecord context = gemm_step(c, "2", "G = Khat^T V", d, d, n, {stream("1c"), stream("v")});
  context.attrs["tokens"] = double(n);  // the tokens stream through its reduction
  return {
      vector_step(c, "1a", "k_col = 1^T K", "column_sum", n, d, 1, {stream("k")}, n),
      divide_step(c, "1b", "kbar = k_col / n", 1, d, /*per_row=*/false, {whole("1a")}, 0),
      vector_step(c, "1c", "Khat = K - 1 kbar", "add", n, d, n, {stream("k"), whole("1b")}, n),
      std::move(context),
      vector_step(c, "3a", "khat_sum = 1^T Khat", "column_sum", n, d, 1, {stream("1c")}, n),
      vector_step(c, "3b", "v_sum = 1^T V", "column_sum", n, d, 1, {stream("v")}, n),
      gemm_step(c, "4a", "Q khat_sum^T", n, 1, d, {stream("q"), whole("3a")}),
      vector_step(c, "4b", "t_D = n sqrt(d) 1 + Q khat_sum^T", "add", n, 1, n, {stream("4a")}, n),
      gemm_step(c, "5a", "Q G", n, d, d, {stream("q"), whole("2")}),
      vector_step(c, "5b", "T_N = sqrt(d) 1 v_sum + Q G", "add", n, d, n, {stream("5a"), whole("3b")}, n),
      divide_step(c, "6", "Z = diag(t_D)^-1 T_N", n, d, /*per_row=*/true, {stream("5b"), stream("4b")}, n),
  };
}

}  // namespace vt::vit::detail
