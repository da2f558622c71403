// The autograd engine: reused nodes, deep graphs, accumulation, no-grad, detach, graph freeing,
// and the gradient checker itself (it must catch a wrong backward).
#include <doctest/doctest.h>

#include "core/autograd.h"
#include "core/ops.h"
#include "tests/gradcheck.h"

using namespace vt;
using vt::testing::check_values;
using vt::testing::gradcheck;
using vt::testing::Inputs;

TEST_CASE("a node used several times collects every path's gradient") {
  // b = a + a; c = b * b = 4a^2  ->  dc/da = 8a
  Tensor a = from_data({1, -2, 3}, {3}).set_requires_grad();
  Tensor b = a + a;
  Tensor c = b * b;
  sum(c).backward();
  check_values(a.grad(), {8, -16, 24});
  // A diamond: y = exp(a) * a + exp(a)
  Tensor x = from_data({0.5f}, {1}).set_requires_grad();
  Tensor e = exp(x);
  sum(e * x + e).backward();
  CHECK(x.grad().item() == doctest::Approx(std::exp(0.5) * (0.5 + 2)));
}

TEST_CASE("deep chains run without recursion") {
  Tensor x = scalar(1.0f).set_requires_grad();
  Tensor y = x;
  for (int i = 0; i < 10000; ++i) y = y * 1.0001f + 0.f;
  y.backward();
  CHECK(x.grad().item() == doctest::Approx(std::pow(1.0001, 10000)).epsilon(1e-3));
  // Dropping a 200,000-op graph without calling backward must not overflow the stack either.
  Tensor z = x;
  for (int i = 0; i < 200000; ++i) z = z + 1.f;
  z = Tensor();
}

TEST_CASE("gradients accumulate across backward calls until zeroed") {
  Tensor w = from_data({2, 3}, {2}).set_requires_grad();
  sum(w * w).backward();
  sum(w * w).backward();
  check_values(w.grad(), {8, 12});
  w.zero_grad();
  CHECK_FALSE(w.grad().defined());
  sum(w).backward();
  check_values(w.grad(), {1, 1});
}

TEST_CASE("backward with an explicit seed computes a vector-Jacobian product") {
  Tensor x = from_data({1, 2}, {2}).set_requires_grad();
  Tensor y = x * x;  // dy/dx = diag(2x)
  y.backward(from_data({10, 100}, {2}));
  check_values(x.grad(), {20, 400});
  Tensor x2 = ones({2}).set_requires_grad();
  Tensor y2 = x2 * 3.f;
  CHECK_THROWS_WITH_AS(y2.backward(),
                       "backward: implicit seed needs a one-element tensor, this one has shape (2,); pass a seed "
                       "gradient of the same shape",
                       Error);
  CHECK_THROWS_AS(y2.backward(ones({3})), Error);
}

TEST_CASE("no-grad guard, detach and requires_grad") {
  Tensor x = ones({2}).set_requires_grad();
  {
    NoGradGuard guard;
    CHECK_FALSE(grad_enabled());
    Tensor y = x * 2.f;
    CHECK_FALSE(y.requires_grad());
    CHECK(y.is_leaf());
  }
  CHECK(grad_enabled());
  Tensor y = x * 2.f;
  CHECK(y.requires_grad());
  CHECK_FALSE(y.is_leaf());
  CHECK(std::string(y.op_name()) == "mul_scalar");
  Tensor d = y.detach();
  CHECK_FALSE(d.requires_grad());
  CHECK(d.same_storage(y));
  CHECK_THROWS_AS(y.set_requires_grad(false), Error);
  Tensor plain = ones({2});
  CHECK_THROWS_WITH_AS(sum(plain).backward(),
                       "backward: this tensor does not require grad (no input had requires_grad set, or it was "
                       "computed under NoGradGuard)",
                       Error);
  // Only the inputs that require grad get one.
  Tensor a = ones({2}).set_requires_grad(), b = ones({2});
  sum(a * b).backward();
  CHECK(a.grad().defined());
  CHECK_FALSE(b.grad().defined());
}

TEST_CASE("the graph is freed after backward") {
  Tensor x = ones({4}).set_requires_grad();
  const int64_t before = memory_stats().live_bytes;
  Tensor loss;
  {
    Tensor h = exp(x * 2.f);  // exp saves its output for backward
    loss = sum(h * h);
  }
  CHECK(memory_stats().live_bytes > before);  // the graph holds the intermediates
  loss.backward();
  const int64_t grads = 256;  // x.grad (one 64-byte-rounded buffer) may remain, and loss itself
  CHECK(memory_stats().live_bytes <= before + grads);
  CHECK_THROWS_WITH_AS(
      loss.backward(),
      "backward: the graph behind this tensor was already freed by an earlier backward(); run the forward pass again",
      Error);
}

TEST_CASE("leaf gradients never alias each other") {
  // add's backward hands the same gradient to both inputs; modifying one leaf's grad in place
  // must not change the other's.
  Tensor a = ones({3}).set_requires_grad(), b = ones({3}).set_requires_grad();
  sum(a + b).backward();
  a.grad().data()[0] = 100;
  CHECK(b.grad().data()[0] == 1);
}

TEST_CASE("the gradient checker passes a correct backward and catches a wrong one") {
  auto square = [](bool wrong) {
    return [wrong](const Inputs& in) {
      const Tensor& x = in[0];
      Tensor out = x.detach() * x.detach();
      if (needs_grad(x)) {
        record_op(out, "square", {x}, [wrong, x = x.detach()](const Tensor& g) -> Grads {
          return {g * x * (wrong ? 2.02f : 2.0f)};  // 1% too large
        });
      }
      return out;
    };
  };
  Generator gen(1);
  Tensor x = randn({3, 4}, &gen);
  CHECK(gradcheck(square(false), {x}));
  auto result = gradcheck(square(true), {x});
  CHECK_FALSE(result.ok);
  CHECK(result.detail.find("analytic") != std::string::npos);
}
