// What every nn module shares. Modules are plain structs with named tensor fields (weight, bias),
// a forward, and parameters(out, prefix), which lists each parameter under its timm name
// ("blocks.3.attn.qkv.weight") so checkpoints and optimisers see the same names PyTorch does.
#pragma once

#include <string>
#include <vector>

#include "core/tensor.h"

namespace vt {
class Generator;
}

namespace vt::nn {

struct NamedTensor {
  std::string name;
  Tensor tensor;
};
using Parameters = std::vector<NamedTensor>;

// "blocks.3" + "attn" -> "blocks.3.attn"; an empty prefix adds nothing.
inline std::string join_name(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

// What a forward pass needs to know beyond its input: training or evaluation (dropout, drop-path,
// ViTALiTy's sparse branch) and the generator that draws the random masks.
struct Context {
  bool training = false;
  Generator* gen = nullptr;  // the default generator when null
};

// A fresh parameter: zeros, requires_grad (initialisers in nn/init.h fill it).
Tensor parameter(const Shape& shape);

}  // namespace vt::nn
