// ViTALiTy attention in training (DESIGN.md section 5): the Taylor low-rank part for every pair
// plus the higher-order residual R = exp(S) - 1 - S on the pairs SANGER's predictor keeps.
//
// Per head, S = s Q Khat^T (s = 1/sqrt(d)), with A = T_N / sqrt(d) = 1 v_sum + s Q G and
// a = t_D / sqrt(d) = n + s Q khat_sum^T from Algorithm 1 (attention_taylor.cpp):
//   Z_i = (A_i + sum_{j in M_i} R_ij v_j) / (a_i + sum_{j in M_i} R_ij)
// On kept pairs the weight is exactly exp(S_ij), elsewhere the first-order 1 + S_ij; R >= 0, so
// the denominator is at least n. With every pair kept this is softmax attention (centring the
// keys does not change softmax); with none kept it is Taylor attention. The mask is predicted
// from Q and Khat (4-bit, sparse_mask.cpp) and carries no gradient. Inference drops the sparse
// part (the Block calls attention_taylor), so the deployed model is linear.
//
// Why this normalisation: the paper's figures draw LOW RANK + higher-order terms = softmax and
// LOW RANK + SPARSE ~ softmax; its text on normalising the sparse part was not available, and the
// official code (unnormalised, feature-centred keys) does not run as released. See
// ../shared/reference/vitality-paper-notes.md, sections 1.6-1.7.
//
// Overflow guard: exp(S_ij) can overflow float for large scores. Numerator and denominator are
// both multiplied by alpha_i = exp(-m_i) with m_i = max(0, max_j S_ij), which leaves Z unchanged:
//   w_ij = alpha_i R_ij = exp(S_ij - m_i) - alpha_i (1 + S_ij),   every term at most 1 in size,
//   N_i = alpha_i A_i + sum_j w_ij v_j,   D_i = alpha_i a_i + sum_j w_ij,   Z_i = N_i / D_i.
// Because Z does not depend on m_i, backward treats m_i as a constant:
//   u_i = dZ_i / D_i,  nu_i = -(dZ_i . Z_i) / D_i,  dA_i = alpha_i u_i,  da_i = alpha_i nu_i,
//   dw_ij = u_i . v_j + nu_i,  dS_ij = dw_ij (exp(S_ij - m_i) - alpha_i),  dv_j += w_ij u_i,
//   dq_i += s dS_ij khat_j,  dkhat_j += s dS_ij q_i,
// then the low-rank part exactly as in attention_taylor.cpp's backward.
#include <cmath>
#include <memory>

#include "core/autograd.h"
#include "core/ops.h"
#include "core/threads.h"
#include "core/trace.h"
#include "core/vecmath.h"
#include "vit/sparse_mask.h"

