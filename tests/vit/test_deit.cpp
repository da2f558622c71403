// DeiT structure: the registry's parameter counts, timm names, configuration errors, training
// vs evaluation for ViTALiTy, densities, and pos_embed resizing against PyTorch.
#include <doctest/doctest.h>

#include "core/ops.h"
#include "core/rng.h"
#include "nn/safetensors.h"
#include "tests/gradcheck.h"
#include "vit/deit.h"

using namespace vt;
using namespace vt::vit;
using vt::testing::max_abs_diff;

namespace {
DeitConfig small(const std::string& kind) {
  DeitConfig c;
  c.img_size = 16;
  c.patch = 4;
  c.embed_dim = 24;
  c.depth = 2;
  c.heads = 2;
  c.num_classes = 5;
  c.attn = kind;
  return c;
}
}  // namespace

TEST_CASE("registry: parameter counts and timm names") {
  struct Want {
    const char* name;
    int64_t params;
  };
  for (Want w : {Want{"deit_tiny_patch16_224", 5717416}, Want{"deit_small_patch16_224", 22050664},
                 Want{"deit_base_patch16_224", 86567656}}) {
    Deit m(deit_config(w.name));
    CHECK(m.num_parameters() == w.params);
    CHECK(m.parameters().size() == 152);
  }
  Deit tiny(deit_config("deit_tiny_patch16_224"));
  const nn::Parameters p = tiny.parameters();
  CHECK(p[0].name == "cls_token");
  CHECK(p[1].name == "pos_embed");
  CHECK(p[2].name == "patch_embed.proj.weight");
  CHECK(p[2].tensor.shape() == Shape{192, 3, 16, 16});
  CHECK(p[6].name == "blocks.0.attn.qkv.weight");
  CHECK(p[6].tensor.shape() == Shape{576, 192});
  CHECK(p[15].name == "blocks.0.mlp.fc2.bias");
  CHECK(p.back().name == "head.bias");
  CHECK(tiny.pos_embed.shape() == Shape{1, 197, 192});
  CHECK_THROWS_WITH_AS(deit_config("vit_huge"),
                       "unknown model 'vit_huge' (deit_tiny_patch16_224, deit_small_patch16_224, "
                       "deit_base_patch16_224, deit_tiny_distilled_patch16_224, deit_small_distilled_patch16_224, "
                       "deit_base_distilled_patch16_224, or a custom configuration)",
                       Error);
  // the distilled models: timm's published parameter counts (5.91M, 22.44M, 87.34M), 155 tensors
  for (Want w : {Want{"deit_tiny_distilled_patch16_224", 5910800}, Want{"deit_small_distilled_patch16_224", 22436432},
                 Want{"deit_base_distilled_patch16_224", 87338192}}) {
    Deit m(deit_config(w.name));
    CHECK(m.num_parameters() == w.params);
    CHECK(m.parameters().size() == 155);
    CHECK(m.pos_embed.size(1) == 198);
  }
}

TEST_CASE("configuration errors are one line naming the field") {
  DeitConfig c = small("softmax");
  c.heads = 5;
  CHECK_THROWS_WITH_AS(Deit{c}, "model custom: embed dim 24 is not divisible by 5 heads", Error);
  c = small("softmax");
  c.patch = 32;
  CHECK_THROWS_AS(Deit{c}, Error);
  c = small("softmax");
  c.drop_path = 1.f;
  CHECK_THROWS_AS(Deit{c}, Error);
}

TEST_CASE("forward shapes, timm init statistics, stochastic depth schedule") {
  DeitConfig c = small("softmax");
  c.drop_path = 0.1f;
  c.depth = 3;
  Deit m(c);
  Generator g(1);
  m.init(g);
  CHECK(m.blocks[0].drop_path.p == 0.f);
  CHECK(m.blocks[1].drop_path.p == doctest::Approx(0.05f));
  CHECK(m.blocks[2].drop_path.p == doctest::Approx(0.1f));
  CHECK(m.blocks[0].norm1.weight.at({0}) == 1.f);
  CHECK(m.head.bias.at({3}) == 0.f);
  double s2 = 0;
  for (float v : m.blocks[0].mlp.fc1.weight.to_vector()) s2 += double(v) * v;
  CHECK(std::sqrt(s2 / m.blocks[0].mlp.fc1.weight.numel()) == doctest::Approx(0.02).epsilon(0.1));
  Tensor x = randn({3, 3, 16, 16}, &g);
  Tensor y = m.forward(x, nn::Context{false, &g});
  CHECK(y.shape() == Shape{3, 5});
  CHECK_THROWS_AS(m.forward(randn({3, 3, 20, 20}, &g), nn::Context{}), Error);
}

TEST_CASE("vitality evaluates as Taylor attention unless told to keep the sparse part") {
  Generator g(2);
  DeitConfig cv = small("vitality"), ct = small("taylor");
  Deit mv(cv), mt(ct);
  mv.init(g);
  nn::Parameters pv = mv.parameters(), pt = mt.parameters();
  for (size_t i = 0; i < pv.size(); ++i)
    std::copy(pv[i].tensor.data(), pv[i].tensor.data() + pv[i].tensor.numel(), pt[i].tensor.data());
  Tensor x = randn({2, 3, 16, 16}, &g);
  nn::Context eval{false, &g}, train{true, &g};
  CHECK(max_abs_diff(mv.forward(x, eval), mt.forward(x, eval)) == 0.f);
  CHECK(mv.densities()[0].empty());  // the sparse part did not run
  Tensor y_train = mv.forward(x, train);
  CHECK(mv.densities()[0].size() == 2);
  for (Block& b : mv.blocks) b.attn.eval_sparse = true;
  CHECK(max_abs_diff(mv.forward(x, eval), y_train) < 1e-6f);
}

