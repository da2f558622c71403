// Resize, crop, flip, affine and rotate against Pillow 9.4 on identical input pixels.
#include <doctest/doctest.h>

#include "data/geometry.h"
#include "data/transforms.h"
#include "tests/data/data_test_util.h"

using namespace vt;
using namespace vt::data;
using namespace vt::testing;

TEST_CASE("eval resize + center crop equal PIL on the same decoded pixels") {
  nn::SafetensorsFile f = nn::load_safetensors(kDataFixtures + "eval_pil.safetensors");
  const Image decoded = fixture_image(f, "decoded.chelsea");  // 451 x 300, PIL's decode
  struct Case {
    const char* name;
    int size;
    Interpolation interp;
  };
  for (Case c : {Case{"eval.chelsea.bicubic.224", 224, Interpolation::kBicubic},
                 Case{"eval.chelsea.bilinear.224", 224, Interpolation::kBilinear},
                 Case{"eval.chelsea.bicubic.160", 160, Interpolation::kBicubic}}) {
    CAPTURE(c.name);
    TransformConfig cfg;
    cfg.input_size = c.size;
    cfg.eval_interpolation = c.interp;
    PixelDiff d = compare(eval_image(decoded, cfg), fixture_image(f, c.name));
    CHECK(d.max == 0);  // Pillow's fixed-point arithmetic, reproduced exactly
  }
}

TEST_CASE("crop pads with zeros, flip mirrors, resize to the same size is the identity") {
  Image im = make_image(3, 2, 1);
  for (int i = 0; i < 6; ++i) im.pixels[i] = static_cast<uint8_t>(10 * (i + 1));
  Image c = crop(im, -1, 0, 3, 2);
  CHECK(c.pixels == std::vector<uint8_t>{0, 10, 20, 0, 40, 50});
  CHECK(flip_horizontal(im).pixels == std::vector<uint8_t>{30, 20, 10, 60, 50, 40});
  CHECK(resize(im, 3, 2, Interpolation::kBicubic).pixels == im.pixels);
  CHECK_THROWS_AS(resize(im, 0, 2, Interpolation::kBicubic), Error);
  CHECK_THROWS_AS(parse_interpolation("lanczos"), Error);
}

TEST_CASE("rotate by zero is exact, by 90 degrees on a square image permutes pixels") {
  Image im = make_image(4, 4, 1);
  for (int i = 0; i < 16; ++i) im.pixels[i] = static_cast<uint8_t>(i * 10);
  CHECK(rotate(im, 0, Interpolation::kBicubic, {0, 0, 0}).pixels == im.pixels);
  Image r = rotate(im, 90, Interpolation::kBicubic, {0, 0, 0});
  // counter-clockwise: the top row becomes the left column, read bottom-up
  for (int x = 0; x < 4; ++x) CHECK(r.at(3 - x, 0, 0) == im.at(0, x, 0));
}
