// SANGER sparse attention: equals softmax attention with theta = 0, the mask (CSR) is what the
// definition says, the mask carries no gradient, work follows nnz, density is reported.
#include <doctest/doctest.h>

#include "core/trace.h"
#include "tests/gradcheck.h"
#include "tests/vit/attention_test_util.h"
#include "vit/attention.h"
#include "vit/sparse_mask.h"

using namespace vt;
using namespace vt::vit;
using vt::testing::gradcheck;
using vt::testing::Inputs;
using vt::testing::max_abs_diff;

TEST_CASE("sparse: theta = 0 keeps every pair and equals softmax attention") {
  Generator g(7);
  Tensor q0 = randn({2, 2, 11, 4}, &g), k0 = randn({2, 2, 11, 4}, &g), v0 = randn({2, 2, 11, 4}, &g);
  Tensor w = randn({2, 2, 11, 4}, &g);
  SparseStats stats;
  Tensor grads[2][3], outs[2];
  for (int pass = 0; pass < 2; ++pass) {
    Tensor q = q0.clone().set_requires_grad(), k = k0.clone().set_requires_grad(), v = v0.clone().set_requires_grad();
    outs[pass] = pass ? attention_sparse(q, k, v, MaskOptions{0.f, true}, &stats) : attention_softmax(q, k, v);
    sum(outs[pass] * w).backward();
    grads[pass][0] = q.grad();
    grads[pass][1] = k.grad();
    grads[pass][2] = v.grad();
  }
  CHECK(max_abs_diff(outs[0], outs[1]) < 1e-5f);
  for (int i = 0; i < 3; ++i) CHECK(max_abs_diff(grads[0][i], grads[1][i]) < 1e-5f);
  REQUIRE(stats.density.size() == 2);
  CHECK(stats.density[0] == doctest::Approx(1.0));
}

TEST_CASE("sparse: the predicted mask follows its definition") {
  Generator g(8);
  const int64_t n = 13, d = 6;
  Tensor q = randn({n, d}, &g) * 2.f, k = randn({n, d}, &g) * 2.f;
  MaskOptions opt{0.05f, true};
  CsrMask m = predict_mask(q.data(), d, k.data(), d, n, d, opt);
  // Reference: quantise with the definition, dense softmax in double.
  auto quant = [](const Tensor& x) {
    float amax = 0;
    for (float v : x.to_vector()) amax = std::max(amax, std::fabs(v));
    const float scale = amax / 7.f;
    Tensor out = empty(x.shape());
    for (int64_t i = 0; i < x.numel(); ++i)
      out.data()[i] = std::min(7.f, std::max(-7.f, std::nearbyint(x.data()[i] / scale))) * scale;
    return out;
  };
  Tensor s = matmul(quant(q), quant(k), false, true) * (1.f / std::sqrt(float(d)));
  Tensor p = softmax(s);
  REQUIRE(m.row_ptr.size() == size_t(n + 1));
  int64_t expected_nnz = 0;
  for (int64_t i = 0; i < n; ++i) {
    std::vector<int32_t> want;
    const std::vector<int64_t> arg = argmax(slice(s, 0, i, i + 1));
    for (int64_t j = 0; j < n; ++j)
      if (p.at({i, j}) > opt.threshold || j == arg[0]) want.push_back(static_cast<int32_t>(j));
    std::vector<int32_t> got(m.col.begin() + m.row_ptr[i], m.col.begin() + m.row_ptr[i + 1]);
    CHECK(got == want);  // sorted columns, argmax always present
    expected_nnz += static_cast<int64_t>(want.size());
  }
  CHECK(m.nnz() == expected_nnz);
  CHECK(m.nnz() < n * n);  // the threshold drops something here
  // No row is empty even with a threshold nothing passes.
  CsrMask tight = predict_mask(q.data(), d, k.data(), d, n, d, MaskOptions{1.f, true});
  CHECK(tight.nnz() == n);
}

TEST_CASE("sparse: gradients flow through kept entries only; the mask has none") {
  Generator g(9);
  const int64_t heads = 2, n = 6;
  // A fixed random mask (with every row non-empty): finite differences never change it.
  std::vector<CsrMask> masks;
  for (int64_t h = 0; h < heads; ++h) {
    CsrMask m;
    m.row_ptr.push_back(0);
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < n; ++j)
        if (j == i || g.uniform() < 0.4) m.col.push_back(static_cast<int32_t>(j));
      m.row_ptr.push_back(static_cast<int32_t>(m.col.size()));
    }
    masks.push_back(m);
  }
  CHECK(
      gradcheck([masks](const Inputs& x) { return vit::detail::attention_sparse_with_masks(x[0], x[1], x[2], masks); },
                {randn({1, 2, n, 3}, &g), randn({1, 2, n, 3}, &g), randn({1, 2, n, 3}, &g)}));
  // A key that no row keeps gets no gradient (its column is masked everywhere).
  std::vector<CsrMask> skip_last = vit::detail::full_masks(1, n, true);
  CsrMask m;
  m.row_ptr.push_back(0);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n - 1; ++j) m.col.push_back(static_cast<int32_t>(j));
    m.row_ptr.push_back(static_cast<int32_t>(m.col.size()));
  }
  Tensor q = randn({1, 1, n, 3}, &g).set_requires_grad(), k = randn({1, 1, n, 3}, &g).set_requires_grad(),
         v = randn({1, 1, n, 3}, &g).set_requires_grad();
  sum(vit::detail::attention_sparse_with_masks(q, k, v, {m})).backward();
  for (int64_t c = 0; c < 3; ++c) {
    CHECK(k.grad().at({0, 0, n - 1, c}) == 0.f);
    CHECK(v.grad().at({0, 0, n - 1, c}) == 0.f);
  }
}

TEST_CASE("sparse: the trace counts work on kept entries and carries the row counts") {
  Generator g(10);
  Tensor q = randn({1, 2, 12, 4}, &g) * 3.f, k = randn({1, 2, 12, 4}, &g) * 3.f, v = randn({1, 2, 12, 4}, &g);
  Trace trace;
  SparseStats stats;
  {
    TraceSession on(trace);
    attention_sparse(q, k, v, MaskOptions{0.05f, true}, &stats);
  }
  const TraceRecord* sddmm = nullptr;
  for (const TraceRecord& r : trace.records)
    if (r.kind == "sddmm") sddmm = &r;
  REQUIRE(sddmm);
  const double nnz = sddmm->attrs.at("nnz");
  CHECK(sddmm->flops == 2 * nnz * 4);
  CHECK(nnz < 2 * 12 * 12);
  REQUIRE(sddmm->mask);
  CHECK(sddmm->mask->heads * sddmm->mask->rows == 24);
  CHECK(double(sddmm->mask->nnz()) == nnz);  // the mask every head kept
  CHECK(stats.density[0] + stats.density[1] == doctest::Approx(nnz / 144.0));
}
