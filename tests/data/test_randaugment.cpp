// Every RandAugment op against PIL (timm 0.3.3's op code) at magnitude 9, both signs; the policy.
#include <doctest/doctest.h>

#include "core/rng.h"
#include "data/randaugment.h"
#include "tests/data/data_test_util.h"

using namespace vt;
using namespace vt::data;
using namespace vt::testing;

TEST_CASE("each of the 15 ops matches PIL within 2 grey levels") {
  nn::SafetensorsFile f = nn::load_safetensors(kDataFixtures + "augment_pil.safetensors");
  const Image base = fixture_image(f, "base");
  RandAugmentConfig cfg;  // bicubic, fill (124, 116, 104), translate 0.45
  for (int k = 0; k < kNumAugOps; ++k) {
    const AugOp op = static_cast<AugOp>(k);
    for (bool negate : {false, true}) {
      const std::string name = std::string("op.") + aug_op_name(op) + (negate ? ".-" : ".+");
      CAPTURE(name);
      PixelDiff d = compare(apply_aug_op(base, op, 9.0, negate, cfg), fixture_image(f, name));
      CHECK(d.max <= 2);
      MESSAGE(name << ": max difference " << d.max);
    }
  }
}

TEST_CASE("magnitude maps as timm's increasing set") {
  RandAugmentConfig cfg;
  CHECK(aug_op_argument(AugOp::kRotate, 10, false, cfg) == 30.0);
  CHECK(aug_op_argument(AugOp::kRotate, 5, true, cfg) == -15.0);
  CHECK(aug_op_argument(AugOp::kPosterizeIncreasing, 9, false, cfg) == 1);  // 4 - int(3.6)
  CHECK(aug_op_argument(AugOp::kSolarizeIncreasing, 9, false, cfg) == 26);  // 256 - int(230.4)
  CHECK(aug_op_argument(AugOp::kSolarizeAdd, 9, false, cfg) == 99);
  CHECK(aug_op_argument(AugOp::kBrightnessIncreasing, 10, true, cfg) == doctest::Approx(0.1));
  CHECK(aug_op_argument(AugOp::kTranslateXRel, 10, false, cfg) == doctest::Approx(0.45));
}

TEST_CASE("config strings and the policy") {
  RandAugmentConfig c = parse_rand_augment("rand-m9-mstd0.5-inc1");
  CHECK(c.magnitude == 9);
  CHECK(c.magnitude_std == 0.5);
  CHECK(c.num_ops == 2);
  CHECK(parse_rand_augment("rand-n3-m10-inc1").num_ops == 3);
  CHECK_THROWS_AS(parse_rand_augment("rand-m9"), Error);  // the original (non-increasing) set
  CHECK_THROWS_AS(parse_rand_augment("v0"), Error);
  CHECK_THROWS_AS(parse_rand_augment("rand-x9-inc1"), Error);
  nn::SafetensorsFile f = nn::load_safetensors(kDataFixtures + "augment_pil.safetensors");
  const Image base = fixture_image(f, "base");
  Generator g1(5), g2(5);
  CHECK(rand_augment(base, c, g1).pixels == rand_augment(base, c, g2).pixels);  // seeded
  int changed = 0;
  for (int i = 0; i < 20; ++i) changed += rand_augment(base, c, g1).pixels != base.pixels;
  CHECK(changed > 10);  // 2 ops at p 0.5: most images change
}
