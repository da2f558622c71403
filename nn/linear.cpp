// The fused linear op: forward and backward side by side.
//
// Shapes: x viewed as (R, in) with R = all leading dims; w (out, in); y (R, out).
//   forward:   h = x W^T + 1 b          (GEMM; each block of rows then gets b added in cache)
//              y = h, or y = GELU(h) = h Phi(h) in the same pass, plus r (residual) if given
//   backward:  dh = dy, or dh = dy o (Phi(h) + h phi(h))
//              dx = dh W                (R, in)
//              dW = dh^T x              (out, in)
//              db = 1^T dh              (out,)  column sums
//              dr = dy
#include "nn/linear.h"

#include "core/autograd.h"
#include "core/ops.h"
#include "core/simd.h"
#include "core/threads.h"
#include "core/trace.h"
#include "core/vecmath.h"

namespace vt::nn {

Tensor parameter(const Shape& shape) { return zeros(shape).set_requires_grad(); }

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b, Activation act, const Tensor& residual) {
  VT_CHECK(w.dim() == 2, "linear: weight must be 2-D (out, in), got ", shape_str(w.shape()));
  const int64_t out_f = w.size(0), in_f = w.size(1);
  VT_CHECK(x.dim() >= 1 && x.size(-1) == in_f, "linear: input of shape ", shape_str(x.shape()), " does not end in ",
           in_f, " features (weight ", shape_str(w.shape()), ")");
  VT_CHECK(!b.defined() || b.shape() == Shape{out_f}, "linear: bias of shape ", shape_str(b.shape()), " for weight ",
           shape_str(w.shape()));
  const FusedTrace fused;  // with GELU or a residual: one pass, several records
  OpTrace tr("linear");
  const bool gelu = act == Activation::kGelu, res = residual.defined(),
             grad = needs_grad(x, w, b) || needs_grad(residual);
  const int64_t R = x.numel() / in_f;
  Shape out_shape = x.shape();
  out_shape.back() = out_f;
  VT_CHECK(!res || residual.shape() == out_shape, "linear: residual of shape ", shape_str(residual.shape()),
           " for an output of shape ", shape_str(out_shape));
  Tensor y = empty(out_shape);
  // With GELU and a backward to come, the pre-activation h is kept in its own tensor.
  Tensor h = gelu && grad ? empty(out_shape) : y;
  float *py = y.data(), *ph = h.data();
  const float* pb = b.defined() ? b.data() : nullptr;
  const float* pr = res ? residual.data() : nullptr;
  gemm_then(false, true, R, out_f, in_f, 1.f, x.data(), in_f, w.data(), in_f, 0.f, ph, out_f,
            [&](int64_t r0, int64_t rows) {
              vt::detail::simd_dispatch([&] {
                for (int64_t r = r0; r < r0 + rows; ++r) {
                  float *hr = ph + r * out_f, *yr = py + r * out_f;
                  if (pb)
                    for (int64_t j = 0; j < out_f; ++j) hr[j] += pb[j];
                  if (gelu)
                    for (int64_t j = 0; j < out_f; ++j) yr[j] = vt::detail::gelu_f32(hr[j]);
                  if (pr)  // y = r + y, the order of the unfused residual add
                    for (int64_t j = 0; j < out_f; ++j) yr[j] = pr[r * out_f + j] + yr[j];
                }
              });
            });
  if (TraceRecord* rec = tr.record({&x, &w, &b}, h, 2.0 * R * out_f * in_f))
    rec->attrs = {{"M", double(R)}, {"N", double(out_f)}, {"K", double(in_f)}, {"bias", double(b.defined())}};
  if ((gelu || res) && tr.on()) {
    if (gelu) {
      OpTrace tg("gelu");
      tg.record({&h}, y, 8.0 * y.numel());
    }
    if (res) {
      OpTrace ta("add");
      ta.record({&residual, &y}, y, static_cast<double>(y.numel()));
    }
    fused.split();
  }
  if (grad) {
    const bool gx = x.requires_grad(), gw = w.requires_grad(), gb = b.defined() && b.requires_grad();
    const bool gr = res && residual.requires_grad();
    record_op(y,
              gelu  ? "linear_gelu"
              : res ? "linear_add"
                    : "linear",
              {x, w, b, residual},
              [gx, gw, gb, gr, gelu, x = x.detach(), w = w.detach(), h = gelu ? h.detach() : Tensor(), R, in_f,
               out_f](const Tensor& g) -> Grads {
                Tensor dh = g;
                if (gelu) {  // dh = dy o (Phi(h) + h phi(h))
                  dh = empty(h.shape());
                  const float *pg = g.data(), *pre = h.data();
                  float* pd = dh.data();
                  parallel_for(dh.numel(), kElementwiseGrain, [&](int64_t lo, int64_t hi) {
                    vt::detail::simd_dispatch([&] {
                      for (int64_t i = lo; i < hi; ++i) pd[i] = pg[i] * vt::detail::gelu_grad_f32(pre[i]);
                    });
                  });
                }
                Tensor dx, dw, db;
                if (gx) {
                  dx = empty(x.shape());
                  gemm(false, false, R, in_f, out_f, 1.f, dh.data(), out_f, w.data(), in_f, 0.f, dx.data(), in_f);
                }
                if (gw) {
                  dw = empty(w.shape());
                  gemm(true, false, out_f, in_f, R, 1.f, dh.data(), out_f, x.data(), in_f, 0.f, dw.data(), in_f);
                }
                if (gb) db = sum(dh.reshape({R, out_f}), {0});
                return {dx, dw, db, gr ? g : Tensor()};
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
