// Vanilla softmax attention, the baseline (DESIGN.md section 5), per head:
//   S = s Q K^T (n x n),  P = softmax(S) row-wise with the row max subtracted,  Z = P V.
// Backward:
//   dP = dZ V^T,  dV = P^T dZ,  dS = P o (dP - rowsum(dP o P)),  dQ = s dS K,  dK = s dS^T Q.
// P (heads x n x n) is kept for backward, as every softmax attention implementation does.
#include <cmath>

#include "core/trace.h"
#include "core/vecmath.h"
#include "vit/attention_kernel.h"

namespace vt::vit::detail {

namespace {

class SoftmaxKernel : public AttentionKernel {
 public:
  const char* name() const override { return "softmax"; }

  void forward(const QkvViews& in, const HeadView& z) override {
    const int64_t heads = in.q.heads(), n = in.q.n, d = in.q.d;
    const float s = 1.f / std::sqrt(static_cast<float>(d));
    probs_ = empty({heads, n, n});
    float* P = probs_.data();
    for_each_head(heads, n, d, [&](int64_t h, GemmFn g) {  // S = s Q K^T
      g(false, true, n, n, d, s, in.q.head(h), in.q.row_stride, in.k.head(h), in.k.row_stride, 0.f, P + h * n * n, n);
    });
    parallel_rows(heads * n, n, [&](int64_t r) {  // P = softmax(S), one row at a time
      float* row = P + r * n;
      const float m = vt::detail::max_f32(row, n);
      for (int64_t j = 0; j < n; ++j) row[j] = vt::detail::exp_f32(row[j] - m);
      const float inv = 1.f / vt::detail::sum_f32(row, n);
      for (int64_t j = 0; j < n; ++j) row[j] *= inv;
    });
    for_each_head(heads, n, d, [&](int64_t h, GemmFn g) {  // Z = P V
      g(false, false, n, d, n, 1.f, P + h * n * n, n, in.v.head(h), in.v.row_stride, 0.f, z.head(h), z.row_stride);
    });
    if (active_trace()) {
      const double hf = static_cast<double>(heads);
      struct Step {
        const char* kind;
        double flops, in_b, out_b;
        Shape out;
      };
      for (const Step& st : {Step{"softmax_qk", 2 * hf * n * n * d, 8 * hf * n * d, 4 * hf * n * n, {heads, n, n}},
                             Step{"softmax_rows", 5 * hf * n * n, 4 * hf * n * n, 4 * hf * n * n, {heads, n, n}},
                             Step{"softmax_pv", 2 * hf * n * n * d, 4 * hf * (n * n + n * d), 4 * hf * n * d, {heads, n, d}}}) {
        OpTrace tr(st.kind);
        if (TraceRecord* r = tr.record({Shape{heads, n, d}}, st.out, st.flops, st.in_b, st.out_b))
          r->attrs = {{"heads", hf}, {"n", double(n)}, {"d", double(d)}};
      }
    }
  }

  void backward(const QkvViews& in, const HeadView&, const HeadView& dz, const QkvViews& grad) override {
    const int64_t heads = in.q.heads(), n = in.q.n, d = in.q.d;
    const float s = 1.f / std::sqrt(static_cast<float>(d));
    Tensor dS = empty({heads, n, n});
    const float* P = probs_.data();
    float* dp = dS.data();
    for_each_head(heads, n, d, [&](int64_t h, GemmFn g) {
      g(false, true, n, n, d, 1.f, dz.head(h), dz.row_stride, in.v.head(h), in.v.row_stride, 0.f, dp + h * n * n, n);  // dP
      g(true, false, n, d, n, 1.f, P + h * n * n, n, dz.head(h), dz.row_stride, 0.f, grad.v.head(h), grad.v.row_stride);  // dV
    });
    parallel_rows(heads * n, n, [&](int64_t r) {  // dS = P o (dP - rowsum(dP o P))
      const float* p = P + r * n;
      float* ds = dp + r * n;
      const float dot = vt::detail::dot_f32(p, ds, n);
      for (int64_t j = 0; j < n; ++j) ds[j] = p[j] * (ds[j] - dot);
    });
    for_each_head(heads, n, d, [&](int64_t h, GemmFn g) {
      g(false, false, n, d, n, s, dp + h * n * n, n, in.k.head(h), in.k.row_stride, 0.f, grad.q.head(h), grad.q.row_stride);  // dQ
      g(true, false, n, d, n, s, dp + h * n * n, n, in.q.head(h), in.q.row_stride, 0.f, grad.k.head(h), grad.k.row_stride);  // dK
    });
  }

 private:
  Tensor probs_;
};

}  // namespace

std::shared_ptr<AttentionKernel> make_softmax_kernel() { return std::make_shared<SoftmaxKernel>(); }

}  // namespace vt::vit::detail
