// The tests' gradient checker is the library's (core/gradcheck.h), plus two comparison helpers.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "core/gradcheck.h"
#include "core/ops.h"
#include "core/rng.h"
#include "core/tensor.h"

namespace vt::testing {

using vt::GradCheck;
using vt::gradcheck;
using vt::GradCheckOptions;
using vt::Inputs;
using vt::OpFn;

// Max |a - b| over two tensors of the same shape.
inline float max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  float m = 0;
  for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, std::abs(a.data()[i] - b.data()[i]));
  return m;
}

// Values of a tensor as a vector (for CHECK comparisons with doctest::Approx).
inline void check_values(const Tensor& t, const std::vector<float>& expected, double eps = 1e-5) {
  REQUIRE(t.numel() == static_cast<int64_t>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("element " << i);
    CHECK(t.data()[i] == doctest::Approx(expected[i]).epsilon(eps));
  }
}

}  // namespace vt::testing
