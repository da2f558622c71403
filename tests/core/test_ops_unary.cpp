// Elementwise math: values against known constants, gradient checks, IEEE edge cases.
#include <doctest/doctest.h>

#include <cmath>

#include "core/ops.h"
#include "core/rng.h"
#include "tests/gradcheck.h"

using namespace vt;
using vt::testing::check_values;
using vt::testing::gradcheck;
using vt::testing::Inputs;

TEST_CASE("unary ops: values") {
  Tensor x = from_data({-1, 0, 0.5f, 2}, {4});
  check_values(neg(x), {1, 0, -0.5f, -2});
  check_values(exp(x), {0.36787944f, 1, 1.6487213f, 7.3890561f});
  check_values(tanh(x), {-0.76159416f, 0, 0.46211716f, 0.96402758f});
  check_values(erf(x), {-0.84270079f, 0, 0.52049988f, 0.99532227f});
  check_values(relu(x), {0, 0, 0.5f, 2});
  // gelu(x) = x * Phi(x), exact (erf) form; values from PyTorch's F.gelu.
  check_values(gelu(x), {-0.15865526f, 0, 0.34573123f, 1.9544997f});
  Tensor p = from_data({0.25f, 1, 4}, {3});
  check_values(log(p), {-1.3862944f, 0, 1.3862944f});
  check_values(sqrt(p), {0.5f, 1, 2});
  check_values(rsqrt(p), {2, 1, 0.5f});
  check_values(pow(p, 1.5f), {0.125f, 1, 8});
}

TEST_CASE("unary ops: IEEE edge cases do not crash") {
  Tensor z = from_data({0, -1}, {2});
  Tensor l = log(z);
  CHECK(std::isinf(l.data()[0]));
  CHECK(l.data()[0] < 0);
  CHECK(std::isnan(l.data()[1]));
  CHECK(std::isinf(rsqrt(zeros({1})).item()));
  CHECK(exp(full({1}, 1000.f)).item() == INFINITY);
  CHECK(exp(full({1}, -1000.f)).item() == 0.f);
}

TEST_CASE("unary ops: gradient checks") {
  Generator g(21);
  for (Shape s : {Shape{}, Shape{1}, Shape{3, 1}, Shape{2, 3}}) {
    CAPTURE(shape_str(s));
    Tensor x = randn(s, &g);
    Tensor pos = uniform(s, 0.5f, 2.f, &g);
    CHECK(gradcheck([](const Inputs& i) { return neg(i[0]); }, {x}));
    CHECK(gradcheck([](const Inputs& i) { return exp(i[0]); }, {x}));
    CHECK(gradcheck([](const Inputs& i) { return log(i[0]); }, {pos}));
    CHECK(gradcheck([](const Inputs& i) { return sqrt(i[0]); }, {pos}));
    CHECK(gradcheck([](const Inputs& i) { return rsqrt(i[0]); }, {pos}));
    CHECK(gradcheck([](const Inputs& i) { return pow(i[0], 3.f); }, {x}));
    CHECK(gradcheck([](const Inputs& i) { return pow(i[0], -0.5f); }, {pos}));
    CHECK(gradcheck([](const Inputs& i) { return pow(i[0], 0.f); }, {pos}));
    CHECK(gradcheck([](const Inputs& i) { return tanh(i[0]); }, {x}));
    CHECK(gradcheck([](const Inputs& i) { return erf(i[0]); }, {x}));
    CHECK(gradcheck([](const Inputs& i) { return gelu(i[0]); }, {x}));
    CHECK(gradcheck([](const Inputs& i) { return i[0].clone(); }, {x}));
    // relu is not differentiable at 0: keep inputs away from it.
    Tensor away = x.clone();
    for (int64_t k = 0; k < away.numel(); ++k)
      if (std::abs(away.data()[k]) < 0.05f) away.data()[k] = 0.3f;
    CHECK(gradcheck([](const Inputs& i) { return relu(i[0]); }, {away}));
  }
}