TEST_CASE("pos_embed resizing matches torch's bicubic interpolate") {
  nn::SafetensorsFile f = nn::load_safetensors(VITALITY_TEST_DATA "/vit/fixtures/pos_embed_resize.safetensors");
  Tensor out = resize_pos_embed(*f.find("pos_embed"), 7);
  CHECK(out.shape() == Shape{1, 50, 8});
  CHECK(max_abs_diff(out, *f.find("resized")) < 1e-5f);
  CHECK(max_abs_diff(resize_pos_embed(*f.find("pos_embed"), 4), *f.find("pos_embed")) < 1e-6f);  // identity
  CHECK_THROWS_AS(resize_pos_embed(zeros({1, 11, 8}), 3), Error);
}

#include "vit/pretrained.h"

TEST_CASE("fine-tuning: a head of another size is dropped, pos_embed is resized") {
  Generator g(3);
  DeitConfig src = small("softmax");
  Deit pretrained(src);
  pretrained.init(g);
  nn::SafetensorsFile file;
  file.tensors = pretrained.parameters();
  DeitConfig dst = small("softmax");
  dst.img_size = 24;  // 6x6 patches instead of 4x4
  dst.num_classes = 3;
  Deit model(dst);
  model.init(g);
  const Tensor fresh_head = model.head.weight.clone();
  FinetuneReport r = load_pretrained(model, file);
  REQUIRE(r.messages.size() == 3);
  CHECK(r.messages[0] ==
        "Removing key head.weight from pretrained checkpoint (shape (5,24), the model's head is (3,24))");
  CHECK(r.messages[2].find("Resized pos_embed (1,17,24) -> (1,37,24)") == 0);
  CHECK(max_abs_diff(model.head.weight, fresh_head) == 0.f);
  CHECK(max_abs_diff(model.blocks[1].mlp.fc1.weight, pretrained.blocks[1].mlp.fc1.weight) == 0.f);
  CHECK(max_abs_diff(model.pos_embed, resize_pos_embed(pretrained.pos_embed, 6)) == 0.f);
  // A body tensor of the wrong shape is an error, not a silent skip.
  DeitConfig wide = small("softmax");
  wide.embed_dim = 32;
  wide.heads = 2;
  Deit other(wide);
  CHECK_THROWS_AS(load_pretrained(other, file), Error);
}

TEST_CASE("fine-tuning across the distilled form: the patch positions carry over, the dist token's stay or go") {
  Generator g(4);
  Deit plain(small("softmax"));
  plain.init(g);
  nn::SafetensorsFile plain_file;
  plain_file.tensors = plain.parameters();
  DeitConfig dc = small("softmax");
  dc.distilled = true;
  dc.img_size = 24;
  Deit distilled(dc);
  distilled.init(g);
  const Tensor fresh_dist = distilled.dist_token.clone(), fresh_pos = distilled.pos_embed.clone();
  FinetuneReport r = load_pretrained(distilled, plain_file);  // plain -> distilled at another size
  CHECK(r.messages[0] == "Keeping the model's fresh dist_token (not in a checkpoint of a model that is not distilled)");
  CHECK(r.messages.back().find("Resized pos_embed (1,17,24) -> (1,38,24)") == 0);
  CHECK(r.messages.back().find("prefix tokens 1 -> 2") != std::string::npos);
  CHECK(max_abs_diff(distilled.dist_token, fresh_dist) == 0.f);
  const Tensor grid = resize_pos_embed(plain.pos_embed, 6);  // (1, 1 + 36, D)
  const int64_t D = 24;
  for (int64_t c = 0; c < D; ++c) {
    CHECK(distilled.pos_embed.data()[c] == plain.pos_embed.data()[c]);    // cls row
    CHECK(distilled.pos_embed.data()[D + c] == fresh_pos.data()[D + c]);  // dist row: the model's own
  }
  for (int64_t i = 0; i < 36 * D; ++i) CHECK(distilled.pos_embed.data()[2 * D + i] == grid.data()[D + i]);
  // distilled -> plain at the same size: the dist row and token and head are left out
  nn::SafetensorsFile distilled_file;
  distilled_file.tensors = distilled.parameters();
  DeitConfig pc = small("softmax");
  pc.img_size = 24;
  Deit back(pc);
  FinetuneReport r2 = load_pretrained(back, distilled_file);
  CHECK(r2.ignored == std::vector<std::string>{"dist_token", "head_dist.weight", "head_dist.bias"});
  for (int64_t i = 0; i < 37 * D; ++i) {
    const int64_t src = i < D ? i : i + D;  // cls, then the grid after the dist row
    CHECK(back.pos_embed.data()[i] == distilled.pos_embed.data()[src]);
  }
}
