// Random numbers: one seedable generator type (xoshiro256**, seeded through splitmix64) with its
// own normal and truncated-normal samplers, so that a seed gives the same numbers on every
// platform (std::normal_distribution is implementation-defined). Streams for per-sample work are
// derived from (seed, epoch, index), never from thread ids, so results do not depend on the
// thread count. The default generator is process-wide and not thread-safe: worker threads derive
// their own with Generator::derive.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace vt {

// splitmix64 finaliser: a bijective 64-bit mix used for seeding and hashing.
inline uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Counter-based uniform in [0, 1) from (key, index): element i of a dropout mask is
// hash_uniform(key, i), so a mask can be made in parallel and remade in backward from its key.
inline float hash_uniform(uint64_t key, uint64_t index) {
  return static_cast<float>(mix64(key ^ mix64(index)) >> 40) * (1.0f / 16777216.0f);
}

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) { this->seed(seed); }
  void seed(uint64_t seed);

  uint64_t next_u64();
  double uniform();                            // [0, 1), 53 random bits
  double uniform(double low, double high);     // [low, high)
  int64_t randint(int64_t low, int64_t high);  // [low, high), unbiased
  double normal();                             // N(0, 1), Box-Muller (one draw per call, no cache)
  // N(mean, std^2) conditioned on [a, b] by the inverse-CDF method, as timm's trunc_normal_.
  double trunc_normal(double mean, double std, double a, double b);

  double gamma(double shape);       // Gamma(shape, 1), Marsaglia-Tsang
  double beta(double a, double b);  // Beta(a, b) = X / (X + Y), X ~ Gamma(a), Y ~ Gamma(b)

  // A generator for one unit of work, e.g. derive(seed, epoch, index) for one sample.
  static Generator derive(uint64_t seed, uint64_t a, uint64_t b = 0);

  // The full state as text ("s0 s1 s2 s3" in hex), for checkpoints.
  std::string state_string() const;
  void set_state_string(const std::string& text);  // throws vt::Error on malformed text

 private:
  std::array<uint64_t, 4> s_{};
};

Generator& default_generator();

double erfinv(double x);  // inverse error function on (-1, 1), |error| < 1e-15 after refinement

}  // namespace vt
