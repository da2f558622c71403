// Helpers for the data tests: fixture loading, temporary directory trees, image comparison.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/fileio.h"
#include "data/image.h"
#include "nn/safetensors.h"
#include "tests/test_util.h"

namespace vt::testing {

inline const std::string kDataFixtures = VITALITY_TEST_DATA "/data/fixtures/";

// An (H, W, C) uint8 fixture tensor as an Image.
inline data::Image fixture_image(const nn::SafetensorsFile& f, const std::string& name) {
  const Tensor* t = f.find(name);
  REQUIRE_MESSAGE(t, "fixture tensor " << name);
  data::Image im =
      data::make_image(static_cast<int>(t->size(1)), static_cast<int>(t->size(0)), static_cast<int>(t->size(2)));
  for (int64_t i = 0; i < t->numel(); ++i) im.pixels[i] = static_cast<uint8_t>(t->data()[i]);
  return im;
}

struct PixelDiff {
  int max = 0;
  double fraction_within_1 = 0, fraction_within_2 = 0;
};

inline PixelDiff compare(const data::Image& a, const data::Image& b) {
  REQUIRE(a.width == b.width);
  REQUIRE(a.height == b.height);
  REQUIRE(a.channels == b.channels);
  PixelDiff d;
  size_t w1 = 0, w2 = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) {
    const int e = std::abs(int(a.pixels[i]) - int(b.pixels[i]));
    d.max = std::max(d.max, e);
    w1 += e <= 1;
    w2 += e <= 2;
  }
  d.fraction_within_1 = double(w1) / a.pixels.size();
  d.fraction_within_2 = double(w2) / a.pixels.size();
  return d;
}

}  // namespace vt::testing
