// Chapter 3: writing an op with its backward, checked by finite differences
// (apps/walkthrough/03-an-op.md).
#include <cmath>

#include "apps/walkthrough/story.h"
#include "core/autograd.h"
#include "core/gradcheck.h"
#include "core/ops.h"
#include "core/rng.h"

namespace vt::apps::walkthrough {

namespace {

// SiLU (swish): y = x sigmoid(x), dy/dx = sigmoid(x) (1 + x (1 - sigmoid(x))). With `drop_term`
// the backward forgets the x sigmoid'(x) part: the bug the gradient check must catch.
Tensor silu(const Tensor& x, bool drop_term = false) {
  Tensor y = empty(x.shape()), sig = empty(x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) {
    const float v = x.data()[i];
    sig.data()[i] = 1.f / (1.f + std::exp(-v));
    y.data()[i] = v * sig.data()[i];
  }
  if (needs_grad(x)) {
    record_op(y, "silu", {x}, [xs = x.detach(), sig, drop_term](const Tensor& g) -> Grads {
      Tensor dx = empty(xs.shape());
      for (int64_t i = 0; i < xs.numel(); ++i) {
        const float s = sig.data()[i], v = xs.data()[i];
        dx.data()[i] = g.data()[i] * (drop_term ? s : s * (1 + v * (1 - s)));
      }
      return {dx};
    });
  }
  return y;
}

}  // namespace

void chapter_op(Story& s) {
  s.step("a real op of the library: GELU, forward and backward, checked by gradcheck");
  Generator gen(3);
  const Tensor x = randn({4, 5}, &gen);
  const GradCheck g1 = gradcheck([](const Inputs& in) { return gelu(in[0]); }, {x});
  s.fact("gradcheck(gelu)",
         str_printf("%s (largest |analytic - numeric| %.1e)", g1.ok ? "passes" : "FAILS", g1.max_error));

  s.step("a new op: SiLU, y = x sigmoid(x), with its backward written by hand");
  const GradCheck g2 = gradcheck([](const Inputs& in) { return silu(in[0]); }, {x});
  s.fact("gradcheck(silu)",
         str_printf("%s (largest |analytic - numeric| %.1e)", g2.ok ? "passes" : "FAILS", g2.max_error));
  const Tensor via_ops = x * (1.f / (1.f + exp(-x)));
  float diff = 0;
  const Tensor ours = silu(x);
  for (int64_t i = 0; i < x.numel(); ++i) diff = std::max(diff, std::fabs(ours.data()[i] - via_ops.data()[i]));
  s.fact("max |silu(x) - x * sigmoid(x) from core ops|", str_printf("%.1e", diff));

  s.step("a negative control: the same op with one term of its backward deleted");
  s.predict("does the check notice a backward that forgets x sigmoid'(x)?");
  const GradCheck g3 = gradcheck([](const Inputs& in) { return silu(in[0], /*drop_term=*/true); }, {x});
  s.fact("gradcheck(silu with a term dropped)", g3.ok ? "passes (the check is blind!)" : "FAILS");
  s.say("first mismatch: " + g3.detail);
}

}  // namespace vt::apps::walkthrough
