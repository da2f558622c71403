// The fused linear op: forward and backward side by side.
//
// Shapes: x viewed as (R, in) with R = all leading dims; w (out, in); y (R, out).
//   forward:   y = x W^T + 1 b          (rows of y pre-filled with b, then GEMM with beta = 1)
//   backward:  dx = dy W                (R, in)
//              dW = dy^T x              (out, in)
//              db = 1^T dy              (out,)  column sums
#include "nn/linear.h"

#include <cstring>

#include "core/autograd.h"
#include "core/ops.h"
#include "core/threads.h"
#include "core/trace.h"

namespace vt::nn {

Tensor parameter(const Shape& shape) { return zeros(shape).set_requires_grad(); }

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b) {
  VT_CHECK(w.dim() == 2, "linear: weight must be 2-D (out, in), got ", shape_str(w.shape()));
  const int64_t out_f = w.size(0), in_f = w.size(1);
  VT_CHECK(x.dim() >= 1 && x.size(-1) == in_f, "linear: input of shape ", shape_str(x.shape()),
           " does not end in ", in_f, " features (weight ", shape_str(w.shape()), ")");
  VT_CHECK(!b.defined() || b.shape() == Shape{out_f}, "linear: bias of shape ", shape_str(b.shape()),
           " for weight ", shape_str(w.shape()));
  OpTrace tr("linear");
  const int64_t R = x.numel() / in_f;
  Shape out_shape = x.shape();
  out_shape.back() = out_f;
  Tensor y = empty(out_shape);
  float* py = y.data();
  if (b.defined()) {
    const float* pb = b.data();
    parallel_for(R, std::max<int64_t>(1, kElementwiseGrain / out_f), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) std::memcpy(py + r * out_f, pb, sizeof(float) * out_f);
    });
  }
  gemm(false, true, R, out_f, in_f, 1.f, x.data(), in_f, w.data(), in_f, b.defined() ? 1.f : 0.f, py, out_f);
  if (TraceRecord* rec = tr.record({&x, &w, &b}, y, 2.0 * R * out_f * in_f)) {
    rec->attrs = {{"M", double(R)}, {"N", double(out_f)}, {"K", double(in_f)}, {"bias", double(b.defined())}};
  }
  if (needs_grad(x, w, b)) {
    const bool gx = x.requires_grad(), gw = w.requires_grad(), gb = b.defined() && b.requires_grad();
    record_op(y, "linear", {x, w, b},
              [gx, gw, gb, x = x.detach(), w = w.detach(), R, in_f, out_f](const Tensor& g) -> Grads {
                Tensor dx, dw, db;
                if (gx) {
                  dx = empty(x.shape());
                  gemm(false, false, R, in_f, out_f, 1.f, g.data(), out_f, w.data(), in_f, 0.f, dx.data(), in_f);
                }
                if (gw) {
                  dw = empty(w.shape());
                  gemm(true, false, out_f, in_f, R, 1.f, g.data(), out_f, x.data(), in_f, 0.f, dw.data(), in_f);
                }
                if (gb) db = sum(g.reshape({R, out_f}), {0});
                return {dx, dw, db};
              });
  }
  return y;
}

Linear::Linear(int64_t in, int64_t out, bool with_bias) : weight(parameter({out, in})) {
  if (with_bias) bias = parameter({out});
}

void Linear::parameters(Parameters& out, const std::string& prefix) const {
  out.push_back({join_name(prefix, "weight"), weight});
  if (bias.defined()) out.push_back({join_name(prefix, "bias"), bias});
}

}  // namespace vt::nn
