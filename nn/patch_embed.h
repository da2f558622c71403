// PatchEmbed as timm builds it: a Conv2d with kernel = stride = patch, computed as patch
// extraction (patchify) followed by one GEMM with the conv weight viewed as (D, C*P*P).
#pragma once

#include "nn/module.h"

namespace vt::nn {

// x (B, C, H, W) -> (B, (H/P)*(W/P), C*P*P): non-overlapping P x P patches in row-major patch
// order, each flattened in the conv weight's (C, P, P) order. Like Conv2d with stride P, pixels
// beyond the last whole patch are ignored (their gradient is 0).
Tensor patchify(const Tensor& x, int64_t patch);

struct PatchEmbed {
  int64_t img_size = 224, patch = 16, in_chans = 3, embed_dim = 768;
  Tensor weight;  // proj.weight (D, C, P, P)
  Tensor bias;    // proj.bias (D,)
  PatchEmbed() = default;
  PatchEmbed(int64_t img_size, int64_t patch, int64_t in_chans, int64_t embed_dim);
  int64_t num_patches() const { return (img_size / patch) * (img_size / patch); }
  Tensor forward(const Tensor& x) const;  // (B, C, H, W) -> (B, num_patches, D)
  void parameters(Parameters& out, const std::string& prefix) const;
};

}  // namespace vt::nn
