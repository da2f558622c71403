// The attention weights of each kind, formed explicitly (attention_weights.h).
#include "vit/attention_weights.h"

#include <algorithm>
#include <cmath>

#include "core/autograd.h"
#include "core/error.h"
#include "vit/attention_kernel.h"
#include "vit/attention_registry.h"
#include "vit/deit.h"

namespace vt::vit {

namespace {

// S_ij = s q_i . k_j in double (n x n, row-major).
std::vector<double> scores(const float* q, const float* k, int64_t n, int64_t d) {
  const double s = 1.0 / std::sqrt(static_cast<double>(d));
  std::vector<double> S(n * n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double dot = 0;
      for (int64_t c = 0; c < d; ++c) dot += double(q[i * d + c]) * k[j * d + c];
      S[i * n + j] = s * dot;
    }
  return S;
}

// Khat = K - 1 kbar, kbar the mean over the tokens, in float as the kernels compute it.
std::vector<float> centred_keys(const float* k, int64_t n, int64_t d) {
  std::vector<float> kbar(d, 0.f), khat(n * d);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t c = 0; c < d; ++c) kbar[c] += k[j * d + c];
  for (float& x : kbar) x /= static_cast<float>(n);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t c = 0; c < d; ++c) khat[j * d + c] = k[j * d + c] - kbar[c];
  return khat;
}

// M as a dense 0/1 matrix.
std::vector<char> dense_mask(const CsrMask& m, int64_t n) {
  std::vector<char> keep(n * n, 0);
  for (int64_t i = 0; i < n; ++i)
    for (int32_t e = m.row_ptr[i]; e < m.row_ptr[i + 1]; ++e) keep[i * n + m.col[e]] = 1;
  return keep;
}

// Row-wise softmax of S over the kept entries (all when `keep` is empty).
void masked_softmax(const std::vector<double>& S, const std::vector<char>& keep, int64_t n, float* W) {
  for (int64_t i = 0; i < n; ++i) {
    double m = -INFINITY, sum = 0;
    for (int64_t j = 0; j < n; ++j)
      if (keep.empty() || keep[i * n + j]) m = std::max(m, S[i * n + j]);
    for (int64_t j = 0; j < n; ++j)
      if (keep.empty() || keep[i * n + j]) sum += std::exp(S[i * n + j] - m);
    for (int64_t j = 0; j < n; ++j)
      W[i * n + j] = keep.empty() || keep[i * n + j] ? static_cast<float>(std::exp(S[i * n + j] - m) / sum) : 0.f;
  }
}

// The first-order weights plus lambda times the residual on the kept pairs (lambda 0: Taylor).
void low_rank_weights(const std::vector<double>& Shat, const std::vector<char>& keep, double lambda, int64_t n,
                      float* W) {
  std::vector<double> row(n);
  for (int64_t i = 0; i < n; ++i) {
    double den = 0;
    for (int64_t j = 0; j < n; ++j) {
      const double x = Shat[i * n + j];
      row[j] = 1 + x + (lambda != 0 && keep[i * n + j] ? lambda * (std::exp(x) - 1 - x) : 0.0);
      den += row[j];
    }
    for (int64_t j = 0; j < n; ++j) W[i * n + j] = static_cast<float>(row[j] / den);
  }
}

}  // namespace

namespace detail {

Tensor softmax_weights(const Tensor& q, const Tensor& k, const MaskOptions&, CsrMask*) {
  const int64_t n = q.size(0), d = q.size(1);
  Tensor W = empty({n, n});
  masked_softmax(scores(q.data(), k.data(), n, d), {}, n, W.data());
  return W;
}

Tensor sparse_weights(const Tensor& q, const Tensor& k, const MaskOptions& opt, CsrMask* mask) {
  const int64_t n = q.size(0), d = q.size(1);
  Tensor W = empty({n, n});
  CsrMask m = predict_mask(q.data(), d, k.data(), d, n, d, opt);
  masked_softmax(scores(q.data(), k.data(), n, d), dense_mask(m, n), n, W.data());
  if (mask) *mask = std::move(m);
  return W;
}

Tensor taylor_weights(const Tensor& q, const Tensor& k, const MaskOptions&, CsrMask*) {
  const int64_t n = q.size(0), d = q.size(1);
  Tensor W = empty({n, n});
  const std::vector<float> khat = centred_keys(k.data(), n, d);
  low_rank_weights(scores(q.data(), khat.data(), n, d), std::vector<char>(n * n, 0), 0.0, n, W.data());
  return W;
}

// At lambda = 0 the kind is Taylor attention and predicts no mask (as its kernel).
Tensor vitality_weights(const Tensor& q, const Tensor& k, const MaskOptions& opt, CsrMask* mask) {
  if (opt.residual_weight == 0.f) return taylor_weights(q, k, opt, mask);
  const int64_t n = q.size(0), d = q.size(1);
  Tensor W = empty({n, n});
  const std::vector<float> khat = centred_keys(k.data(), n, d);
  CsrMask m = predict_mask(q.data(), d, khat.data(), d, n, d, opt);
  low_rank_weights(scores(q.data(), khat.data(), n, d), dense_mask(m, n), opt.residual_weight, n, W.data());
  if (mask) *mask = std::move(m);
  return W;
}

}  // namespace detail

