// xoshiro256** (Blackman and Vigna, 2018) with splitmix64 seeding, and the samplers built on it.
#include "core/rng.h"

#include <cmath>
#include <cstdio>
#include <limits>

#include "core/error.h"

namespace vt {

namespace {
inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

void Generator::seed(uint64_t seed) {
  // splitmix64 sequence from the seed; it never yields the invalid all-zero state.
  uint64_t x = seed;
  for (auto& s : s_) {
    s = mix64(x);
    x += 0x9e3779b97f4a7c15ULL;
  }
}

uint64_t Generator::next_u64() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Generator::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
double Generator::uniform(double low, double high) { return low + (high - low) * uniform(); }

int64_t Generator::randint(int64_t low, int64_t high) {
  VT_CHECK(low < high, "randint: empty range [", low, ", ", high, ")");
  const uint64_t range = static_cast<uint64_t>(high - low);
  // Reject the top partial block so every value is equally likely.
  const uint64_t limit = std::numeric_limits<uint64_t>::max() - std::numeric_limits<uint64_t>::max() % range;
  uint64_t x;
  do {
    x = next_u64();
  } while (x >= limit);
  return low + static_cast<int64_t>(x % range);
}

double Generator::normal() {
  const double u1 = 1.0 - uniform();  // (0, 1]: log stays finite
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

double Generator::trunc_normal(double mean, double std, double a, double b) {
  // timm: draw u in [2l-1, 2u-1] where l, u are the normal CDF at the bounds, map back with erfinv.
  auto cdf = [](double x) { return (1.0 + std::erf(x / std::sqrt(2.0))) / 2.0; };
  const double l = cdf((a - mean) / std), u = cdf((b - mean) / std);
  double v = uniform(2 * l - 1, 2 * u - 1);
  v = std::max(-1.0 + 1e-16, std::min(1.0 - 1e-16, v));
  double x = erfinv(v) * std * std::sqrt(2.0) + mean;
  return std::min(std::max(x, a), b);
}

double Generator::gamma(double shape) {
  VT_CHECK(shape > 0, "gamma: shape ", shape, " must be positive");
  if (shape < 1) {  // boost: Gamma(a) = Gamma(a + 1) * U^(1/a)
    const double u = 1.0 - uniform();
    return gamma(shape + 1) * std::pow(u, 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9 * d);
  while (true) {
    double x, v;
    do {
      x = normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const double u = 1.0 - uniform();
    if (u < 1 - 0.0331 * x * x * x * x || std::log(u) < 0.5 * x * x + d * (1 - v + std::log(v))) return d * v;
  }
}

double Generator::beta(double a, double b) {
  const double x = gamma(a), y = gamma(b);
  return x / (x + y);
}

Generator Generator::derive(uint64_t seed, uint64_t a, uint64_t b) {
  return Generator(mix64(mix64(mix64(seed) ^ a) ^ (b + 0x632be59bd9b4e019ULL)));
}

std::string Generator::state_string() const {
  char buf[4 * 17 + 1];
  std::snprintf(buf, sizeof buf, "%016llx %016llx %016llx %016llx", static_cast<unsigned long long>(s_[0]),
                static_cast<unsigned long long>(s_[1]), static_cast<unsigned long long>(s_[2]),
                static_cast<unsigned long long>(s_[3]));
  return buf;
}

void Generator::set_state_string(const std::string& text) {
  unsigned long long v[4];
  char tail;
  VT_CHECK(std::sscanf(text.c_str(), "%16llx %16llx %16llx %16llx %c", &v[0], &v[1], &v[2], &v[3], &tail) == 4,
           "generator state: expected four hex words, got '", text, "'");
  VT_CHECK(v[0] | v[1] | v[2] | v[3], "generator state: all-zero state is invalid");
  for (int i = 0; i < 4; ++i) s_[i] = v[i];
}

Generator& default_generator() {
  static Generator gen(0);
  return gen;
}

double erfinv(double x) {
  VT_CHECK(x > -1.0 && x < 1.0, "erfinv: argument ", x, " outside (-1, 1)");
  if (x == 0) return 0;
  // Winitzki's closed-form guess (relative error about 2e-3), then Newton steps on
  // erf(y) - x in double precision: each step squares the error.
  const double a = 0.147, ln = std::log((1.0 - x) * (1.0 + x));
  const double t = 2.0 / (M_PI * a) + ln / 2.0;
  double y = std::copysign(std::sqrt(std::sqrt(t * t - ln / a) - t), x);
  for (int i = 0; i < 3; ++i) {  // erf'(y) = 2/sqrt(pi) exp(-y^2)
    const double err = std::erf(y) - x;
    y -= err / (2.0 / std::sqrt(M_PI) * std::exp(-y * y));
  }
  return y;
}

}  // namespace vt
