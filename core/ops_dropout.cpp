// Dropout with a counter-based mask: element i is kept when hash_uniform(key, i) >= p, where the
// key is one draw of the generator. The mask costs no memory (backward remakes it from the key)
// and does not depend on the thread count.
#include "core/autograd.h"
#include "core/ops.h"
#include "core/rng.h"
#include "core/threads.h"
#include "core/trace.h"

namespace vt {

namespace {
// out[i] = x[i] * scale when element i is kept, else 0.
Tensor apply_mask(const Tensor& x, uint64_t key, float p, float scale) {
  Tensor out = empty(x.shape());
  const float* px = x.data();
  float* po = out.data();
  parallel_for(x.numel(), kElementwiseGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) po[i] = hash_uniform(key, static_cast<uint64_t>(i)) >= p ? px[i] * scale : 0.f;
  });
  return out;
}
}  // namespace

// out = x * mask / (1 - p);  dx = g * mask / (1 - p)
Tensor dropout(const Tensor& x, float p, bool training, Generator* gen) {
  VT_CHECK(p >= 0.f && p <= 1.f, "dropout: probability ", p, " outside [0, 1]");
  if (!training || p == 0.f) return x;
  OpTrace tr("dropout");
  const uint64_t key = (gen ? *gen : default_generator()).next_u64();
  const float scale = p < 1.f ? 1.f / (1.f - p) : 0.f;
  Tensor out = apply_mask(x, key, p, scale);
  if (tr.on()) tr.record({&x}, out, static_cast<double>(x.numel()));
  if (needs_grad(x)) {
    record_op(out, "dropout", {x},
              [key, p, scale](const Tensor& g) -> Grads { return {apply_mask(g, key, p, scale)}; });
  }
  return out;
}

}  // namespace vt
