// SANGER's sparse attention, forward and backward on the kept entries only.
//
// Per head, with the predicted mask M in CSR (sparse_mask.cpp) and s = 1/sqrt(d):
//   SDDMM    S_ij = s q_i . k_j                       for (i, j) in M
//   softmax  P_ij = exp(S_ij - m_i) / sum_j' exp(S_ij' - m_i),  m_i = max over row i's kept S
//   SpMM     Z_i = sum_j P_ij v_j
// i.e. softmax of the full-precision scores renormalised over the kept entries. Work and memory
// are proportional to nnz(M), never n^2 (the 4-bit predictor aside).
//
// Backward, per kept (i, j):  dP_ij = dZ_i . v_j;  dS_ij = P_ij (dP_ij - sum_j' P_ij' dP_ij');
//   dq_i += s dS_ij k_j;  dk_j += s dS_ij q_i;  dv_j += P_ij dZ_i.  The mask has no gradient.
#include <cmath>
#include <memory>

#include "core/vecmath.h"
#include "vit/attention_kernel.h"
#include "vit/attention_steps.h"
#include "vit/sparse_mask.h"

namespace vt::vit::detail {

namespace {

void zero_head(const HeadView& v, int64_t h) {
  float* p = v.head(h);
  for (int64_t i = 0; i < v.n; ++i)
    for (int64_t c = 0; c < v.d; ++c) p[i * v.row_stride + c] = 0.f;
}

class SparseKernel : public AttentionKernel {
 public:
  SparseKernel(const MaskOptions& opt, SparseStats* stats, std::vector<CsrMask> fixed)
      : opt_(opt), stats_(stats), masks_(std::move(fixed)), fixed_(!masks_.empty()) {}
  const char* name() const override { return "sparse"; }

  void forward(const QkvViews& in, const HeadView& z) override {
    const int64_t heads = in.q.heads(), n = in.q.n, d = in.q.d;
    const float scale = 1.f / std::sqrt(static_cast<float>(d));
    const auto t_predict = std::chrono::steady_clock::now();
    if (!fixed_) masks_ = predict_masks(in.q, in.k, opt_);
    const double predict_seconds = seconds_since(t_predict);
    const auto t_sparse = std::chrono::steady_clock::now();
    VT_CHECK(static_cast<int64_t>(masks_.size()) == heads, "attention_sparse: ", masks_.size(), " masks for ", heads,
             " heads");
    probs_.assign(heads, {});
    parallel_heads(heads, [&](int64_t h) {
      const CsrMask& m = masks_[h];
      std::vector<float>& P = probs_[h];
      P.resize(m.nnz());
      const float *Q = in.q.head(h), *K = in.k.head(h), *V = in.v.head(h);
      const int64_t lq = in.q.row_stride, lk = in.k.row_stride, lv = in.v.row_stride;
      for (int64_t i = 0; i < n; ++i) {
        const int32_t a = m.row_ptr[i], b = m.row_ptr[i + 1];
        float mx = -INFINITY;
        for (int32_t e = a; e < b; ++e) {  // SDDMM: scores on kept entries only
          P[e] = scale * vt::detail::dot_f32(Q + i * lq, K + m.col[e] * lk, d);
          mx = std::max(mx, P[e]);
        }
        float sum = 0.f;
        for (int32_t e = a; e < b; ++e) sum += (P[e] = vt::detail::exp_f32(P[e] - mx));
        for (int32_t e = a; e < b; ++e) P[e] /= sum;
        float* zr = z.row(h, i);  // SpMM: Z_i = sum_j P_ij v_j
        for (int64_t c = 0; c < d; ++c) zr[c] = 0.f;
        for (int32_t e = a; e < b; ++e) row_axpy(d, P[e], V + m.col[e] * lv, zr);
      }
    });
    const double sparse_seconds = seconds_since(t_sparse);
    SparseStats st = mask_stats(masks_, in.q.B, in.q.H, n);
    if (active_trace()) {
      const std::vector<TraceRecord> steps = sparse_steps({heads, n, d, &masks_});
      trace_sanger_timing(append_records(steps), steps.size(), predict_seconds, sparse_seconds);
    }
    if (stats_) *stats_ = std::move(st);
  }

