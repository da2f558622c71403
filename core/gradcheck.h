// Finite-difference gradient checker, as torch.autograd.gradcheck: every differentiable op of the
// library is checked with it (tests/), and a learner checks a new op the same way (the walkthrough,
// chapter 3).
//
// For inputs x_1..x_k and an op f, it compares the gradient autograd computes for the scalar
// L = sum(f(x) * W), with W a fixed random tensor (so every output element matters with a
// different weight), against central differences D(h) = (L(x + h e_j) - L(x - h e_j)) / 2h of
// float32 forward passes accumulated in double, Richardson-extrapolated: (4 D(h/2) - D(h)) / 3
// cancels the h^2 term, leaving an O(h^4) truncation error and float32 rounding of about
// 1e-7 |L| / h. That leaves room for a tolerance of 0.1% + 1e-3: a backward off by 1% fails
// (tests/core/test_autograd.cpp proves it on a square whose backward is 1% too large).
//
//   GradCheck g = gradcheck([](const Inputs& x) { return vt::mul(x[0], x[1]); },
//                           {vt::randn({2, 3}), vt::randn({3})});
//   if (!g) std::printf("%s\n", g.detail.c_str());
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace vt {

using Inputs = std::vector<Tensor>;
using OpFn = std::function<Tensor(const Inputs&)>;

struct GradCheck {
  bool ok = true;
  double max_error = 0;  // largest |analytic - numeric|
  std::string detail;    // the first mismatch
  explicit operator bool() const { return ok; }
};
std::ostream& operator<<(std::ostream& os, const GradCheck& g);

struct GradCheckOptions {
  double h = 1e-2;     // the larger finite-difference step (the other is h / 2)
  double atol = 1e-3;  // |a - n| <= atol + rtol * max(|a|, |n|)
  double rtol = 1e-3;
  uint64_t seed = 1234;
  std::vector<bool> wrt;  // which inputs to check (default: all)
};

// Checks every element of every input (that `wrt` selects); the inputs are copied, never modified.
GradCheck gradcheck(const OpFn& f, Inputs inputs, GradCheckOptions opt = {});

}  // namespace vt
