// ViTALiTy attention: all pairs kept = softmax attention, no pair kept = Taylor attention,
// gradient check on a fixed mask, and the overflow guard.
#include <doctest/doctest.h>

#include "tests/gradcheck.h"
#include "tests/vit/attention_test_util.h"
#include "vit/attention.h"
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
  check_same(run([&](auto& a, auto& b, auto& c) { return vit::detail::attention_vitality_with_masks(a, b, c, all); }, q, k, v, w),
             run([](auto& a, auto& b, auto& c) { return attention_softmax(a, b, c); }, q, k, v, w), 1e-5f);
  // theta < 0 makes the predictor keep every pair too
  check_same(run([](auto& a, auto& b, auto& c) { return attention_vitality(a, b, c, MaskOptions{-1.f, true}); }, q, k, v, w),
             run([](auto& a, auto& b, auto& c) { return attention_softmax(a, b, c); }, q, k, v, w), 1e-5f);
}

TEST_CASE("vitality: keeping no pair gives Taylor attention, forward and backward") {
  Generator g(12);
  Shape s{1, 3, 8, 4};
  Tensor q = randn(s, &g), k = randn(s, &g), v = randn(s, &g), w = randn(s, &g);
  auto none = vit::detail::full_masks(3, 8, false);
  check_same(run([&](auto& a, auto& b, auto& c) { return vit::detail::attention_vitality_with_masks(a, b, c, none); }, q, k, v, w),
             run([](auto& a, auto& b, auto& c) { return attention_taylor(a, b, c); }, q, k, v, w), 1e-5f);
  check_same(run([](auto& a, auto& b, auto& c) { return attention_vitality(a, b, c, MaskOptions{2.f, false}); }, q, k, v, w),
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
  CHECK(gradcheck([masks](const Inputs& x) { return vit::detail::attention_vitality_with_masks(x[0], x[1], x[2], masks); },
                  {randn({2, 1, n, 3}, &g), randn({2, 1, n, 3}, &g), randn({2, 1, n, 3}, &g)}));
}

TEST_CASE("vitality: huge scores stay finite (the exp guard)") {
  Generator g(14);
  Shape s{1, 1, 7, 4};
  Tensor q = randn(s, &g) * 40.f, k = randn(s, &g) * 40.f, v = randn(s, &g);  // scores ~ 1e3: exp overflows
  auto all = vit::detail::full_masks(1, 7, true);
  Tensor w = randn(s, &g);
  Run a = run([&](auto& x, auto& y, auto& z) { return vit::detail::attention_vitality_with_masks(x, y, z, all); }, q, k, v, w);
  for (const Tensor& t : {a.z, a.dq, a.dk, a.dv})
    for (float x : t.to_vector()) CHECK(std::isfinite(x));
  CHECK(max_abs_diff(a.z, attention_softmax(q, k, v)) < 1e-4f);
}
