// Tensor creation, shape queries, element access, views, printing and errors.
// To add a case: a TEST_CASE per feature, SUBCASEs for its variants.
#include <doctest/doctest.h>

#include <cmath>

#include "core/ops.h"
#include "core/rng.h"
#include "core/tensor.h"
#include "tests/gradcheck.h"

using namespace vt;
using vt::testing::check_values;

TEST_CASE("creation functions fill the right values") {
  SUBCASE("zeros, ones, full, scalar") {
    check_values(zeros({2, 2}), {0, 0, 0, 0});
    check_values(ones({3}), {1, 1, 1});
    check_values(full({2}, 2.5f), {2.5f, 2.5f});
    Tensor s = scalar(7);
    CHECK(s.dim() == 0);
    CHECK(s.numel() == 1);
    CHECK(s.item() == 7);
  }
  SUBCASE("arange follows numpy") {
    check_values(arange(4), {0, 1, 2, 3});
    check_values(arange(1.0, 2.0, 0.25), {1, 1.25, 1.5, 1.75});
    check_values(arange(3.0, 0.0, -1.0), {3, 2, 1});
    CHECK(arange(0).numel() == 0);
    CHECK_THROWS_AS(arange(0.0, 1.0, 0.0), Error);
  }
  SUBCASE("from_data checks the element count") {
    Tensor t = from_data({1, 2, 3, 4, 5, 6}, {2, 3});
    CHECK(t.at({1, 0}) == 4);
    CHECK_THROWS_WITH_AS(from_data({1, 2, 3}, {2, 2}), "from_data: 3 values do not fill shape (2,2) (4 elements)",
                         Error);
  }
  SUBCASE("random tensors are reproducible from a seed") {
    Generator g1(42), g2(42);
    CHECK(randn({5}, &g1).to_vector() == randn({5}, &g2).to_vector());
    Tensor u = uniform({1000}, -1, 3, &g1);
    for (float v : u.to_vector()) CHECK((v >= -1 && v < 3));
  }
}

TEST_CASE("shape queries and element access") {
  Tensor t = zeros({2, 3, 4});
  CHECK(t.dim() == 3);
  CHECK(t.numel() == 24);
  CHECK(t.size(-1) == 4);
  CHECK(t.size(0) == 2);
  CHECK_THROWS_WITH_AS(t.size(3), "size: axis 3 is out of range for a tensor of rank 3", Error);
  t.at({1, 2, 3}) = 5;
  CHECK(t.data()[23] == 5);
  CHECK_THROWS_WITH_AS(t.at({2, 0, 0}), "at: index 2 out of range for dimension 0 of size 2 in shape (2,3,4)", Error);
  CHECK_THROWS_AS(t.at({0, 0}), Error);
  CHECK_THROWS_AS(t.item(), Error);
  CHECK(shape_str({}) == "()");
  CHECK(shape_str({5}) == "(5,)");
  CHECK(shape_str({2, 3}) == "(2,3)");
  CHECK_FALSE(Tensor().defined());
  CHECK_THROWS_AS(Tensor().shape(), Error);
}

TEST_CASE("reshape is a view; clone is a copy") {
  Tensor t = arange(6);
  Tensor v = t.reshape({2, -1});
  CHECK(v.shape() == Shape{2, 3});
  v.at({1, 1}) = 100;
  CHECK(t.data()[4] == 100);  // shares storage
  Tensor c = t.clone();
  c.data()[0] = -1;
  CHECK(t.data()[0] == 0);
  CHECK_THROWS_WITH_AS(t.reshape({4, 2}), "reshape: cannot view shape (6,) (6 elements) as (4,2) (8 elements)", Error);
  CHECK_THROWS_AS(t.reshape({-1, -1}), Error);
  CHECK_THROWS_AS(t.reshape({-1, 4}), Error);
}

TEST_CASE("printing looks like PyTorch and summarises large tensors") {
  CHECK(to_string(from_data({1, 2, 3, 4}, {2, 2})) ==
        "tensor([[1.0000, 2.0000],\n        [3.0000, 4.0000]], shape=(2,2))");
  CHECK(to_string(scalar(1.5f)) == "tensor(1.5000, shape=())");
  std::string big = to_string(arange(100));
  CHECK(big.find("...") != std::string::npos);
  CHECK(big.find("99.0000") != std::string::npos);
  Tensor x = ones({2}).set_requires_grad();
  CHECK(to_string(x * 2.f).find("grad_fn=<mul_scalar>") != std::string::npos);
  CHECK(to_string(Tensor()) == "tensor(undefined)");
}

TEST_CASE("memory statistics follow allocations") {
  const int64_t before = memory_stats().live_bytes;
  {
    Tensor big = empty({1 << 20});
    CHECK(memory_stats().live_bytes >= before + (4 << 20));
    CHECK(memory_stats().peak_bytes >= before + (4 << 20));
  }
  CHECK(memory_stats().live_bytes == before);
}
