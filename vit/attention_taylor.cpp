// ViTALiTy's linear Taylor attention, Algorithm 1 (DESIGN.md section 5), forward and backward.
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
// Only G, kbar, khat_sum, v_sum and t_D are kept for backward (besides Q, K, V, Z); Khat is
// recomputed into one n x d scratch buffer shared by all heads.
#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "core/ops.h"
#include "core/trace.h"
#include "vit/attention.h"

namespace vt::vit {

namespace {

// out (d) = sum over the n rows of x (n x d)
void column_sum(const float* x, int64_t n, int64_t d, float* out) {
  for (int64_t j = 0; j < d; ++j) out[j] = 0.f;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) out[j] += x[i * d + j];
}

// khat = k - 1 kbar
void center_rows(const float* k, const float* kbar, int64_t n, int64_t d, float* khat) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) khat[i * d + j] = k[i * d + j] - kbar[j];
}

struct TaylorSaved {
  Tensor q, k, v, z;               // (B,H,n,d)
  Tensor g, kbar, ksum, vsum, t;   // (B,H,d,d), (B,H,d) x3, (B,H,n)
};

void trace_steps(int64_t heads, int64_t n, int64_t d) {
  const double hn = double(heads) * n, nd = hn * d;
  struct Step {
    const char* kind;
    Shape in, out;
    double flops, bytes_in, bytes_out;
  };
  const Step steps[] = {
      {"taylor_center", {heads, n, d}, {heads, n, d}, 2 * nd, 4 * nd, 4 * (nd + heads * d)},       // 1a-1c
      {"taylor_context", {heads, n, d}, {heads, d, d}, 2 * nd * d, 8 * nd, 4.0 * heads * d * d},   // 2
      {"taylor_sums", {heads, n, d}, {heads, 2, d}, 2 * nd, 8 * nd, 8.0 * heads * d},              // 3
      {"taylor_normalizer", {heads, n, d}, {heads, n, 1}, 2 * nd + hn, 4 * nd, 4 * hn},            // 4
      {"taylor_numerator", {heads, n, d}, {heads, n, d}, 2 * nd * d + nd, 4 * nd, 4 * nd},         // 5
      {"taylor_divide", {heads, n, d}, {heads, n, d}, nd, 4 * (nd + hn), 4 * nd},                  // 6
  };
  for (const Step& s : steps) {
    OpTrace step_tr(s.kind);
    if (TraceRecord* r = step_tr.record({s.in}, s.out, s.flops, s.bytes_in, s.bytes_out))
      r->attrs = {{"heads", double(heads)}, {"n", double(n)}, {"d", double(d)}};
  }
}

Grads taylor_backward(const TaylorSaved& s, const Tensor& dz) {
  const int64_t B = s.q.size(0), H = s.q.size(1), n = s.q.size(2), d = s.q.size(3), heads = B * H;
  const float c = std::sqrt(static_cast<float>(d));
  Tensor dq = empty(s.q.shape()), dk = empty(s.q.shape()), dv = empty(s.q.shape());
  std::vector<float> khat(n * d), dT(n * d), dt(n), dG(d * d), dvsum(d), dksum(d), col(d);
  for (int64_t h = 0; h < heads; ++h) {
    const int64_t off = h * n * d;
    const float *Q = s.q.data() + off, *K = s.k.data() + off, *V = s.v.data() + off, *Z = s.z.data() + off;
    const float *G = s.g.data() + h * d * d, *kbar = s.kbar.data() + h * d, *ksum = s.ksum.data() + h * d;
    const float* t = s.t.data() + h * n;
    const float* dZ = dz.data() + off;
    float *dQ = dq.data() + off, *dK = dk.data() + off, *dV = dv.data() + off;
    // step 6: dT = dZ / t, dt = -(dZ . Z) / t
    for (int64_t i = 0; i < n; ++i) {
      float dot = 0.f;
      for (int64_t j = 0; j < d; ++j) {
        dT[i * d + j] = dZ[i * d + j] / t[i];
        dot += dZ[i * d + j] * Z[i * d + j];
      }
      dt[i] = -dot / t[i];
    }
    // steps 4 and 5: dQ = dT G^T + dt khat_sum, dG = Q^T dT, dv_sum = c 1^T dT, dkhat_sum = dt^T Q
    gemm(false, true, n, d, d, 1.f, dT.data(), d, G, d, 0.f, dQ, d);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < d; ++j) dQ[i * d + j] += dt[i] * ksum[j];
    gemm(true, false, d, d, n, 1.f, Q, d, dT.data(), d, 0.f, dG.data(), d);
    column_sum(dT.data(), n, d, dvsum.data());
    for (int64_t j = 0; j < d; ++j) {
      dvsum[j] *= c;
      dksum[j] = 0.f;
    }
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < d; ++j) dksum[j] += dt[i] * Q[i * d + j];
    // steps 2 and 3: dKhat = V dG^T + 1 dkhat_sum, dV = Khat dG + 1 dv_sum
    center_rows(K, kbar, n, d, khat.data());
    gemm(false, true, n, d, d, 1.f, V, d, dG.data(), d, 0.f, dK, d);
    gemm(false, false, n, d, d, 1.f, khat.data(), d, dG.data(), d, 0.f, dV, d);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < d; ++j) {
        dK[i * d + j] += dksum[j];
        dV[i * d + j] += dvsum[j];
      }
    // step 1: centring is a projection: dK = dKhat - 1 (1^T dKhat) / n
    column_sum(dK, n, d, col.data());
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < d; ++j) dK[i * d + j] -= col[j] / static_cast<float>(n);
  }
  return {dq, dk, dv};
}

}  // namespace

