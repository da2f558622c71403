// Internal to core: numpy-style broadcasting for elementwise kernels.
//
// plan_broadcast() right-aligns the operand shapes, gives a broadcast dimension stride 0, drops
// size-1 dimensions and merges neighbours that are contiguous for every operand. What remains is
// a loop over "rows" (all dimensions but the last) around a tight inner loop whose per-operand
// strides are 0 or 1, which the compiler vectorises. Example: for (N,D) + (D,), a has strides
// (D,1) and b (0,1); nothing merges, so the kernel runs N rows of D with b's offset always 0.
#pragma once

#include <algorithm>
#include <array>
#include <vector>

#include "core/simd.h"
#include "core/tensor.h"
#include "core/threads.h"

namespace vt::detail {

constexpr int kMaxOperands = 3;

struct BroadcastPlan {
  Shape out;                                               // the broadcast shape
  int n = 0;                                               // number of input operands
  std::vector<int64_t> sizes;                              // collapsed sizes, innermost last
  std::vector<std::array<int64_t, kMaxOperands>> strides;  // per collapsed dim, per operand
};

// Throws "op: shapes (2,3) and (4,) cannot be broadcast: ..." when they do not broadcast.
BroadcastPlan plan_broadcast(const char* op, std::initializer_list<const Shape*> shapes);

// Calls row(out_begin, count, in_offsets, inner_strides) for every innermost run (long runs are
// cut into pieces of kRunPiece elements so that one long run still spreads over the threads),
// in parallel. out_begin is the flat index into the (contiguous) output.
constexpr int64_t kRunPiece = 1 << 14;

template <class RowFn>
void for_each_row(const BroadcastPlan& p, RowFn&& row) {
  const int64_t rank = static_cast<int64_t>(p.sizes.size());
  const int64_t inner = rank ? p.sizes[rank - 1] : 1;
  if (inner == 0) return;
  const int64_t rows = shape_numel(p.out) / inner;
  const int64_t pieces = (inner + kRunPiece - 1) / kRunPiece;  // per row
  const int64_t piece_len = (inner + pieces - 1) / pieces;
  std::array<int64_t, kMaxOperands> inner_stride{};
  if (rank) inner_stride = p.strides[rank - 1];
  const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::min(inner, kRunPiece));
  parallel_for(rows * pieces, grain, [&](int64_t lo, int64_t hi) {
    for (int64_t w = lo; w < hi; ++w) {
      const int64_t r = w / pieces, c = w % pieces;
      std::array<int64_t, kMaxOperands> off{};
      int64_t rem = r;
      for (int64_t d = rank - 2; d >= 0; --d) {  // decompose the row index, innermost first
        const int64_t i = rem % p.sizes[d];
        rem /= p.sizes[d];
        for (int k = 0; k < p.n; ++k) off[k] += i * p.strides[d][k];
      }
      const int64_t begin = c * piece_len, len = std::min(piece_len, inner - begin);
      for (int k = 0; k < p.n; ++k) off[k] += begin * inner_stride[k];
      row(r * inner + begin, len, off, inner_stride);
    }
  });
}

// out = f(a, b) elementwise with broadcasting.
template <class F>
Tensor map_binary(const char* op, const Tensor& a, const Tensor& b, F f) {
  BroadcastPlan p = plan_broadcast(op, {&a.shape(), &b.shape()});
  Tensor out = empty(p.out);
  const float* pa = a.data();
  const float* pb = b.data();
  float* po = out.data();
  for_each_row(p, [&](int64_t o, int64_t n, const std::array<int64_t, kMaxOperands>& off,
                      const std::array<int64_t, kMaxOperands>& st) {
    const float* x = pa + off[0];
    const float* y = pb + off[1];
    float* z = po + o;
    // Separate loops per stride pattern so each one vectorises.
    simd_dispatch([&] {
      if (st[0] == 1 && st[1] == 1) {
        for (int64_t i = 0; i < n; ++i) z[i] = f(x[i], y[i]);
      } else if (st[0] == 1 && st[1] == 0) {
        const float yv = y[0];
        for (int64_t i = 0; i < n; ++i) z[i] = f(x[i], yv);
      } else if (st[0] == 0 && st[1] == 1) {
        const float xv = x[0];
        for (int64_t i = 0; i < n; ++i) z[i] = f(xv, y[i]);
      } else {
        for (int64_t i = 0; i < n; ++i) z[i] = f(x[i * st[0]], y[i * st[1]]);
      }
    });
  });
  return out;
}

// out = f(a, b, c) elementwise with broadcasting (used by where).
template <class F>
Tensor map_ternary(const char* op, const Tensor& a, const Tensor& b, const Tensor& c, F f) {
  BroadcastPlan p = plan_broadcast(op, {&a.shape(), &b.shape(), &c.shape()});
  Tensor out = empty(p.out);
  const float* pa = a.data();
  const float* pb = b.data();
  const float* pc = c.data();
  float* po = out.data();
  for_each_row(p, [&](int64_t o, int64_t n, const std::array<int64_t, kMaxOperands>& off,
                      const std::array<int64_t, kMaxOperands>& st) {
    for (int64_t i = 0; i < n; ++i)
      po[o + i] = f(pa[off[0] + i * st[0]], pb[off[1] + i * st[1]], pc[off[2] + i * st[2]]);
  });
  return out;
}

// out = f(x) elementwise, same shape.
template <class F>
Tensor map_unary(const Tensor& x, F f) {
  Tensor out = empty(x.shape());
  const float* px = x.data();
  float* po = out.data();
  parallel_for(x.numel(), kElementwiseGrain, [&](int64_t lo, int64_t hi) {
    simd_dispatch([&] {
      for (int64_t i = lo; i < hi; ++i) po[i] = f(px[i]);
    });
  });
  return out;
}

}  // namespace vt::detail
