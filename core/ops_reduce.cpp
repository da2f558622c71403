// Reductions over any set of axes (sum, mean, max) with keepdim, their inverse expand, sum_to
// (the backward of broadcasting) and argmax.
//
// Reduced axes are grouped into runs of neighbouring axes; a run is a (outer, R, inner) block of
// contiguous memory reduced to (outer, inner). Each output element is summed in a fixed order
// that does not depend on the thread count, so results are reproducible bit for bit.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/autograd.h"
#include "core/broadcast.h"
#include "core/ops.h"
#include "core/trace.h"
#include "core/vecmath.h"

namespace vt {

namespace {

enum class Reduce { kSum, kMax };

inline float max2(float m, float v) { return (v > m || std::isnan(v)) ? v : m; }

float max_contiguous(const float* p, int64_t n) {
  float m = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) m = max2(m, p[i]);
  return m;
}

// (outer, R, inner) -> (outer, inner)
void reduce_block(Reduce kind, const float* x, float* out, int64_t outer, int64_t R, int64_t inner) {
  const bool is_sum = kind == Reduce::kSum;
  if (inner == 1) {
    constexpr int64_t kBlock = 1 << 15;
    if (outer == 1 && R > 2 * kBlock) {
      // One long row: fixed blocks in parallel, then the block results in order.
      const int64_t nb = (R + kBlock - 1) / kBlock;
      std::vector<float> part(nb);
      parallel_for(nb, 1, [&](int64_t lo, int64_t hi) {
        for (int64_t b = lo; b < hi; ++b) {
          const int64_t n = std::min(kBlock, R - b * kBlock);
          part[b] = is_sum ? detail::sum_f32(x + b * kBlock, n) : max_contiguous(x + b * kBlock, n);
        }
      });
      out[0] = is_sum ? detail::sum_f32(part.data(), nb) : max_contiguous(part.data(), nb);
      return;
    }
    parallel_for(outer, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(R, 1)), [&](int64_t lo, int64_t hi) {
      for (int64_t o = lo; o < hi; ++o) out[o] = is_sum ? detail::sum_f32(x + o * R, R) : max_contiguous(x + o * R, R);
    });
    return;
  }
  // Rows of `inner` values accumulate in order r = 0..R-1; work splits over (outer, column piece).
  constexpr int64_t kPiece = 256;
  const int64_t pieces = (inner + kPiece - 1) / kPiece;
  parallel_for(outer * pieces, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(R * kPiece, 1)),
               [&](int64_t lo, int64_t hi) {
                 for (int64_t w = lo; w < hi; ++w) {
                   const int64_t o = w / pieces, c0 = (w % pieces) * kPiece;
                   const int64_t c1 = std::min(inner, c0 + kPiece);
                   float* acc = out + o * inner;
                   const float init = is_sum ? 0.f : -std::numeric_limits<float>::infinity();
                   for (int64_t c = c0; c < c1; ++c) acc[c] = init;
                   for (int64_t r = 0; r < R; ++r) {
                     const float* row = x + (o * R + r) * inner;
                     if (is_sum) {
                       for (int64_t c = c0; c < c1; ++c) acc[c] += row[c];
                     } else {
                       for (int64_t c = c0; c < c1; ++c) acc[c] = max2(acc[c], row[c]);
                     }
                   }
                 }
               });
}

// Sorted, unique, in-range axes; an empty list means every axis.
std::vector<int64_t> normalize_axes(const char* op, std::vector<int64_t> axes, int64_t rank) {
  if (axes.empty()) {
    for (int64_t a = 0; a < rank; ++a) axes.push_back(a);
    return axes;
  }
  for (int64_t& a : axes) a = normalize_axis(a, rank, op);
  std::sort(axes.begin(), axes.end());
  VT_CHECK(std::adjacent_find(axes.begin(), axes.end()) == axes.end(), op, ": an axis appears twice in the axis list");
  return axes;
}

Shape keepdim_shape(const Shape& in, const std::vector<int64_t>& axes) {
  Shape s = in;
  for (int64_t a : axes) s[a] = 1;
  return s;
}

// The reduction itself, without autograd. Returns the keepdim-shaped result.
Tensor reduce_raw(Reduce kind, const Tensor& x, const std::vector<int64_t>& axes) {
  Tensor cur = x;
  Shape shape = x.shape();
  // Runs of neighbouring axes, innermost run first so outer axis numbers stay valid.
  size_t end = axes.size();
  while (end > 0) {
    size_t begin = end - 1;
    while (begin > 0 && axes[begin - 1] + 1 == axes[begin]) --begin;
    const int64_t a0 = axes[begin], a1 = axes[end - 1];
    int64_t outer = 1, R = 1, inner = 1;
    for (int64_t d = 0; d < a0; ++d) outer *= shape[d];
    for (int64_t d = a0; d <= a1; ++d) R *= shape[d];
    for (int64_t d = a1 + 1; d < static_cast<int64_t>(shape.size()); ++d) inner *= shape[d];
    for (int64_t d = a0; d <= a1; ++d) shape[d] = 1;
    Tensor next = empty(shape);
    if (R == 0) {
      std::fill_n(next.data(), next.numel(), kind == Reduce::kSum ? 0.f : -std::numeric_limits<float>::infinity());
    } else {
      reduce_block(kind, cur.data(), next.data(), outer, R, inner);
    }
    cur = next;
    end = begin;
  }
  if (axes.empty()) cur = x.detach().clone();
  return cur;
}

