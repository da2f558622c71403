// Softmax attention: a hand-checked case, gradient checks, the fused AVX2 forward against a
// double-precision reference; the kind registry.
#include <doctest/doctest.h>

#include "tests/gradcheck.h"
#include "tests/vit/attention_test_util.h"
#include "vit/attention.h"
#include "vit/attention_kernel.h"

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

TEST_CASE("softmax attention: gradient check with d = 16 (the fused forward where the CPU has AVX2)") {
  Generator g(2);
  CHECK(gradcheck([](const Inputs& x) { return attention_softmax(x[0], x[1], x[2]); },
                  {randn({1, 2, 7, 16}, &g), randn({1, 2, 7, 16}, &g), randn({1, 2, 7, 16}, &g)}));
}

// softmax(s Q K^T) V for one head in double, rows at stride ld.
static std::vector<double> reference_head(int64_t n, int64_t d, const float* q, const float* k, const float* v,
                                          int64_t ld, std::vector<double>* probs) {
  const double s = 1.0 / std::sqrt(static_cast<double>(d));
  std::vector<double> z(n * d, 0.0), p(n * n);
  for (int64_t i = 0; i < n; ++i) {
    double m = -1e300, l = 0;
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (int64_t c = 0; c < d; ++c) acc += double(q[i * ld + c]) * k[j * ld + c];
      p[i * n + j] = s * acc;
      m = std::max(m, p[i * n + j]);
    }
    for (int64_t j = 0; j < n; ++j) l += (p[i * n + j] = std::exp(p[i * n + j] - m));
    for (int64_t j = 0; j < n; ++j) {
      p[i * n + j] /= l;
      for (int64_t c = 0; c < d; ++c) z[i * d + c] += p[i * n + j] * v[j * ld + c];
    }
  }
  if (probs) *probs = p;
  return z;
}

TEST_CASE("softmax attention: the fused forward equals the definition (every row-block remainder, strided rows)") {
  using namespace vt::vit::detail;
  if (!softmax_head_fused_supported(16)) {
    MESSAGE("no AVX2+FMA (or VITALITY_NO_AVX2 is set): the fused forward is not used here");
    return;
  }
  CHECK_FALSE(softmax_head_fused_supported(8));
  CHECK_FALSE(softmax_head_fused_supported(24));
  Generator g(3);
  for (int64_t d : {16, 64})
    for (int64_t n : {1, 5, 6, 7, 13, 16, 17, 197}) {
      CAPTURE(n);
      CAPTURE(d);
      const int64_t ld = 3 * d + 8;  // q, k, v side by side in each row, as in the qkv projection's output
      Tensor qkv = randn({n, ld}, &g) * 2.f;
      const float *q = qkv.data(), *k = q + d, *v = q + 2 * d;
      std::vector<double> want_p;
      const std::vector<double> want = reference_head(n, d, q, k, v, ld, &want_p);
      for (bool with_p : {false, true})
        for (int64_t split : {int64_t{0}, std::min<int64_t>(n, 6), n / 2}) {  // rows [0, split) and [split, n)
          std::vector<float> z(n * (d + 3), -7.f), p(with_p ? n * n : 0, -7.f);
          const float s = 1.f / std::sqrt(static_cast<float>(d));
          for (auto [r0, r1] : {std::pair<int64_t, int64_t>{0, split}, {split, n}})
            if (r0 < r1)
              softmax_head_fused(n, d, s, q, ld, k, ld, v, ld, z.data(), d + 3, with_p ? p.data() : nullptr, r0, r1);
          double err = 0, perr = 0;
          for (int64_t i = 0; i < n; ++i) {
            for (int64_t c = 0; c < d; ++c) err = std::max(err, std::fabs(z[i * (d + 3) + c] - want[i * d + c]));
            for (int64_t c = d; c < d + 3; ++c) CHECK(z[i * (d + 3) + c] == -7.f);  // nothing written past a row
          }
          for (size_t i = 0; i < p.size(); ++i) perr = std::max(perr, std::fabs(p[i] - want_p[i]));
          CHECK(err < 2e-5);
          CHECK(perr < 4e-6);  // scores up to ~30 here: a few float ulps of the exponent
        }
    }
}

TEST_CASE("softmax attention: forward and backward (fused on AVX2 CPUs) equal the composite of core ops") {
  // softmax(s q k^T) v from matmul and softmax, whose gradients core's own tests check
  Generator g(4);
  for (int64_t d : {16, 64})
    for (int64_t n : {5, 13, 197}) {
      CAPTURE(n);
      CAPTURE(d);
      Tensor q0 = randn({2, 3, n, d}, &g), k0 = randn({2, 3, n, d}, &g), v0 = randn({2, 3, n, d}, &g),
             w = randn({2, 3, n, d}, &g);
      std::vector<Tensor> got, want;
      for (int pass = 0; pass < 2; ++pass) {
        Tensor q = q0.detach().set_requires_grad(), k = k0.detach().set_requires_grad(),
               v = v0.detach().set_requires_grad();
        Tensor z = pass == 0 ? attention_softmax(q, k, v)
                             : matmul(softmax(matmul(q, k, false, true) * (1.f / std::sqrt(float(d)))), v);
        sum(z * w, {}).backward();
        (pass == 0 ? got : want) = {q.grad(), k.grad(), v.grad()};
      }
      for (int i = 0; i < 3; ++i) {
        const float scale = vt::testing::max_abs_diff(want[i], zeros(want[i].shape()));
        CHECK(vt::testing::max_abs_diff(got[i], want[i]) < 1e-5f * (1 + scale));
      }
    }
}

TEST_CASE("attention kinds are found by name, and an unknown one is an error listing them") {
  for (const char* name : {"softmax", "taylor", "sparse", "vitality"})
    CHECK(std::string(attention_kind(name).name) == name);
  CHECK(std::string(attention_kind("vitality").deployed().name) == "taylor");
  CHECK(&attention_kind("softmax").deployed() == &attention_kind("softmax"));
  CHECK_THROWS_WITH_AS(attention_kind("linear"), "unknown attention kind 'linear' (softmax, taylor, sparse, vitality)",
                       Error);
}
