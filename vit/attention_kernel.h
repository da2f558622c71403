// Internal to vit: how the attention kinds see their operands. A HeadView is B x H heads of n rows
// by d columns somewhere in a buffer, with strides, so that the same kernel reads q, k, v either
// from separate (B, H, n, d) tensors or straight out of the qkv projection's (B, n, 3D) output,
// and writes z straight into the (B, n, D) layout the output projection wants: no permutes.
//
// Each kind is an AttentionKernel: forward() computes z and keeps what backward() needs;
// backward() writes dq, dk, dv (every element, no accumulation) from dz.
#pragma once

#include <cmath>
#include <memory>

#include "core/ops.h"
#include "core/simd.h"
#include "core/tensor.h"
#include "core/threads.h"
#include "vit/attention.h"
#include "vit/attention_registry.h"

namespace vt::vit::detail {

struct HeadView {
  float* data = nullptr;
  int64_t B = 0, H = 0, n = 0, d = 0;
  int64_t batch_stride = 0, head_stride = 0, row_stride = 0;
  int64_t heads() const { return B * H; }
  float* head(int64_t i) const { return data + (i / H) * batch_stride + (i % H) * head_stride; }
  float* row(int64_t i, int64_t r) const { return head(i) + r * row_stride; }
};

// (B, H, n, d) contiguous.
HeadView contiguous_view(float* p, int64_t B, int64_t H, int64_t n, int64_t d);
// Slice `part` of `parts` in a (B, n, parts * H * d) buffer: the qkv layout (parts 3) or z (parts 1).
HeadView packed_view(float* p, int64_t B, int64_t n, int64_t H, int64_t d, int part, int parts);

struct QkvViews {
  HeadView q, k, v;
};

class AttentionKernel {
 public:
  virtual ~AttentionKernel() = default;
  virtual void forward(const QkvViews& in, const HeadView& z) = 0;
  virtual void backward(const QkvViews& in, const HeadView& z, const HeadView& dz, const QkvViews& grad) = 0;
  virtual const char* name() const = 0;
  // False when no backward will follow (inference): a kernel may then use per-thread scratch
  // instead of keeping its intermediates for every head.
  bool keep_for_backward = true;
};

std::shared_ptr<AttentionKernel> make_softmax_kernel();
std::shared_ptr<AttentionKernel> make_taylor_kernel();
std::shared_ptr<AttentionKernel> make_sparse_kernel(const MaskOptions& opt, SparseStats* stats,
                                                    std::vector<CsrMask> fixed = {});
std::shared_ptr<AttentionKernel> make_vitality_kernel(const MaskOptions& opt, SparseStats* stats,
                                                      std::vector<CsrMask> fixed = {}, float residual_weight = 1.f);

// Each kind's weights formed explicitly, for one head (attention_weights.cpp).
Tensor softmax_weights(const Tensor& q, const Tensor& k, const MaskOptions& opt, CsrMask* mask);
Tensor taylor_weights(const Tensor& q, const Tensor& k, const MaskOptions& opt, CsrMask* mask);
Tensor sparse_weights(const Tensor& q, const Tensor& k, const MaskOptions& opt, CsrMask* mask);
Tensor vitality_weights(const Tensor& q, const Tensor& k, const MaskOptions& opt, CsrMask* mask);

// Each kind's steps as its forward records them in the op trace (attention_steps.h).
std::vector<TraceRecord> softmax_steps(const StepDims& dims);
std::vector<TraceRecord> taylor_steps(const StepDims& dims);
std::vector<TraceRecord> sparse_steps(const StepDims& dims);
std::vector<TraceRecord> vitality_steps(const StepDims& dims);

// The softmax kind's fast forward (attention_softmax_fused.cpp), available when the CPU has
// AVX2+FMA and d is a multiple of 16: query rows [row_begin, row_end) of one head,
// z = softmax(s q k^T) v (rows of n x d, row strides ld*), and, when p is not null, the
// probabilities of those rows into p (n x n, row stride n). Single-threaded; one call per task.
bool softmax_head_fused_supported(int64_t d);
void softmax_head_fused(int64_t n, int64_t d, float s, const float* q, int64_t ldq, const float* k, int64_t ldk,
                        const float* v, int64_t ldv, float* z, int64_t ldz, float* p, int64_t row_begin,
                        int64_t row_end);
// Its backward for one whole head, from the probabilities p (n x n) the forward kept: writes dq,
// dk, dv (n x d each, row strides ld*). Same conditions; single-threaded.
void softmax_head_fused_backward(int64_t n, int64_t d, float s, const float* q, int64_t ldq, const float* k,
                                 int64_t ldk, const float* v, int64_t ldv, const float* p, const float* dz,
                                 int64_t lddz, float* dq, int64_t lddq, float* dk, int64_t lddk, float* dv,
                                 int64_t lddv);

// Runs the kernel as a differentiable op on separate (B, H, n, d) tensors.
Tensor run_on_heads(const std::shared_ptr<AttentionKernel>& kernel, const Tensor& q, const Tensor& k, const Tensor& v);
// Runs the kernel on the packed (B, n, 3D) qkv tensor; returns (B, n, D).
Tensor run_on_qkv(const std::shared_ptr<AttentionKernel>& kernel, const Tensor& qkv, int64_t heads);

// How the per-head loops use the threads. On CPUs with AVX2+FMA, gemm_serial is core's packed
// 6x16 micro-kernel (core/gemm_kernel.h), as fast as a single-threaded BLAS call on deit_tiny's
// head products or faster (`vitality bench-ops`: 0.95-1.4x), so heads always run in parallel,
// each product through gemm_serial. Elsewhere: heads whose products are small (n * n * d below
// ~2^18 multiply-adds) run in parallel with gemm_serial; larger heads also run in parallel, each
// with one single-threaded BLAS call per product, when there are at least two heads per thread
// and the BLAS runs on the calling thread inside a parallel region (OpenBLAS's OpenMP build): one
// head's operands and its n x n scores then stay in that core's L2 cache from one step to the
// next. Otherwise (a few large heads) they run one after another, each product through threaded
// BLAS.
using GemmFn = void (*)(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t,
                        float, float*, int64_t);
// Heads whose products go through gemm_serial.
inline bool serial_gemm_heads(int64_t n, int64_t d) {
  return vt::detail::cpu_has_avx2_fma() || n * n * d < (int64_t{1} << 18);
}
inline bool heads_in_parallel(int64_t heads, int64_t n, int64_t d) {
  return serial_gemm_heads(n, d) || (heads >= 2 * num_threads() && blas_serial_in_parallel_region());
}

// The per-head loops are compiled for AVX2+FMA as well (core/simd.h).
template <class F>
void for_each_head(int64_t heads, int64_t n, int64_t d, F&& f) {
  if (heads_in_parallel(heads, n, d)) {
    const GemmFn g = serial_gemm_heads(n, d) ? static_cast<GemmFn>(gemm_serial) : static_cast<GemmFn>(gemm);
    parallel_for(heads, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t h = lo; h < hi; ++h) vt::detail::simd_dispatch([&] { f(h, g); });
    });
  } else {
    for (int64_t h = 0; h < heads; ++h) vt::detail::simd_dispatch([&] { f(h, static_cast<GemmFn>(gemm)); });
  }
}