Shape drop_axes(const Shape& in, const std::vector<int64_t>& axes) {
  Shape s;
  for (int64_t d = 0; d < static_cast<int64_t>(in.size()); ++d)
    if (!std::binary_search(axes.begin(), axes.end(), d)) s.push_back(in[d]);
  return s;
}

}  // namespace

// out = x broadcast to `shape` (a copy);  dx = sum_to(g, x.shape)
Tensor expand(const Tensor& x, const Shape& shape) {
  detail::BroadcastPlan p = detail::plan_broadcast("expand", {&x.shape(), &shape});
  VT_CHECK(p.out == shape, "expand: shape ", shape_str(x.shape()), " does not broadcast to ", shape_str(shape));
  Tensor out = empty(shape);
  const float* px = x.data();
  float* po = out.data();
  detail::for_each_row(p, [&](int64_t o, int64_t n, const std::array<int64_t, detail::kMaxOperands>& off,
                              const std::array<int64_t, detail::kMaxOperands>& st) {
    for (int64_t i = 0; i < n; ++i) po[o + i] = px[off[0] + i * st[0]];
  });
  if (needs_grad(x)) {
    record_op(out, "expand", {x}, [sx = x.shape()](const Tensor& g) -> Grads { return {sum_to(g, sx)}; });
  }
  return out;
}

// out = sum of x over axes;  dx = g broadcast back over the reduced axes
Tensor sum(const Tensor& x, std::vector<int64_t> axes, bool keepdim) {
  OpTrace tr("sum");
  axes = normalize_axes("sum", std::move(axes), x.dim());
  Tensor out = reduce_raw(Reduce::kSum, x, axes);
  if (!keepdim) out = out.reshape(drop_axes(x.shape(), axes));
  if (tr.on()) tr.record({&x}, out, static_cast<double>(x.numel()));
  if (needs_grad(x)) {
    record_op(out, "sum", {x}, [sx = x.shape(), sk = keepdim_shape(x.shape(), axes)](const Tensor& g) -> Grads {
      return {expand(g.reshape(sk), sx)};
    });
  }
  return out;
}

// out = sum / count;  dx = g / count broadcast back
Tensor mean(const Tensor& x, std::vector<int64_t> axes, bool keepdim) {
  axes = normalize_axes("mean", std::move(axes), x.dim());
  int64_t count = 1;
  for (int64_t a : axes) count *= x.shape()[a];
  return mul(sum(x, axes, keepdim), 1.0f / static_cast<float>(count));
}

// out = max over axes;  dx = g split evenly between the entries equal to the max
Tensor max(const Tensor& x, std::vector<int64_t> axes, bool keepdim) {
  OpTrace tr("max");
  axes = normalize_axes("max", std::move(axes), x.dim());
  Tensor out = reduce_raw(Reduce::kMax, x, axes);  // keepdim shape
  Tensor y = out.detach();
  if (!keepdim) out = out.reshape(drop_axes(x.shape(), axes));
  if (tr.on()) tr.record({&x}, out, static_cast<double>(x.numel()));
  if (needs_grad(x)) {
    record_op(out, "max", {x}, [x = x.detach(), y, axes](const Tensor& g) -> Grads {
      Tensor is_max = detail::map_binary("max_backward", x, y, [](float xv, float yv) { return xv == yv ? 1.f : 0.f; });
      Tensor ties = reduce_raw(Reduce::kSum, is_max, axes);
      return {is_max * (g.reshape(y.shape()) / ties)};
    });
  }
  return out;
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  const int64_t lead = x.dim() - static_cast<int64_t>(shape.size());
  VT_CHECK(lead >= 0, "sum_to: cannot reduce ", shape_str(x.shape()), " to ", shape_str(shape));
  std::vector<int64_t> axes;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (d < lead) {
      axes.push_back(d);
    } else if (shape[d - lead] == 1 && x.shape()[d] != 1) {
      axes.push_back(d);
    } else {
      VT_CHECK(shape[d - lead] == x.shape()[d], "sum_to: cannot reduce ", shape_str(x.shape()), " to ",
               shape_str(shape));
    }
  }
  if (axes.empty()) return x.reshape(shape);
  return sum(x, axes, /*keepdim=*/true).reshape(shape);
}

std::vector<int64_t> argmax(const Tensor& x) {
  VT_CHECK(x.dim() >= 1 && x.size(-1) > 0, "argmax: need a non-empty last axis, got shape ", shape_str(x.shape()));
  const int64_t C = x.size(-1), rows = x.numel() / C;
  std::vector<int64_t> idx(rows);
  const float* p = x.data();
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = p + r * C;
    int64_t best = 0;
    for (int64_t c = 1; c < C; ++c)
      if (row[c] > row[best]) best = c;
    idx[r] = best;
  }
  return idx;
}

}  // namespace vt
