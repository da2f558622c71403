// Chapter 2: autograd by hand, then on the library's tape (apps/walkthrough/02-autograd.md).
#include "apps/walkthrough/story.h"
#include "core/autograd.h"
#include "core/ops.h"

namespace vt::apps::walkthrough {

void chapter_autograd(Story& s) {
  s.step("the graph: c = a * b, d = c + b, L = d^2, at a = 2, b = -3");
  const double a = 2, b = -3, c = a * b, d = c + b, L = d * d;
  s.fact("forward by hand", str_printf("c = %g, d = %g, L = %g", c, d, L));

  s.step("backward by hand: the chain rule from L back to the leaves");
  s.predict("dL/da and dL/db? (b is used twice: its two paths add up)");
  const double dL_dd = 2 * d;                  // L = d^2
  const double dL_dc = dL_dd * 1;              // d = c + b
  const double dL_da = dL_dc * b;              // c = a * b
  const double dL_db = dL_dc * a + dL_dd * 1;  // through c, and directly through d
  s.fact("by hand", str_printf("dL/dd = %g, dL/dc = %g, dL/da = %g, dL/db = %g", dL_dd, dL_dc, dL_da, dL_db));

  s.step("the same graph on the library's tape");
  Tensor ta = from_data({2}, {1}).set_requires_grad(), tb = from_data({-3}, {1}).set_requires_grad();
  const Tensor tc = ta * tb, td = tc + tb, tL = td * td;
  s.say(str_printf("each result remembers the op that made it: c from '%s', d from '%s', L from '%s'", tc.op_name(),
                   td.op_name(), tL.op_name()));
  tL.backward();
  s.fact("by the tape", str_printf("L = %g, dL/da = %g, dL/db = %g", tL.item(), ta.grad().item(), tb.grad().item()));
  s.fact("tape equals hand", ta.grad().item() == dL_da && tb.grad().item() == dL_db ? "yes" : "no");

  s.step("a check that needs no calculus: nudge an input, watch L");
  const double h = 1e-3;
  auto f = [](double x, double y) { return (x * y + y) * (x * y + y); };
  const double numeric_a = (f(a + h, b) - f(a - h, b)) / (2 * h), numeric_b = (f(a, b + h) - f(a, b - h)) / (2 * h);
  s.fact("central differences", str_printf("dL/da ~ %.6f, dL/db ~ %.6f", numeric_a, numeric_b));

  s.step("a negative control: forget that b has two paths");
  const double wrong_db = dL_dc * a;  // only through c
  s.fact("dL/db through c alone", str_printf("%g (the tape and the differences say %g)", wrong_db, dL_db));
}

}  // namespace vt::apps::walkthrough
