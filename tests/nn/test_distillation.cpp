// DeiT's DistillationLoss against PyTorch (tests/reference/make_distill_fixtures.py): the loss and
// the gradients of both heads' logits for soft (two temperatures) and hard distillation.
#include <doctest/doctest.h>

#include <cmath>

#include "core/autograd.h"
#include "core/ops.h"
#include "nn/distillation.h"
#include "nn/safetensors.h"

using namespace vt;
using namespace vt::nn;

namespace {
const std::string kFixture = VITALITY_TEST_DATA "/nn/fixtures/distill_loss.safetensors";

double max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  double d = 0;
  for (int64_t i = 0; i < a.numel(); ++i) d = std::max(d, double(std::fabs(a.data()[i] - b.data()[i])));
  return d;
}
}  // namespace

TEST_CASE("distillation loss and its gradients match deit's DistillationLoss in PyTorch") {
  const SafetensorsFile f = load_safetensors(kFixture);
  std::vector<int64_t> labels;
  for (float v : f.find("labels")->to_vector()) labels.push_back(static_cast<int64_t>(v));
  for (const char* type : {"soft", "hard"})
    for (float tau : {1.f, 3.f}) {
      const std::string key = str_cat(type, ".tau", tau == 1.f ? "1" : "3");
      CAPTURE(key);
      Tensor cls = f.find("cls")->clone().set_requires_grad();
      Tensor kd = f.find("kd")->clone().set_requires_grad();
      const Tensor base = cross_entropy(cls, labels, 0.1f);
      Tensor loss = distillation_loss(base, kd, *f.find("teacher"), parse_distillation_type(type), 0.3f, tau);
      CHECK(loss.item() == doctest::Approx(f.find(key + ".loss")->item()).epsilon(1e-6));
      loss.backward();
      CHECK(max_abs_diff(cls.grad(), *f.find(key + ".grad.cls")) < 1e-7);
      CHECK(max_abs_diff(kd.grad(), *f.find(key + ".grad.kd")) < 1e-7);
    }
}

TEST_CASE("distillation: hard takes the teacher's first top class; none is the base loss; bad input named") {
  const Tensor teacher = from_data({1, 3, 3, 0, 5, 2}, {2, 3});  // row 0 ties at 1 and 2: class 1
  Tensor kd = from_data({0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}, {2, 3});
  const float want = cross_entropy(kd, {1, 1}).item();
  CHECK(distillation_term(kd, teacher, DistillationType::kHard, 1.f).item() == doctest::Approx(want));
  const Tensor base = scalar(2.5f);
  CHECK(distillation_loss(base, kd, teacher, DistillationType::kNone, 0.5f, 1.f).item() == 2.5f);
  // soft at a teacher equal to the student: zero
  CHECK(std::fabs(distillation_term(kd, kd, DistillationType::kSoft, 2.f).item()) < 1e-7);
  CHECK_THROWS_WITH(distillation_term(kd, from_data({1, 2}, {1, 2}), DistillationType::kSoft, 1.f),
                    doctest::Contains("must both be (batch, classes)"));
  CHECK_THROWS_WITH(distillation_loss(base, kd, teacher, DistillationType::kSoft, 1.5f, 1.f),
                    doctest::Contains("alpha 1.5"));
  CHECK_THROWS_WITH(parse_distillation_type("medium"), doctest::Contains("not one of none, soft, hard"));
}
