// dropout: seeded masks, scaling, identity in eval, gradient through the same mask.
#include <doctest/doctest.h>

#include <cmath>

#include "core/ops.h"
#include "core/rng.h"
#include "tests/gradcheck.h"

using namespace vt;
using vt::testing::gradcheck;
using vt::testing::Inputs;

TEST_CASE("dropout keeps about 1-p of the entries, scaled by 1/(1-p)") {
  Generator g(81);
  Tensor x = ones({100000});
  Tensor y = dropout(x, 0.3f, /*training=*/true, &g);
  int64_t kept = 0;
  for (float v : y.to_vector()) {
    CHECK((v == 0.f || std::abs(v - 1 / 0.7f) < 1e-6f));
    kept += v != 0.f;
  }
  CHECK(std::abs(kept / 100000.0 - 0.7) < 0.01);
  CHECK(dropout(x, 0.3f, /*training=*/false, &g).same_storage(x));
  CHECK(sum(dropout(x, 1.f, true, &g)).item() == 0.f);
  CHECK_THROWS_AS(dropout(x, 1.5f, true, &g), Error);
}

TEST_CASE("dropout is reproducible from the seed and its gradient uses the same mask") {
  Generator g1(5), g2(5);
  Tensor x = randn({64});
  CHECK(dropout(x, 0.5f, true, &g1).to_vector() == dropout(x, 0.5f, true, &g2).to_vector());
  Tensor xs = x.clone().set_requires_grad();
  Generator g3(5);
  Tensor y = dropout(xs, 0.5f, true, &g3);
  sum(y).backward();
  for (int64_t i = 0; i < 64; ++i) CHECK(xs.grad().data()[i] == (y.data()[i] != 0.f ? 2.f : 0.f));
  // gradcheck: the op is deterministic once the generator is reset before each evaluation
  CHECK(gradcheck(
      [](const Inputs& i) {
        Generator g(9);
        return dropout(i[0], 0.4f, true, &g);
      },
      {randn({3, 4})}));
}
