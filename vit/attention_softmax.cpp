// Vanilla softmax attention, the baseline, per head (steps numbered as the ViTALiTy paper numbers
// DeiT's attention; its step 1 is the qkv projection):
//   2a S = s Q K^T (n x n),  2b P = softmax(S) row-wise with the row max subtracted,  3 Z = P V.
// Backward:
//   dP = dZ V^T,  dV = P^T dZ,  dS = P o (dP - rowsum(dP o P)),  dQ = s dS K,  dK = s dS^T Q.
// P (heads x n x n) is kept for backward, as every softmax attention implementation does; each
// head runs its steps back to back (for_each_head) so that its n x n block stays in cache.
#include <cmath>
#include <vector>

#include "core/trace.h"
#include "core/vecmath.h"
#include "vit/attention_kernel.h"
#include "vit/attention_steps.h"

namespace vt::vit::detail {

namespace {

class SoftmaxKernel : public AttentionKernel {
 public:
  const char* name() const override { return "softmax"; }

  void forward(const QkvViews& in, const HeadView& z) override {
    const int64_t heads = in.q.heads(), n = in.q.n, d = in.q.d;
    const float s = 1.f / std::sqrt(static_cast<float>(d));
    // P (heads x n x n) is kept for backward; without one, each thread reuses one n x n buffer.
    probs_ = keep_for_backward ? empty({heads, n, n}) : Tensor();
    if (softmax_head_fused_supported(d)) {
      forward_fused(in, z, s);
    } else {
      forward_steps(in, z, s);
    }
    if (active_trace()) append_records(softmax_steps({heads, n, d}));
  }

  void backward(const QkvViews& in, const HeadView&, const HeadView& dz, const QkvViews& grad) override {
    const int64_t heads = in.q.heads(), n = in.q.n, d = in.q.d;
    const float s = 1.f / std::sqrt(static_cast<float>(d));
    VT_CHECK(probs_.defined(), "attention_softmax: backward after a forward that kept no probabilities");
    const float* Pall = probs_.data();
    if (softmax_head_fused_supported(d)) {  // attention_softmax_fused.cpp: the same steps per 6-row block
      parallel_heads(heads, [&](int64_t h) {
        softmax_head_fused_backward(n, d, s, in.q.head(h), in.q.row_stride, in.k.head(h), in.k.row_stride, in.v.head(h),
                                    in.v.row_stride, Pall + h * n * n, dz.head(h), dz.row_stride, grad.q.head(h),
                                    grad.q.row_stride, grad.k.head(h), grad.k.row_stride, grad.v.head(h),
                                    grad.v.row_stride);
      });
      return;
    }
    for_each_head(heads, n, d, [&](int64_t h, GemmFn g) {
      thread_local std::vector<float> scratch;
      scratch.resize(n * n);
      const float* P = Pall + h * n * n;
      float* dS = scratch.data();
      g(false, true, n, n, d, 1.f, dz.head(h), dz.row_stride, in.v.head(h), in.v.row_stride, 0.f, dS,
        n);  // dP = dZ V^T
      g(true, false, n, d, n, 1.f, P, n, dz.head(h), dz.row_stride, 0.f, grad.v.head(h),
        grad.v.row_stride);                 // dV = P^T dZ
      parallel_rows(n, n, [&](int64_t r) {  // dS = P o (dP - rowsum(dP o P))
        const float* p = P + r * n;
        float* ds = dS + r * n;
        const float dot = vt::detail::dot_f32(p, ds, n);
        for (int64_t j = 0; j < n; ++j) ds[j] = p[j] * (ds[j] - dot);
      });
      g(false, false, n, d, n, s, dS, n, in.k.head(h), in.k.row_stride, 0.f, grad.q.head(h),
        grad.q.row_stride);  // dQ = s dS K
      g(true, false, n, d, n, s, dS, n, in.q.head(h), in.q.row_stride, 0.f, grad.k.head(h),
        grad.k.row_stride);  // dK = s dS^T Q
    });
  }

