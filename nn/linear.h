// Linear layer y = x W^T + b, as torch.nn.Linear: weight (out, in), bias (out,).
#pragma once

#include "nn/module.h"

namespace vt::nn {

enum class Activation { kNone, kGelu };

// The fused op: x (..., in), w (out, in), b (out,) or undefined -> (..., out), optionally followed
// by GELU (exact erf form): act(x W^T + b). One GEMM; each block of its rows gets the bias and the
// activation while it is still in cache. Backward as three products (after GELU's derivative).
// Traced as a "linear" record and, with GELU, a "gelu" record, as the unfused ops would be.
// With `residual` (the output's shape): residual + act(x W^T + b), the sum in the same pass (the
// transformer block's skip connection), traced as a further "add" record.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b, Activation act = Activation::kNone,
              const Tensor& residual = Tensor());

struct Linear {
  Tensor weight;  // (out, in)
  Tensor bias;    // (out,), undefined without bias
  Linear() = default;
  Linear(int64_t in, int64_t out, bool with_bias = true);
  Tensor forward(const Tensor& x) const { return linear(x, weight, bias); }
  void parameters(Parameters& out, const std::string& prefix) const;
};

}  // namespace vt::nn
