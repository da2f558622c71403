// Transforms end to end: real photos decoded by stb through the eval transform against PIL +
// torchvision; RandomResizedCrop's boxes; random erasing; Mixup / CutMix targets.
#include <doctest/doctest.h>

#include <cmath>

#include "core/rng.h"
#include "data/transforms.h"
#include "tests/data/data_test_util.h"

using namespace vt;
using namespace vt::data;
using namespace vt::testing;

TEST_CASE("eval transform of real photos matches PIL + torchvision (>= 99% within 1 level)") {
  nn::SafetensorsFile f = nn::load_safetensors(kDataFixtures + "eval_pil.safetensors");
  for (const std::string name : {"chelsea", "coffee", "camera", "rocket"}) {
    CAPTURE(name);
    DecodeResult r = decode_image(read_file(kDataFixtures + "photos/" + name + ".jpg"));  // stb, not libjpeg
    REQUIRE(r.image);
    TransformConfig cfg;
    PixelDiff d = compare(eval_image(*r.image, cfg), fixture_image(f, std::string("eval.") + name + ".bicubic.224"));
    MESSAGE(name << ": " << 100 * d.fraction_within_1 << "% within 1 grey level, max " << d.max);
    CHECK(d.fraction_within_1 >= 0.99);
  }
}

TEST_CASE("normalisation follows ToTensor + Normalize in float") {
  Image im = make_image(1, 1, 3);
  im.pixels = {0, 128, 255};
  TransformConfig cfg;
  float out[3];
  to_normalized(im, cfg, out);
  CHECK(out[0] == doctest::Approx((0.f - 0.485f) / 0.229f));
  CHECK(out[1] == doctest::Approx((128.f / 255.f - 0.456f) / 0.224f));
  CHECK(out[2] == doctest::Approx((1.f - 0.406f) / 0.225f));
  // grey datasets: channel conversion
  Image g = convert_channels(im, 1);
  CHECK(g.pixels[0] == static_cast<uint8_t>((128 * 38470 + 255 * 7471 + 0x8000) >> 16));
  CHECK(convert_channels(g, 3).pixels == std::vector<uint8_t>(3, g.pixels[0]));
}

TEST_CASE("RandomResizedCrop boxes respect scale and ratio, and fall back to the centre") {
  TransformConfig cfg;
  Generator g(1);
  for (int i = 0; i < 2000; ++i) {
    auto [left, top, w, h] = random_resized_crop_box(500, 375, cfg, g);
    CHECK(left >= 0);
    CHECK(top >= 0);
    CHECK(left + w <= 500);
    CHECK(top + h <= 375);
    const double area = double(w) * h / (500.0 * 375.0);
    CHECK(area <= 1.0 + 1e-9);
    CHECK(area >= 0.07);  // 0.08 before rounding the sides
  }
  // A 1000 x 10 strip: no box of the allowed aspect fits, so the centre at ratio 4/3 is used.
  auto box = random_resized_crop_box(1000, 10, cfg, g);
  CHECK(box == std::array<int, 4>{(1000 - 13) / 2, 0, 13, 10});
}

TEST_CASE("train transform: deterministic from its generator, shape (C, S, S), small-image path") {
  DecodeResult r = decode_image(read_file(kDataFixtures + "photos/chelsea.jpg"));
  TransformConfig cfg;
  cfg.input_size = 64;
  cfg.rand_augment = parse_rand_augment("rand-m9-mstd0.5-inc1");
  std::vector<float> a(3 * 64 * 64), b(3 * 64 * 64);
  Generator g1(7), g2(7);
  train_transform(*r.image, cfg, g1, a.data());
  train_transform(*r.image, cfg, g2, b.data());
  CHECK(a == b);
  TransformConfig small;
  small.input_size = 28;
  small.in_chans = 1;
  Image digit = make_image(28, 28, 1, 200);
  Image t = train_image(digit, small, g1);
  CHECK(t.width == 28);
  CHECK(t.channels == 1);
  // RandomCrop(28, padding=4): up to 4 whole zero rows and columns come in, nothing else changes
  int zero_rows = 0, zero_cols = 0, zeros = 0;
  for (int y = 0; y < 28; ++y) {
    bool all = true;
    for (int x = 0; x < 28; ++x) all = all && t.at(y, x, 0) == 0;
    zero_rows += all;
  }
  for (int x = 0; x < 28; ++x) {
    bool all = true;
    for (int y = 0; y < 28; ++y) all = all && t.at(y, x, 0) == 0;
    zero_cols += all;
  }
  for (uint8_t v : t.pixels) {
    zeros += v == 0;
    CHECK((v == 0 || v == 200));
  }
  CHECK(zero_rows <= 4);
  CHECK(zero_cols <= 4);
  CHECK(zeros == 28 * zero_rows + 28 * zero_cols - zero_rows * zero_cols);
  CHECK(eval_image(digit, small).pixels == digit.pixels);  // no resize for small inputs
}

