// Golden tests against PyTorch (fixtures from tests/reference/make_vit_fixtures.py): for each
// attention kind, logits, the label-smoothed loss, the gradient of every parameter and of the
// input, eval-mode logits, and 5 AdamW steps; and a full-size deit_tiny_patch16_224 forward.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "core/autograd.h"
#include "core/ops.h"
#include "nn/distillation.h"
#include "nn/optim.h"
#include "nn/safetensors.h"
#include "tests/test_util.h"
#include "vit/deit.h"

using namespace vt;
using namespace vt::vit;

namespace {
const std::string kFixtures = VITALITY_TEST_DATA "/vit/fixtures/";

DeitConfig small_config(const std::string& kind) {
  DeitConfig c;
  c.img_size = 16;
  c.patch = 4;
  c.embed_dim = 24;
  c.depth = 2;
  c.heads = 2;
  c.num_classes = 5;
  c.attn = kind;
  c.mask.threshold = 0.05f;  // as the fixture script
  return c;
}

// max |a - b| relative to max |b|
double rel_error(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  double diff = 0, scale = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    diff = std::max(diff, double(std::fabs(a.data()[i] - b.data()[i])));
    scale = std::max(scale, double(std::fabs(b.data()[i])));
  }
  return diff / std::max(scale, 1e-12);
}

std::vector<int64_t> labels_of(const Tensor& t) {
  std::vector<int64_t> out;
  for (float v : t.to_vector()) out.push_back(static_cast<int64_t>(v));
  return out;
}
}  // namespace

TEST_CASE("DeiT matches PyTorch for every attention kind") {
  const nn::SafetensorsFile weights = nn::load_safetensors(kFixtures + "small_weights.safetensors");
  const nn::SafetensorsFile input = nn::load_safetensors(kFixtures + "small_input.safetensors");
  const Tensor x0 = *input.find("input");
  const std::vector<int64_t> labels = labels_of(*input.find("labels"));
  for (const std::string& kind : attention_kind_names()) {  // every registered kind has its PyTorch fixture
    CAPTURE(kind);
    const nn::SafetensorsFile want = nn::load_safetensors(kFixtures + "small_" + kind + ".safetensors");
    Deit model(small_config(kind));
    nn::load_into(model.parameters(), weights, /*strict=*/true);
    Tensor x = x0.clone().set_requires_grad();
    Tensor logits = model.forward(x, nn::Context{true, nullptr});
    CHECK(rel_error(logits, *want.find("logits")) < 1e-4);
    Tensor loss = cross_entropy(logits, labels, 0.1f);
    CHECK(loss.item() == doctest::Approx(want.find("loss")->item()).epsilon(1e-5));
    loss.backward();
    CHECK(rel_error(x.grad(), *want.find("grad.input")) < 1e-3);
    for (const nn::NamedTensor& p : model.parameters()) {
      CAPTURE(p.name);
      CHECK(rel_error(p.tensor.grad(), *want.find("grad." + p.name)) < 1e-3);
    }
    {
      NoGradGuard no_grad;
      CHECK(rel_error(model.forward(x0, nn::Context{false, nullptr}), *want.find("logits_eval")) < 1e-4);
    }
    // Five AdamW steps from the same weights (timm's parameter groups; eps as the fixture script,
    // which explains why it is 1e-4).
    Deit m2(small_config(kind));
    nn::load_into(m2.parameters(), weights, true);
    nn::AdamW opt(nn::param_groups_weight_decay(m2.parameters(), 0.05), nn::AdamWOptions{0.9, 0.999, 1e-4});
    const Tensor want_losses = *want.find("adamw_losses");
    for (int step = 0; step < 5; ++step) {
      opt.zero_grad();
      Tensor l = cross_entropy(m2.forward(x0, nn::Context{true, nullptr}), labels, 0.1f);
      CAPTURE(step);
      CHECK(std::fabs(l.item() - want_losses.data()[step]) < 1e-4);
      l.backward();
      opt.step(1e-3);
    }
  }
}

// The weights of a full-size deit_tiny from integer arithmetic (as formula_tensor() in the script).
Tensor formula_tensor(int64_t index, const Shape& shape, const std::string& kind) {
  Tensor t = empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) {
    const uint64_t h =
        (static_cast<uint64_t>(i) * 2654435761ULL + static_cast<uint64_t>(index + 1) * 40503ULL) % (1ULL << 32);
    const double u = static_cast<double>(h) / 4294967296.0 - 0.5;
    double v = kind == "norm_weight" ? 1.0 + 0.2 * u : kind == "bias" ? 0.02 * u : kind == "image" ? 2.0 * u : 0.04 * u;
    t.data()[i] = static_cast<float>(v);
  }
  return t;
}

