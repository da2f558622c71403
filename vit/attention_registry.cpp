// The registry of attention kinds (attention_registry.h). One entry per kind; the kernels, their
// step lists and their math live in attention_<kind>.cpp.
#include "vit/attention_registry.h"

#include <cmath>

#include "core/error.h"
#include "vit/attention_kernel.h"

namespace vt::vit {

namespace {

// Memory a training step keeps per head (besides q, k, v, z): the n x n probabilities for the
// kinds that form them (the sparse kinds' kept entries are at most as many), G, kbar, khat_sum
// and t_D for Taylor attention.
double probabilities(int64_t n, int64_t) { return double(n) * n; }
double taylor_state(int64_t n, int64_t d) { return double(d) * d + 2.0 * n; }

// ViTALiTy's anneal: 1 at the first step, 0 from `end` of training on, a half cosine between,
// so that training ends on exactly the Taylor attention the model is deployed with.
float cosine_anneal(double progress, const ResidualAnneal& a) {
  if (!a.cosine) return 1.f;
  const double f = std::min(1.0, std::max(0.0, progress) / a.end);
  return static_cast<float>(0.5 * (1 + std::cos(M_PI * f)));
}

std::shared_ptr<detail::AttentionKernel> softmax_kernel(const MaskOptions&, SparseStats*) {
  return detail::make_softmax_kernel();
}
std::shared_ptr<detail::AttentionKernel> taylor_kernel(const MaskOptions&, SparseStats*) {
  return detail::make_taylor_kernel();
}
std::shared_ptr<detail::AttentionKernel> sparse_kernel(const MaskOptions& opt, SparseStats* stats) {
  return detail::make_sparse_kernel(opt, stats);
}
// With the residual's weight at 0 ViTALiTy attention is exactly Taylor attention: no mask.
std::shared_ptr<detail::AttentionKernel> vitality_kernel(const MaskOptions& opt, SparseStats* stats) {
  if (opt.residual_weight == 0.f) return detail::make_taylor_kernel();
  return detail::make_vitality_kernel(opt, stats, {}, opt.residual_weight);
}

const std::vector<AttentionKindSpec> kKinds = {
    {"softmax", "softmax(s Q K^T) V, DeiT's attention", false, nullptr, "softmax-baseline", probabilities, nullptr,
     softmax_kernel, detail::softmax_steps, detail::softmax_weights},
    {"taylor", "ViTALiTy's linear Taylor attention (Algorithm 1), O(n d^2)", false, nullptr, "vitality", taylor_state,
     nullptr, taylor_kernel, detail::taylor_steps, detail::taylor_weights},
    {"sparse", "SANGER: softmax over the pairs a 4-bit predicted mask keeps", true, nullptr, "sanger", probabilities,
     nullptr, sparse_kernel, detail::sparse_steps, detail::sparse_weights},
    {"vitality", "ViTALiTy training: Taylor + exp residual on SANGER's mask, annealed; deployed as taylor", true,
     "taylor", "vitality", probabilities, cosine_anneal, vitality_kernel, detail::vitality_steps,
     detail::vitality_weights},
};

}  // namespace

const AttentionKindSpec& AttentionKindSpec::deployed() const {
  return inference_kind ? attention_kind(inference_kind) : *this;
}

const std::vector<AttentionKindSpec>& attention_kinds() { return kKinds; }

const AttentionKindSpec& attention_kind(const std::string& name) {
  for (const AttentionKindSpec& k : kKinds)
    if (name == k.name) return k;
  throw Error(str_cat("unknown attention kind '", name, "' (", attention_kind_list(", "), ")"));
}

std::vector<std::string> attention_kind_names() {
  std::vector<std::string> out;
  for (const AttentionKindSpec& k : kKinds) out.push_back(k.name);
  return out;
}

std::string attention_kind_list(const std::string& sep) {
  std::string out;
  for (const AttentionKindSpec& k : kKinds) out += (out.empty() ? "" : sep) + std::string(k.name);
  return out;
}

}  // namespace vt::vit
