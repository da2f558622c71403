// Random number generation: determinism, distributions, trunc_normal as timm, state round trip.
#include <doctest/doctest.h>

#include <cmath>

#include "core/rng.h"
#include "core/tensor.h"

using namespace vt;

TEST_CASE("the generator is reproducible and its state round-trips") {
  Generator a(7), b(7), c(8);
  CHECK(a.next_u64() == b.next_u64());
  CHECK(a.next_u64() != c.next_u64());
  Generator d(1);
  for (int i = 0; i < 10; ++i) d.next_u64();
  Generator e(99);
  e.set_state_string(d.state_string());
  CHECK(d.next_u64() == e.next_u64());
  CHECK_THROWS_AS(e.set_state_string("not a state"), Error);
  CHECK_THROWS_AS(e.set_state_string("0 0 0 0"), Error);
  // Known outputs: xoshiro256** seeded with the first four outputs of splitmix64(seed), computed
  // from the published algorithms in Python, independently of this code (pins the algorithm, so
  // checkpoints and seeded runs stay reproducible across versions):
  //   M = 2**64 - 1; rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & M
  //   splitmix64: x = (x + 0x9e3779b97f4a7c15) & M; z = x; z = (z ^ z >> 30) * 0xbf58476d1ce4e5b9 & M;
  //               z = (z ^ z >> 27) * 0x94d049bb133111eb & M; yield z ^ z >> 31
  //   xoshiro256**: r = rotl(s1 * 5 & M, 7) * 9 & M; t = s1 << 17 & M; s2 ^= s0; s3 ^= s1;
  //                 s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 45); yield r
  Generator f(0);
  CHECK(f.next_u64() == 0x99ec5f36cb75f2b4ULL);
  CHECK(f.next_u64() == 0xbf6e1f784956452aULL);
  CHECK(f.next_u64() == 0x1a5f849d4933e6e0ULL);
  Generator seven(7);
  CHECK(seven.next_u64() == 0xb358faf74ef9765aULL);
  CHECK(seven.next_u64() == 0x475c3d964f482cd2ULL);
  CHECK(Generator::derive(1, 2, 3).next_u64() == Generator::derive(1, 2, 3).next_u64());
  CHECK(Generator::derive(1, 2, 3).next_u64() != Generator::derive(1, 3, 2).next_u64());
}

TEST_CASE("uniform, normal and randint have the right moments") {
  Generator g(3);
  const int n = 200000;
  double s = 0, s2 = 0;
  for (int i = 0; i < n; ++i) {
    const double x = g.normal();
    s += x;
    s2 += x * x;
  }
  CHECK(std::abs(s / n) < 0.01);
  CHECK(std::abs(s2 / n - 1) < 0.01);
  int counts[5] = {0, 0, 0, 0, 0};
  for (int i = 0; i < 50000; ++i) counts[g.randint(0, 5)]++;
  for (int c : counts) CHECK(std::abs(c - 10000) < 400);
  CHECK_THROWS_AS(g.randint(3, 3), Error);
  for (int i = 0; i < 1000; ++i) {
    const double u = g.uniform();
    CHECK((u >= 0 && u < 1));
  }
}

TEST_CASE("erfinv inverts erf") {
  for (double x : {-0.999999, -0.9, -0.5, -1e-6, 1e-8, 0.3, 0.7, 0.99, 0.9999999})
    CHECK(std::erf(erfinv(x)) == doctest::Approx(x).epsilon(1e-12));
  CHECK(erfinv(0.5) == doctest::Approx(0.4769362762044699).epsilon(1e-14));
  CHECK_THROWS_AS(erfinv(1.0), Error);
}

TEST_CASE("trunc_normal stays in [a, b] with the truncated moments") {
  Generator g(5);
  // Truncation at +-1 std: the variance of N(0,1) restricted to [-1,1] is 0.29112.
  Tensor t = trunc_normal({100000}, 1.0f, -1.0f, 1.0f, 0.0f, &g);
  double s = 0, s2 = 0;
  for (float v : t.to_vector()) {
    CHECK((v >= -1 && v <= 1));
    s += v;
    s2 += double(v) * v;
  }
  CHECK(std::abs(s / t.numel()) < 0.01);
  CHECK(s2 / t.numel() == doctest::Approx(0.29112).epsilon(0.02));
  // timm's usage: std 0.02 with absolute bounds +-2 is practically an untruncated normal.
  Tensor w = trunc_normal({100000}, 0.02f, -2.f, 2.f, 0.f, &g);
  double v2 = 0;
  for (float v : w.to_vector()) v2 += double(v) * v;
  CHECK(std::sqrt(v2 / w.numel()) == doctest::Approx(0.02).epsilon(0.02));
  CHECK_THROWS_AS(trunc_normal({2}, 0.f), Error);
}
