// Finite-difference gradient checker, used for every differentiable op.
//
// For inputs x_1..x_k and an op f, it compares the gradient autograd computes for the scalar
// L = sum(f(x) * W), with W a fixed random tensor (so every output element matters with a
// different weight), against central differences D(h) = (L(x + h e_j) - L(x - h e_j)) / 2h of
// float32 forward passes accumulated in double, Richardson-extrapolated: (4 D(h/2) - D(h)) / 3
// cancels the h^2 term, leaving an O(h^4) truncation error and float32 rounding of about
// 1e-7 |L| / h. That leaves room for a tolerance of 0.1% + 1e-3: a backward off by 1% fails
// (tests/core/test_autograd.cpp proves it on a square whose backward is 1% too large).
// Adding a check takes one line:
//
//   CHECK(gradcheck([](const Inputs& x) { return vt::mul(x[0], x[1]); },
//                   {vt::randn({2, 3}), vt::randn({3})}));
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/ops.h"
#include "core/rng.h"

namespace vt::testing {

using Inputs = std::vector<Tensor>;
using OpFn = std::function<Tensor(const Inputs&)>;

struct GradCheck {
  bool ok = true;
  double max_error = 0;  // largest |analytic - numeric|
  std::string detail;    // the first mismatch, for the test log
  explicit operator bool() const { return ok; }
};

inline std::ostream& operator<<(std::ostream& os, const GradCheck& g) {
  return os << (g.ok ? "ok" : "MISMATCH") << " (max error " << g.max_error << ") " << g.detail;
}

struct GradCheckOptions {
  double h = 1e-2;     // the larger finite-difference step (the other is h / 2)
  double atol = 1e-3;  // |a - n| <= atol + rtol * max(|a|, |n|)
  double rtol = 1e-3;
  uint64_t seed = 1234;
  std::vector<bool> wrt;  // which inputs to check (default: all)
};

inline GradCheck gradcheck(const OpFn& f, Inputs inputs, GradCheckOptions opt = {}) {
  GradCheck result;
  // Leaves that require grad, with their own storage (the checker perturbs them in place).
  for (size_t i = 0; i < inputs.size(); ++i) {
    inputs[i] = inputs[i].detach().clone();
    const bool want = opt.wrt.empty() || opt.wrt[i];
    inputs[i].set_requires_grad(want);
  }
  Tensor y = f(inputs);
  Generator gen(opt.seed);
  Tensor w = randn(y.shape(), &gen);
  Tensor loss = sum(y * w);
  loss.backward();

  auto weighted_sum = [&]() {
    NoGradGuard no_grad;
    Tensor out = f(inputs);
    double s = 0;
    for (int64_t j = 0; j < out.numel(); ++j) s += static_cast<double>(out.data()[j]) * w.data()[j];
    return s;
  };
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].requires_grad()) continue;
    Tensor analytic = inputs[i].grad();
    float* x = inputs[i].data();
    for (int64_t j = 0; j < inputs[i].numel(); ++j) {
      const float saved = x[j];
      auto central = [&](double h) {  // with the step actually taken in float32
        const float plus = static_cast<float>(saved + h), minus = static_cast<float>(saved - h);
        x[j] = plus;
        const double up = weighted_sum();
        x[j] = minus;
        const double down = weighted_sum();
        x[j] = saved;
        return (up - down) / (double(plus) - double(minus));
      };
      const double numeric = (4 * central(opt.h / 2) - central(opt.h)) / 3;
      const double a = analytic.defined() ? analytic.data()[j] : 0.0;
      const double err = std::abs(a - numeric);
      result.max_error = std::max(result.max_error, err);
      if (err > opt.atol + opt.rtol * std::max(std::abs(a), std::abs(numeric)) && result.ok) {
        result.ok = false;
        std::ostringstream os;
        os << "input " << i << " element " << j << ": analytic " << a << " vs numeric " << numeric;
        result.detail = os.str();
      }
    }
  }
  return result;
}

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