TEST_CASE("ColorJitter: factors drawn from [1 - cj, 1 + cj], only without RandAugment") {
  // A uniform grey image: contrast (blend with its own mean) and saturation (blend with its grey
  // image) leave it unchanged, so the output is the brightness factor times 100, whatever the order.
  const Image grey = make_image(4, 4, 3, 100);
  Generator gen(3);
  int lo = 255, hi = 0;
  double sum = 0;
  const int draws = 2000;
  for (int i = 0; i < draws; ++i) {
    const Image out = color_jitter(grey, 0.4, gen);
    for (uint8_t v : out.pixels) CHECK(v == out.pixels[0]);  // still uniform
    lo = std::min<int>(lo, out.pixels[0]);
    hi = std::max<int>(hi, out.pixels[0]);
    sum += out.pixels[0];
  }
  CHECK(lo >= 60);
  CHECK(lo <= 62);
  CHECK(hi >= 138);
  CHECK(hi <= 140);
  CHECK(std::abs(sum / draws - 100) < 1.5);
  // a coloured image: saturation and contrast change it, and a strength of 0 is the identity
  Image colour = make_image(4, 4, 3, 0);
  for (int i = 0; i < 16; ++i) colour.pixels[3 * i] = 200, colour.pixels[3 * i + 1] = 100, colour.pixels[3 * i + 2] = i;
  CHECK(color_jitter(colour, 0, gen).pixels == colour.pixels);
  CHECK(color_jitter(colour, 0.4, gen).pixels != colour.pixels);
  // in the train transform: applied without RandAugment, skipped with it (timm)
  TransformConfig cfg;
  cfg.input_size = 4;
  cfg.small_crop_padding = 0;
  cfg.hflip = 0;
  cfg.color_jitter = 0.4;
  Generator g1(5), g2(5);
  CHECK(train_image(grey, cfg, g1).pixels != grey.pixels);
  cfg.rand_augment = parse_rand_augment("rand-m9-n0-inc1");
  CHECK(train_image(grey, cfg, g2).pixels == grey.pixels);
}

TEST_CASE("random erasing fills one box with N(0, 1) noise") {
  Generator g(3);
  int erased_images = 0;
  for (int trial = 0; trial < 400; ++trial) {
    std::vector<float> x(3 * 20 * 30, 5.f);
    random_erasing(x.data(), 3, 20, 30, 0.25, g);
    int changed = 0;
    for (float v : x) changed += v != 5.f;
    if (changed) {
      ++erased_images;
      CHECK(changed % 3 == 0);                 // the same box in every channel
      CHECK(changed / 3 >= 0.02 * 600 * 0.5);  // at least ~2% of the area
      CHECK(changed / 3 <= 600 / 3 + 30);
    }
  }
  CHECK(std::abs(erased_images - 100) < 35);  // p = 0.25
}

TEST_CASE("mixup and cutmix: mixed images, soft targets that sum to one, timm's pairing") {
  MixupConfig cfg;
  cfg.num_classes = 4;
  Generator g(11);
  for (int trial = 0; trial < 20; ++trial) {
    Tensor x = empty({4, 1, 8, 8});
    for (int64_t i = 0; i < 4; ++i)
      for (int64_t j = 0; j < 64; ++j) x.data()[i * 64 + j] = static_cast<float>(i);
    std::vector<int64_t> labels = {0, 1, 2, 3};
    Tensor t = mixup_batch(x, labels, cfg, g);
    REQUIRE(t.shape() == Shape{4, 4});
    for (int64_t i = 0; i < 4; ++i) {
      float s = 0;
      for (int64_t k = 0; k < 4; ++k) s += t.at({i, k});
      CHECK(s == doctest::Approx(1.f).epsilon(1e-5));
      // sample i mixes with sample 3 - i: lam = share of its own class (minus smoothing)
      const float lam = (t.at({i, i}) - 0.1f / 4) / 0.9f;
      float own = 0;  // fraction of pixels still holding the sample's own value (cutmix) or its weight
      for (int64_t j = 0; j < 64; ++j) own += x.data()[i * 64 + j];
      const float mean = own / 64;  // = lam * i + (1 - lam) * (3 - i) for both kinds
      if (i != 3 - i) CHECK(mean == doctest::Approx(lam * i + (1 - lam) * (3 - i)).epsilon(1e-4));
    }
  }
  Tensor odd = empty({3, 1, 2, 2});
  CHECK_THROWS_AS(mixup_batch(odd, {0, 1, 2}, cfg, g), Error);
  Tensor s = smooth_one_hot({2}, 4, 0.1);
  CHECK(s.to_vector() == std::vector<float>{0.025f, 0.025f, 0.925f, 0.025f});
}
