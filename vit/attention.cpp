// Head views, and the two ways to run a kernel as an op: on separate (B, H, n, d) tensors, or on
// the packed qkv projection output (what the model does).
#include "vit/attention.h"

#include "core/autograd.h"
#include "core/trace.h"
#include "vit/attention_kernel.h"
#include "vit/attention_registry.h"

namespace vt::vit {

namespace detail {

HeadView contiguous_view(float* p, int64_t B, int64_t H, int64_t n, int64_t d) {
  return HeadView{p, B, H, n, d, H * n * d, n * d, d};
}

HeadView packed_view(float* p, int64_t B, int64_t n, int64_t H, int64_t d, int part, int parts) {
  const int64_t D = H * d;
  return HeadView{p + part * D, B, H, n, d, n * parts * D, d, parts * D};
}

namespace {

// Runs a kernel's forward. Kernels that fuse their steps (Taylor's six run per head in one loop)
// record the steps after the fact with no time; when the trace times ops, the measured time of
// the whole forward is split over those records in proportion to their FLOPs, marked with the
// attribute "time_split_by_flops" (the profile shows them with a "~").
template <class F>
void traced_forward(F&& forward) {
  const FusedTrace fused;
  forward();
  if (fused.recorded_seconds() < 0.5 * fused.seconds()) fused.split();  // unless the kernel timed its own steps
}

QkvViews views_of(const Tensor& q, const Tensor& k, const Tensor& v) {
  const int64_t B = q.size(0), H = q.size(1), n = q.size(2), d = q.size(3);
  // The kernels only read their inputs; views hold non-const pointers for the gradient case.
  return {contiguous_view(const_cast<float*>(q.data()), B, H, n, d),
          contiguous_view(const_cast<float*>(k.data()), B, H, n, d),
          contiguous_view(const_cast<float*>(v.data()), B, H, n, d)};
}
QkvViews packed_views(const Tensor& qkv, int64_t H) {
  const int64_t B = qkv.size(0), n = qkv.size(1), d = qkv.size(2) / 3 / H;
  float* p = const_cast<float*>(qkv.data());
  return {packed_view(p, B, n, H, d, 0, 3), packed_view(p, B, n, H, d, 1, 3), packed_view(p, B, n, H, d, 2, 3)};
}
}  // namespace

Tensor run_on_heads(const std::shared_ptr<AttentionKernel>& kernel, const Tensor& q, const Tensor& k, const Tensor& v) {
  VT_CHECK(q.dim() == 4 && k.shape() == q.shape() && v.shape() == q.shape(), "attention_", kernel->name(),
           ": q, k, v must share one (B,H,n,d) shape, got ", shape_str(q.shape()), ", ", shape_str(k.shape()), ", ",
           shape_str(v.shape()));
  VT_CHECK(q.size(2) > 0 && q.size(3) > 0, "attention_", kernel->name(), ": empty heads ", shape_str(q.shape()));
  Tensor z = empty(q.shape());
  const int64_t B = q.size(0), H = q.size(1), n = q.size(2), d = q.size(3);
  kernel->keep_for_backward = needs_grad(q, k, v);
  traced_forward([&] { kernel->forward(views_of(q, k, v), contiguous_view(z.data(), B, H, n, d)); });
  if (needs_grad(q, k, v)) {
    record_op(z, kernel->name(), {q, k, v},
              [kernel, q = q.detach(), k = k.detach(), v = v.detach(), zs = z.detach()](const Tensor& g) -> Grads {
                const int64_t B = q.size(0), H = q.size(1), n = q.size(2), d = q.size(3);
                Tensor dq = empty(q.shape()), dk = empty(q.shape()), dv = empty(q.shape());
                kernel->backward(views_of(q, k, v), contiguous_view(const_cast<float*>(zs.data()), B, H, n, d),
                                 contiguous_view(const_cast<float*>(g.data()), B, H, n, d), views_of(dq, dk, dv));
                return {dq, dk, dv};
              });
  }
  return z;
}

Tensor run_on_qkv(const std::shared_ptr<AttentionKernel>& kernel, const Tensor& qkv, int64_t H) {
  VT_CHECK(qkv.dim() == 3 && H > 0 && qkv.size(2) % (3 * H) == 0, "attention_", kernel->name(), ": qkv of shape ",
           shape_str(qkv.shape()), " does not split into q, k, v of ", H, " heads");
  const int64_t B = qkv.size(0), n = qkv.size(1), D = qkv.size(2) / 3, d = D / H;
  Tensor z = empty({B, n, D});
  kernel->keep_for_backward = needs_grad(qkv);
  traced_forward([&] { kernel->forward(packed_views(qkv, H), packed_view(z.data(), B, n, H, d, 0, 1)); });
  if (needs_grad(qkv)) {
    record_op(z, kernel->name(), {qkv}, [kernel, qkv = qkv.detach(), zs = z.detach(), H](const Tensor& g) -> Grads {
      const int64_t B = qkv.size(0), n = qkv.size(1), D = qkv.size(2) / 3, d = D / H;
      Tensor dqkv = empty(qkv.shape());
      kernel->backward(packed_views(qkv, H), packed_view(const_cast<float*>(zs.data()), B, n, H, d, 0, 1),
                       packed_view(const_cast<float*>(g.data()), B, n, H, d, 0, 1), packed_views(dqkv, H));
      return {dqkv};
    });
  }
  return z;
}

}  // namespace detail

Tensor attention_softmax(const Tensor& q, const Tensor& k, const Tensor& v) {
  return detail::run_on_heads(detail::make_softmax_kernel(), q, k, v);
}

Tensor attention_taylor(const Tensor& q, const Tensor& k, const Tensor& v) {
  return detail::run_on_heads(detail::make_taylor_kernel(), q, k, v);
}

Tensor attention_sparse(const Tensor& q, const Tensor& k, const Tensor& v, const MaskOptions& opt, SparseStats* stats) {
  return detail::run_on_heads(detail::make_sparse_kernel(opt, stats), q, k, v);
}

Tensor attention_vitality(const Tensor& q, const Tensor& k, const Tensor& v, const MaskOptions& opt,
                          SparseStats* stats) {
  return detail::run_on_heads(detail::make_vitality_kernel(opt, stats, {}, opt.residual_weight), q, k, v);
}

Tensor attention_packed(const Tensor& qkv, int64_t heads, const AttentionKindSpec& kind, const MaskOptions& opt,
                        SparseStats* stats) {
  if (stats) *stats = SparseStats{};
  return detail::run_on_qkv(kind.make_kernel(opt, stats), qkv, heads);
}

}  // namespace vt::vit