 private:
  // The three steps as written above, one head at a time so that its n x n scores stay in cache
  // in between: the reference, and the path on CPUs without AVX2 or when d % 16 != 0.
  void forward_steps(const QkvViews& in, const HeadView& z, float s) {
    const int64_t heads = in.q.heads(), n = in.q.n, d = in.q.d;
    for_each_head(heads, n, d, [&](int64_t h, GemmFn g) {
      thread_local std::vector<float> scratch;
      float* P = keep_for_backward ? probs_.data() + h * n * n : (scratch.resize(n * n), scratch.data());
      // S = s Q K^T  (n x n)
      g(false, true, n, n, d, s, in.q.head(h), in.q.row_stride, in.k.head(h), in.k.row_stride, 0.f, P, n);
      // P = softmax(S), one row at a time: E = exp(S - rowmax), P = E / rowsum(E)
      std::vector<float> inv(n);
      parallel_rows(n, n, [&](int64_t r) {
        float* row = P + r * n;
        const float m = vt::detail::max_f32(row, n);
        for (int64_t j = 0; j < n; ++j) row[j] = vt::detail::exp_f32(row[j] - m);
        inv[r] = 1.f / vt::detail::sum_f32(row, n);
        if (keep_for_backward)  // backward needs P itself
          for (int64_t j = 0; j < n; ++j) row[j] *= inv[r];
      });
      // Z = P V  (n x d); without a backward, Z = diag(inv) (E V): the division moves to the
      // n x d result, a pass over n x d numbers instead of n x n
      g(false, false, n, d, n, 1.f, P, n, in.v.head(h), in.v.row_stride, 0.f, z.head(h), z.row_stride);
      if (!keep_for_backward)
        for (int64_t r = 0; r < n; ++r)
          for (int64_t c = 0; c < d; ++c) z.row(h, r)[c] *= inv[r];
    });
  }

  // The same, fused per block of query rows (attention_softmax_fused.cpp). Tasks are (head, row
  // range) pairs: whole heads when there are at least two per thread, else each head split in
  // row ranges so that every thread has work (each task packs its head's K and V once).
  void forward_fused(const QkvViews& in, const HeadView& z, float s) {
    const int64_t heads = in.q.heads(), n = in.q.n, d = in.q.d;
    const int64_t threads = num_threads();
    const int64_t splits = heads >= 2 * threads ? 1 : std::min<int64_t>((2 * threads + heads - 1) / heads, (n + 5) / 6);
    const int64_t rows_per = ((n + splits - 1) / splits + 5) / 6 * 6;  // whole 6-row blocks
    parallel_for(heads * splits, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t t = lo; t < hi; ++t) {
        const int64_t h = t / splits, r0 = (t % splits) * rows_per, r1 = std::min(n, r0 + rows_per);
        if (r0 >= r1) continue;
        softmax_head_fused(n, d, s, in.q.head(h), in.q.row_stride, in.k.head(h), in.k.row_stride, in.v.head(h),
                           in.v.row_stride, z.head(h), z.row_stride,
                           keep_for_backward ? probs_.data() + h * n * n : nullptr, r0, r1);
      }
    });
  }

  Tensor probs_;
};

}  // namespace

std::shared_ptr<AttentionKernel> make_softmax_kernel() { return std::make_shared<SoftmaxKernel>(); }

// The probabilities are consumed row block by row block as they are made (fused): an accelerator
// never stores the n x n matrix, nor does the fused CPU kernel (attention_softmax_fused.cpp).
std::vector<TraceRecord> softmax_steps(const StepDims& dims) {
  const StepContext c{"softmax", dims.heads, dims.n, dims.d};
  const int64_t n = dims.n, d = dims.d;
  TraceRecord rows = vector_step(c, "2b", "P = softmax(S) row by row", "softmax_rows", n, n, n, {fused("2a")}, n);
  rows.flops *= 5;  // max, subtract, exp, sum, divide per score
  return {gemm_step(c, "2a", "S = s Q K^T", n, n, d, {stream("q"), whole("k")}), std::move(rows),
          gemm_step(c, "3", "Z = P V", n, d, n, {fused("2b"), stream("v")})};
}

}  // namespace vt::vit::detail
