// Softmax, log-softmax and the cross-entropy losses, all over the last axis with the row maximum
// subtracted first (exp never sees a positive argument, so logits of 1e4 stay finite).
//
// Shapes: x is (R, C) after flattening the leading dims: R rows of C classes.
#include <cmath>
#include <limits>
#include <vector>

#include "core/autograd.h"
#include "core/ops.h"
#include "core/simd.h"
#include "core/threads.h"
#include "core/trace.h"
#include "core/vecmath.h"

namespace vt {

namespace {

struct Rows {
  int64_t R, C;
};

Rows rows_of(const char* op, const Tensor& x) {
  VT_CHECK(x.dim() >= 1 && x.size(-1) > 0, op, ": need a non-empty last axis, got shape ", shape_str(x.shape()));
  return {x.numel() / x.size(-1), x.size(-1)};
}

// One row of softmax: y = exp(x - max) / sum(exp(x - max)).
inline void softmax_row(const float* __restrict x, float* __restrict y, int64_t C) {
  const float m = detail::max_f32(x, C);
  for (int64_t c = 0; c < C; ++c) y[c] = detail::exp_f32(x[c] - m);
  const float inv = 1.f / detail::sum_f32(y, C);
  for (int64_t c = 0; c < C; ++c) y[c] *= inv;
}

// One row of log_softmax: y = x - max - log(sum(exp(x - max))); `scratch` holds C floats.
inline void log_softmax_row(const float* __restrict x, float* __restrict y, float* __restrict scratch, int64_t C) {
  const float m = detail::max_f32(x, C);
  for (int64_t c = 0; c < C; ++c) scratch[c] = detail::exp_f32(x[c] - m);
  const float lse = m + std::log(detail::sum_f32(scratch, C));
  for (int64_t c = 0; c < C; ++c) y[c] = x[c] - lse;
}

// log_softmax of every row into logp.
void log_softmax_rows(const float* x, float* logp, Rows r) {
  parallel_for(r.R, std::max<int64_t>(1, kElementwiseGrain / r.C), [&](int64_t lo, int64_t hi) {
    std::vector<float> scratch(r.C);
    detail::simd_dispatch([&] {
      for (int64_t i = lo; i < hi; ++i) log_softmax_row(x + i * r.C, logp + i * r.C, scratch.data(), r.C);
    });
  });
}

}  // namespace

// y = exp(x - max) / sum(exp(x - max));  dx = y * (g - sum(g * y))
Tensor softmax(const Tensor& x) {
  OpTrace tr("softmax");
  const Rows r = rows_of("softmax", x);
  Tensor out = empty(x.shape());
  const float* px = x.data();
  float* py = out.data();
  parallel_for(r.R, std::max<int64_t>(1, kElementwiseGrain / r.C), [&](int64_t lo, int64_t hi) {
    detail::simd_dispatch([&] {
      for (int64_t i = lo; i < hi; ++i) softmax_row(px + i * r.C, py + i * r.C, r.C);
    });
  });
  if (tr.on()) tr.record({&x}, out, 5.0 * x.numel());
  if (needs_grad(x)) {
    record_op(out, "softmax", {x}, [y = out.detach(), r](const Tensor& g) -> Grads {
      Tensor dx = empty(y.shape());
      const float *pg = g.data(), *py = y.data();
      float* pd = dx.data();
      parallel_for(r.R, std::max<int64_t>(1, kElementwiseGrain / r.C), [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) {
          const float *gi = pg + i * r.C, *yi = py + i * r.C;
          float dot = 0.f;
          for (int64_t c = 0; c < r.C; ++c) dot += gi[c] * yi[c];
          for (int64_t c = 0; c < r.C; ++c) pd[i * r.C + c] = yi[c] * (gi[c] - dot);
        }
      });
      return {dx};
    });
  }
  return out;
}

// y = x - logsumexp(x);  dx = g - softmax(x) * sum(g)
Tensor log_softmax(const Tensor& x) {
  OpTrace tr("log_softmax");
  const Rows r = rows_of("log_softmax", x);
  Tensor out = empty(x.shape());
  log_softmax_rows(x.data(), out.data(), r);
  if (tr.on()) tr.record({&x}, out, 4.0 * x.numel());
  if (needs_grad(x)) {
    record_op(out, "log_softmax", {x}, [y = out.detach(), r](const Tensor& g) -> Grads {
      Tensor dx = empty(y.shape());
      const float *pg = g.data(), *py = y.data();
      float* pd = dx.data();
      for (int64_t i = 0; i < r.R; ++i) {
        float gs = 0.f;
        for (int64_t c = 0; c < r.C; ++c) gs += pg[i * r.C + c];
        for (int64_t c = 0; c < r.C; ++c) pd[i * r.C + c] = pg[i * r.C + c] - std::exp(py[i * r.C + c]) * gs;
      }
      return {dx};
    });
  }
  return out;
}

