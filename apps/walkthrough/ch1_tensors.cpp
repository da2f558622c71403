// Chapter 1: tensors (apps/walkthrough/01-tensors.md).
#include <chrono>
#include <cmath>

#include "apps/chart.h"
#include "apps/walkthrough/story.h"
#include "core/ops.h"
#include "core/rng.h"

namespace vt::apps::walkthrough {

void chapter_tensors(Story& s) {
  s.step("a tensor is a flat block of floats plus a shape");
  const Tensor x = from_data({0, 1, 2, 3, 4, 5}, {2, 3});
  s.say("x = from_data({0, 1, 2, 3, 4, 5}, {2, 3})");
  s.fact("x.shape", shape_str(x.shape()));
  s.fact("x.numel", std::to_string(x.numel()));
  s.predict("row-major: at which position of the block is x[1][2]?");
  s.fact("offset of x[1][2]", str_cat(1 * x.size(1) + 2, " (row 1 x 3 columns + column 2)"));
  s.fact("x[1][2]", str_printf("%g", x.at({1, 2})));
  Heatmap h;
  h.title = "x (2 x 3): each element's offset in the flat block";
  h.row_label = "row";
  h.col_label = "column";
  h.rows = {"0", "1"};
  h.cols = {"0", "1", "2"};
  for (int64_t i = 0; i < 6; ++i) h.values.push_back(double(i));
  s.picture("01-layout.svg", heatmap_svg(h), "the row-major layout");

  s.step("reshape is a view: the same block, another shape");
  // exclusive(): no other handle shares this tensor's block of memory
  auto shares = [](const Tensor& source, const Tensor& result) {
    (void)result;  // alive while `source` is asked
    return source.exclusive() ? "no (a copy)" : "yes (a view)";
  };
  const Tensor x1 = x.clone();
  const Tensor y = x1.reshape({3, 2});
  s.fact("x.reshape({3, 2}) shares x's memory", shares(x1, y));
  s.fact("y[2][1]", str_printf("%g", y.at({2, 1})));
  const Tensor x2 = x.clone();
  const Tensor row = slice(x2, 0, 1, 2);
  s.fact("slice(x, 0, 1, 2) (the second row) shares x's memory", shares(x2, row));

  s.step("a transpose is a copy here; matmul takes transpose flags instead");
  const Tensor x3 = x.clone();
  const Tensor t = transpose(x3, 0, 1);
  s.fact("transpose(x, 0, 1) shares x's memory", shares(x3, t));
  s.say("Every tensor of this library is contiguous, so kernels are plain loops over memory. A strided view");
  s.say("would make the transpose free; here matmul(a, b, trans_a, trans_b) asks BLAS to read an operand");
  s.say("transposed instead, which costs nothing.");
  Generator gen(1);
  const int64_t n = 512;
  const Tensor a = randn({n, n}, &gen), b = randn({n, n}, &gen);
  const Tensor with_flag = matmul(a, b, false, true), with_copy = matmul(a, transpose(b, 0, 1));
  float diff = 0;
  for (int64_t i = 0; i < n * n; ++i) diff = std::max(diff, std::fabs(with_flag.data()[i] - with_copy.data()[i]));
  s.fact("max |matmul(a, b, false, true) - matmul(a, transpose(b))|", str_printf("%g", diff));
  using Clock = std::chrono::steady_clock;
  auto time = [&](auto f) {
    const auto t0 = Clock::now();
    for (int r = 0; r < 5; ++r) f();
    return std::chrono::duration<double>(Clock::now() - t0).count() / 5;
  };
  const double flag_s = time([&] { matmul(a, b, false, true); });
  const double copy_s = time([&] { transpose(b, 0, 1); });
  s.say(str_printf("timing on this machine (not a fact: it varies): the product %.2f ms, the transpose copy %.2f ms",
                   flag_s * 1e3, copy_s * 1e3));

  s.step("broadcasting: a (3,) row added to every row of a (2, 3)");
  const Tensor bias = from_data({10, 20, 30}, {3});
  const Tensor z = x + bias;
  s.fact("(x + bias).shape", shape_str(z.shape()));
  s.fact("(x + bias)[1]", str_printf("%g %g %g", z.at({1, 0}), z.at({1, 1}), z.at({1, 2})));
  s.say("Its backward sums the gradient over the broadcast rows (sum_to): the bias's gradient has the bias's shape.");
  Tensor bg = from_data({10, 20, 30}, {3}).set_requires_grad();
  sum(x + bg).backward();
  s.fact("gradient of sum(x + bias) with respect to bias",
         str_printf("%g %g %g", bg.grad().data()[0], bg.grad().data()[1], bg.grad().data()[2]));
}

}  // namespace vt::apps::walkthrough
