// What each attention kind does to the tokens, as a picture can show it: the n x n matrix W of
// one head with Z = W V, and the attention maps of a whole model on one image.
//
// The kernels never form W for the linear kinds (that is their point); these functions do, in
// plain double-precision loops, for pictures (`vitality predict --attention-map`) and as an
// independent check of the kernels (tests/vit/test_attention_weights.cpp: W V equals each
// kernel's Z). Per kind (vit/README.md has the derivations), with S = s Q K^T, s = 1/sqrt(d):
//   softmax   W = softmax(S) row-wise
//   taylor    W_ij = (1 + Shat_ij) / (n + sum_j Shat_ij),   Shat = s Q Khat^T, Khat = K - 1 kbar
//             (the first-order weights; they can be negative, and each row sums to 1)
//   sparse    W_ij = M_ij exp(S_ij) / sum_j M_ij exp(S_ij), M = SANGER's predicted mask
//   vitality  W_ij = (1 + Shat_ij + lambda M_ij R_ij) / (n + sum_j Shat_ij + lambda sum_j M_ij R_ij),
//             R = exp(Shat) - 1 - Shat, M predicted from Q and Khat
#pragma once

#include <string>
#include <vector>

#include "core/tensor.h"
#include "vit/attention.h"

namespace vt::vit {

struct Deit;

// One head's weights (n x n) for q, k of shape (n, d); `mask` receives the mask the masked kinds
// predict (left empty by the others).
Tensor attention_weights(const std::string& kind, const Tensor& q, const Tensor& k, const MaskOptions& opt,
                         CsrMask* mask = nullptr);

// One block's attention on one image: the weights of every head, and the masks of a masked kind.
struct BlockAttention {
  Tensor weights;              // (H, n, n)
  std::vector<CsrMask> masks;  // H of them for the masked kinds, else empty
};

// The attention of every block of `model` on one image (1, C, S, S), as evaluation runs it: the
// kind's deployed form (ViTALiTy as Taylor) unless the blocks keep the sparse part (eval_sparse).
std::vector<BlockAttention> attention_maps(Deit& model, const Tensor& image);

// Attention rollout (Abnar & Zuidema, 2020): per block A = (mean over heads of W + I) / 2, then
// the product A_L ... A_1; row 0 is how much the cls token's output draws on each input token
// through all blocks. (n, n).
Tensor attention_rollout(const std::vector<BlockAttention>& blocks);

// What the classifier reads from each patch: the cls token's row (token 0) over the patches, the
// tokens after the model's `prefix` ones (cls, and dist for a distilled model); of an (n, n)
// matrix such as the rollout, or averaged over a block's heads.
std::vector<double> cls_row(const Tensor& matrix, int64_t prefix);
std::vector<double> cls_row_mean_of_heads(const BlockAttention& block, int64_t prefix);

}  // namespace vt::vit
