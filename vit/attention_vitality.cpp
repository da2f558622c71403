// ViTALiTy attention in training (vit/README.md): the Taylor low-rank part for every pair
// plus the higher-order residual R = exp(S) - 1 - S on the pairs SANGER's predictor keeps.
//
// Per head, S = s Q Khat^T (s = 1/sqrt(d)), with A = T_N / sqrt(d) = 1 v_sum + s Q G and
// a = t_D / sqrt(d) = n + s Q khat_sum^T from Algorithm 1 (attention_taylor.cpp):
//   Z_i = (A_i + sum_{j in M_i} R_ij v_j) / (a_i + sum_{j in M_i} R_ij)
// On kept pairs the weight is exactly exp(S_ij), elsewhere the first-order 1 + S_ij; R >= 0, so
// the denominator is at least n. With every pair kept this is softmax attention (centring the
// keys does not change softmax); with none kept it is Taylor attention. The mask is predicted
// from Q and Khat (4-bit, sparse_mask.cpp) and carries no gradient. Inference drops the sparse
// part (the Block calls the Taylor kernel), so the deployed model is linear.
//
// Why this normalisation: the paper's figures draw LOW RANK + higher-order terms = softmax and
// LOW RANK + SPARSE ~ softmax; its text on normalising the sparse part was not available, and the
// official code (unnormalised, feature-centred keys) does not run as released (vit/README.md,
// "Where the code departs from the paper").
//
// Annealing: training multiplies R by a weight lambda (MaskOptions::residual_weight) that the
// trainer lowers from 1 to 0 over the run (cosine), so the network ends on exactly the Taylor
// attention it is deployed with. Without it, a model trained with lambda = 1 leans on the exp
// residual: on Fashion-MNIST, evaluating it Taylor-only cost 15-21 points of top-1. The
// workflow figure's "Increase Sparsity" arrow from the sparse branch towards the low-rank one is
// our reading of this; the paper's text on it was not available (vit/README.md).
//   Z_i = (A_i + lambda sum_j R_ij v_j) / (a_i + lambda sum_j R_ij)
//
// Overflow guard: exp(S_ij) can overflow float for large scores. Numerator and denominator are
// both multiplied by alpha_i = exp(-m_i) with m_i = max(0, max_j S_ij), which leaves Z unchanged:
//   w_ij = lambda alpha_i R_ij = lambda (exp(S_ij - m_i) - alpha_i (1 + S_ij)), terms at most 1,
//   N_i = alpha_i A_i + sum_j w_ij v_j,   D_i = alpha_i a_i + sum_j w_ij,   Z_i = N_i / D_i.
// Because Z does not depend on m_i, backward treats m_i as a constant:
//   u_i = dZ_i / D_i,  nu_i = -(dZ_i . Z_i) / D_i,  dA_i = alpha_i u_i,  da_i = alpha_i nu_i,
//   dw_ij = u_i . v_j + nu_i,  dS_ij = lambda dw_ij (exp(S_ij - m_i) - alpha_i),  dv_j += w_ij u_i,
//   dq_i += s dS_ij khat_j,  dkhat_j += s dS_ij q_i,
// then the low-rank part exactly as in attention_taylor.cpp's backward.
#include <cmath>
#include <memory>

#include "core/trace.h"
#include "core/vecmath.h"
#include "vit/attention_kernel.h"
#include "vit/attention_steps.h"
#include "vit/sparse_mask.h"

namespace vt::vit::detail {

namespace {

constexpr size_t kLowRankSteps = 10;  // Algorithm 1's 1a ... 5b

void column_sum(const float* x, int64_t ld, int64_t n, int64_t d, float* out) {
  for (int64_t j = 0; j < d; ++j) out[j] = 0.f;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) out[j] += x[i * ld + j];
}

class VitalityKernel : public AttentionKernel {
 public:
  VitalityKernel(const MaskOptions& opt, SparseStats* stats, std::vector<CsrMask> fixed, float residual_weight)
      : opt_(opt), stats_(stats), masks_(std::move(fixed)), fixed_(!masks_.empty()), lambda_(residual_weight) {}
  const char* name() const override { return "vitality"; }