namespace vt::vit {

namespace {

struct VitalitySaved {
  Tensor q, v, khat, z;                // (B,H,n,d)
  Tensor g, ksum;                      // (B,H,d,d), (B,H,d)
  std::vector<CsrMask> masks;          // per head
  std::vector<std::vector<float>> S;   // per head, per kept entry: s q_i . khat_j
  Tensor m, den;                       // (B,H,n): the guard's m_i and the scaled denominator D_i
};

void column_sum(const float* x, int64_t n, int64_t d, float* out) {
  for (int64_t j = 0; j < d; ++j) out[j] = 0.f;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) out[j] += x[i * d + j];
}

Grads vitality_backward(const VitalitySaved& s, const Tensor& dz) {
  const int64_t heads = s.q.size(0) * s.q.size(1), n = s.q.size(2), d = s.q.size(3);
  const float sc = 1.f / std::sqrt(static_cast<float>(d));
  Tensor dq = zeros(s.q.shape()), dkhat = zeros(s.q.shape()), dv = zeros(s.q.shape());
  Tensor dA = empty(s.q.shape()), da = empty({heads, n});
  // Phase 1, no BLAS, parallel over heads: the sparse residual's gradients, dA and da.
  parallel_for(heads, 1, [&](int64_t lo, int64_t hi) {
    std::vector<float> u(d);
    for (int64_t h = lo; h < hi; ++h) {
      const int64_t off = h * n * d;
      const float *Q = s.q.data() + off, *V = s.v.data() + off, *Kh = s.khat.data() + off, *Z = s.z.data() + off;
      const float *dZ = dz.data() + off, *m = s.m.data() + h * n, *D = s.den.data() + h * n;
      float *dQ = dq.data() + off, *dKh = dkhat.data() + off, *dV = dv.data() + off;
      float *dAh = dA.data() + off, *dah = da.data() + h * n;
      const CsrMask& mask = s.masks[h];
      const float* S = s.S[h].data();
      for (int64_t i = 0; i < n; ++i) {
        const float alpha = vt::detail::exp_f32(-m[i]);
        for (int64_t c = 0; c < d; ++c) u[c] = dZ[i * d + c] / D[i];
        const float nu = -vt::detail::dot_f32(dZ + i * d, Z + i * d, d) / D[i];
        for (int64_t c = 0; c < d; ++c) dAh[i * d + c] = alpha * u[c];
        dah[i] = alpha * nu;
        for (int32_t e = mask.row_ptr[i]; e < mask.row_ptr[i + 1]; ++e) {
          const int64_t j = mask.col[e];
          const float ex = vt::detail::exp_f32(S[e] - m[i]);
          const float w = ex - alpha * (1.f + S[e]);
          const float dw = vt::detail::dot_f32(u.data(), V + j * d, d) + nu;
          const float dS = dw * (ex - alpha) * sc;
          for (int64_t c = 0; c < d; ++c) {
            dQ[i * d + c] += dS * Kh[j * d + c];
            dKh[j * d + c] += dS * Q[i * d + c];
            dV[j * d + c] += w * u[c];
          }
        }
      }
    }
  });
  // Phase 2, sequential over heads (BLAS): the low-rank part A = 1 v_sum + s Q G, a = n + s Q ksum^T.
  Tensor dk = empty(s.q.shape());
  std::vector<float> dG(d * d), dvsum(d), dksum(d), col(d);
  for (int64_t h = 0; h < heads; ++h) {
    const int64_t off = h * n * d;
    const float *Q = s.q.data() + off, *V = s.v.data() + off, *Kh = s.khat.data() + off;
    const float *G = s.g.data() + h * d * d, *ksum = s.ksum.data() + h * d;
    const float *dAh = dA.data() + off, *dah = da.data() + h * n;
    float *dQ = dq.data() + off, *dKh = dkhat.data() + off, *dV = dv.data() + off, *dK = dk.data() + off;
    gemm(false, true, n, d, d, sc, dAh, d, G, d, 1.f, dQ, d);          // dQ += s dA G^T
    gemm(true, false, d, d, n, sc, Q, d, dAh, d, 0.f, dG.data(), d);   // dG = s Q^T dA
    column_sum(dAh, n, d, dvsum.data());                               // dv_sum = 1^T dA
    for (int64_t j = 0; j < d; ++j) dksum[j] = 0.f;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < d; ++j) {
        dQ[i * d + j] += sc * dah[i] * ksum[j];  // dQ += s da ksum
        dksum[j] += sc * dah[i] * Q[i * d + j];  // dksum = s da^T Q
      }
    gemm(false, true, n, d, d, 1.f, V, d, dG.data(), d, 1.f, dKh, d);   // dKhat += V dG^T
    gemm(false, false, n, d, d, 1.f, Kh, d, dG.data(), d, 1.f, dV, d);  // dV += Khat dG
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < d; ++j) {
        dKh[i * d + j] += dksum[j];
        dV[i * d + j] += dvsum[j];
      }
    column_sum(dKh, n, d, col.data());  // centring: dK = dKhat - 1 (1^T dKhat) / n
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < d; ++j) dK[i * d + j] = dKh[i * d + j] - col[j] / static_cast<float>(n);
  }
  return {dq, dk, dv};
}

}  // namespace

namespace {
// Both entry points: masks predicted from Q and Khat (opt given) or supplied by the caller.
Tensor vitality_impl(const Tensor& q, const Tensor& k, const Tensor& v, const MaskOptions* opt,
                     std::vector<CsrMask> given, SparseStats* stats);
}  // namespace

Tensor attention_vitality(const Tensor& q, const Tensor& k, const Tensor& v, const MaskOptions& opt, SparseStats* stats) {
  return vitality_impl(q, k, v, &opt, {}, stats);
}

Tensor detail::attention_vitality_with_masks(const Tensor& q, const Tensor& k, const Tensor& v, std::vector<CsrMask> masks,
                                             SparseStats* stats) {
  return vitality_impl(q, k, v, nullptr, std::move(masks), stats);
}

