// Layout ops: reshape (a view), permute / transpose (copies), concat, slice (a view when the
// range is contiguous), index_select and gather. Each backward moves the gradient back to where
// the values came from, adding where an element was used more than once.
#include <algorithm>
#include <cstring>
#include <numeric>

#include "core/autograd.h"
#include "core/ops.h"
#include "core/threads.h"
#include "core/trace.h"

namespace vt {

namespace {
// A new handle on x's storage with another shape and offset (the caller checks the bounds).
Tensor make_view(const Tensor& x, Shape shape, int64_t extra_offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = x.impl()->storage;
  impl->offset = x.impl()->offset + extra_offset;
  impl->numel = shape_numel(shape);
  impl->shape = std::move(shape);
  return Tensor(std::move(impl));
}

int64_t prod(const Shape& s, int64_t begin, int64_t end) {
  int64_t p = 1;
  for (int64_t i = begin; i < end; ++i) p *= s[i];
  return p;
}
}  // namespace

// ---------------------------------------------------------------- reshape (view)
Tensor Tensor::reshape(Shape new_shape) const {
  VT_CHECK(defined(), "reshape: undefined tensor");
  int64_t infer = -1, known = 1;
  for (int64_t i = 0; i < static_cast<int64_t>(new_shape.size()); ++i) {
    if (new_shape[i] == -1) {
      VT_CHECK(infer < 0, "reshape: more than one -1 in ", shape_str(new_shape));
      infer = i;
    } else {
      VT_CHECK(new_shape[i] >= 0, "reshape: negative size in ", shape_str(new_shape));
      known *= new_shape[i];
    }
  }
  if (infer >= 0) {
    VT_CHECK(known > 0 && numel() % known == 0, "reshape: cannot view shape ", shape_str(shape()), " (", numel(),
             " elements) as ", shape_str(new_shape));
    new_shape[infer] = numel() / known;
  }
  VT_CHECK(shape_numel(new_shape) == numel(), "reshape: cannot view shape ", shape_str(shape()), " (", numel(),
           " elements) as ", shape_str(new_shape), " (", shape_numel(new_shape), " elements)");
  OpTrace tr("reshape");
  Tensor out = make_view(*this, new_shape, 0);
  if (tr.on()) tr.record({shape()}, out.shape(), 0, 0, 0);  // layout only: no data moves
  if (needs_grad(*this)) {
    record_op(out, "reshape", {*this}, [s = shape()](const Tensor& g) -> Grads { return {g.reshape(s)}; });
  }
  return out;
}

Tensor reshape(const Tensor& x, Shape shape) { return x.reshape(std::move(shape)); }

// ---------------------------------------------------------------- permute / transpose (copies)
// out[i_0, ..., i_{r-1}] = x[j] where x's index j has x-dim dims[k] equal to i_k.
// dx = permute(g, inverse(dims))
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  const int64_t r = x.dim();
  VT_CHECK(static_cast<int64_t>(dims.size()) == r, "permute: ", dims.size(), " dims for a tensor of shape ",
           shape_str(x.shape()));
  std::vector<int64_t> perm(r), seen(r, 0);
  for (int64_t k = 0; k < r; ++k) {
    perm[k] = normalize_axis(dims[k], r, "permute");
    VT_CHECK(!seen[perm[k]]++, "permute: dimension ", perm[k], " appears twice");
  }
  OpTrace tr("permute");
  Shape out_shape(r);
  std::vector<int64_t> in_stride(r), src_stride(r);  // src_stride[k]: x-stride of out dim k
  for (int64_t d = r - 1, s = 1; d >= 0; --d) {
    in_stride[d] = s;
    s *= x.shape()[d];
  }
  for (int64_t k = 0; k < r; ++k) {
    out_shape[k] = x.shape()[perm[k]];
    src_stride[k] = in_stride[perm[k]];
  }
  Tensor out = empty(out_shape);
  const float* px = x.data();
  float* po = out.data();
  const int64_t inner = r ? out_shape[r - 1] : 1;
  const int64_t rows = inner ? out.numel() / inner : 0;
  const int64_t step = r ? src_stride[r - 1] : 1;
  parallel_for(rows, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(inner, 1)),
               [&](int64_t lo, int64_t hi) {
                 for (int64_t row = lo; row < hi; ++row) {
                   int64_t src = 0, rem = row;
                   for (int64_t k = r - 2; k >= 0; --k) {
                     src += (rem % out_shape[k]) * src_stride[k];
                     rem /= out_shape[k];
                   }
                   float* dst = po + row * inner;
                   for (int64_t i = 0; i < inner; ++i) dst[i] = px[src + i * step];
                 }
               });
  if (tr.on()) tr.record({&x}, out, 0);
  if (needs_grad(x)) {
    std::vector<int64_t> inverse(r);
    for (int64_t k = 0; k < r; ++k) inverse[perm[k]] = k;
    record_op(out, "permute", {x}, [inverse](const Tensor& g) -> Grads { return {permute(g, inverse)}; });
  }
  return out;
}

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  std::vector<int64_t> dims(x.dim());
  std::iota(dims.begin(), dims.end(), 0);
  std::swap(dims[normalize_axis(dim0, x.dim(), "transpose")], dims[normalize_axis(dim1, x.dim(), "transpose")]);
  return permute(x, dims);
}