  void forward(const QkvViews& in, const HeadView& z) override {
    const int64_t B = in.q.B, H = in.q.H, heads = in.q.heads(), n = in.q.n, d = in.q.d;
    const float sc = 1.f / std::sqrt(static_cast<float>(d));
    khat_ = empty({B, H, n, d});
    g_ = empty({heads, d, d});
    ksum_ = empty({heads, d});
    Tensor A = empty({heads, n, d}), a = empty({heads, n});
    clamped_.assign(static_cast<size_t>(heads * n), 0);
    const auto t_lowrank = std::chrono::steady_clock::now();
    // Low-rank part, Algorithm 1 steps 1-5 scaled by 1/sqrt(d).
    for_each_head(heads, n, d, [&](int64_t h, GemmFn gemm_fn) {
      const float *Q = in.q.head(h), *K = in.k.head(h), *V = in.v.head(h);
      const int64_t lq = in.q.row_stride, lk = in.k.row_stride, lv = in.v.row_stride;
      float *Kh = khat_.data() + h * n * d, *G = g_.data() + h * d * d, *ksum = ksum_.data() + h * d;
      float *Ah = A.data() + h * n * d, *ah = a.data() + h * n;
      std::vector<float> kbar(d), vsum(d);
      column_sum(K, lk, n, d, kbar.data());  // 1: kbar, Khat
      for (int64_t j = 0; j < d; ++j) kbar[j] /= static_cast<float>(n);
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < d; ++j) Kh[i * d + j] = K[i * lk + j] - kbar[j];
      gemm_fn(true, false, d, d, n, 1.f, Kh, d, V, lv, 0.f, G, d);  // 2: G = Khat^T V
      column_sum(V, lv, n, d, vsum.data());                         // 3: v_sum, khat_sum
      column_sum(Kh, d, n, d, ksum);
      for (int64_t i = 0; i < n; ++i) {  // 4: a = n + s Q khat_sum^T (guarded: attention_kernel.h)
        float dot = 0.f;
        for (int64_t j = 0; j < d; ++j) dot += Q[i * lq + j] * ksum[j];
        ah[i] = guarded_normalizer(static_cast<float>(n), sc * dot, &clamped_[h * n + i]);
      }
      for (int64_t i = 0; i < n; ++i)  // 5: A = 1 v_sum + s Q G
        for (int64_t j = 0; j < d; ++j) Ah[i * d + j] = vsum[j];
      gemm_fn(false, false, n, d, d, sc, Q, lq, G, d, 1.f, Ah, d);
    });
    const double lowrank_seconds = seconds_since(t_lowrank);
    const auto t_predict = std::chrono::steady_clock::now();
    const HeadView khat = contiguous_view(khat_.data(), B, H, n, d);
    if (!fixed_) masks_ = predict_masks(in.q, khat, opt_);  // from Q and Khat
    const double predict_seconds = seconds_since(t_predict);
    const auto t_sparse = std::chrono::steady_clock::now();
    VT_CHECK(static_cast<int64_t>(masks_.size()) == heads, "attention_vitality: ", masks_.size(), " masks for ", heads,
             " heads");
    S_.assign(heads, {});
    m_ = empty({heads, n});
    den_ = empty({heads, n});
    // Sparse residual and step 6, parallel over heads.
    parallel_heads(heads, [&](int64_t h) {
      const float *Q = in.q.head(h), *V = in.v.head(h), *Kh = khat_.data() + h * n * d;
      const int64_t lq = in.q.row_stride, lv = in.v.row_stride;
      const float *Ah = A.data() + h * n * d, *ah = a.data() + h * n;
      float *m = m_.data() + h * n, *D = den_.data() + h * n;
      const CsrMask& mask = masks_[h];
      std::vector<float>& S = S_[h];
      S.resize(mask.nnz());
      std::vector<float> w(n);  // one row's weights
      for (int64_t i = 0; i < n; ++i) {
        const int32_t e0 = mask.row_ptr[i], e1 = mask.row_ptr[i + 1];
        float mi = 0.f;  // m_i = max(0, max_j S_ij)
        for (int32_t e = e0; e < e1; ++e) {
          S[e] = sc * vt::detail::dot_f32(Q + i * lq, Kh + mask.col[e] * d, d);  // SDDMM
          mi = std::max(mi, S[e]);
        }
        const float alpha = vt::detail::exp_f32(-mi);
        float* zr = z.row(h, i);
        for (int64_t c = 0; c < d; ++c) zr[c] = alpha * Ah[i * d + c];
        float den = alpha * ah[i];
        for (int32_t e = e0; e < e1; ++e)  // w = lambda alpha R, the row's exps in one vectorised loop
          w[e - e0] = lambda_ * (vt::detail::exp_f32(S[e] - mi) - alpha * (1.f + S[e]));
        for (int32_t e = e0; e < e1; ++e) {  // SpMM
          den += w[e - e0];
          row_axpy(d, w[e - e0], V + mask.col[e] * lv, zr);
        }
        for (int64_t c = 0; c < d; ++c) zr[c] /= den;
        m[i] = mi;
        D[i] = den;
      }
    });
    const double sparse_seconds = seconds_since(t_sparse);
    SparseStats st = mask_stats(masks_, B, H, n);
    if (active_trace()) {
      const std::vector<TraceRecord> steps = vitality_steps({heads, n, d, &masks_});
      const size_t first = append_records(steps);
      Trace& trace = *active_trace();
      if (trace.time_ops) {  // the low-rank steps share their measured time, then SANGER's
        split_time_by_flops(trace, first, lowrank_seconds, first + kLowRankSteps);
        trace_sanger_timing(first + kLowRankSteps, steps.size() - kLowRankSteps, predict_seconds, sparse_seconds);
      }
    }
    if (stats_) *stats_ = std::move(st);
  }

