// ViTALiTy attention: all pairs kept = softmax attention, no pair kept = Taylor attention,
// gradient check on a fixed mask, and the overflow guard.
#include <doctest/doctest.h>

#include "tests/gradcheck.h"
#include "tests/vit/attention_test_util.h"
#include "vit/attention.h"
#include "vit/attention_registry.h"
#include "vit/sparse_mask.h"

using namespace vt;
using namespace vt::vit;
using vt::testing::gradcheck;
using vt::testing::Inputs;
using vt::testing::max_abs_diff;

namespace {
// Forward and input gradients of f for fixed inputs and a fixed output weighting.
struct Run {
  Tensor z, dq, dk, dv;
};
template <class F>
Run run(F f, const Tensor& q0, const Tensor& k0, const Tensor& v0, const Tensor& w) {
  Tensor q = q0.clone().set_requires_grad(), k = k0.clone().set_requires_grad(), v = v0.clone().set_requires_grad();
  Tensor z = f(q, k, v);
  sum(z * w).backward();
  return {z, q.grad(), k.grad(), v.grad()};
}
void check_same(const Run& a, const Run& b, float tol) {
  CHECK(max_abs_diff(a.z, b.z) < tol);
  CHECK(max_abs_diff(a.dq, b.dq) < tol);
  CHECK(max_abs_diff(a.dk, b.dk) < tol);
  CHECK(max_abs_diff(a.dv, b.dv) < tol);
}
}  // namespace

TEST_CASE("vitality: keeping every pair gives softmax attention, forward and backward") {
  Generator g(11);
  Shape s{2, 2, 9, 4};
  Tensor q = randn(s, &g), k = randn(s, &g) + 1.f, v = randn(s, &g), w = randn(s, &g);
  auto all = vit::detail::full_masks(4, 9, true);
  check_same(run([&](auto& a, auto& b, auto& c) { return vit::detail::attention_vitality_with_masks(a, b, c, all); }, q,
                 k, v, w),
             run([](auto& a, auto& b, auto& c) { return attention_softmax(a, b, c); }, q, k, v, w), 1e-5f);
  // theta < 0 makes the predictor keep every pair too
  check_same(run(
                 [](auto& a, auto& b, auto& c) {
                   return attention_vitality(a, b, c, MaskOptions{-1.f, true});
                 },
                 q, k, v, w),
             run([](auto& a, auto& b, auto& c) { return attention_softmax(a, b, c); }, q, k, v, w), 1e-5f);
}

TEST_CASE("vitality: keeping no pair gives Taylor attention, forward and backward") {
  Generator g(12);
  Shape s{1, 3, 8, 4};
  Tensor q = randn(s, &g), k = randn(s, &g), v = randn(s, &g), w = randn(s, &g);
  auto none = vit::detail::full_masks(3, 8, false);
  check_same(run([&](auto& a, auto& b, auto& c) { return vit::detail::attention_vitality_with_masks(a, b, c, none); },
                 q, k, v, w),
             run([](auto& a, auto& b, auto& c) { return attention_taylor(a, b, c); }, q, k, v, w), 1e-5f);
  check_same(run(
                 [](auto& a, auto& b, auto& c) {
                   return attention_vitality(a, b, c, MaskOptions{2.f, false});
                 },
                 q, k, v, w),
             run([](auto& a, auto& b, auto& c) { return attention_taylor(a, b, c); }, q, k, v, w), 1e-5f);
}

TEST_CASE("vitality: gradient check on a fixed partial mask") {
  Generator g(13);
  const int64_t n = 6;
  CsrMask m;
  m.row_ptr.push_back(0);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j)
      if ((i + j) % 3 == 0) m.col.push_back(static_cast<int32_t>(j));
    m.row_ptr.push_back(static_cast<int32_t>(m.col.size()));
  }
  std::vector<CsrMask> masks(2, m);
  CHECK(gradcheck(
      [masks](const Inputs& x) { return vit::detail::attention_vitality_with_masks(x[0], x[1], x[2], masks); },
      {randn({2, 1, n, 3}, &g), randn({2, 1, n, 3}, &g), randn({2, 1, n, 3}, &g)}));
}

TEST_CASE("vitality: huge scores stay finite (the exp guard)") {
  Generator g(14);
  Shape s{1, 1, 7, 4};
  Tensor q = randn(s, &g) * 40.f, k = randn(s, &g) * 40.f, v = randn(s, &g);  // scores ~ 1e3: exp overflows
  auto all = vit::detail::full_masks(1, 7, true);
  Tensor w = randn(s, &g);
  Run a = run([&](auto& x, auto& y, auto& z) { return vit::detail::attention_vitality_with_masks(x, y, z, all); }, q, k,
              v, w);
  for (const Tensor& t : {a.z, a.dq, a.dk, a.dv})
    for (float x : t.to_vector()) CHECK(std::isfinite(x));
  CHECK(max_abs_diff(a.z, attention_softmax(q, k, v)) < 1e-4f);
}