// ---------------------------------------------------------------- concat
// out = [x_0 | x_1 | ...] along axis;  dx_i = the slice of g where x_i was placed
Tensor concat(const std::vector<Tensor>& xs, int64_t axis) {
  VT_CHECK(!xs.empty(), "concat: no tensors");
  const Shape& s0 = xs[0].shape();
  const int64_t ax = normalize_axis(axis, static_cast<int64_t>(s0.size()), "concat");
  Shape out_shape = s0;
  out_shape[ax] = 0;
  for (const Tensor& t : xs) {
    bool ok = t.dim() == static_cast<int64_t>(s0.size());
    for (int64_t d = 0; ok && d < t.dim(); ++d) ok = d == ax || t.shape()[d] == s0[d];
    VT_CHECK(ok, "concat: shape ", shape_str(t.shape()), " does not match ", shape_str(s0), " outside axis ", ax);
    out_shape[ax] += t.shape()[ax];
  }
  OpTrace tr("concat");
  Tensor out = empty(out_shape);
  const int64_t outer = prod(out_shape, 0, ax), inner = prod(out_shape, ax + 1, out_shape.size());
  const int64_t out_row = out_shape[ax] * inner;
  int64_t col = 0;
  for (const Tensor& t : xs) {
    const int64_t chunk = t.shape()[ax] * inner;
    const float* src = t.data();
    float* dst = out.data() + col;
    parallel_for(outer, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(chunk, 1)),
                 [&](int64_t lo, int64_t hi) {
                   for (int64_t o = lo; o < hi; ++o)
                     std::memcpy(dst + o * out_row, src + o * chunk, sizeof(float) * chunk);
                 });
    col += chunk;
  }
  if (TraceRecord* rec = tr.record({}, out.shape(), 0, 4.0 * out.numel(), 4.0 * out.numel())) {
    for (const Tensor& t : xs) rec->inputs.push_back(t.shape());
  }
  bool any = false;
  for (const Tensor& t : xs) any = any || needs_grad(t);
  if (any) {
    std::vector<int64_t> sizes;
    for (const Tensor& t : xs) sizes.push_back(t.shape()[ax]);
    record_op(out, "concat", xs, [sizes, ax](const Tensor& g) -> Grads {
      Grads gs;
      int64_t start = 0;
      for (int64_t n : sizes) {
        gs.push_back(slice(g, ax, start, start + n));
        start += n;
      }
      return gs;
    });
  }
  return out;
}

// ---------------------------------------------------------------- slice
// out = x[..., start:end, ...];  dx = zeros with g written back into the same range
Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t end) {
  const int64_t ax = normalize_axis(axis, x.dim(), "slice");
  const int64_t n = x.shape()[ax];
  auto clamp = [n](int64_t i) { return std::min(std::max(i < 0 ? i + n : i, int64_t{0}), n); };
  start = clamp(start);
  end = std::max(clamp(end), start);
  OpTrace tr("slice");
  Shape out_shape = x.shape();
  out_shape[ax] = end - start;
  const int64_t outer = prod(x.shape(), 0, ax), inner = prod(x.shape(), ax + 1, x.dim());
  Tensor out;
  if (outer == 1) {
    out = make_view(x, out_shape, start * inner);  // one contiguous range: no copy
    if (tr.on()) tr.record({x.shape()}, out_shape, 0, 0, 0);
  } else {
    out = empty(out_shape);
    const int64_t chunk = (end - start) * inner;
    const float* src = x.data() + start * inner;
    float* dst = out.data();
    for (int64_t o = 0; o < outer; ++o) std::memcpy(dst + o * chunk, src + o * n * inner, sizeof(float) * chunk);
    if (tr.on()) tr.record({&x}, out, 0);
  }
  if (needs_grad(x)) {
    record_op(out, "slice", {x}, [sx = x.shape(), ax, start, outer, inner](const Tensor& g) -> Grads {
      Tensor dx = zeros(sx);
      const int64_t n = sx[ax], chunk = g.shape()[ax] * inner;
      for (int64_t o = 0; o < outer; ++o)
        std::memcpy(dx.data() + (o * n + start) * inner, g.data() + o * chunk, sizeof(float) * chunk);
      return {dx};
    });
  }
  return out;
}

