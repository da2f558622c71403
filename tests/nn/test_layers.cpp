// LayerNorm, Dropout, DropPath and Mlp modules.
#include <doctest/doctest.h>

#include "core/ops.h"
#include "core/rng.h"
#include "nn/layers.h"
#include "tests/gradcheck.h"

using namespace vt;
using vt::testing::gradcheck;
using vt::testing::Inputs;

TEST_CASE("LayerNorm module starts as the identity affine map") {
  nn::LayerNorm ln(4, 1e-6f);
  CHECK(ln.weight.to_vector() == std::vector<float>(4, 1.f));
  CHECK(ln.bias.to_vector() == std::vector<float>(4, 0.f));
  nn::Parameters p;
  ln.parameters(p, "norm");
  CHECK(p[0].name == "norm.weight");
  CHECK(p[1].name == "norm.bias");
  Tensor y = ln.forward(from_data({1, 2, 3, 4}, {1, 4}));
  CHECK(sum(y).item() == doctest::Approx(0.f).epsilon(1e-6));
}

TEST_CASE("DropPath drops whole samples while training, nothing in evaluation") {
  Generator g(3);
  nn::DropPath dp{0.5f};
  Tensor x = ones({1000, 3, 2});
  Tensor y = dp.forward(x, nn::Context{true, &g});
  int64_t dropped = 0;
  for (int64_t b = 0; b < 1000; ++b) {
    const float v = y.at({b, 0, 0});
    CHECK((v == 0.f || v == 2.f));
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 2; ++j) CHECK(y.at({b, i, j}) == v);  // one decision per sample
    dropped += v == 0.f;
  }
  CHECK(std::abs(dropped - 500) < 60);
  CHECK(dp.forward(x, nn::Context{false, &g}).same_storage(x));
  CHECK(gradcheck(
      [](const Inputs& i) {
        Generator gen(4);
        return nn::DropPath{0.3f}.forward(i[0], nn::Context{true, &gen});
      },
      {randn({4, 2, 3}, &g)}));
  CHECK_THROWS_AS((nn::DropPath{1.f}.forward(x, nn::Context{true, &g})), Error);
}

TEST_CASE("Mlp: fc1 -> GELU -> fc2 with timm names") {
  Generator g(5);
  nn::Mlp mlp(3, 8, 0.f);
  for (Tensor* t : {&mlp.fc1.weight, &mlp.fc1.bias, &mlp.fc2.weight, &mlp.fc2.bias}) {
    Tensor r = randn(t->shape(), &g);
    std::copy(r.data(), r.data() + r.numel(), t->data());
  }
  Tensor x = randn({2, 5, 3}, &g);
  Tensor want = nn::linear(gelu(nn::linear(x, mlp.fc1.weight, mlp.fc1.bias)), mlp.fc2.weight, mlp.fc2.bias);
  CHECK(testing::max_abs_diff(mlp.forward(x, nn::Context{}), want) == 0.f);
  nn::Parameters p;
  mlp.parameters(p, "blocks.1.mlp");
  CHECK(p.size() == 4);
  CHECK(p[2].name == "blocks.1.mlp.fc2.weight");
  CHECK(p[2].tensor.shape() == Shape{3, 8});
}
