// softmax, log_softmax, cross-entropy (labels, smoothing, soft targets): values, gradients,
// and numerical edge cases (huge logits stay finite).
#include <doctest/doctest.h>

#include <cmath>

#include "core/ops.h"
#include "core/rng.h"
#include "tests/gradcheck.h"

using namespace vt;
using vt::testing::check_values;
using vt::testing::gradcheck;
using vt::testing::Inputs;

TEST_CASE("softmax and log_softmax: values") {
  Tensor x = from_data({1, 2, 3, 0, 0, 0}, {2, 3});
  check_values(softmax(x), {0.09003057f, 0.24472847f, 0.66524096f, 1 / 3.f, 1 / 3.f, 1 / 3.f});
  check_values(log_softmax(x), {-2.40760596f, -1.40760596f, -0.40760596f, -1.09861229f, -1.09861229f, -1.09861229f});
}

TEST_CASE("huge logits stay finite") {
  Tensor x = from_data({1e4f, 0, -1e4f, 1e4f, 1e4f, 1e4f}, {2, 3});
  for (float v : softmax(x).to_vector()) CHECK(std::isfinite(v));
  for (float v : log_softmax(x).to_vector()) CHECK(!std::isnan(v));
  CHECK(softmax(x).at({0, 0}) == 1.f);
  Tensor ce = cross_entropy(x, {1, 0});
  CHECK(std::isfinite(ce.item()));
  CHECK(ce.item() == doctest::Approx((1e4 + std::log(3.0)) / 2));
  Tensor xs = x.detach().set_requires_grad();
  cross_entropy(xs, {1, 0}, 0.1f).backward();
  for (float v : xs.grad().to_vector()) CHECK(std::isfinite(v));
}

TEST_CASE("cross_entropy: values, smoothing, soft targets") {
  Tensor x = from_data({1, 2, 3, 0, 0, 0}, {2, 3});
  // rows' -log p[label]: label 2 -> 0.40760596, label 0 -> 1.09861229
  CHECK(cross_entropy(x, {2, 0}).item() == doctest::Approx((0.40760596 + 1.09861229) / 2));
  // smoothing 0.1: 0.9 * nll + 0.1 * mean_c(-log p)
  const double row0 = 0.9 * 0.40760596 + 0.1 * (2.40760596 + 1.40760596 + 0.40760596) / 3;
  const double row1 = 1.09861229;
  CHECK(cross_entropy(x, {2, 0}, 0.1f).item() == doctest::Approx((row0 + row1) / 2));
  // soft targets equal to one-hot give the plain loss
  Tensor onehot = from_data({0, 0, 1, 1, 0, 0}, {2, 3});
  CHECK(cross_entropy_soft(x, onehot).item() == doctest::Approx(cross_entropy(x, {2, 0}).item()));
  // smoothed one-hot soft targets equal label smoothing
  Tensor smooth = onehot * 0.9f + 0.1f / 3.f;
  CHECK(cross_entropy_soft(x, smooth).item() == doctest::Approx(cross_entropy(x, {2, 0}, 0.1f).item()));
  CHECK_THROWS_WITH_AS(cross_entropy(x, {2, 3}), "cross_entropy: label 3 at row 1 is outside [0, 3)", Error);
  CHECK_THROWS_AS(cross_entropy(x, {1}), Error);
  CHECK_THROWS_AS(cross_entropy_soft(x, ones({3, 2})), Error);
}

TEST_CASE("softmax family: gradient checks") {
  Generator g(61);
  for (Shape s : {Shape{5}, Shape{2, 3}, Shape{2, 1, 4}, Shape{3, 1}}) {
    CAPTURE(shape_str(s));
    Tensor x = randn(s, &g);
    CHECK(gradcheck([](const Inputs& i) { return softmax(i[0]); }, {x}));
    CHECK(gradcheck([](const Inputs& i) { return log_softmax(i[0]); }, {x}));
  }
  Tensor logits = randn({4, 5}, &g);
  std::vector<int64_t> labels = {0, 4, 2, 2};
  CHECK(gradcheck([labels](const Inputs& i) { return cross_entropy(i[0], labels); }, {logits}));
  CHECK(gradcheck([labels](const Inputs& i) { return cross_entropy(i[0], labels, 0.1f); }, {logits}));
  Tensor targets = softmax(randn({4, 5}, &g));
  CHECK(gradcheck([](const Inputs& i) { return cross_entropy_soft(i[0], i[1]); }, {logits, targets}));
}
