// DeiT as timm builds it (VisionTransformer with a cls token), with a choice of attention kind.
//
//   images (B, C, S, S) -> patch_embed -> (B, N, D) -> [cls | patches] + pos_embed -> pos_drop
//     -> blocks x depth:  x = x + drop_path(attn(norm1(x)));  x = x + drop_path(mlp(norm2(x)))
//     -> norm -> head on the cls token -> logits (B, num_classes)
//
// Legend: B batch, S image size, P patch, N = (S/P)^2 patches, n = N + 1 tokens, D embed dim,
// H heads, d = D / H head dim. Parameter names are timm's (152 tensors for deit_tiny).
#pragma once

#include <string>
#include <vector>

#include "nn/layers.h"
#include "nn/linear.h"
#include "nn/module.h"
#include "nn/patch_embed.h"
#include "vit/attention.h"
#include "vit/attention_registry.h"

namespace vt::vit {

struct DeitConfig {
  std::string name = "custom";
  int64_t img_size = 224, patch = 16, in_chans = 3;
  int64_t embed_dim = 192, depth = 12, heads = 3;
  int64_t num_classes = 1000;
  double mlp_ratio = 4.0;
  bool qkv_bias = true;
  float drop = 0.f, drop_path = 0.f;  // (no attention-map dropout: deit trains with none)
  float ln_eps = 1e-6f;
  std::string attn = "softmax";  // a registered kind (attention_registry.h)
  MaskOptions mask;              // the kinds that use a mask
  bool eval_sparse = false;      // vitality: keep the sparse part at evaluation too
  // DeiT's distilled form: a distillation token beside the cls token and a second head on it
  // (deit_*_distilled_patch16_224); training uses both heads, evaluation their mean.
  bool distilled = false;

  int64_t prefix_tokens() const { return distilled ? 2 : 1; }  // cls (and dist) before the patches
  int64_t tokens() const { return (img_size / patch) * (img_size / patch) + prefix_tokens(); }
  void validate() const;  // throws naming the offending field
};

// deit_{tiny,small,base}_patch16_224 and their distilled forms deit_{tiny,small,base}_distilled_patch16_224;
// throws for other names.
DeitConfig deit_config(const std::string& name);
std::vector<std::string> deit_model_names();

struct Attention {
  nn::Linear qkv;   // (3D, D)
  nn::Linear proj;  // (D, D)
  int64_t heads = 3;
  const AttentionKindSpec* kind = nullptr;  // set by Deit (attention_registry.h)
  MaskOptions mask;
  bool eval_sparse = false;
  nn::Dropout proj_drop;
  SparseStats last_stats;      // after a forward that used a mask: density per head (else empty)
  Tensor* keep_qkv = nullptr;  // when set, forward stores its (B, n, 3D) qkv projection there (attention_maps)
  // (B, n, D) -> (B, n, D); with `residual`, residual + attention(x) (summed in proj's epilogue).
  Tensor forward(const Tensor& x, const nn::Context& ctx, const Tensor& residual = Tensor());
  void parameters(nn::Parameters& out, const std::string& prefix) const;
};

struct Block {
  nn::LayerNorm norm1, norm2;
  Attention attn;
  nn::DropPath drop_path;
  nn::Mlp mlp;
  Tensor forward(const Tensor& x, const nn::Context& ctx);
  void parameters(nn::Parameters& out, const std::string& prefix) const;
};

struct Deit {
  DeitConfig cfg;
  nn::PatchEmbed patch_embed;
  Tensor cls_token;   // (1, 1, D)
  Tensor dist_token;  // (1, 1, D), distilled models only
  Tensor pos_embed;   // (1, n, D)
  nn::Dropout pos_drop;
  std::vector<Block> blocks;
  nn::LayerNorm norm;
  nn::Linear head;       // (num_classes, D)
  nn::Linear head_dist;  // (num_classes, D), distilled models only: the head on the distillation token

  explicit Deit(const DeitConfig& cfg);
  // timm's initialisation from `gen`: trunc_normal(std 0.02) for pos_embed, cls_token and every
  // Linear weight, zero biases, LayerNorm 1 / 0, the patch projection as PyTorch's Conv2d.
  void init(Generator& gen);
  // (B, C, S, S) -> (B, classes): the class head's logits, or for a distilled model the mean of
  // its two heads' (deit's evaluation output).
  Tensor forward(const Tensor& images, const nn::Context& ctx);
  // Both heads (what deit's distilled model returns in training): the class head's logits and the
  // distillation head's (undefined for a model that is not distilled).
  struct Heads {
    Tensor cls, dist;
  };
  Heads forward_heads(const Tensor& images, const nn::Context& ctx);
  nn::Parameters parameters() const;
  int64_t num_parameters() const;
  // Bytes a training step keeps alive per image (the activations saved for backward), an estimate
  // for refusing batch sizes that cannot fit before allocating anything: per block 18 n D floats
  // (layernorms, qkv, attention output, the 4D MLP hidden twice, residuals) plus the attention's
  // own (the kind's saved_floats_per_head: H n^2 probabilities for the softmax-type kinds, H d^2
  // for Taylor), with a 25% margin for the backward pass's transients. Measured on deit_tiny at
  // 224: within 10% of the peak RSS slope.
  double training_bytes_per_image() const;
  // Density per block and head from the last forward (empty when it used no mask).
  std::vector<std::vector<double>> densities() const;
  const AttentionKindSpec& attention() const;   // the kind every block runs
  void set_attention(const std::string& kind);  // switch every block (weights are shared by all kinds)
  void set_residual_weight(float lambda);       // vitality: the exp residual's weight in training
};

// pos_embed (1, p + g*g, D) resized to (1, p + h*h, D): the p prefix rows (cls, and dist for a
// distilled model) are kept, the g x g grid is resampled bicubically with a = -0.75 and
// align_corners = false, as torch.nn.functional.interpolate.
Tensor resize_pos_embed(const Tensor& pos_embed, int64_t new_grid, int64_t prefix = 1);

}  // namespace vt::vit
