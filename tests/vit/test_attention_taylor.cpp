// Taylor attention (Algorithm 1): the six steps against the closed form and the explicit
// quadratic form, forward and backward; gradient check; linear memory; trace records.
#include <doctest/doctest.h>

#include "core/trace.h"
#include "tests/gradcheck.h"
#include "tests/vit/attention_test_util.h"
#include "vit/attention.h"

using namespace vt;
using namespace vt::vit;
using vt::testing::gradcheck;
using vt::testing::Inputs;
using vt::testing::max_abs_diff;

TEST_CASE("taylor: the six steps equal the closed form and the quadratic form") {
  Generator g(2);
  // keys with a large shared offset: centring must remove it
  Tensor q = randn({2, 3, 17, 8}, &g), k = randn({2, 3, 17, 8}, &g) + 3.f, v = randn({2, 3, 17, 8}, &g);
  Tensor z = attention_taylor(q, k, v);
  CHECK(max_abs_diff(z, testing::taylor_closed_form(q, k, v)) < 1e-5f);
  CHECK(max_abs_diff(z, testing::taylor_quadratic(q, k, v)) < 1e-5f);
}

TEST_CASE("taylor: backward equals the quadratic form's autograd") {
  Generator g(3);
  Tensor q0 = randn({1, 2, 9, 4}, &g), k0 = randn({1, 2, 9, 4}, &g), v0 = randn({1, 2, 9, 4}, &g),
         w = randn({1, 2, 9, 4}, &g);
  Tensor grads[2][3];
  for (int pass = 0; pass < 2; ++pass) {
    Tensor q = q0.clone().set_requires_grad(), k = k0.clone().set_requires_grad(), v = v0.clone().set_requires_grad();
    Tensor z = pass ? attention_taylor(q, k, v) : testing::taylor_quadratic(q, k, v);
    sum(z * w).backward();
    grads[pass][0] = q.grad();
    grads[pass][1] = k.grad();
    grads[pass][2] = v.grad();
  }
  for (int i = 0; i < 3; ++i) CHECK(max_abs_diff(grads[0][i], grads[1][i]) < 1e-5f);
}

TEST_CASE("taylor: gradient check") {
  Generator g(4);
  CHECK(gradcheck([](const Inputs& x) { return attention_taylor(x[0], x[1], x[2]); },
                  {randn({2, 1, 6, 3}, &g), randn({2, 1, 6, 3}, &g), randn({2, 1, 6, 3}, &g)}));
}

TEST_CASE("taylor: memory grows linearly with the tokens (no n x n matrix)") {
  Generator g(5);
  const int64_t n = 2048, d = 16;
  Tensor q = randn({1, 1, n, d}, &g), k = randn({1, 1, n, d}, &g), v = randn({1, 1, n, d}, &g);
  reset_peak_memory();
  const int64_t before = memory_stats().live_bytes;
  Tensor z = attention_taylor(q, k, v);
  const int64_t extra = memory_stats().peak_bytes - before;
  // the output and O(d^2 + n) state; an n x n score matrix alone would be 16 MB
  CHECK(extra < 4 * (2 * n * d + 2 * d * d + 8 * d + 2 * n) + 4096);
}

TEST_CASE("taylor: one trace record per step of Algorithm 1") {
  Generator g(6);
  Tensor q = randn({2, 3, 10, 4}, &g);
  Trace trace;
  {
    TraceSession on(trace);
    attention_taylor(q, q, q);
  }
  std::vector<std::string> steps, kinds;
  for (const TraceRecord& r : trace.records) {
    steps.push_back(r.step);
    kinds.push_back(r.kind);
    CHECK(r.step_of == "taylor");
  }
  CHECK(steps == std::vector<std::string>{"1a", "1b", "1c", "2", "3a", "3b", "4a", "4b", "5a", "5b", "6"});
  CHECK(kinds == std::vector<std::string>{"column_sum", "divide", "add", "gemm", "column_sum", "column_sum", "gemm",
                                          "add", "gemm", "add", "divide"});
  const TraceRecord& context = trace.records[3];
  CHECK(context.step_name == "G = Khat^T V");
  CHECK(context.flops == 2.0 * 6 * 10 * 4 * 4);  // 2 n d^2 per head
  CHECK(context.attrs.at("heads") == 6);
  CHECK((context.attrs.at("M") == 4 && context.attrs.at("N") == 4 && context.attrs.at("K") == 10));
  // 4a needs all of khat_sum (a reduction over every token) and streams Q
  const TraceRecord& q_ksum = trace.records[6];
  REQUIRE(q_ksum.operands.size() == 2);
  CHECK((q_ksum.operands[0].from == "q" && q_ksum.operands[0].use == TraceOperand::Use::kStream));
  CHECK((q_ksum.operands[1].from == "3a" && q_ksum.operands[1].use == TraceOperand::Use::kWhole));
}

TEST_CASE("taylor: the normaliser guard keeps t_D near n sqrt(d) when rounding is amplified") {
  // Keys with a common offset of 3e4 lose their low bits in the centring (float spacing there is
  // 0.002), so khat_sum = 1^T Khat, exactly 0 in real arithmetic, keeps a residue of about 1e-2;
  // queries of 1e6 amplify it to a correction q . khat_sum of about 1e4, against n sqrt(d) = 16.
  Generator g(31);
  const int64_t n = 8, d = 4;
  Tensor q = randn({1, 1, n, d}, &g) * 1e6f, k = randn({1, 1, n, d}, &g) + 3e4f, v = randn({1, 1, n, d}, &g);
  // Without the guard, step 4 as written: t_D = n sqrt(d) + Q (1^T Khat)^T, in float.
  Tensor khat = k - mean(k, {-2}, true);
  Tensor t_unguarded = matmul(q, sum(khat, {-2}, true), false, true) + static_cast<float>(n * std::sqrt(double(d)));
  float worst = 1e30f;
  for (float t : t_unguarded.to_vector()) worst = std::min(worst, t);
  CHECK(worst < 0.f);  // some row's normaliser changed sign: the inputs do provoke the failure
  // With the guard: finite, and within 0.1% (the clamp) plus rounding of the closed form
  // Z = 1 vbar + s Q (Khat^T V) / n, which has no normaliser at all.
  Tensor z = attention_taylor(q, k, v), ref = vt::testing::taylor_closed_form(q, k, v);
  for (float x : z.to_vector()) CHECK(std::isfinite(x));
  const std::vector<float> a = z.to_vector(), b = ref.to_vector();
  for (size_t i = 0; i < a.size(); ++i) CHECK(a[i] == doctest::Approx(b[i]).epsilon(2e-3).scale(1e2));
  // and the gradients stay finite
  Tensor qg = q.clone().set_requires_grad(), kg = k.clone().set_requires_grad(), vg = v.clone().set_requires_grad();
  sum(attention_taylor(qg, kg, vg)).backward();
  for (const Tensor& grad : {qg.grad(), kg.grad(), vg.grad()})
    for (float x : grad.to_vector()) CHECK(std::isfinite(x));
}
