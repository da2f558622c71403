// Small layers: LayerNorm, Dropout, DropPath (stochastic depth) and the transformer Mlp.
#pragma once

#include "nn/linear.h"
#include "nn/module.h"

namespace vt::nn {

// torch.nn.LayerNorm over the last axis: weight (D,) = 1, bias (D,) = 0 at creation.
struct LayerNorm {
  Tensor weight;  // (D,)
  Tensor bias;    // (D,)
  float eps = 1e-5f;
  LayerNorm() = default;
  LayerNorm(int64_t dim, float eps);
  Tensor forward(const Tensor& x) const;
  void parameters(Parameters& out, const std::string& prefix) const;
};

// Elementwise dropout with probability p while training.
struct Dropout {
  float p = 0.f;
  Tensor forward(const Tensor& x, const Context& ctx) const;
  bool identity(const Context& ctx) const { return !ctx.training || p == 0.f; }  // forward(x) is x
};

// Stochastic depth (timm's DropPath): while training, each sample's residual branch is dropped
// with probability p and kept ones are scaled by 1/(1-p). x is (B, ...).
struct DropPath {
  float p = 0.f;
  Tensor forward(const Tensor& x, const Context& ctx) const;
  bool identity(const Context& ctx) const { return !ctx.training || p == 0.f; }  // forward(x) is x
};

// timm's Mlp: fc1 (D -> hidden), GELU, dropout, fc2 (hidden -> D), dropout.
struct Mlp {
  Linear fc1;  // (hidden, D)
  Linear fc2;  // (D, hidden)
  Dropout drop;
  Mlp() = default;
  Mlp(int64_t dim, int64_t hidden, float drop);
  // With `residual`: residual + Mlp(x), the sum done in fc2's GEMM epilogue (the caller checks
  // that the dropout after fc2 is the identity in this context).
  Tensor forward(const Tensor& x, const Context& ctx, const Tensor& residual = Tensor()) const;
  void parameters(Parameters& out, const std::string& prefix) const;
};

}  // namespace vt::nn
