// SANGER's sparse attention (DESIGN.md section 5), forward and backward on the kept entries only.
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

#include "core/autograd.h"
#include "core/ops.h"
#include "core/threads.h"
#include "core/vecmath.h"
#include "vit/sparse_mask.h"

namespace vt::vit {

namespace {

struct SparseSaved {
  Tensor q, k, v;
  std::vector<CsrMask> masks;
  std::vector<std::vector<float>> probs;  // per head, one value per kept entry
};

Grads sparse_backward(const SparseSaved& s, const Tensor& dz) {
  const int64_t heads = s.q.size(0) * s.q.size(1), n = s.q.size(2), d = s.q.size(3);
  const float scale = 1.f / std::sqrt(static_cast<float>(d));
  Tensor dq = zeros(s.q.shape()), dk = zeros(s.q.shape()), dv = zeros(s.q.shape());
  parallel_for(heads, 1, [&](int64_t lo, int64_t hi) {
    std::vector<float> ds;
    for (int64_t h = lo; h < hi; ++h) {
      const int64_t off = h * n * d;
      const float *Q = s.q.data() + off, *K = s.k.data() + off, *V = s.v.data() + off, *dZ = dz.data() + off;
      float *dQ = dq.data() + off, *dK = dk.data() + off, *dV = dv.data() + off;
      const CsrMask& m = s.masks[h];
      const float* P = s.probs[h].data();
      for (int64_t i = 0; i < n; ++i) {
        const int32_t a = m.row_ptr[i], b = m.row_ptr[i + 1];
        ds.assign(b - a, 0.f);
        float rho = 0.f;
        for (int32_t e = a; e < b; ++e) {
          const float dp = vt::detail::dot_f32(dZ + i * d, V + m.col[e] * d, d);
          ds[e - a] = dp;
          rho += P[e] * dp;
        }
        for (int32_t e = a; e < b; ++e) {
          const int64_t j = m.col[e];
          const float dsij = P[e] * (ds[e - a] - rho) * scale;
          for (int64_t c = 0; c < d; ++c) {
            dQ[i * d + c] += dsij * K[j * d + c];
            dK[j * d + c] += dsij * Q[i * d + c];
            dV[j * d + c] += P[e] * dZ[i * d + c];
          }
        }
      }
    }
  });
  return {dq, dk, dv};
}

}  // namespace

namespace {
void check_qkv(const char* op, const Tensor& q, const Tensor& k, const Tensor& v) {
  VT_CHECK(q.dim() == 4 && k.shape() == q.shape() && v.shape() == q.shape(), op,
           ": q, k, v must share one (B,H,n,d) shape, got ", shape_str(q.shape()), ", ", shape_str(k.shape()), ", ",
           shape_str(v.shape()));
}
}  // namespace

Tensor attention_sparse(const Tensor& q, const Tensor& k, const Tensor& v, const MaskOptions& opt, SparseStats* stats) {
  check_qkv("attention_sparse", q, k, v);
  return detail::attention_sparse_with_masks(q, k, v, detail::predict_masks(q, k, opt), stats);
}

Tensor detail::attention_sparse_with_masks(const Tensor& q, const Tensor& k, const Tensor& v, std::vector<CsrMask> masks,
                                           SparseStats* stats) {
  check_qkv("attention_sparse", q, k, v);
  const int64_t B = q.size(0), H = q.size(1), n = q.size(2), d = q.size(3), heads = B * H;
  VT_CHECK(static_cast<int64_t>(masks.size()) == heads, "attention_sparse: ", masks.size(), " masks for ", heads, " heads");
  const float scale = 1.f / std::sqrt(static_cast<float>(d));
  auto saved = std::make_shared<SparseSaved>();
  saved->masks = std::move(masks);
  saved->probs.resize(heads);
  Tensor out = empty(q.shape());
  parallel_for(heads, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t h = lo; h < hi; ++h) {
      const int64_t off = h * n * d;
      const float *Q = q.data() + off, *K = k.data() + off, *V = v.data() + off;
      float* Z = out.data() + off;
      const CsrMask& m = saved->masks[h];
      std::vector<float>& P = saved->probs[h];
      P.resize(m.nnz());
      for (int64_t i = 0; i < n; ++i) {
        const int32_t a = m.row_ptr[i], b = m.row_ptr[i + 1];
        float mx = -INFINITY;
        for (int32_t e = a; e < b; ++e) {  // SDDMM: scores on kept entries only
          P[e] = scale * vt::detail::dot_f32(Q + i * d, K + m.col[e] * d, d);
          mx = std::max(mx, P[e]);
        }
        float sum = 0.f;
        for (int32_t e = a; e < b; ++e) sum += (P[e] = vt::detail::exp_f32(P[e] - mx));
        for (int32_t e = a; e < b; ++e) P[e] /= sum;
        float* z = Z + i * d;  // SpMM: Z_i = sum_j P_ij v_j
        for (int64_t c = 0; c < d; ++c) z[c] = 0.f;
        for (int32_t e = a; e < b; ++e)
          for (int64_t c = 0; c < d; ++c) z[c] += P[e] * V[m.col[e] * d + c];
      }
    }
  });
  SparseStats st = detail::mask_stats(saved->masks, B, H, n);
  detail::trace_sparse("sparse", saved->masks, st, B, H, n, d);
  if (stats) *stats = std::move(st);
  if (needs_grad(q, k, v)) {
    saved->q = q.detach();
    saved->k = k.detach();
    saved->v = v.detach();
    record_op(out, "attention_sparse", {q, k, v}, [saved](const Tensor& g) -> Grads { return sparse_backward(*saved, g); });
  }
  return out;
}

}  // namespace vt::vit
