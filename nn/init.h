// Initialisers matching timm's DeiT (vit/README.md, "DeiT") and PyTorch's layer defaults.
// Each fills an existing parameter in place from the given generator.
#pragma once

#include "core/tensor.h"

namespace vt {
class Generator;
}

namespace vt::nn {

// timm's trunc_normal_(t, std): N(0, std^2) truncated to the absolute range [-2, 2].
void init_trunc_normal(Tensor& t, float std, Generator& gen);
void init_constant(Tensor& t, float value);
// PyTorch's Conv2d/Linear reset_parameters: kaiming_uniform_(a = sqrt 5) for the weight and
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias; fan_in = weight.numel() / weight.size(0).
void init_torch_default(Tensor& weight, Tensor& bias, Generator& gen);

}  // namespace vt::nn
