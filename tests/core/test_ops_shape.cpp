// Layout ops: reshape, permute, transpose, concat, slice, index_select, gather.
#include <doctest/doctest.h>

#include "core/ops.h"
#include "core/rng.h"
#include "tests/gradcheck.h"

using namespace vt;
using vt::testing::check_values;
using vt::testing::gradcheck;
using vt::testing::Inputs;

TEST_CASE("permute and transpose copy into the new order") {
  Tensor x = arange(24).reshape({2, 3, 4});
  Tensor p = permute(x, {2, 0, 1});
  CHECK(p.shape() == Shape{4, 2, 3});
  CHECK(p.at({3, 1, 2}) == x.at({1, 2, 3}));
  Tensor t = transpose(x, 0, -1);
  CHECK(t.shape() == Shape{4, 3, 2});
  CHECK(t.at({1, 2, 0}) == x.at({0, 2, 1}));
  CHECK_FALSE(t.same_storage(x));
  CHECK_THROWS_AS(permute(x, {0, 0, 1}), Error);
  CHECK_THROWS_AS(permute(x, {0, 1}), Error);
  Generator g(51);
  CHECK(gradcheck([](const Inputs& i) { return permute(i[0], {1, 2, 0}); }, {randn({2, 3, 2}, &g)}));
  CHECK(gradcheck([](const Inputs& i) { return transpose(i[0], 0, 1); }, {randn({3, 2}, &g)}));
  CHECK(gradcheck([](const Inputs& i) { return i[0].reshape({3, -1}); }, {randn({2, 3}, &g)}));
}

TEST_CASE("concat along any axis") {
  Tensor a = arange(4).reshape({2, 2}), b = arange(2).reshape({2, 1}) + 10.f;
  check_values(concat({a, b}, 1), {0, 1, 10, 2, 3, 11});
  check_values(concat({a, a}, 0), {0, 1, 2, 3, 0, 1, 2, 3});
  CHECK_THROWS_WITH_AS(concat({a, b}, 0), "concat: shape (2,1) does not match (2,2) outside axis 0", Error);
  Generator g(52);
  CHECK(gradcheck(
      [](const Inputs& i) {
        return concat({i[0], i[1], i[0]}, -1);
      },
      {randn({2, 2}, &g), randn({2, 3}, &g)}));
}

TEST_CASE("slice: Python bounds, views along leading axes") {
  Tensor x = arange(12).reshape({3, 4});
  Tensor rows = slice(x, 0, 1, 3);
  CHECK(rows.shape() == Shape{2, 4});
  CHECK(rows.data() == x.data() + 4);  // a view
  check_values(slice(x, 1, -2, 100), {2, 3, 6, 7, 10, 11});
  CHECK(slice(x, 1, 3, 1).shape() == Shape{3, 0});
  Generator g(53);
  CHECK(gradcheck([](const Inputs& i) { return slice(i[0], 1, 1, 3); }, {randn({2, 4}, &g)}));
  CHECK(gradcheck([](const Inputs& i) { return slice(i[0], 0, 0, 1); }, {randn({2, 4}, &g)}));
}

TEST_CASE("index_select and gather") {
  Tensor x = arange(6).reshape({3, 2});
  check_values(index_select(x, 0, {2, 0, 2}), {4, 5, 0, 1, 4, 5});
  check_values(index_select(x, 1, {1}), {1, 3, 5});
  CHECK_THROWS_WITH_AS(index_select(x, 0, {3}),
                       "index_select: index 3 out of range for axis 0 of size 3 in shape (3,2)", Error);
  // gather picks one entry per row: the label's logit
  check_values(gather(x, 1, {1, 0, 1}, {3, 1}), {1, 2, 5});
  CHECK_THROWS_AS(gather(x, 1, {2, 0, 1}, {3, 1}), Error);
  CHECK_THROWS_AS(gather(x, 1, {0, 0}, {2, 1}), Error);
  Generator g(54);
  CHECK(gradcheck([](const Inputs& i) { return index_select(i[0], 1, {0, 2, 0}); }, {randn({2, 3}, &g)}));
  CHECK(gradcheck([](const Inputs& i) { return gather(i[0], 1, {2, 2, 0, 1}, {2, 2}); }, {randn({2, 3}, &g)}));
}