// The normaliser's guard (Taylor's step 4, ViTALiTy's low-rank denominator). The correction
// q_i . khat_sum added to the exact value (n sqrt(d), or n) is 0 in exact arithmetic, since
// 1^T Khat = 0; in float, khat_sum keeps a rounding residue that a large q can amplify until the
// normaliser reaches 0 or changes sign (keys with a common offset of 3e4 and queries of 1e6 do
// it at n = 8). The correction is clamped to +-exact / 1024, so the normaliser stays within 0.1%
// of its exact value; a clamped row's normaliser is a constant for backward (`clamped` set).
// Unclamped rows are computed exactly as written.
inline float guarded_normalizer(float exact, float correction, uint8_t* clamped) {
  const float bound = exact / 1024.f;
  *clamped = !(std::fabs(correction) < bound);  // NaN counts as clamped
  return exact + (*clamped ? std::copysign(bound, correction) : correction);
}

// Row updates of the sparse kinds: y += a x on d-float rows that never overlap. The restrict
// parameters say so (GCC ignores restrict on local pointers), which lets the loops vectorise.
inline void row_axpy(int64_t d, float a, const float* __restrict x, float* __restrict y) {
  for (int64_t c = 0; c < d; ++c) y[c] += a * x[c];
}
// Three at once (one pass over c): y1 += a1 x1, y2 += a2 x2, y3 += a3 x3.
inline void row_axpy3(int64_t d, float a1, const float* __restrict x1, float* __restrict y1, float a2,
                      const float* __restrict x2, float* __restrict y2, float a3, const float* __restrict x3,
                      float* __restrict y3) {
  for (int64_t c = 0; c < d; ++c) {
    y1[c] += a1 * x1[c];
    y2[c] += a2 * x2[c];
    y3[c] += a3 * x3[c];
  }
}

// Work with no BLAS in it, in parallel over heads.
template <class F>
void parallel_heads(int64_t heads, F&& f) {
  parallel_for(heads, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t h = lo; h < hi; ++h) vt::detail::simd_dispatch([&] { f(h); });
  });
}

// Rows of every head (heads * n of them), in parallel, AVX2 where available.
template <class F>
void parallel_rows(int64_t rows, int64_t row_len, F&& f) {
  parallel_for(rows, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(row_len, 1)),
               [&](int64_t lo, int64_t hi) {
                 vt::detail::simd_dispatch([&] {
                   for (int64_t r = lo; r < hi; ++r) f(r);
                 });
               });
}

}  // namespace vt::vit::detail