namespace {
// The definition with a dense 0/1 mask M and the residual's weight lambda, in core ops:
// W = 1 + S + lambda M o (exp(S) - 1 - S) with S = s Q Khat^T;  Z = W V / rowsum(W).
Tensor vitality_reference(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, float lambda) {
  const float s = 1.f / std::sqrt(static_cast<float>(q.size(-1)));
  Tensor khat = k - mean(k, {-2}, true);
  Tensor S = matmul(q, khat, false, true) * s;
  Tensor W = S + 1.f + (exp(S) - S - 1.f) * mask * lambda;
  return matmul(W, v) / sum(W, {-1}, true);
}
// A partial mask, the same for every head, as CSR and as a dense (1, 1, n, n) tensor.
std::pair<CsrMask, Tensor> stripes(int64_t n) {
  CsrMask m;
  std::vector<float> dense(static_cast<size_t>(n * n), 0.f);
  m.row_ptr.push_back(0);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j)
      if ((i + j) % 3 == 0 || i == j) {
        m.col.push_back(static_cast<int32_t>(j));
        dense[static_cast<size_t>(i * n + j)] = 1.f;
      }
    m.row_ptr.push_back(static_cast<int32_t>(m.col.size()));
  }
  return {m, from_data(dense, {1, 1, n, n})};
}
}  // namespace

TEST_CASE("vitality: the annealed residual (0 < lambda < 1) equals its definition, forward and backward") {
  Generator g(15);
  const int64_t n = 7;
  Shape s{2, 2, n, 4};
  const auto [csr, dense] = stripes(n);
  const std::vector<CsrMask> masks(4, csr);
  Tensor q = randn(s, &g), k = randn(s, &g), v = randn(s, &g), w = randn(s, &g);
  for (float lambda : {0.25f, 0.5f, 0.9f}) {
    CAPTURE(lambda);
    check_same(run([&](auto& a, auto& b,
                       auto& c) { return vit::detail::attention_vitality_with_masks(a, b, c, masks, nullptr, lambda); },
                   q, k, v, w),
               run([&](auto& a, auto& b, auto& c) { return vitality_reference(a, b, c, dense, lambda); }, q, k, v, w),
               2e-5f);
  }
  CHECK(gradcheck(
      [masks](const Inputs& x) {
        return vit::detail::attention_vitality_with_masks(x[0], x[1], x[2], masks, nullptr, 0.5f);
      },
      {randn(s, &g), randn(s, &g), randn(s, &g)}));
}

TEST_CASE("vitality: at weight 0 the kind runs Taylor attention and reports no mask") {
  Generator g(16);
  Tensor qkv = randn({2, 9, 3 * 8}, &g);  // (B, n, 3D) with D = 8 over 2 heads
  MaskOptions opt;
  opt.threshold = 0.f;  // every pair kept while the residual is on
  SparseStats stats;
  opt.residual_weight = 0.3f;
  attention_packed(qkv, 2, attention_kind("vitality"), opt, &stats);
  CHECK(stats.density.size() == 2);  // the mask was used: its density is reported
  opt.residual_weight = 0.f;
  Tensor z = attention_packed(qkv, 2, attention_kind("vitality"), opt, &stats);
  CHECK(stats.density.empty());  // no mask at weight 0: nothing stale is reported
  CHECK(max_abs_diff(z, attention_packed(qkv, 2, attention_kind("taylor"), opt, nullptr)) == 0.f);
}

TEST_CASE("vitality: the anneal is 1 at the first step, 0 from its end on, strictly between in between") {
  const AttentionKindSpec& k = attention_kind("vitality");
  REQUIRE(bool(k.residual_weight));
  CHECK_FALSE(bool(attention_kind("taylor").residual_weight));
  const ResidualAnneal a{true, 0.25};
  CHECK(k.residual_weight(0.0, a) == 1.f);
  CHECK(k.residual_weight(0.125, a) == doctest::Approx(0.5));  // half way through the anneal
  CHECK(k.residual_weight(0.25, a) == 0.f);
  CHECK(k.residual_weight(0.9, a) == 0.f);
  for (double p = 0.01; p < 0.25; p += 0.01) {
    CHECK(k.residual_weight(p, a) > 0.f);
    CHECK(k.residual_weight(p, a) < 1.f);
    CHECK(k.residual_weight(p, a) < k.residual_weight(p - 0.01, a));  // strictly falling
  }
  CHECK(k.residual_weight(0.5, ResidualAnneal{false, 0.25}) == 1.f);  // --sparse-anneal none
}

TEST_CASE("vitality: the low-rank normaliser is guarded like Taylor's") {
  Generator g(17);
  const int64_t n = 8, d = 4;
  Tensor q = randn({1, 1, n, d}, &g) * 1e6f, k = randn({1, 1, n, d}, &g) + 3e4f, v = randn({1, 1, n, d}, &g);
  auto none = vit::detail::full_masks(1, n, false);  // no pair kept: the low-rank part alone
  Tensor z = vit::detail::attention_vitality_with_masks(q, k, v, none);
  const std::vector<float> a = z.to_vector(), b = vt::testing::taylor_closed_form(q, k, v).to_vector();
  for (size_t i = 0; i < a.size(); ++i) CHECK(a[i] == doctest::Approx(b[i]).epsilon(2e-3).scale(1e2));
}
