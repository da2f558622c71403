// Elementwise ops of one tensor (and tensor-scalar arithmetic), forward and backward side by side.
// Every kernel is a flat parallel loop over the contiguous buffer (detail::map_unary).
#include <cmath>

#include "core/autograd.h"
#include "core/broadcast.h"
#include "core/ops.h"
#include "core/trace.h"
#include "core/vecmath.h"

namespace vt {

using detail::map_binary;
using detail::map_unary;

namespace {
constexpr float kTwoOverSqrtPi = 1.12837916709551257390f;

void trace_unary(OpTrace& tr, const Tensor& x, const Tensor& out, double flops_per_element = 1) {
  if (tr.on()) tr.record({&x}, out, flops_per_element * out.numel());
}
}  // namespace

// ---------------------------------------------------------------- tensor-scalar arithmetic

// out = a + s;  da = g
Tensor add(const Tensor& a, float s) {
  OpTrace tr("add_scalar");
  Tensor out = map_unary(a, [s](float x) { return x + s; });
  trace_unary(tr, a, out);
  if (needs_grad(a)) record_op(out, "add_scalar", {a}, [](const Tensor& g) -> Grads { return {g}; });
  return out;
}

// out = a * s;  da = g * s
Tensor mul(const Tensor& a, float s) {
  OpTrace tr("mul_scalar");
  Tensor out = map_unary(a, [s](float x) { return x * s; });
  trace_unary(tr, a, out);
  if (needs_grad(a)) record_op(out, "mul_scalar", {a}, [s](const Tensor& g) -> Grads { return {mul(g, s)}; });
  return out;
}

// out = s - a;  da = -g
Tensor rsub(const Tensor& a, float s) {
  OpTrace tr("rsub_scalar");
  Tensor out = map_unary(a, [s](float x) { return s - x; });
  trace_unary(tr, a, out);
  if (needs_grad(a)) record_op(out, "rsub_scalar", {a}, [](const Tensor& g) -> Grads { return {neg(g)}; });
  return out;
}

// out = s / a;  da = -g * s / a^2 = -g * out / a
Tensor rdiv(const Tensor& a, float s) {
  OpTrace tr("rdiv_scalar");
  Tensor out = map_unary(a, [s](float x) { return s / x; });
  trace_unary(tr, a, out);
  if (needs_grad(a)) {
    record_op(out, "rdiv_scalar", {a},
              [x = a.detach(), y = out.detach()](const Tensor& g) -> Grads { return {neg(g * y / x)}; });
  }
  return out;
}

// out = -x;  dx = -g
Tensor neg(const Tensor& x) {
  OpTrace tr("neg");
  Tensor out = map_unary(x, [](float v) { return -v; });
  trace_unary(tr, x, out);
  if (needs_grad(x)) record_op(out, "neg", {x}, [](const Tensor& g) -> Grads { return {neg(g)}; });
  return out;
}

// ---------------------------------------------------------------- math functions

// out = exp(x);  dx = g * out
Tensor exp(const Tensor& x) {
  OpTrace tr("exp");
  Tensor out = map_unary(x, [](float v) { return std::exp(v); });
  trace_unary(tr, x, out);
  if (needs_grad(x)) record_op(out, "exp", {x}, [y = out.detach()](const Tensor& g) -> Grads { return {g * y}; });
  return out;
}

// out = log(x);  dx = g / x   (log(0) = -inf and log(-1) = NaN, as IEEE says)
Tensor log(const Tensor& x) {
  OpTrace tr("log");
  Tensor out = map_unary(x, [](float v) { return std::log(v); });
  trace_unary(tr, x, out);
  if (needs_grad(x)) record_op(out, "log", {x}, [x = x.detach()](const Tensor& g) -> Grads { return {g / x}; });
  return out;
}

// out = sqrt(x);  dx = g / (2 out)
Tensor sqrt(const Tensor& x) {
  OpTrace tr("sqrt");
  Tensor out = map_unary(x, [](float v) { return std::sqrt(v); });
  trace_unary(tr, x, out);
  if (needs_grad(x)) {
    record_op(out, "sqrt", {x}, [y = out.detach()](const Tensor& g) -> Grads {
      return {map_binary("sqrt_backward", g, y, [](float gv, float yv) { return gv / (2.f * yv); })};
    });
  }
  return out;
}

// out = 1/sqrt(x);  dx = -g/2 * x^(-3/2) = -g/2 * out^3
Tensor rsqrt(const Tensor& x) {
  OpTrace tr("rsqrt");
  Tensor out = map_unary(x, [](float v) { return 1.f / std::sqrt(v); });
  trace_unary(tr, x, out);
  if (needs_grad(x)) {
    record_op(out, "rsqrt", {x}, [y = out.detach()](const Tensor& g) -> Grads {
      return {map_binary("rsqrt_backward", g, y, [](float gv, float yv) { return -0.5f * gv * yv * yv * yv; })};
    });
  }
  return out;
}

// out = x^p;  dx = g * p * x^(p-1)
Tensor pow(const Tensor& x, float p) {
  OpTrace tr("pow_scalar");
  Tensor out = map_unary(x, [p](float v) { return std::pow(v, p); });
  trace_unary(tr, x, out);
  if (needs_grad(x)) {
    record_op(out, "pow_scalar", {x}, [p, x = x.detach()](const Tensor& g) -> Grads {
      if (p == 0.f) return {zeros_like(g)};
      return {map_binary("pow_backward", g, x, [p](float gv, float xv) { return gv * p * std::pow(xv, p - 1.f); })};
    });
  }
  return out;
}

// out = tanh(x);  dx = g * (1 - out^2)
Tensor tanh(const Tensor& x) {
  OpTrace tr("tanh");
  Tensor out = map_unary(x, [](float v) { return std::tanh(v); });
  trace_unary(tr, x, out);
  if (needs_grad(x)) {
    record_op(out, "tanh", {x}, [y = out.detach()](const Tensor& g) -> Grads {
      return {map_binary("tanh_backward", g, y, [](float gv, float yv) { return gv * (1.f - yv * yv); })};
    });
  }
  return out;
}

// out = erf(x);  dx = g * 2/sqrt(pi) * exp(-x^2)
Tensor erf(const Tensor& x) {
  OpTrace tr("erf");
  Tensor out = map_unary(x, [](float v) { return std::erf(v); });
  trace_unary(tr, x, out);
  if (needs_grad(x)) {
    record_op(out, "erf", {x}, [x = x.detach()](const Tensor& g) -> Grads {
      return {map_binary("erf_backward", g, x,
                         [](float gv, float xv) { return gv * kTwoOverSqrtPi * std::exp(-xv * xv); })};
    });
  }
  return out;
}

// out = max(x, 0);  dx = g where x > 0, else 0
Tensor relu(const Tensor& x) {
  OpTrace tr("relu");
  Tensor out = map_unary(x, [](float v) { return v > 0.f ? v : 0.f; });
  trace_unary(tr, x, out);
  if (needs_grad(x)) {
    record_op(out, "relu", {x}, [x = x.detach()](const Tensor& g) -> Grads {
      return {map_binary("relu_backward", g, x, [](float gv, float xv) { return xv > 0.f ? gv : 0.f; })};
    });
  }
  return out;
}

// out = x * Phi(x) with Phi the standard normal CDF: the exact (erf) GELU, PyTorch's default;
// dx = g * (Phi(x) + x * phi(x)) with phi the standard normal density.
// Phi and exp come from core/vecmath.h so that both loops vectorise.
Tensor gelu(const Tensor& x) {
  OpTrace tr("gelu");
  Tensor out = map_unary(x, [](float v) { return detail::gelu_f32(v); });
  trace_unary(tr, x, out, 8);
  if (needs_grad(x)) {
    record_op(out, "gelu", {x}, [x = x.detach()](const Tensor& g) -> Grads {
      return {map_binary("gelu_backward", g, x, [](float gv, float xv) { return gv * detail::gelu_grad_f32(xv); })};
    });
  }
  return out;
}

// A deep copy; dx = g.
Tensor Tensor::clone() const {
  OpTrace tr("clone");
  Tensor out = map_unary(*this, [](float v) { return v; });
  if (tr.on()) tr.record({this}, out, 0);
  if (needs_grad(*this)) record_op(out, "clone", {*this}, [](const Tensor& g) -> Grads { return {g}; });
  return out;
}

}  // namespace vt
