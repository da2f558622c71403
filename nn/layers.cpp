// LayerNorm, Dropout, DropPath and Mlp: thin modules over core's fused ops.
#include "nn/layers.h"

#include "core/ops.h"
#include "core/rng.h"
#include "core/trace.h"

namespace vt::nn {

LayerNorm::LayerNorm(int64_t dim, float eps_)
    : weight(ones({dim}).set_requires_grad()), bias(parameter({dim})), eps(eps_) {}

Tensor LayerNorm::forward(const Tensor& x) const { return layer_norm(x, weight, bias, eps); }

void LayerNorm::parameters(Parameters& out, const std::string& prefix) const {
  out.push_back({join_name(prefix, "weight"), weight});
  out.push_back({join_name(prefix, "bias"), bias});
}

Tensor Dropout::forward(const Tensor& x, const Context& ctx) const { return dropout(x, p, ctx.training, ctx.gen); }

// x * mask with mask (B, 1, ..., 1) of 0 or 1/(1-p): core's broadcasting mul gives the backward.
Tensor DropPath::forward(const Tensor& x, const Context& ctx) const {
  VT_CHECK(p >= 0.f && p < 1.f, "drop_path: probability ", p, " outside [0, 1)");
  if (!ctx.training || p == 0.f) return x;
  Generator& gen = ctx.gen ? *ctx.gen : default_generator();
  Shape mask_shape(x.dim(), 1);
  mask_shape[0] = x.size(0);
  Tensor mask = empty(mask_shape);
  for (int64_t b = 0; b < x.size(0); ++b) mask.data()[b] = gen.uniform() >= p ? 1.f / (1.f - p) : 0.f;
  return x * mask;
}

Mlp::Mlp(int64_t dim, int64_t hidden, float p) : fc1(dim, hidden), fc2(hidden, dim), drop{p} {}

Tensor Mlp::forward(const Tensor& x, const Context& ctx, const Tensor& residual) const {
  Tensor h;
  {
    TraceScope s("fc1");
    h = linear(x, fc1.weight, fc1.bias, Activation::kGelu);  // (..., hidden): fc1 and the GELU, fused
  }
  {
    TraceScope s("act");
    h = drop.forward(h, ctx);
  }
  TraceScope s("fc2");
  if (residual.defined()) {
    VT_CHECK(drop.identity(ctx), "Mlp: a fused residual needs the dropout after fc2 to be off");
    return linear(h, fc2.weight, fc2.bias, Activation::kNone, residual);  // (..., D)
  }
  return drop.forward(fc2.forward(h), ctx);  // (..., D)
}

void Mlp::parameters(Parameters& out, const std::string& prefix) const {
  fc1.parameters(out, join_name(prefix, "fc1"));
  fc2.parameters(out, join_name(prefix, "fc2"));
}

}  // namespace vt::nn
