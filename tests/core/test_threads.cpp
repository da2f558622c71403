// Thread settings and thread-count independence: our kernels give bit-identical results with 1
// and 2 threads (which is also what a build without OpenMP computes); OpenBLAS agrees to rounding.
#include <doctest/doctest.h>

#include <cmath>

#include "core/autograd.h"
#include "core/ops.h"
#include "core/rng.h"
#include "core/threads.h"

using namespace vt;

namespace {
// Forward and backward of every op family we implement (no BLAS), as one flat vector.
std::vector<float> run_own_kernels() {
  Generator g(91);
  Tensor x = randn({300, 256}, &g).set_requires_grad();
  Tensor lw = randn({256}, &g).set_requires_grad();
  Tensor h = gelu(layer_norm(x * 2.f + 1.f, lw, Tensor(), 1e-6f));
  Tensor s = softmax(h * 0.1f) + exp(h * 0.01f) + sum(h, {0}, true) + max(h, {1}, true);
  Tensor t = permute(s.reshape({300, 4, 64}), {1, 0, 2});
  Tensor d = dropout(t, 0.1f, true, &g);
  Tensor loss = mean(d * d) + cross_entropy(h, std::vector<int64_t>(300, 3), 0.1f);
  loss.backward();
  std::vector<float> out = loss.to_vector();
  for (const Tensor& p : {x.grad(), lw.grad()}) {
    auto v = p.to_vector();
    out.insert(out.end(), v.begin(), v.end());
  }
  Tensor big = randn({1 << 17}, &g);
  out.push_back(sum(big).item());
  out.push_back(max(big).item());
  return out;
}

template <class F>
std::pair<std::vector<float>, std::vector<float>> with_one_and_two_threads(F f) {
  const int before = num_threads();
  set_num_threads(1);
  auto one = f();
  set_num_threads(2);
  auto two = f();
  set_num_threads(before);
  return {one, two};
}
}  // namespace

TEST_CASE("our kernels give bit-identical results with 1 and 2 threads") {
  // Also what a build with -DVITALITY_OPENMP=OFF computes: each output element is computed the
  // same way whatever the partition of the loop.
  auto [one, two] = with_one_and_two_threads(run_own_kernels);
  REQUIRE(one.size() == two.size());
  size_t mismatches = 0;
  for (size_t i = 0; i < one.size(); ++i) mismatches += one[i] != two[i];
  CHECK(mismatches == 0);
}

TEST_CASE("OpenBLAS results agree across thread counts to rounding") {
  // OpenBLAS may block the K loop differently per thread count, so GEMM agrees only to rounding.
  auto [one, two] = with_one_and_two_threads([] {
    Generator g(92);
    Tensor a = randn({300, 256}, &g), b = randn({256, 128}, &g);
    return matmul(a, b).to_vector();
  });
  float worst = 0;
  for (size_t i = 0; i < one.size(); ++i) worst = std::max(worst, std::abs(one[i] - two[i]));
  CHECK(worst < 1e-4f);
}

TEST_CASE("thread settings") {
  const int before = num_threads();
  set_num_threads(1);
  CHECK(num_threads() == 1);
  set_num_threads(before);
  CHECK_THROWS_AS(set_num_threads(0), Error);
  CHECK(blas_info().find("OpenBLAS") != std::string::npos);
  CHECK(hardware_threads() >= 1);
  CHECK_FALSE(in_parallel_region());
}