  void backward(const QkvViews& in, const HeadView&, const HeadView& dz, const QkvViews& grad) override {
    const int64_t heads = in.q.heads(), n = in.q.n, d = in.q.d;
    const float scale = 1.f / std::sqrt(static_cast<float>(d));
    parallel_heads(heads, [&](int64_t h) {
      zero_head(grad.q, h);
      zero_head(grad.k, h);
      zero_head(grad.v, h);
      const CsrMask& m = masks_[h];
      const float* P = probs_[h].data();
      const float *Q = in.q.head(h), *K = in.k.head(h), *V = in.v.head(h), *dZ = dz.head(h);
      float *dQ = grad.q.head(h), *dK = grad.k.head(h), *dV = grad.v.head(h);
      const int64_t lq = in.q.row_stride, lk = in.k.row_stride, lv = in.v.row_stride, ldz = dz.row_stride;
      const int64_t lgq = grad.q.row_stride, lgk = grad.k.row_stride, lgv = grad.v.row_stride;
      std::vector<float> dp;
      for (int64_t i = 0; i < n; ++i) {
        const int32_t a = m.row_ptr[i], b = m.row_ptr[i + 1];
        dp.assign(b - a, 0.f);
        float rho = 0.f;
        for (int32_t e = a; e < b; ++e) {
          dp[e - a] = vt::detail::dot_f32(dZ + i * ldz, V + m.col[e] * lv, d);
          rho += P[e] * dp[e - a];
        }
        for (int32_t e = a; e < b; ++e) {
          const int64_t j = m.col[e];
          const float ds = P[e] * (dp[e - a] - rho) * scale;
          // dQ_i += ds k_j,  dK_j += ds q_i,  dV_j += P_ij dz_i
          row_axpy3(d, ds, K + j * lk, dQ + i * lgq, ds, Q + i * lq, dK + j * lgk, P[e], dZ + i * ldz, dV + j * lgv);
        }
      }
    });
  }

 private:
  MaskOptions opt_;
  SparseStats* stats_;
  std::vector<CsrMask> masks_;
  bool fixed_;
  std::vector<std::vector<float>> probs_;  // per head, one value per kept entry
};

}  // namespace

// SANGER's hardware steps. The kernel above divides the kept probabilities by their row sum
// before the SpMM; the accelerator divides the n x d result rows instead (n d divisions rather
// than nnz), which step 5 records.
std::vector<TraceRecord> sparse_steps(const StepDims& dims) {
  const StepContext c{"sparse", dims.heads, dims.n, dims.d};
  std::vector<TraceRecord> steps =
      sanger_steps(c, dims.masks,
                   {{"1", "2", "3", "4"},
                    {"M = [softmax(s Q~ K~^T) > threshold], 4-bit Q~, K~", "S_ij = s q_i . k_j on kept pairs",
                     "E_ij = exp(S_ij - m_i), l_i = sum_j E_ij", "Y_i = sum_j E_ij v_j"},
                    "k"});
  steps.push_back(
      divide_step(c, "5", "Z_i = Y_i / l_i", dims.n, dims.d, /*per_row=*/true, {stream("4"), stream("3")}, dims.n));
  return steps;
}

std::shared_ptr<AttentionKernel> make_sparse_kernel(const MaskOptions& opt, SparseStats* stats,
                                                    std::vector<CsrMask> fixed) {
  return std::make_shared<SparseKernel>(opt, stats, std::move(fixed));
}

Tensor attention_sparse_with_masks(const Tensor& q, const Tensor& k, const Tensor& v, std::vector<CsrMask> masks,
                                   SparseStats* stats) {
  VT_CHECK(!masks.empty(), "attention_sparse: no masks given");
  return run_on_heads(make_sparse_kernel(MaskOptions{}, stats, std::move(masks)), q, k, v);
}

}  // namespace vt::vit::detail
