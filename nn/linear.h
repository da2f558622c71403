// Linear layer y = x W^T + b, as torch.nn.Linear: weight (out, in), bias (out,).
#pragma once

#include "nn/module.h"

namespace vt::nn {

// The fused op: x (..., in), w (out, in), b (out,) or undefined -> (..., out). One GEMM with the
// bias pre-filled into the output (beta = 1), backward as three products.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b);

struct Linear {
  Tensor weight;  // (out, in)
  Tensor bias;    // (out,), undefined without bias
  Linear() = default;
  Linear(int64_t in, int64_t out, bool with_bias = true);
  Tensor forward(const Tensor& x) const { return linear(x, weight, bias); }
  void parameters(Parameters& out, const std::string& prefix) const;
};

}  // namespace vt::nn
