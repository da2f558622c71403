// Layer normalisation over the last axis, fused: one pass for the statistics, one for the output,
// and a fused backward. x is viewed as (R, D): R rows of D features.
//
// Forward, per row:  mu = mean(x),  var = mean((x - mu)^2),  rstd = 1/sqrt(var + eps),
//                    xhat = (x - mu) * rstd,  y = xhat * w + b
// Backward, per row, with dxhat = g * w (the three terms of the textbook derivation):
//   dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
//   dw = sum over rows of g * xhat,   db = sum over rows of g
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "core/ops.h"
#include "core/simd.h"
#include "core/threads.h"
#include "core/trace.h"
#include "core/vecmath.h"

namespace vt {

namespace {
// dw/db are sums over rows; rows are grouped in fixed blocks whose partial sums are added in
// block order, so the result does not depend on the thread count.
constexpr int64_t kRowBlock = 32;

// One row of the forward: writes y and returns (mean, rstd). `centred` is scratch of D floats.
// (__restrict on the parameters tells the compiler the buffers never overlap: the loops vectorise.)
inline std::pair<float, float> layer_norm_row(const float* __restrict x, const float* __restrict w,
                                              const float* __restrict b, float eps, int64_t D,
                                              float* __restrict centred, float* __restrict y) {
  const float mu = detail::sum_f32(x, D) / static_cast<float>(D);
  for (int64_t d = 0; d < D; ++d) centred[d] = x[d] - mu;
  // two passes: no cancellation for rows with a large mean
  const float var = detail::dot_f32(centred, centred, D) / static_cast<float>(D);
  const float rstd = 1.f / std::sqrt(var + eps);
  for (int64_t d = 0; d < D; ++d) y[d] = centred[d] * rstd * w[d] + b[d];
  return {mu, rstd};
}

// One row of the backward: adds g * xhat and g to the block's dw and db sums and, when dx is
// not null, writes dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)).
inline void layer_norm_backward_row(const float* __restrict x, const float* __restrict g, const float* __restrict w,
                                    float mu, float rstd, int64_t D, float* __restrict xhat, float* __restrict dxhat,
                                    float* __restrict acc_w, float* __restrict acc_b, float* __restrict dx) {
  for (int64_t d = 0; d < D; ++d) {
    xhat[d] = (x[d] - mu) * rstd;
    dxhat[d] = g[d] * w[d];
    acc_w[d] += g[d] * xhat[d];
    acc_b[d] += g[d];
  }
  if (!dx) return;
  const float mean_dxhat = detail::sum_f32(dxhat, D) / static_cast<float>(D);
  const float mean_dxhat_xhat = detail::dot_f32(dxhat, xhat, D) / static_cast<float>(D);
  for (int64_t d = 0; d < D; ++d) dx[d] = rstd * (dxhat[d] - mean_dxhat - xhat[d] * mean_dxhat_xhat);
}
}  // namespace

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps) {
  VT_CHECK(x.dim() >= 1 && x.size(-1) > 0, "layer_norm: need a non-empty last axis, got shape ", shape_str(x.shape()));
  const int64_t D = x.size(-1), R = x.numel() / D;
  VT_CHECK(!weight.defined() || weight.shape() == Shape{D}, "layer_norm: weight of shape ", shape_str(weight.shape()),
           " for input of shape ", shape_str(x.shape()), " (expected (", D, ",))");
  VT_CHECK(!bias.defined() || bias.shape() == Shape{D}, "layer_norm: bias of shape ", shape_str(bias.shape()),
           " for input of shape ", shape_str(x.shape()), " (expected (", D, ",))");
  VT_CHECK(eps >= 0.f, "layer_norm: eps ", eps, " is negative");
  OpTrace tr("layer_norm");
  // Without an affine part the kernels run with w = 1, b = 0: one loop shape, no branches.
  const Tensor w = weight.defined() ? weight.detach() : ones({D});
  const Tensor b = bias.defined() ? bias.detach() : zeros({D});
  Tensor out = empty(x.shape());
  Tensor stats = empty({R, 2});  // per row: mean, rstd (saved for backward)
  const float *px = x.data(), *pw = w.data(), *pb = b.data();
  float *py = out.data(), *ps = stats.data();
  parallel_for(R, std::max<int64_t>(1, kElementwiseGrain / D), [&](int64_t lo, int64_t hi) {
    std::vector<float> centred(D);
    detail::simd_dispatch([&] {
      for (int64_t r = lo; r < hi; ++r) {
        auto [mu, rstd] = layer_norm_row(px + r * D, pw, pb, eps, D, centred.data(), py + r * D);
        ps[2 * r] = mu;
        ps[2 * r + 1] = rstd;
      }
    });
  });
  if (tr.on()) tr.record({&x, &weight, &bias}, out, 8.0 * x.numel());
  if (needs_grad(x, weight, bias)) {
    const bool gx = x.requires_grad(), gw = weight.defined() && weight.requires_grad(),
               gb = bias.defined() && bias.requires_grad();
    record_op(out, "layer_norm", {x, weight, bias},
              [gx, gw, gb, x = x.detach(), w, stats, R, D](const Tensor& g) -> Grads {
                Tensor dx = gx ? empty(x.shape()) : Tensor();
                const int64_t nblocks = (R + kRowBlock - 1) / kRowBlock;
                std::vector<float> part_w(nblocks * D, 0.f), part_b(nblocks * D, 0.f);
                const float *px = x.data(), *pg = g.data(), *ps = stats.data(), *pw = w.data();
                float* pdx = gx ? dx.data() : nullptr;
                parallel_for(nblocks, 1, [&](int64_t lo, int64_t hi) {
                  std::vector<float> xhat(D), dxhat(D);
                  detail::simd_dispatch([&] {
                    for (int64_t blk = lo; blk < hi; ++blk)
                      for (int64_t r = blk * kRowBlock; r < std::min(R, (blk + 1) * kRowBlock); ++r)
                        layer_norm_backward_row(px + r * D, pg + r * D, pw, ps[2 * r], ps[2 * r + 1], D, xhat.data(),
                                                dxhat.data(), &part_w[blk * D], &part_b[blk * D],
                                                pdx ? pdx + r * D : nullptr);
                  });
                });
                auto total = [&](const std::vector<float>& part) {
                  Tensor t = zeros({D});
                  for (int64_t blk = 0; blk < nblocks; ++blk)
                    for (int64_t d = 0; d < D; ++d) t.data()[d] += part[blk * D + d];
                  return t;
                };
                return {dx, gw ? total(part_w) : Tensor(), gb ? total(part_b) : Tensor()};
              });
  }
  return out;
}

}  // namespace vt
