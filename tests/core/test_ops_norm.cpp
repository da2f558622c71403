// layer_norm: values, a constant row, gradient checks with and without the affine part, and the
// fused kernel against the composite written from primitive ops.
#include <doctest/doctest.h>

#include <cmath>

#include "core/ops.h"
#include "core/rng.h"
#include "tests/gradcheck.h"

using namespace vt;
using vt::testing::check_values;
using vt::testing::gradcheck;
using vt::testing::Inputs;
using vt::testing::max_abs_diff;

namespace {
// The composite reference: the textbook formula from primitive ops.
Tensor layer_norm_composite(const Tensor& x, const Tensor& w, const Tensor& b, float eps) {
  Tensor mu = mean(x, {-1}, true);
  Tensor xc = x - mu;
  Tensor var = mean(xc * xc, {-1}, true);
  return xc * rsqrt(var + eps) * w + b;
}
}  // namespace

TEST_CASE("layer_norm: values") {
  Tensor x = from_data({1, 2, 3, 4}, {1, 4});
  // mean 2.5, var 1.25
  const float r = 1.f / std::sqrt(1.25f + 1e-5f);
  check_values(layer_norm(x, Tensor(), Tensor()), {-1.5f * r, -0.5f * r, 0.5f * r, 1.5f * r});
  Tensor w = from_data({1, 2, 1, 1}, {4}), b = from_data({0, 0, 0, 10}, {4});
  check_values(layer_norm(x, w, b), {-1.5f * r, -1.f * r, 0.5f * r, 1.5f * r + 10});
}

TEST_CASE("layer_norm of a constant row is the bias, not NaN") {
  Tensor x = full({2, 8}, 3.f);
  Tensor b = arange(8);
  Tensor y = layer_norm(x, ones({8}), b, 1e-6f);
  for (int64_t i = 0; i < 8; ++i) CHECK(y.at({1, i}) == doctest::Approx(static_cast<float>(i)));
  Tensor xs = x.detach().set_requires_grad();
  sum(layer_norm(xs, Tensor(), Tensor(), 1e-6f) * arange(8)).backward();
  for (float v : xs.grad().to_vector()) CHECK(std::isfinite(v));
}

TEST_CASE("layer_norm: fused equals the composite, forward and backward") {
  Generator g(71);
  Tensor x = randn({70, 48}, &g) * 3.f + 1.f;  // 70 rows: more than one fixed row block
  Tensor w = randn({48}, &g), b = randn({48}, &g);
  CHECK(max_abs_diff(layer_norm(x, w, b, 1e-6f), layer_norm_composite(x, w, b, 1e-6f)) < 1e-5f);
  Tensor xs[2], ws[2], bs[2];
  for (int k = 0; k < 2; ++k) {
    xs[k] = x.clone().set_requires_grad();
    ws[k] = w.clone().set_requires_grad();
    bs[k] = b.clone().set_requires_grad();
    Tensor y = k ? layer_norm(xs[k], ws[k], bs[k], 1e-6f) : layer_norm_composite(xs[k], ws[k], bs[k], 1e-6f);
    sum(y * y).backward();
  }
  CHECK(max_abs_diff(xs[0].grad(), xs[1].grad()) < 1e-3f);
  CHECK(max_abs_diff(ws[0].grad(), ws[1].grad()) < 1e-3f);
  CHECK(max_abs_diff(bs[0].grad(), bs[1].grad()) < 1e-3f);
}

TEST_CASE("layer_norm: gradient checks and errors") {
  Generator g(72);
  for (Shape s : {Shape{4}, Shape{3, 5}, Shape{2, 1, 6}}) {
    CAPTURE(shape_str(s));
    const int64_t D = s.back();
    CHECK(gradcheck([](const Inputs& i) { return layer_norm(i[0], i[1], i[2], 1e-5f); },
                    {randn(s, &g), randn({D}, &g), randn({D}, &g)}));
    CHECK(gradcheck([](const Inputs& i) { return layer_norm(i[0], Tensor(), Tensor(), 1e-5f); }, {randn(s, &g)}));
  }
  CHECK_THROWS_WITH_AS(layer_norm(zeros({2, 3}), ones({4}), Tensor()),
                       "layer_norm: weight of shape (4,) for input of shape (2,3) (expected (3,))", Error);
}
