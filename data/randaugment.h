// RandAugment as timm 0.3 configures it for DeiT ("rand-m9-mstd0.5-inc1"): two operations per
// image drawn with replacement from the 15 "increasing" ops, each applied with probability 0.5 at
// a magnitude drawn from N(m, mstd^2) clipped to [0, 10], with timm's level-to-argument maps and
// PIL's arithmetic for every op (ImageOps, ImageEnhance, Image.transform), geometric ops filling
// with the dataset mean colour and resampling bicubically.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "data/geometry.h"
#include "data/image.h"

namespace vt {
class Generator;
}

namespace vt::data {

enum class AugOp {
  kAutoContrast,
  kEqualize,
  kInvert,
  kRotate,
  kPosterizeIncreasing,
  kSolarizeIncreasing,
  kSolarizeAdd,
  kColorIncreasing,
  kContrastIncreasing,
  kBrightnessIncreasing,
  kSharpnessIncreasing,
  kShearX,
  kShearY,
  kTranslateXRel,
  kTranslateYRel,
};
constexpr int kNumAugOps = 15;
const char* aug_op_name(AugOp op);

struct RandAugmentConfig {
  int num_ops = 2;                                // n
  double magnitude = 9;                           // m
  double magnitude_std = 0.5;                     // mstd
  double prob = 0.5;                              // per op
  bool increasing = true;                         // inc1 (only the increasing set is implemented)
  std::array<uint8_t, 3> fill = {124, 116, 104};  // round(255 * ImageNet mean)
  Interpolation interpolation = Interpolation::kBicubic;
  double translate_pct = 0.45;
};

// Parses timm's config string, e.g. "rand-m9-mstd0.5-inc1" or "rand-n3-m10"; throws on anything
// else (including "inc0": the original non-increasing set is not implemented).
RandAugmentConfig parse_rand_augment(const std::string& spec);

// One op at a given magnitude (0..10). `negate` picks the sign for ops whose argument has one
// (timm negates with probability 1/2).
Image apply_aug_op(const Image& img, AugOp op, double magnitude, bool negate, const RandAugmentConfig& cfg);

// The op's argument at a magnitude (rotation degrees, enhance factor, bits, threshold, ...).
double aug_op_argument(AugOp op, double magnitude, bool negate, const RandAugmentConfig& cfg);

Image rand_augment(const Image& img, const RandAugmentConfig& cfg, Generator& gen);

// PIL building blocks, exposed for tests.
Image to_grey(const Image& img);                           // convert("L"): (19595 R + 38470 G + 7471 B + 2^15) >> 16
Image blend(const Image& a, const Image& b, float alpha);  // Image.blend(a, b, alpha)
Image auto_contrast(const Image& img);
// PIL's ImageEnhance at factor f (1 = the image itself): Brightness blends with black, Contrast
// with the grey image's rounded mean, Color (saturation) with the grey image.
Image enhance_brightness(const Image& img, double f);
Image enhance_contrast(const Image& img, double f);
Image enhance_color(const Image& img, double f);
Image equalize(const Image& img);
Image smooth(const Image& img);  // ImageFilter.SMOOTH

}  // namespace vt::data
