// patchify + GEMM equals a stride-P convolution computed directly; gradient checks.
#include <doctest/doctest.h>

#include "core/ops.h"
#include "core/rng.h"
#include "nn/patch_embed.h"
#include "tests/gradcheck.h"

using namespace vt;
using vt::testing::gradcheck;
using vt::testing::Inputs;

TEST_CASE("PatchEmbed equals a convolution with kernel = stride = patch") {
  Generator g(6);
  nn::PatchEmbed pe(8, 4, 3, 5);  // 8x8 images, 4x4 patches, 3 channels -> 5 features
  Tensor w = randn({5, 3, 4, 4}, &g), b = randn({5}, &g);
  std::copy(w.data(), w.data() + w.numel(), pe.weight.data());
  std::copy(b.data(), b.data() + b.numel(), pe.bias.data());
  Tensor x = randn({2, 3, 8, 8}, &g);
  Tensor y = pe.forward(x);  // (2, 4, 5)
  REQUIRE(y.shape() == Shape{2, 4, 5});
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t py = 0; py < 2; ++py)
      for (int64_t px = 0; px < 2; ++px)
        for (int64_t o = 0; o < 5; ++o) {
          double acc = b.at({o});
          for (int64_t c = 0; c < 3; ++c)
            for (int64_t i = 0; i < 4; ++i)
              for (int64_t j = 0; j < 4; ++j) acc += double(w.at({o, c, i, j})) * x.at({n, c, py * 4 + i, px * 4 + j});
          CHECK(y.at({n, py * 2 + px, o}) == doctest::Approx(acc).epsilon(1e-5));
        }
  nn::Parameters p;
  pe.parameters(p, "patch_embed");
  CHECK(p[0].name == "patch_embed.proj.weight");
  CHECK(p[1].name == "patch_embed.proj.bias");
  CHECK_THROWS_WITH_AS(pe.forward(zeros({1, 3, 9, 9})),
                       "patch_embed: expected images of shape (B,3,8,8), got (1,3,9,9)", Error);
}

TEST_CASE("patchify: gradient check, and pixels outside whole patches get no gradient") {
  Generator g(7);
  CHECK(gradcheck([](const Inputs& i) { return nn::patchify(i[0], 2); }, {randn({1, 2, 4, 4}, &g)}));
  Tensor x = randn({1, 1, 5, 5}, &g).set_requires_grad();  // 2x2 patches of 2 pixels, last row/column unused
  sum(nn::patchify(x, 2)).backward();
  for (int64_t i = 0; i < 5; ++i) {
    CHECK(x.grad().at({0, 0, 4, i}) == 0.f);
    CHECK(x.grad().at({0, 0, i, 4}) == 0.f);
  }
  CHECK(x.grad().at({0, 0, 3, 3}) == 1.f);
}