  void backward(const QkvViews& in, const HeadView& z, const HeadView& dz, const QkvViews& grad) override {
    const int64_t heads = in.q.heads(), n = in.q.n, d = in.q.d;
    const float sc = 1.f / std::sqrt(static_cast<float>(d));
    Tensor dA = empty({heads, n, d}), da = empty({heads, n}), dKhat = zeros({heads, n, d});
    // Phase 1, no BLAS, parallel over heads: the sparse residual's gradients, dA and da.
    parallel_heads(heads, [&](int64_t h) {
      const float *Q = in.q.head(h), *V = in.v.head(h), *Kh = khat_.data() + h * n * d, *Z = z.head(h),
                  *dZ = dz.head(h);
      const int64_t lq = in.q.row_stride, lv = in.v.row_stride, lz = z.row_stride, ldz = dz.row_stride;
      const float *m = m_.data() + h * n, *D = den_.data() + h * n;
      float *dQ = grad.q.head(h), *dV = grad.v.head(h), *dKh = dKhat.data() + h * n * d;
      const int64_t lgq = grad.q.row_stride, lgv = grad.v.row_stride;
      float *dAh = dA.data() + h * n * d, *dah = da.data() + h * n;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t c = 0; c < d; ++c) dQ[i * lgq + c] = dV[i * lgv + c] = 0.f;
      const CsrMask& mask = masks_[h];
      const float* S = S_[h].data();
      std::vector<float> u(d), exps(n);
      for (int64_t i = 0; i < n; ++i) {
        const int32_t e0 = mask.row_ptr[i], e1 = mask.row_ptr[i + 1];
        const float alpha = vt::detail::exp_f32(-m[i]);
        for (int64_t c = 0; c < d; ++c) u[c] = dZ[i * ldz + c] / D[i];
        const float nu = -vt::detail::dot_f32(dZ + i * ldz, Z + i * lz, d) / D[i];
        for (int64_t c = 0; c < d; ++c) dAh[i * d + c] = alpha * u[c];
        dah[i] = alpha * nu;
        for (int32_t e = e0; e < e1; ++e) exps[e - e0] = vt::detail::exp_f32(S[e] - m[i]);  // vectorised
        for (int32_t e = e0; e < e1; ++e) {
          const int64_t j = mask.col[e];
          const float ex = exps[e - e0];
          const float w = lambda_ * (ex - alpha * (1.f + S[e]));
          const float dw = vt::detail::dot_f32(u.data(), V + j * lv, d) + nu;
          const float dS = lambda_ * dw * (ex - alpha) * sc;
          // dQ_i += dS khat_j,  dKhat_j += dS q_i,  dV_j += w u_i
          row_axpy3(d, dS, Kh + j * d, dQ + i * lgq, dS, Q + i * lq, dKh + j * d, w, u.data(), dV + j * lgv);
        }
      }
    });
    // Phase 2: the low-rank part A = 1 v_sum + s Q G, a = n + s Q ksum^T, then the centring.
    for_each_head(heads, n, d, [&](int64_t h, GemmFn gemm_fn) {
      const float *Q = in.q.head(h), *V = in.v.head(h), *Kh = khat_.data() + h * n * d;
      const int64_t lq = in.q.row_stride, lv = in.v.row_stride;
      const float *G = g_.data() + h * d * d, *ksum = ksum_.data() + h * d;
      const float *dAh = dA.data() + h * n * d, *dah = da.data() + h * n;
      float *dQ = grad.q.head(h), *dV = grad.v.head(h), *dKh = dKhat.data() + h * n * d, *dK = grad.k.head(h);
      const int64_t lgq = grad.q.row_stride, lgv = grad.v.row_stride, lgk = grad.k.row_stride;
      std::vector<float> dG(d * d), dvsum(d), dksum(d, 0.f), col(d);
      gemm_fn(false, true, n, d, d, sc, dAh, d, G, d, 1.f, dQ, lgq);        // dQ += s dA G^T
      gemm_fn(true, false, d, d, n, sc, Q, lq, dAh, d, 0.f, dG.data(), d);  // dG = s Q^T dA
      column_sum(dAh, d, n, d, dvsum.data());                               // dv_sum = 1^T dA
      for (int64_t i = 0; i < n; ++i) {
        const float da_i = clamped_[h * n + i] ? 0.f : dah[i];  // a clamped normaliser is a constant
        for (int64_t j = 0; j < d; ++j) {
          dQ[i * lgq + j] += sc * da_i * ksum[j];  // dQ += s da ksum
          dksum[j] += sc * da_i * Q[i * lq + j];   // dksum = s da^T Q
        }
      }
      gemm_fn(false, true, n, d, d, 1.f, V, lv, dG.data(), d, 1.f, dKh, d);    // dKhat += V dG^T
      gemm_fn(false, false, n, d, d, 1.f, Kh, d, dG.data(), d, 1.f, dV, lgv);  // dV += Khat dG
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < d; ++j) {
          dKh[i * d + j] += dksum[j];
          dV[i * lgv + j] += dvsum[j];
        }
      column_sum(dKh, d, n, d, col.data());  // centring: dK = dKhat - 1 (1^T dKhat) / n
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < d; ++j) dK[i * lgk + j] = dKh[i * d + j] - col[j] / static_cast<float>(n);
    });
  }

 private:
  MaskOptions opt_;
  SparseStats* stats_;
  std::vector<CsrMask> masks_;
  bool fixed_;
  float lambda_;  // the residual's weight
  Tensor khat_, g_, ksum_, m_, den_;
  std::vector<uint8_t> clamped_;       // per head and row: the normaliser's guard bit
  std::vector<std::vector<float>> S_;  // per head, per kept entry: s q_i . khat_j
};

}  // namespace