// Every parameter from the formula, indexed by the position of its name among the sorted names.
void formula_weights(Deit& model) {
  nn::Parameters params = model.parameters();
  std::vector<std::string> names;
  for (const nn::NamedTensor& p : params) names.push_back(p.name);
  std::sort(names.begin(), names.end());
  for (nn::NamedTensor& p : params) {
    const int64_t index = std::find(names.begin(), names.end(), p.name) - names.begin();
    const bool norm_weight = p.name.size() > 13 && (p.name.find("norm1.weight") != std::string::npos ||
                                                    p.name.find("norm2.weight") != std::string::npos);
    const std::string kind = (norm_weight || p.name == "norm.weight")                             ? "norm_weight"
                             : (p.name.size() > 5 && p.name.substr(p.name.size() - 5) == ".bias") ? "bias"
                                                                                                  : "weight";
    Tensor v = formula_tensor(index, p.tensor.shape(), kind);
    std::copy(v.data(), v.data() + v.numel(), p.tensor.data());
  }
}

TEST_CASE("full-size deit_tiny_patch16_224 at 224x224 matches PyTorch") {
  const nn::SafetensorsFile want = nn::load_safetensors(kFixtures + "tiny224_logits.safetensors");
  Deit model(deit_config("deit_tiny_patch16_224"));
  formula_weights(model);
  const Tensor image = formula_tensor(10000, {1, 3, 224, 224}, "image");
  NoGradGuard no_grad;
  CHECK(rel_error(model.forward(image, nn::Context{}), *want.find("logits_softmax")) < 1e-4);
  model.set_attention("taylor");
  CHECK(rel_error(model.forward(image, nn::Context{}), *want.find("logits_taylor")) < 1e-4);
}

TEST_CASE("distilled DeiT matches PyTorch: both heads in training, their mean in evaluation, soft and hard losses") {
  const nn::SafetensorsFile weights = nn::load_safetensors(kFixtures + "distilled_weights.safetensors");
  const nn::SafetensorsFile input = nn::load_safetensors(kFixtures + "distill_input.safetensors");
  const Tensor x0 = *input.find("input"), teacher = *input.find("teacher");
  const std::vector<int64_t> labels = labels_of(*input.find("labels"));
  for (const std::string kind : {"softmax", "taylor"}) {
    CAPTURE(kind);
    const nn::SafetensorsFile want = nn::load_safetensors(kFixtures + "distilled_" + kind + ".safetensors");
    DeitConfig c = small_config(kind);
    c.distilled = true;
    Deit model(c);
    CHECK(c.tokens() == 18);
    nn::load_into(model.parameters(), weights, /*strict=*/true);  // timm's names: dist_token, head_dist
    for (const std::string type : {"soft", "hard"}) {
      CAPTURE(type);
      nn::Parameters params = model.parameters();
      for (nn::NamedTensor& p : params) p.tensor.zero_grad();
      Tensor x = x0.clone().set_requires_grad();
      const Deit::Heads h = model.forward_heads(x, nn::Context{true, nullptr});
      CHECK(rel_error(h.cls, *want.find("logits_cls")) < 1e-4);
      CHECK(rel_error(h.dist, *want.find("logits_dist")) < 1e-4);
      Tensor loss = nn::distillation_loss(cross_entropy(h.cls, labels, 0.1f), h.dist, teacher,
                                          nn::parse_distillation_type(type), 0.5f, 2.f);
      CHECK(loss.item() == doctest::Approx(want.find(type + ".loss")->item()).epsilon(1e-5));
      loss.backward();
      CHECK(rel_error(x.grad(), *want.find(type + ".grad.input")) < 1e-3);
      for (const nn::NamedTensor& p : model.parameters()) {
        CAPTURE(p.name);
        CHECK(rel_error(p.tensor.grad(), *want.find(type + ".grad." + p.name)) < 1e-3);
      }
    }
    NoGradGuard no_grad;
    CHECK(rel_error(model.forward(x0, nn::Context{false, nullptr}), *want.find("logits_eval")) < 1e-4);
  }
}

TEST_CASE("a timm-named deit_tiny_distilled_patch16_224 file loads strictly and predicts as PyTorch") {
  Deit source(deit_config("deit_tiny_distilled_patch16_224"));
  formula_weights(source);
  testing::TempDir dir("distilled");
  const std::string path = dir.path + "/deit_tiny_distilled_patch16_224.safetensors";
  nn::save_safetensors(path, source.parameters(), {{"format", "pt"}});  // as timm publishes: no model card
  Deit model(deit_config("deit_tiny_distilled_patch16_224"));
  CHECK(model.cfg.distilled);
  CHECK(model.cfg.tokens() == 198);
  nn::load_into(model.parameters(), nn::load_safetensors(path), /*strict=*/true);
  const Tensor image = formula_tensor(10000, {1, 3, 224, 224}, "image");
  NoGradGuard no_grad;
  const nn::SafetensorsFile want = nn::load_safetensors(kFixtures + "tiny224_distilled_logits.safetensors");
  CHECK(rel_error(model.forward(image, nn::Context{}), *want.find("logits")) < 1e-4);
}