// ---------------------------------------------------------------- index_select / gather
// out[..., k, ...] = x[..., indices[k], ...];  dx[..., indices[k], ...] += g[..., k, ...]
Tensor index_select(const Tensor& x, int64_t axis, const std::vector<int64_t>& indices) {
  const int64_t ax = normalize_axis(axis, x.dim(), "index_select");
  const int64_t n = x.shape()[ax];
  for (int64_t i : indices)
    VT_CHECK(i >= 0 && i < n, "index_select: index ", i, " out of range for axis ", ax, " of size ", n, " in shape ",
             shape_str(x.shape()));
  OpTrace tr("index_select");
  Shape out_shape = x.shape();
  const int64_t k = static_cast<int64_t>(indices.size());
  out_shape[ax] = k;
  const int64_t outer = prod(x.shape(), 0, ax), inner = prod(x.shape(), ax + 1, x.dim());
  Tensor out = empty(out_shape);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < k; ++j)
      std::memcpy(out.data() + (o * k + j) * inner, x.data() + (o * n + indices[j]) * inner, sizeof(float) * inner);
  if (tr.on()) tr.record({&x}, out, 0);
  if (needs_grad(x)) {
    record_op(out, "index_select", {x}, [sx = x.shape(), indices, outer, inner, n](const Tensor& g) -> Grads {
      Tensor dx = zeros(sx);
      const int64_t k = static_cast<int64_t>(indices.size());
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t j = 0; j < k; ++j) {
          float* dst = dx.data() + (o * n + indices[j]) * inner;
          const float* src = g.data() + (o * k + j) * inner;
          for (int64_t i = 0; i < inner; ++i) dst[i] += src[i];
        }
      return {dx};
    });
  }
  return out;
}

// out[o, j, i] = x[o, index[o, j, i], i] with (outer, axis, inner) flattening;
// dx[o, index[o, j, i], i] += g[o, j, i]
Tensor gather(const Tensor& x, int64_t axis, const std::vector<int64_t>& index, const Shape& index_shape) {
  const int64_t ax = normalize_axis(axis, x.dim(), "gather");
  VT_CHECK(static_cast<int64_t>(index_shape.size()) == x.dim() &&
               static_cast<int64_t>(index.size()) == shape_numel(index_shape),
           "gather: index of shape ", shape_str(index_shape), " with ", index.size(), " values for input of shape ",
           shape_str(x.shape()));
  for (int64_t d = 0; d < x.dim(); ++d)
    VT_CHECK(d == ax || index_shape[d] == x.shape()[d], "gather: index shape ", shape_str(index_shape),
             " must equal input shape ", shape_str(x.shape()), " outside axis ", ax);
  const int64_t n = x.shape()[ax];
  for (int64_t i : index) VT_CHECK(i >= 0 && i < n, "gather: index ", i, " out of range for axis ", ax, " of size ", n);
  OpTrace tr("gather");
  const int64_t outer = prod(x.shape(), 0, ax), inner = prod(x.shape(), ax + 1, x.dim());
  const int64_t k = index_shape[ax];
  Tensor out = empty(index_shape);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < k; ++j)
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t at = (o * k + j) * inner + i;
        out.data()[at] = x.data()[(o * n + index[at]) * inner + i];
      }
  if (tr.on()) tr.record({&x}, out, 0);
  if (needs_grad(x)) {
    record_op(out, "gather", {x}, [sx = x.shape(), index, outer, inner, n, k](const Tensor& g) -> Grads {
      Tensor dx = zeros(sx);
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t j = 0; j < k; ++j)
          for (int64_t i = 0; i < inner; ++i) {
            const int64_t at = (o * k + j) * inner + i;
            dx.data()[(o * n + index[at]) * inner + i] += g.data()[at];
          }
      return {dx};
    });
  }
  return out;
}

}  // namespace vt
