// matmul: BLAS against the naive reference for every transpose combination and odd sizes,
// batched and shared-operand forms, gradient checks, error messages.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/ops.h"
#include "core/rng.h"
#include "tests/gradcheck.h"

using namespace vt;
using vt::testing::check_values;
using vt::testing::gradcheck;
using vt::testing::Inputs;
using vt::testing::max_abs_diff;

namespace {
Shape operand(int64_t rows, int64_t cols, bool trans) { return trans ? Shape{cols, rows} : Shape{rows, cols}; }
}  // namespace

TEST_CASE("matmul: a hand-computed product") {
  Tensor a = from_data({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = from_data({7, 8, 9, 10, 11, 12}, {3, 2});
  check_values(matmul(a, b), {58, 64, 139, 154});
  check_values(matmul(a, a, false, true), {14, 32, 32, 77});
  check_values(matmul(a, a, true, false), {17, 22, 27, 22, 29, 36, 27, 36, 45});
}

TEST_CASE("matmul: BLAS equals the reference for all transposes and odd sizes") {
  Generator g(41);
  const int64_t sizes[] = {1, 3, 17, 64, 197};
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (int64_t M : sizes)
        for (int64_t N : sizes)
          for (int64_t K : sizes) {
            Tensor a = randn(operand(M, K, ta), &g), b = randn(operand(K, N, tb), &g);
            Tensor fast = matmul(a, b, ta, tb), ref = matmul_reference(a, b, ta, tb);
            REQUIRE(fast.shape() == Shape{M, N});
            const float tol = 1e-5f * static_cast<float>(K) + 1e-5f;
            if (max_abs_diff(fast, ref) > tol) {
              FAIL_CHECK("mismatch for M=" << M << " N=" << N << " K=" << K << " ta=" << ta << " tb=" << tb);
            }
          }
}

TEST_CASE("matmul: batched and shared operands") {
  Generator g(42);
  Tensor a = randn({2, 3, 4, 5}, &g);  // batch (2,3) of 4x5
  Tensor w = randn({5, 6}, &g);
  Tensor bb = randn({2, 3, 5, 6}, &g);
  CHECK(matmul(a, w).shape() == Shape{2, 3, 4, 6});
  CHECK(max_abs_diff(matmul(a, w), matmul_reference(a, w)) < 1e-5f);
  CHECK(max_abs_diff(matmul(a, bb), matmul_reference(a, bb)) < 1e-5f);
  Tensor bt = randn({2, 3, 6, 4}, &g);  // op(a) = (5,4), op(bt) = (4,6)
  CHECK(max_abs_diff(matmul(a, bt, true, true), matmul_reference(a, bt, true, true)) < 1e-5f);
  Tensor shared_a = randn({4, 5}, &g);
  CHECK(matmul(shared_a, bb).shape() == Shape{2, 3, 4, 6});
  CHECK(max_abs_diff(matmul(shared_a, bb), matmul_reference(shared_a, bb)) < 1e-5f);
}

TEST_CASE("matmul: gradient checks for every form") {
  Generator g(43);
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      CAPTURE(ta);
      CAPTURE(tb);
      auto f = [ta, tb](const Inputs& i) { return matmul(i[0], i[1], ta, tb); };
      CHECK(gradcheck(f, {randn(operand(3, 4, ta), &g), randn(operand(4, 2, tb), &g)}));
      // batched x shared 2-D weight
      Shape sa = operand(3, 4, ta);
      sa.insert(sa.begin(), 2);
      CHECK(gradcheck(f, {randn(sa, &g), randn(operand(4, 2, tb), &g)}));
      // batched x batched
      Shape sb = operand(4, 2, tb);
      sb.insert(sb.begin(), 2);
      CHECK(gradcheck(f, {randn(sa, &g), randn(sb, &g)}));
      // shared 2-D x batched
      CHECK(gradcheck(f, {randn(operand(3, 4, ta), &g), randn(sb, &g)}));
    }
}

TEST_CASE("matmul: errors name the shapes") {
  CHECK_THROWS_WITH_AS(matmul(zeros({2, 3}), zeros({4, 5})), "matmul: (2,3) @ (4,5): inner dimensions 3 != 4", Error);
  CHECK_THROWS_WITH_AS(matmul(zeros({2, 3}), zeros({4, 3}), true, false),
                       "matmul: (2,3)^T @ (4,3): inner dimensions 2 != 4", Error);
  CHECK_THROWS_AS(matmul(zeros({3}), zeros({3, 2})), Error);
  CHECK_THROWS_WITH_AS(
      matmul(zeros({2, 2, 3}), zeros({3, 3, 4})),
      "matmul: (2,2,3) @ (3,3,4): batch dimensions (2,) and (3,) differ (a 2-D operand is shared across the batch)",
      Error);
  CHECK(matmul(zeros({2, 0}), zeros({0, 3})).to_vector() == std::vector<float>(6, 0.f));
}

TEST_CASE("gemm_then: panelled products equal the reference, and the epilogue sees every row once") {
  // 2600 rows is past the row-panel threshold (8 panels of 256), so with 2 threads the product
  // runs as single-threaded BLAS calls on panels; 300 rows is one threaded call.
  Generator g(5);
  for (int64_t M : {300, 2600}) {
    for (bool ta : {false, true}) {
      CAPTURE(M);
      CAPTURE(ta);
      const int64_t N = 24, K = 40;
      Tensor a = randn(operand(M, K, ta), &g), b = randn({K, N}, &g);
      Tensor c = full({M, N}, 1.f);
      std::vector<int> seen(M, 0);
      gemm_then(ta, false, M, N, K, 1.f, a.data(), ta ? M : K, b.data(), N, 1.f, c.data(), N,
                [&](int64_t r0, int64_t rows) {
                  for (int64_t r = r0; r < r0 + rows; ++r) ++seen[r];
                });
      CHECK(std::count(seen.begin(), seen.end(), 1) == M);
      CHECK(max_abs_diff(c, matmul_reference(a, b, ta, false) + 1.f) < 1e-4f);
    }
  }
}

TEST_CASE("gemm_serial: every transpose, edge sizes, alpha and beta, strided operands") {
  // On AVX2 CPUs the packed micro-kernel (6-row blocks, 16-column panels): sizes around 6 and 16.
  Generator g(7);
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (int64_t M : {1, 5, 6, 7, 13})
        for (int64_t N : {1, 15, 16, 17, 40})
          for (int64_t K : {0, 1, 9, 64}) {
            CAPTURE(ta);
            CAPTURE(tb);
            CAPTURE(M);
            CAPTURE(N);
            CAPTURE(K);
            const float alpha = K % 2 ? 0.5f : 1.f, beta = N % 2 ? 0.f : -0.25f;
            // stored operands with 2 spare columns: lda, ldb, ldc are 2 more than the rows read
            const Shape sa = ta ? Shape{K, M + 2} : Shape{M, K + 2}, sb = tb ? Shape{N, K + 2} : Shape{K, N + 2};
            Tensor a = randn(sa, &g), b = randn(sb, &g), c = randn({M, N + 2}, &g);
            Tensor a_used = slice(a, -1, 0, ta ? M : K), b_used = slice(b, -1, 0, tb ? K : N);
            Tensor want = matmul_reference(a_used, b_used, ta, tb) * alpha + slice(c, -1, 0, N) * beta;
            std::vector<float> before = c.to_vector();
            gemm_serial(ta, tb, M, N, K, alpha, a.data(), a.size(-1), b.data(), b.size(-1), beta, c.data(), N + 2);
            CHECK(max_abs_diff(slice(c, -1, 0, N), want) < 1e-4f);
            std::vector<float> after = c.to_vector();
            for (int64_t i = 0; i < M; ++i)  // the spare columns are untouched
              for (int64_t j = N; j < N + 2; ++j) CHECK(after[i * (N + 2) + j] == before[i * (N + 2) + j]);
          }
}
