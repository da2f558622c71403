// The explicit attention weights (vit/attention_weights.h): for every registered kind W V equals
// the kernel's Z, so the pictures of `predict --attention-map` show what the model computes; the
// maps of a model follow evaluation's kind; the rollout by hand.
#include <doctest/doctest.h>

#include <cmath>

#include "core/autograd.h"
#include "core/ops.h"
#include "core/rng.h"
#include "tests/vit/attention_test_util.h"
#include "vit/attention_kernel.h"
#include "vit/attention_registry.h"
#include "vit/attention_weights.h"
#include "vit/deit.h"

using namespace vt;
using namespace vt::vit;

TEST_CASE("attention weights: W V is each kind's Z, rows sum to 1, masks as the kernels predict them") {
  Generator g(11);
  const int64_t n = 13, d = 8;
  // scores of a few units: the masks keep some pairs and drop others
  const Tensor q = testing::random_heads({1, 1, n, d}, g, 1.5f), k = testing::random_heads({1, 1, n, d}, g, 1.5f);
  const Tensor v = testing::random_heads({1, 1, n, d}, g);
  for (float lambda : {1.f, 0.5f, 0.f}) {
    for (const AttentionKindSpec& spec : attention_kinds()) {
      if (lambda != 1.f && !spec.residual_weight) continue;
      CAPTURE(spec.name);
      CAPTURE(lambda);
      MaskOptions opt;
      opt.threshold = 0.05f;
      opt.residual_weight = lambda;
      SparseStats stats;
      NoGradGuard no_grad;
      const Tensor z = vit::detail::run_on_heads(spec.make_kernel(opt, &stats), q, k, v);  // (1, 1, n, d)
      CsrMask mask;
      const Tensor W = attention_weights(spec.name, q.reshape({n, d}), k.reshape({n, d}), opt, &mask);
      REQUIRE(W.shape() == Shape{n, n});
      const Tensor wv = matmul(W, v.reshape({n, d}));
      for (int64_t i = 0; i < n * d; ++i) CHECK(wv.data()[i] == doctest::Approx(z.data()[i]).epsilon(1e-4));
      for (int64_t i = 0; i < n; ++i) {
        double row = 0;
        for (int64_t j = 0; j < n; ++j) row += W.data()[i * n + j];
        CHECK(row == doctest::Approx(1.0).epsilon(1e-5));
      }
      const bool masked = spec.uses_mask && lambda != 0.f;
      CHECK(mask.row_ptr.empty() == !masked);
      if (masked) {
        REQUIRE(stats.density.size() == 1);
        CHECK(double(mask.nnz()) / double(n * n) == doctest::Approx(stats.density[0]));
        CHECK(mask.nnz() > n);      // more than each row's maximum ...
        CHECK(mask.nnz() < n * n);  // ... and not everything
      }
      if (std::string(spec.name) == "sparse") {  // nothing outside the mask
        std::vector<char> keep(n * n, 0);
        for (int64_t i = 0; i < n; ++i)
          for (int32_t e = mask.row_ptr[i]; e < mask.row_ptr[i + 1]; ++e) keep[i * n + mask.col[e]] = 1;
        for (int64_t i = 0; i < n * n; ++i)
          if (!keep[i]) CHECK(W.data()[i] == 0.f);
      }
    }
  }
  CHECK_THROWS_WITH(attention_weights("softmax", q.reshape({n, d}), k.reshape({n * d}), MaskOptions{}),
                    doctest::Contains("q and k must both be (n, d)"));
}

TEST_CASE("attention maps of a model: every block and head, the kind evaluation runs") {
  DeitConfig c;
  c.img_size = 16;
  c.patch = 4;
  c.embed_dim = 16;
  c.depth = 2;
  c.heads = 2;
  c.num_classes = 3;
  c.mask.threshold = 0.05f;
  Generator g(5);
  const Tensor image = randn({1, 3, 16, 16}, &g);
  for (const AttentionKindSpec& spec : attention_kinds()) {
    CAPTURE(spec.name);
    c.attn = spec.name;
    Deit model(c);
    Generator init(1);
    model.init(init);
    const std::vector<BlockAttention> maps = attention_maps(model, image);
    REQUIRE(maps.size() == 2);
    const bool masked = spec.deployed().uses_mask;  // vitality evaluates as taylor: no mask
    for (const BlockAttention& b : maps) {
      CHECK(b.weights.shape() == Shape{2, 17, 17});
      CHECK(b.masks.size() == (masked ? 2u : 0u));
    }
    CHECK(model.blocks[0].attn.keep_qkv == nullptr);  // nothing left pointing at the local tensors
    const Tensor r = attention_rollout(maps);
    double row0 = 0;
    for (int64_t j = 0; j < 17; ++j) row0 += r.data()[j];
    CHECK(row0 == doctest::Approx(1.0).epsilon(1e-5));
  }
  c.attn = "vitality";  // with the sparse part kept at evaluation, the masks come back
  Deit model(c);
  for (Block& b : model.blocks) b.attn.eval_sparse = true;
  CHECK(attention_maps(model, image)[0].masks.size() == 2);
}

TEST_CASE("attention rollout by hand: (mean over heads + I) / 2 per block, multiplied from the first block") {
  // two tokens, one head: block 1 W1 = [[1, 0], [1, 0]], block 2 W2 = [[0, 1], [0, 1]]
  // A1 = [[1, 0], [0.5, 0.5]], A2 = [[0.5, 0.5], [0, 1]], R = A2 A1 = [[0.75, 0.25], [0.5, 0.5]]
  BlockAttention b1, b2;
  b1.weights = from_data({1, 0, 1, 0}, {1, 2, 2});
  b2.weights = from_data({0, 1, 0, 1}, {1, 2, 2});
  const Tensor r = attention_rollout({b1, b2});
  const float expected[] = {0.75f, 0.25f, 0.5f, 0.5f};
  for (int i = 0; i < 4; ++i) CHECK(r.data()[i] == doctest::Approx(expected[i]));
  // heads are averaged: heads [[1,0],[1,0]] and [[0,1],[0,1]] give W = 0.5 everywhere
  BlockAttention two;
  two.weights = from_data({1, 0, 1, 0, 0, 1, 0, 1}, {2, 2, 2});
  const Tensor r2 = attention_rollout({two});
  const float expected2[] = {0.75f, 0.25f, 0.25f, 0.75f};
  for (int i = 0; i < 4; ++i) CHECK(r2.data()[i] == doctest::Approx(expected2[i]));
}
