// The vectorisable exp and normal CDF of core/vecmath.h against libm in double precision.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "core/ops.h"
#include "core/vecmath.h"

using namespace vt;

namespace {
// Distance in units in the last place between two floats of the same sign.
int64_t ulp_distance(float a, float b) {
  const int32_t ia = detail::float_to_bits(a), ib = detail::float_to_bits(b);
  return std::abs(static_cast<int64_t>(ia) - static_cast<int64_t>(ib));
}
}  // namespace

TEST_CASE("exp_f32 is within 2 ulp of exp over the float range") {
  int64_t worst = 0;
  float worst_x = 0;
  for (float x = -87.f; x <= 88.7f; x += 0.0137f) {
    const float want = static_cast<float>(std::exp(static_cast<double>(x)));
    const int64_t d = ulp_distance(detail::exp_f32(x), want);
    if (d > worst) {
      worst = d;
      worst_x = x;
    }
  }
  INFO("worst at x = " << worst_x);
  CHECK(worst <= 2);
  CHECK(detail::exp_f32(0.f) == 1.f);
  CHECK(detail::exp_f32(89.f) == std::numeric_limits<float>::infinity());
  CHECK(detail::exp_f32(1000.f) == std::numeric_limits<float>::infinity());
  CHECK(detail::exp_f32(-std::numeric_limits<float>::infinity()) == 0.f);
  CHECK(detail::exp_f32(-1000.f) == 0.f);
  CHECK(std::isnan(detail::exp_f32(std::nanf(""))));
  // Denormal results are produced, not flushed.
  const float tiny = detail::exp_f32(-100.f);
  CHECK(tiny > 0.f);
  CHECK(tiny == doctest::Approx(std::exp(-100.0)).epsilon(1e-3));
}

TEST_CASE("normal_cdf_pdf_f32 matches erfc and the density") {
  double worst_cdf = 0, worst_pdf = 0;
  for (float x = -12.f; x <= 12.f; x += 0.003f) {
    float cdf, pdf;
    detail::normal_cdf_pdf_f32(x, cdf, pdf);
    const double want_cdf = 0.5 * std::erfc(-static_cast<double>(x) / std::sqrt(2.0));
    const double want_pdf = std::exp(-0.5 * double(x) * x) / std::sqrt(2 * M_PI);
    worst_cdf = std::max(worst_cdf, std::abs(cdf - want_cdf));
    // The density's relative error grows with x^2 (the rounding of x^2/2 in float); beyond
    // |x| = 6 it is below 1e-8 in absolute terms, far under anything GELU's backward sees.
    if (std::abs(x) <= 6.f) worst_pdf = std::max(worst_pdf, std::abs(pdf - want_pdf) / want_pdf);
    else CHECK(std::abs(pdf - want_pdf) < 1e-12);
  }
  CHECK(worst_cdf < 3e-7);  // A&S 7.1.26's 1.5e-7 on erf is 0.75e-7 on Phi, plus float rounding
  CHECK(worst_pdf < 5e-6);
}

TEST_CASE("gelu agrees with the erf formula evaluated in double") {
  Tensor x = arange(-8.0, 8.0, 0.01);
  Tensor y = gelu(x);
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double v = x.data()[i];
    const double want = 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
    CHECK(std::abs(y.data()[i] - want) <= 2e-7 * std::max(1.0, std::abs(v)));
  }
}
