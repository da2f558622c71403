// Elementwise ops of two (or three) tensors with numpy broadcasting, forward and backward.
// Broadcasting's backward is a sum over the broadcast dimensions: sum_to(grad, input shape).
#include <algorithm>
#include <cmath>

#include "core/autograd.h"
#include "core/broadcast.h"
#include "core/ops.h"
#include "core/trace.h"

namespace vt {

namespace detail {

BroadcastPlan plan_broadcast(const char* op, std::initializer_list<const Shape*> shapes) {
  BroadcastPlan p;
  p.n = static_cast<int>(shapes.size());
  VT_ASSERT(p.n >= 1 && p.n <= kMaxOperands);
  size_t rank = 0;
  for (const Shape* s : shapes) rank = std::max(rank, s->size());
  // Output shape: per dimension, sizes must agree or be 1.
  p.out.assign(rank, 1);
  for (const Shape* s : shapes) {
    for (size_t i = 0; i < s->size(); ++i) {
      int64_t& o = p.out[rank - s->size() + i];
      const int64_t d = (*s)[i];
      if (o == d || d == 1) continue;
      if (o == 1) {
        o = d;
        continue;
      }
      std::string msg = str_cat(op, ": shapes");
      int k = 0;
      for (const Shape* t : shapes) msg += str_cat(k++ ? " and " : " ", shape_str(*t));
      throw Error(str_cat(msg, " cannot be broadcast (dimension ", i + rank - s->size(), ": ", o, " vs ", d, ")"));
    }
  }
  // Per-dimension strides of each operand in the output's index space (0 where broadcast).
  std::vector<std::array<int64_t, kMaxOperands>> strides(rank, std::array<int64_t, kMaxOperands>{});
  int k = 0;
  for (const Shape* s : shapes) {
    int64_t stride = 1;
    for (size_t i = s->size(); i-- > 0;) {
      const size_t d = rank - s->size() + i;
      strides[d][k] = (*s)[i] == 1 ? 0 : stride;
      stride *= (*s)[i];
    }
    ++k;
  }
  // Drop size-1 output dims; merge a dim into the next inner one when every operand is
  // contiguous across the boundary (outer stride == inner stride * inner size).
  for (size_t d = 0; d < rank; ++d) {
    if (p.out[d] == 1) continue;
    if (!p.sizes.empty()) {
      auto& prev = p.strides.back();
      bool merge = true;
      for (int j = 0; j < p.n; ++j) merge &= prev[j] == strides[d][j] * p.out[d];
      if (merge) {
        p.sizes.back() *= p.out[d];
        prev = strides[d];
        continue;
      }
    }
    p.sizes.push_back(p.out[d]);
    p.strides.push_back(strides[d]);
  }
  return p;
}

}  // namespace detail

using detail::map_binary;

namespace {
// Record one trace entry for a binary op (1 flop per output element).
void trace_binary(OpTrace& tr, const Tensor& a, const Tensor& b, const Tensor& out) {
  if (tr.on()) tr.record({&a, &b}, out, static_cast<double>(out.numel()));
}
}  // namespace

// out = a + b;  da = sum_to(g), db = sum_to(g)
Tensor add(const Tensor& a, const Tensor& b) {
  OpTrace tr("add");
  Tensor out = map_binary("add", a, b, [](float x, float y) { return x + y; });
  trace_binary(tr, a, b, out);
  if (needs_grad(a, b)) {
    record_op(out, "add", {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& g) -> Grads {
      return {sum_to(g, sa), sum_to(g, sb)};
    });
  }
  return out;
}

// out = a - b;  da = sum_to(g), db = -sum_to(g)
Tensor sub(const Tensor& a, const Tensor& b) {
  OpTrace tr("sub");
  Tensor out = map_binary("sub", a, b, [](float x, float y) { return x - y; });
  trace_binary(tr, a, b, out);
  if (needs_grad(a, b)) {
    record_op(out, "sub", {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& g) -> Grads {
      return {sum_to(g, sa), neg(sum_to(g, sb))};
    });
  }
  return out;
}

// out = a * b;  da = sum_to(g * b), db = sum_to(g * a)
Tensor mul(const Tensor& a, const Tensor& b) {
  OpTrace tr("mul");
  Tensor out = map_binary("mul", a, b, [](float x, float y) { return x * y; });
  trace_binary(tr, a, b, out);
  if (needs_grad(a, b)) {
    const bool ga = a.requires_grad(), gb = b.requires_grad();
    record_op(out, "mul", {a, b}, [ga, gb, a = a.detach(), b = b.detach()](const Tensor& g) -> Grads {
      return {ga ? sum_to(g * b, a.shape()) : Tensor(), gb ? sum_to(g * a, b.shape()) : Tensor()};
    });
  }
  return out;
}

// out = a / b;  da = sum_to(g / b), db = sum_to(-g * out / b)
Tensor div(const Tensor& a, const Tensor& b) {
  OpTrace tr("div");
  Tensor out = map_binary("div", a, b, [](float x, float y) { return x / y; });
  trace_binary(tr, a, b, out);
  if (needs_grad(a, b)) {
    const bool ga = a.requires_grad(), gb = b.requires_grad();
    record_op(out, "div", {a, b}, [ga, gb, sa = a.shape(), b = b.detach(), y = out.detach()](const Tensor& g) -> Grads {
      Tensor g_over_b = g / b;
      return {ga ? sum_to(g_over_b, sa) : Tensor(), gb ? sum_to(neg(g_over_b * y), b.shape()) : Tensor()};
    });
  }
  return out;
}

// out = base ^ exponent;  dbase = g * e * base^(e-1), dexponent = g * out * log(base)
Tensor pow(const Tensor& base, const Tensor& exponent) {
  OpTrace tr("pow");
  Tensor out = map_binary("pow", base, exponent, [](float x, float y) { return std::pow(x, y); });
  trace_binary(tr, base, exponent, out);
  if (needs_grad(base, exponent)) {
    const bool gx = base.requires_grad(), ge = exponent.requires_grad();
    record_op(out, "pow", {base, exponent},
              [gx, ge, x = base.detach(), e = exponent.detach(), y = out.detach()](const Tensor& g) -> Grads {
                Tensor dx, de;
                if (gx) {
                  Tensor d = map_binary("pow", x, e,
                                        [](float b, float p) { return p == 0.f ? 0.f : p * std::pow(b, p - 1.f); });
                  dx = sum_to(g * d, x.shape());
                }
                if (ge) de = sum_to(g * y * log(x), e.shape());
                return {dx, de};
              });
  }
  return out;
}

// out = cond ? a : b;  da = sum_to(cond ? g : 0), db = sum_to(cond ? 0 : g)
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  OpTrace tr("where");
  Tensor out = detail::map_ternary("where", cond, a, b, [](float c, float x, float y) { return c != 0.f ? x : y; });
  if (tr.on()) tr.record({&cond, &a, &b}, out, static_cast<double>(out.numel()));
  if (needs_grad(a, b)) {
    const bool ga = a.requires_grad(), gb = b.requires_grad();
    record_op(out, "where", {Tensor(), a, b},
              [ga, gb, c = cond.detach(), sa = a.shape(), sb = b.shape()](const Tensor& g) -> Grads {
                Tensor zero = scalar(0.f), da, db;
                if (ga) da = sum_to(where(c, g, zero), sa);
                if (gb) db = sum_to(where(c, zero, g), sb);
                return {Tensor(), da, db};
              });
  }
  return out;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, float value) {
  detail::BroadcastPlan p = detail::plan_broadcast("masked_fill", {&x.shape(), &mask.shape()});
  VT_CHECK(p.out == x.shape(), "masked_fill: mask of shape ", shape_str(mask.shape()),
           " does not broadcast to the input's shape ", shape_str(x.shape()));
  return where(mask, scalar(value), x);
}

}  // namespace vt
