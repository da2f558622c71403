// Linear layer y = x W^T + b, as torch.nn.Linear: weight (out, in), bias (out,).
#pragma once

#include "nn/module.h"

namespace vt::nn {

enum class Activation { kNone, kGelu };

// The fused op: x (..., in), w (out, in), b (out,) or undefined -> (..., out), optionally followed
// by GELU (exact erf form): act(x W^T + b). One GEMM; each block of its rows gets the bias and the
// activation while it is still in cache. Backward as three products (after GELU's derivative).
// Traced as a "linear" record and, with GELU, a "gelu" record, as the unfused ops would be.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b, Activation act = Activation::kNone);

struct Linear {
  Tensor weight;  // (out, in)
  Tensor bias;    // (out,), undefined without bias
  Linear() = default;
  Linear(int64_t in, int64_t out, bool with_bias = true);
  Tensor forward(const Tensor& x) const { return linear(x, weight, bias); }
  void parameters(Parameters& out, const std::string& prefix) const;
};

}  // namespace vt::nn