Tensor attention_weights(const std::string& kind, const Tensor& q, const Tensor& k, const MaskOptions& opt,
                         CsrMask* mask) {
  VT_CHECK(q.dim() == 2 && k.dim() == 2 && q.shape() == k.shape(),
           "attention_weights: q and k must both be (n, d), got ", shape_str(q.shape()), " and ", shape_str(k.shape()));
  if (mask) *mask = CsrMask{};
  return attention_kind(kind).weights(q, k, opt, mask);
}

std::vector<BlockAttention> attention_maps(Deit& model, const Tensor& image) {
  VT_CHECK(image.dim() == 4 && image.size(0) == 1, "attention_maps: one image (1, C, S, S), got ",
           shape_str(image.shape()));
  NoGradGuard no_grad;
  std::vector<Tensor> qkv(model.blocks.size());
  for (size_t b = 0; b < model.blocks.size(); ++b) model.blocks[b].attn.keep_qkv = &qkv[b];
  try {
    model.forward(image, nn::Context{});
  } catch (...) {
    for (Block& blk : model.blocks) blk.attn.keep_qkv = nullptr;
    throw;
  }
  for (Block& blk : model.blocks) blk.attn.keep_qkv = nullptr;
  std::vector<BlockAttention> out;
  for (size_t b = 0; b < model.blocks.size(); ++b) {
    const Attention& a = model.blocks[b].attn;
    const AttentionKindSpec& run = a.eval_sparse ? *a.kind : a.kind->deployed();  // as Attention::forward
    const Tensor& x = qkv[b];                                                     // (1, n, 3D)
    const int64_t n = x.size(1), D = x.size(2) / 3, H = a.heads, d = D / H;
    BlockAttention ba;
    ba.weights = empty({H, n, n});
    for (int64_t h = 0; h < H; ++h) {
      Tensor q = empty({n, d}), k = empty({n, d});
      for (int64_t i = 0; i < n; ++i)
        for (int64_t c = 0; c < d; ++c) {
          q.data()[i * d + c] = x.data()[i * 3 * D + h * d + c];
          k.data()[i * d + c] = x.data()[i * 3 * D + D + h * d + c];
        }
      CsrMask m;
      const Tensor w = attention_weights(run.name, q, k, a.mask, &m);
      std::copy(w.data(), w.data() + n * n, ba.weights.data() + h * n * n);
      if (run.uses_mask && !m.row_ptr.empty()) ba.masks.push_back(std::move(m));
    }
    out.push_back(std::move(ba));
  }
  return out;
}

Tensor attention_rollout(const std::vector<BlockAttention>& blocks) {
  VT_CHECK(!blocks.empty(), "attention_rollout: no blocks");
  const int64_t H = blocks[0].weights.size(0), n = blocks[0].weights.size(1);
  std::vector<double> R(n * n, 0.0), A(n * n), next(n * n);
  for (int64_t i = 0; i < n; ++i) R[i * n + i] = 1;
  for (const BlockAttention& b : blocks) {
    const float* w = b.weights.data();
    for (int64_t i = 0; i < n * n; ++i) {
      double mean = 0;
      for (int64_t h = 0; h < H; ++h) mean += w[h * n * n + i];
      A[i] = 0.5 * mean / static_cast<double>(H) + (i / n == i % n ? 0.5 : 0.0);
    }
    for (int64_t i = 0; i < n; ++i)  // R <- A R: this block applied after the earlier ones
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t t = 0; t < n; ++t) acc += A[i * n + t] * R[t * n + j];
        next[i * n + j] = acc;
      }
    R.swap(next);
  }
  Tensor out = empty({n, n});
  for (int64_t i = 0; i < n * n; ++i) out.data()[i] = static_cast<float>(R[i]);
  return out;
}

std::vector<double> cls_row(const Tensor& matrix, int64_t prefix) {
  VT_CHECK(matrix.dim() == 2 && matrix.size(0) == matrix.size(1) && prefix >= 1 && prefix < matrix.size(1),
           "cls_row: an (n, n) matrix with 1 <= prefix < n, got ", shape_str(matrix.shape()), " and prefix ", prefix);
  return std::vector<double>(matrix.data() + prefix, matrix.data() + matrix.size(1));
}

std::vector<double> cls_row_mean_of_heads(const BlockAttention& block, int64_t prefix) {
  const int64_t H = block.weights.size(0), n = block.weights.size(1);
  VT_CHECK(prefix >= 1 && prefix < n, "cls_row_mean_of_heads: prefix ", prefix, " of ", n, " tokens");
  std::vector<double> mean(n - prefix, 0.0);
  for (int64_t h = 0; h < H; ++h)
    for (int64_t j = prefix; j < n; ++j) mean[j - prefix] += block.weights.data()[h * n * n + j] / double(H);
  return mean;
}

}  // namespace vt::vit