// The low-rank part's steps are Algorithm 1's 1a-5b (attention_taylor.cpp), computed here scaled
// by 1/sqrt(d) (A and a above); then SANGER's steps on (Q, Khat) for the residual, the two parts
// added, and step 6's division.
std::vector<TraceRecord> vitality_steps(const StepDims& dims) {
  const StepContext c{"vitality", dims.heads, dims.n, dims.d};
  const int64_t n = dims.n, d = dims.d;
  std::vector<TraceRecord> steps = taylor_steps(dims);
  steps.pop_back();  // Taylor's step 6: here the division comes after the residual is added
  VT_ASSERT(steps.size() == kLowRankSteps);
  for (TraceRecord& r : steps) {
    r.step_of = c.of;
    if (r.step == "4b") r.step_name = "a = n 1 + s Q khat_sum^T";
    if (r.step == "5b") r.step_name = "A = 1 v_sum + s Q G";
  }
  for (TraceRecord& r :
       sanger_steps(c, dims.masks,
                    {{"s1", "s2", "s3", "s4"},
                     {"M = [softmax(s Q~ Khat~^T) > threshold], 4-bit Q~, Khat~", "S_ij = s q_i . khat_j on kept pairs",
                      "w_ij = lambda (exp(S_ij) - 1 - S_ij), r_i = sum_j w_ij", "R_i = sum_j w_ij v_j"},
                     "1c"}))
    steps.push_back(std::move(r));
  steps.push_back(vector_step(c, "s5", "N = A + R, D = a + r", "add", n, d + 1, n,
                              {stream("5b"), stream("s4"), stream("4b"), stream("s3")}, n));
  steps.push_back(divide_step(c, "6", "Z = diag(D)^-1 N", n, d, /*per_row=*/true, {stream("s5")}, n));
  return steps;
}

std::shared_ptr<AttentionKernel> make_vitality_kernel(const MaskOptions& opt, SparseStats* stats,
                                                      std::vector<CsrMask> fixed, float residual_weight) {
  return std::make_shared<VitalityKernel>(opt, stats, std::move(fixed), residual_weight);
}

Tensor attention_vitality_with_masks(const Tensor& q, const Tensor& k, const Tensor& v, std::vector<CsrMask> masks,
                                     SparseStats* stats, float residual_weight) {
  VT_CHECK(!masks.empty(), "attention_vitality: no masks given");
  return run_on_heads(make_vitality_kernel(MaskOptions{}, stats, std::move(masks), residual_weight), q, k, v);
}

}  // namespace vt::vit::detail
