// Broadcasting elementwise ops: values, numpy broadcasting rules, gradient checks on shapes with
// broadcast and size-1 dimensions, and error messages.
// To add a case: one TEST_CASE per op with SUBCASEs for values / gradients / errors.
#include <doctest/doctest.h>

#include <cmath>

#include "core/ops.h"
#include "core/rng.h"
#include "tests/gradcheck.h"

using namespace vt;
using vt::testing::check_values;
using vt::testing::gradcheck;
using vt::testing::Inputs;

namespace {
// Shape pairs that exercise every broadcasting path: equal, row, column, scalar, rank mismatch.
const std::vector<std::pair<Shape, Shape>> kShapePairs = {
    {{2, 3}, {2, 3}}, {{2, 3}, {3}}, {{2, 3}, {2, 1}}, {{2, 1, 4}, {3, 1}},
    {{3}, {2, 1, 3}}, {{2, 3}, {}},  {{1}, {2, 2}},    {{1, 3, 1}, {2, 1, 2}},
};

Tensor positive(const Shape& s, Generator& g) { return uniform(s, 0.5f, 2.0f, &g); }
}  // namespace

TEST_CASE("add sub mul div: values and broadcasting") {
  Tensor a = from_data({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor row = from_data({10, 20, 30}, {3});
  Tensor col = from_data({100, 200}, {2, 1});
  check_values(a + row, {11, 22, 33, 14, 25, 36});
  check_values(a - col, {-99, -98, -97, -196, -195, -194});
  check_values(col * row, {1000, 2000, 3000, 2000, 4000, 6000});
  check_values(a / 2.f, {0.5, 1, 1.5, 2, 2.5, 3});
  check_values(6.f / from_data({1, 2, 3}, {3}), {6, 3, 2});
  check_values(1.f - from_data({1, 2}, {2}), {0, -1});
  CHECK((a + row).shape() == Shape{2, 3});
  CHECK((zeros({2, 1, 4}) + zeros({3, 1})).shape() == Shape{2, 3, 4});
  check_values(pow(from_data({2, 3}, {2}), from_data({3, 2}, {2})), {8, 9});
  // A long same-shape operation runs through the parallel path and stays exact.
  Tensor big = arange(100000), big2 = big * big;
  CHECK(big2.data()[99999] == 99999.f * 99999.f);
}

TEST_CASE("broadcasting errors name the op and both shapes") {
  CHECK_THROWS_WITH_AS(zeros({2, 3}) + zeros({4}),
                       "add: shapes (2,3) and (4,) cannot be broadcast (dimension 1: 3 vs 4)", Error);
  CHECK_THROWS_AS(zeros({2, 3}) * zeros({3, 3}), Error);
}

TEST_CASE("add sub mul div pow: gradient checks with broadcasting") {
  Generator g(11);
  for (auto& [sa, sb] : kShapePairs) {
    CAPTURE(shape_str(sa));
    CAPTURE(shape_str(sb));
    Tensor a = randn(sa, &g), b = randn(sb, &g), pb = positive(sb, g), pa = positive(sa, g);
    CHECK(gradcheck([](const Inputs& x) { return x[0] + x[1]; }, {a, b}));
    CHECK(gradcheck([](const Inputs& x) { return x[0] - x[1]; }, {a, b}));
    CHECK(gradcheck([](const Inputs& x) { return x[0] * x[1]; }, {a, b}));
    CHECK(gradcheck([](const Inputs& x) { return x[0] / x[1]; }, {a, pb}));
    CHECK(gradcheck([](const Inputs& x) { return pow(x[0], x[1]); }, {pa, b}));
  }
}

TEST_CASE("scalar variants: values and gradients") {
  Generator g(12);
  Tensor x = positive({2, 3}, g);
  CHECK(gradcheck([](const Inputs& i) { return i[0] + 3.f; }, {x}));
  CHECK(gradcheck([](const Inputs& i) { return i[0] * -2.f; }, {x}));
  CHECK(gradcheck([](const Inputs& i) { return 2.f - i[0]; }, {x}));
  CHECK(gradcheck([](const Inputs& i) { return 3.f / i[0]; }, {x}));
  CHECK(gradcheck([](const Inputs& i) { return i[0] / 4.f; }, {x}));
}

TEST_CASE("where and masked_fill") {
  Tensor cond = from_data({1, 0, 0, 1}, {2, 2});
  Tensor a = from_data({1, 2, 3, 4}, {2, 2});
  SUBCASE("values, with broadcasting of every argument") {
    check_values(where(cond, a, scalar(-1)), {1, -1, -1, 4});
    check_values(where(from_data({0, 1}, {2}), a, from_data({7, 8}, {2, 1})), {7, 2, 8, 4});
    Tensor filled = masked_fill(a, from_data({0, 1}, {1, 2}), -INFINITY);
    CHECK(filled.at({0, 0}) == 1);
    CHECK(std::isinf(filled.at({1, 1})));
    CHECK_THROWS_WITH_AS(masked_fill(a, ones({3, 2, 2}), 0.f),
                         "masked_fill: mask of shape (3,2,2) does not broadcast to the input's shape (2,2)", Error);
  }
  SUBCASE("gradients flow to the chosen side only") {
    Generator g(13);
    Tensor c = from_data({1, 0, 1, 0, 0, 1}, {2, 3});
    CHECK(gradcheck([c](const Inputs& i) { return where(c, i[0], i[1]); }, {randn({2, 3}, &g), randn({3}, &g)}));
    CHECK(gradcheck([c](const Inputs& i) { return masked_fill(i[0], c, 5.f); }, {randn({2, 3}, &g)}));
  }
}
