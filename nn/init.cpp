// Initialisers: in-place fills under NoGradGuard-free raw writes (parameters are leaves).
#include "nn/init.h"

#include <algorithm>
#include <cmath>

#include "core/rng.h"

namespace vt::nn {

void init_trunc_normal(Tensor& t, float std, Generator& gen) {
  float* p = t.data();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<float>(gen.trunc_normal(0.0, std, -2.0, 2.0));
}

void init_constant(Tensor& t, float value) { std::fill_n(t.data(), t.numel(), value); }

void init_torch_default(Tensor& weight, Tensor& bias, Generator& gen) {
  const int64_t fan_in = weight.numel() / weight.size(0);
  // kaiming_uniform_(a = sqrt 5): gain = sqrt(2 / (1 + 5)), bound = gain * sqrt(3 / fan_in) = 1/sqrt(fan_in)
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  for (int64_t i = 0; i < weight.numel(); ++i) weight.data()[i] = static_cast<float>(gen.uniform(-bound, bound));
  if (bias.defined())
    for (int64_t i = 0; i < bias.numel(); ++i) bias.data()[i] = static_cast<float>(gen.uniform(-bound, bound));
}

}  // namespace vt::nn
