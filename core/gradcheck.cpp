// The finite-difference gradient checker (gradcheck.h).
#include "core/gradcheck.h"

#include <cmath>
#include <sstream>

#include "core/autograd.h"
#include "core/ops.h"
#include "core/rng.h"

namespace vt {

std::ostream& operator<<(std::ostream& os, const GradCheck& g) {
  return os << (g.ok ? "ok" : "MISMATCH") << " (max error " << g.max_error << ") " << g.detail;
}

GradCheck gradcheck(const OpFn& f, Inputs inputs, GradCheckOptions opt) {
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

}  // namespace vt