Tensor attention_taylor(const Tensor& q, const Tensor& k, const Tensor& v) {
  VT_CHECK(q.dim() == 4 && k.shape() == q.shape() && v.shape() == q.shape(),
           "attention_taylor: q, k, v must share one (B,H,n,d) shape, got ", shape_str(q.shape()), ", ",
           shape_str(k.shape()), ", ", shape_str(v.shape()));
  const int64_t B = q.size(0), H = q.size(1), n = q.size(2), d = q.size(3), heads = B * H;
  VT_CHECK(n > 0 && d > 0, "attention_taylor: empty heads ", shape_str(q.shape()));
  const float c = std::sqrt(static_cast<float>(d));
  TaylorSaved s{q.detach(), k.detach(), v.detach(), empty(q.shape()),
                empty({B, H, d, d}), empty({B, H, d}), empty({B, H, d}), empty({B, H, d}), empty({B, H, n})};
  std::vector<float> khat(n * d);  // one scratch buffer for every head
  for (int64_t h = 0; h < heads; ++h) {
    const int64_t off = h * n * d;
    const float *Q = q.data() + off, *K = k.data() + off, *V = v.data() + off;
    float *G = s.g.data() + h * d * d, *kbar = s.kbar.data() + h * d, *ksum = s.ksum.data() + h * d,
          *vsum = s.vsum.data() + h * d, *t = s.t.data() + h * n, *Z = s.z.data() + off;
    // Step 1: kbar = (1/n) 1^T K (column sums, one shared divisor n); Khat = K - 1 kbar
    column_sum(K, n, d, kbar);
    for (int64_t j = 0; j < d; ++j) kbar[j] /= static_cast<float>(n);
    center_rows(K, kbar, n, d, khat.data());
    // Step 2: G = Khat^T V  (d x d)
    gemm(true, false, d, d, n, 1.f, khat.data(), d, V, d, 0.f, G, d);
    // Step 3: v_sum = 1^T V,  khat_sum = 1^T Khat
    column_sum(V, n, d, vsum);
    column_sum(khat.data(), n, d, ksum);
    // Step 4: t_D = n c 1 + Q khat_sum^T
    for (int64_t i = 0; i < n; ++i) {
      float dot = 0.f;
      for (int64_t j = 0; j < d; ++j) dot += Q[i * d + j] * ksum[j];
      t[i] = static_cast<float>(n) * c + dot;
    }
    // Step 5: T_N = c 1 v_sum + Q G, accumulated straight into Z's rows
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < d; ++j) Z[i * d + j] = c * vsum[j];
    gemm(false, false, n, d, d, 1.f, Q, d, G, d, 1.f, Z, d);
    // Step 6: Z = diag(t_D)^-1 T_N  (one divisor per row)
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < d; ++j) Z[i * d + j] /= t[i];
  }
  Tensor out = s.z;
  s.z = out.detach();
  if (active_trace()) trace_steps(heads, n, d);  // one record per step of Algorithm 1
  if (needs_grad(q, k, v)) {
    record_op(out, "attention_taylor", {q, k, v}, [s](const Tensor& g) -> Grads { return taylor_backward(s, g); });
  }
  return out;
}

}  // namespace vt::vit