// loss = 1/R sum_i [ (1-e) * -logp[i, y_i] + e * mean_c(-logp[i, c]) ]   (e = smoothing)
// dlogits[i, c] = g/R * (p[i, c] - q[i, c]),  q = (1-e) * onehot(y_i) + e/C
Tensor cross_entropy(const Tensor& logits, const std::vector<int64_t>& labels, float smoothing) {
  OpTrace tr("cross_entropy");
  const Rows r = rows_of("cross_entropy", logits);
  VT_CHECK(static_cast<int64_t>(labels.size()) == r.R, "cross_entropy: ", labels.size(), " labels for logits of shape ",
           shape_str(logits.shape()), " (", r.R, " rows)");
  VT_CHECK(smoothing >= 0.f && smoothing <= 1.f, "cross_entropy: smoothing ", smoothing, " outside [0, 1]");
  for (int64_t i = 0; i < r.R; ++i)
    VT_CHECK(labels[i] >= 0 && labels[i] < r.C, "cross_entropy: label ", labels[i], " at row ", i, " is outside [0, ",
             r.C, ")");
  Tensor logp = empty(logits.shape());
  log_softmax_rows(logits.data(), logp.data(), r);
  const float* lp = logp.data();
  double total = 0;
  for (int64_t i = 0; i < r.R; ++i) {
    double row_mean = 0;
    for (int64_t c = 0; c < r.C; ++c) row_mean += lp[i * r.C + c];
    row_mean /= r.C;
    total += -(1.0 - smoothing) * lp[i * r.C + labels[i]] - smoothing * row_mean;
  }
  Tensor out = scalar(static_cast<float>(total / r.R));
  if (tr.on()) tr.record({&logits}, out, 5.0 * logits.numel());
  if (needs_grad(logits)) {
    record_op(out, "cross_entropy", {logits}, [logp, labels, smoothing, r](const Tensor& g) -> Grads {
      Tensor dx = empty(logp.shape());
      const float scale = g.item() / static_cast<float>(r.R);
      const float off = smoothing / r.C;
      const float* lp = logp.data();
      float* pd = dx.data();
      for (int64_t i = 0; i < r.R; ++i)
        for (int64_t c = 0; c < r.C; ++c) {
          const float q = (c == labels[i] ? 1.f - smoothing : 0.f) + off;
          pd[i * r.C + c] = scale * (std::exp(lp[i * r.C + c]) - q);
        }
      return {dx};
    });
  }
  return out;
}

// loss = 1/R sum_i sum_c -t[i, c] * logp[i, c]
// dlogits[i, c] = g/R * (p[i, c] * sum_c' t[i, c'] - t[i, c]);  dtargets = -g/R * logp
Tensor cross_entropy_soft(const Tensor& logits, const Tensor& targets) {
  OpTrace tr("cross_entropy_soft");
  const Rows r = rows_of("cross_entropy_soft", logits);
  VT_CHECK(targets.shape() == logits.shape(), "cross_entropy_soft: targets of shape ", shape_str(targets.shape()),
           " for logits of shape ", shape_str(logits.shape()));
  Tensor logp = empty(logits.shape());
  log_softmax_rows(logits.data(), logp.data(), r);
  double total = 0;
  for (int64_t i = 0; i < logits.numel(); ++i) total -= static_cast<double>(targets.data()[i]) * logp.data()[i];
  Tensor out = scalar(static_cast<float>(total / r.R));
  if (tr.on()) tr.record({&logits, &targets}, out, 6.0 * logits.numel());
  if (needs_grad(logits, targets)) {
    const bool gl = logits.requires_grad(), gt = targets.requires_grad();
    record_op(out, "cross_entropy_soft", {logits, targets},
              [gl, gt, logp, t = targets.detach(), r](const Tensor& g) -> Grads {
                const float scale = g.item() / static_cast<float>(r.R);
                Tensor dl, dt;
                if (gl) {
                  dl = empty(logp.shape());
                  for (int64_t i = 0; i < r.R; ++i) {
                    const float* ti = t.data() + i * r.C;
                    float tsum = 0.f;
                    for (int64_t c = 0; c < r.C; ++c) tsum += ti[c];
                    for (int64_t c = 0; c < r.C; ++c)
                      dl.data()[i * r.C + c] = scale * (std::exp(logp.data()[i * r.C + c]) * tsum - ti[c]);
                  }
                }
                if (gt) dt = mul(logp, -scale);
                return {dl, dt};
              });
  }
  return out;
}

}  // namespace vt
