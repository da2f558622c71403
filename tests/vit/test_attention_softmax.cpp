// Softmax attention: a hand-checked case and a gradient check; the kind registry.
#include <doctest/doctest.h>

#include "tests/gradcheck.h"
#include "tests/vit/attention_test_util.h"
#include "vit/attention.h"

using namespace vt;
using namespace vt::vit;
using vt::testing::gradcheck;
using vt::testing::Inputs;

TEST_CASE("softmax attention: one head by hand") {
  // n = 2, d = 1: scores s q_i k_j with s = 1; q = (1, 0), k = (0, ln 3), v = (10, 20)
  Tensor q = from_data({1, 0}, {1, 1, 2, 1}), k = from_data({0, std::log(3.f)}, {1, 1, 2, 1});
  Tensor v = from_data({10, 20}, {1, 1, 2, 1});
  Tensor z = attention_softmax(q, k, v);
  // row 0: weights exp(0), exp(ln 3) -> 1/4, 3/4 -> 17.5 ; row 1: equal weights -> 15
  CHECK(z.at({0, 0, 0, 0}) == doctest::Approx(17.5f));
  CHECK(z.at({0, 0, 1, 0}) == doctest::Approx(15.f));
  CHECK_THROWS_AS(attention_softmax(q, k, zeros({1, 1, 3, 1})), Error);
}

TEST_CASE("softmax attention: gradient check") {
  Generator g(1);
  CHECK(gradcheck([](const Inputs& x) { return attention_softmax(x[0], x[1], x[2]); },
                  {randn({2, 2, 5, 3}, &g), randn({2, 2, 5, 3}, &g), randn({2, 2, 5, 3}, &g)}));
}

TEST_CASE("attention kinds parse and print") {
  for (const char* name : {"softmax", "taylor", "sparse", "vitality"})
    CHECK(std::string(attention_kind_name(parse_attention_kind(name))) == name);
  CHECK_THROWS_WITH_AS(parse_attention_kind("linear"), "unknown attention kind 'linear' (softmax, taylor, sparse, vitality)", Error);
}
