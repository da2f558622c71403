// Reductions over any axes with keepdim: values, gradients (including ties for max), sum_to.
#include <doctest/doctest.h>

#include <cmath>

#include "core/ops.h"
#include "core/rng.h"
#include "tests/gradcheck.h"

using namespace vt;
using vt::testing::check_values;
using vt::testing::gradcheck;
using vt::testing::Inputs;

TEST_CASE("sum mean max: values over axes") {
  Tensor x = arange(24).reshape({2, 3, 4});
  CHECK(sum(x).item() == 276);
  CHECK(sum(x).dim() == 0);
  check_values(sum(x, {0}), {12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34});
  check_values(sum(x, {-1}), {6, 22, 38, 54, 70, 86});
  check_values(sum(x, {0, 2}), {60, 92, 124});  // non-adjacent axes
  CHECK(sum(x, {0, 2}, /*keepdim=*/true).shape() == Shape{1, 3, 1});
  check_values(mean(x, {1, 2}), {5.5f, 17.5f});
  check_values(max(x, {1}), {8, 9, 10, 11, 20, 21, 22, 23});
  CHECK(max(x).item() == 23);
  CHECK_THROWS_WITH_AS(sum(x, {3}), "sum: axis 3 is out of range for a tensor of rank 3", Error);
  CHECK_THROWS_AS(sum(x, {1, -2}), Error);
  // A long reduction (blocked, in parallel) is still exact on integers.
  Tensor ones_big = ones({300000});
  CHECK(sum(ones_big).item() == 300000);
  CHECK(std::isnan(max(from_data({1, NAN, 3}, {3})).item()));
  CHECK(sum(zeros({0, 3}), {0}).shape() == Shape{3});
}

TEST_CASE("sum mean max: gradient checks") {
  // Distinct values at least 0.1 apart: a finite-difference step never changes which is largest.
  Generator g(31);
  std::vector<float> v(24);
  for (int i = 0; i < 24; ++i) v[i] = 0.1f * static_cast<float>(i) - 1.2f;
  for (int i = 23; i > 0; --i) std::swap(v[i], v[g.randint(0, i + 1)]);
  Tensor x = from_data(v, {2, 3, 4});
  for (std::vector<int64_t> axes : {std::vector<int64_t>{}, {0}, {1}, {2}, {0, 2}, {1, 2}, {-1}}) {
    for (bool keep : {false, true}) {
      CAPTURE(axes.size());
      CAPTURE(keep);
      CHECK(gradcheck([axes, keep](const Inputs& i) { return sum(i[0], axes, keep); }, {x}));
      CHECK(gradcheck([axes, keep](const Inputs& i) { return mean(i[0], axes, keep); }, {x}));
      CHECK(gradcheck([axes, keep](const Inputs& i) { return max(i[0], axes, keep); }, {x}));
    }
  }
}

TEST_CASE("max splits the gradient between ties") {
  Tensor x = from_data({1, 3, 3, 2}, {4}).set_requires_grad();
  max(x).backward();
  check_values(x.grad(), {0, 0.5f, 0.5f, 0});
}

TEST_CASE("sum_to reverses broadcasting; expand broadcasts") {
  Tensor g = ones({2, 3, 4});
  check_values(sum_to(g, {3, 1}), {8, 8, 8});
  check_values(sum_to(g, {4}), {6, 6, 6, 6});
  CHECK(sum_to(g, {2, 3, 4}).same_storage(g));
  CHECK_THROWS_AS(sum_to(g, {5}), Error);
  check_values(expand(from_data({1, 2}, {2, 1}), {2, 3}), {1, 1, 1, 2, 2, 2});
  CHECK_THROWS_AS(expand(ones({2}), {3}), Error);
  Generator gen(32);
  CHECK(gradcheck([](const Inputs& i) { return expand(i[0], {2, 3, 4}); }, {randn({3, 1}, &gen)}));
}

TEST_CASE("argmax per row") {
  CHECK(argmax(from_data({1, 5, 2, 9, 0, 3}, {2, 3})) == std::vector<int64_t>{1, 0});
  CHECK_THROWS_AS(argmax(zeros({2, 0})), Error);
}