namespace {
Tensor vitality_impl(const Tensor& q, const Tensor& k, const Tensor& v, const MaskOptions* opt,
                     std::vector<CsrMask> given, SparseStats* stats) {
  VT_CHECK(q.dim() == 4 && k.shape() == q.shape() && v.shape() == q.shape(),
           "attention_vitality: q, k, v must share one (B,H,n,d) shape, got ", shape_str(q.shape()), ", ",
           shape_str(k.shape()), ", ", shape_str(v.shape()));
  const int64_t B = q.size(0), H = q.size(1), n = q.size(2), d = q.size(3), heads = B * H;
  const float sc = 1.f / std::sqrt(static_cast<float>(d));
  auto s = std::make_shared<VitalitySaved>();
  s->khat = empty(q.shape());
  s->g = empty({B, H, d, d});
  s->ksum = empty({B, H, d});
  Tensor A = empty(q.shape()), a = empty({heads, n});
  // Low-rank part, Algorithm 1 steps 1-5 scaled by 1/sqrt(d): sequential over heads (BLAS).
  std::vector<float> kbar(d), vsum(d);
  for (int64_t h = 0; h < heads; ++h) {
    const int64_t off = h * n * d;
    const float *Q = q.data() + off, *K = k.data() + off, *V = v.data() + off;
    float *Kh = s->khat.data() + off, *G = s->g.data() + h * d * d, *ksum = s->ksum.data() + h * d;
    float *Ah = A.data() + off, *ah = a.data() + h * n;
    column_sum(K, n, d, kbar.data());  // 1: kbar, Khat
    for (int64_t j = 0; j < d; ++j) kbar[j] /= static_cast<float>(n);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < d; ++j) Kh[i * d + j] = K[i * d + j] - kbar[j];
    gemm(true, false, d, d, n, 1.f, Kh, d, V, d, 0.f, G, d);  // 2: G = Khat^T V
    column_sum(V, n, d, vsum.data());                        // 3: v_sum, khat_sum
    column_sum(Kh, n, d, ksum);
    for (int64_t i = 0; i < n; ++i) {                        // 4: a = n + s Q khat_sum^T
      float dot = 0.f;
      for (int64_t j = 0; j < d; ++j) dot += Q[i * d + j] * ksum[j];
      ah[i] = static_cast<float>(n) + sc * dot;
    }
    for (int64_t i = 0; i < n; ++i)                          // 5: A = 1 v_sum + s Q G
      for (int64_t j = 0; j < d; ++j) Ah[i * d + j] = vsum[j];
    gemm(false, false, n, d, d, sc, Q, d, G, d, 1.f, Ah, d);
  }
  if (opt) {
    s->masks = detail::predict_masks(q, s->khat, *opt);  // from Q and Khat
  } else {
    VT_CHECK(static_cast<int64_t>(given.size()) == heads, "attention_vitality: ", given.size(), " masks for ", heads, " heads");
    s->masks = std::move(given);
  }
  s->S.resize(heads);
  s->m = empty({B, H, n});
  s->den = empty({B, H, n});
  Tensor out = empty(q.shape());
  // Sparse residual and step 6, parallel over heads (no BLAS).
  parallel_for(heads, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t h = lo; h < hi; ++h) {
      const int64_t off = h * n * d;
      const float *Q = q.data() + off, *V = v.data() + off, *Kh = s->khat.data() + off;
      const float *Ah = A.data() + off, *ah = a.data() + h * n;
      float *Z = out.data() + off, *m = s->m.data() + h * n, *D = s->den.data() + h * n;
      const CsrMask& mask = s->masks[h];
      std::vector<float>& S = s->S[h];
      S.resize(mask.nnz());
      for (int64_t i = 0; i < n; ++i) {
        float mi = 0.f;  // m_i = max(0, max_j S_ij)
        for (int32_t e = mask.row_ptr[i]; e < mask.row_ptr[i + 1]; ++e) {
          S[e] = sc * vt::detail::dot_f32(Q + i * d, Kh + mask.col[e] * d, d);  // SDDMM
          mi = std::max(mi, S[e]);
        }
        const float alpha = vt::detail::exp_f32(-mi);
        float* z = Z + i * d;
        for (int64_t c = 0; c < d; ++c) z[c] = alpha * Ah[i * d + c];
        float den = alpha * ah[i];
        for (int32_t e = mask.row_ptr[i]; e < mask.row_ptr[i + 1]; ++e) {  // SpMM with w = alpha R
          const float w = vt::detail::exp_f32(S[e] - mi) - alpha * (1.f + S[e]);
          den += w;
          for (int64_t c = 0; c < d; ++c) z[c] += w * V[mask.col[e] * d + c];
        }
        for (int64_t c = 0; c < d; ++c) z[c] /= den;
        m[i] = mi;
        D[i] = den;
      }
    }
  });
  SparseStats st = detail::mask_stats(s->masks, B, H, n);
  if (active_trace()) {
    // The low-rank part costs what Taylor attention costs; then the residual on the mask.
    OpTrace tr("vitality_lowrank");
    if (TraceRecord* r = tr.record({q.shape(), k.shape(), v.shape()}, q.shape(), 4.0 * heads * n * d * d, 12.0 * q.numel(),
                                   4.0 * q.numel()))
      r->attrs = {{"heads", double(heads)}, {"n", double(n)}, {"d", double(d)}};
    detail::trace_sparse("vitality", s->masks, st, B, H, n, d);
  }
  if (stats) *stats = std::move(st);
  if (needs_grad(q, k, v)) {
    s->q = q.detach();
    s->v = v.detach();
    s->z = out.detach();
    record_op(out, "attention_vitality", {q, k, v}, [s](const Tensor& g) -> Grads { return vitality_backward(*s, g); });
  }
  return out;
}
}  // namespace

}  // namespace vt::vit
