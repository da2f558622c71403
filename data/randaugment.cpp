// The 15 RandAugment operations with Pillow 9.4's arithmetic, and timm's policy around them.
#include "data/randaugment.h"

#include <cmath>
#include <regex>

#include "core/error.h"
#include "core/rng.h"

namespace vt::data {

const char* aug_op_name(AugOp op) {
  static const char* names[kNumAugOps] = {"AutoContrast",
                                          "Equalize",
                                          "Invert",
                                          "Rotate",
                                          "PosterizeIncreasing",
                                          "SolarizeIncreasing",
                                          "SolarizeAdd",
                                          "ColorIncreasing",
                                          "ContrastIncreasing",
                                          "BrightnessIncreasing",
                                          "SharpnessIncreasing",
                                          "ShearX",
                                          "ShearY",
                                          "TranslateXRel",
                                          "TranslateYRel"};
  return names[static_cast<int>(op)];
}

RandAugmentConfig parse_rand_augment(const std::string& spec) {
  RandAugmentConfig cfg;
  cfg.magnitude_std = 0;
  cfg.increasing = false;
  const std::string usage = " (expected rand-m<magnitude>[-n<ops>][-mstd<std>][-inc1], e.g. rand-m9-mstd0.5-inc1)";
  VT_CHECK(spec.rfind("rand", 0) == 0, "--aa '", spec, "': only RandAugment is implemented", usage);
  size_t pos = 4;
  const std::regex part("^-(m|n|mstd|inc|p)([0-9.]+)");
  while (pos < spec.size()) {
    std::smatch m;
    const std::string rest = spec.substr(pos);
    VT_CHECK(std::regex_search(rest, m, part), "--aa '", spec, "': cannot parse '", rest, "'", usage);
    const std::string key = m[1], val = m[2];
    const double v = std::stod(val);
    if (key == "m") cfg.magnitude = v;
    else if (key == "n") cfg.num_ops = static_cast<int>(v);
    else if (key == "mstd") cfg.magnitude_std = v;
    else if (key == "inc") cfg.increasing = v != 0;
    else if (key == "p") cfg.prob = v;
    pos += m.length(0);
  }
  VT_CHECK(cfg.increasing, "--aa '", spec, "': only the increasing op set (inc1) is implemented", usage);
  VT_CHECK(cfg.num_ops >= 0 && cfg.magnitude >= 0 && cfg.magnitude <= 10 && cfg.prob >= 0 && cfg.prob <= 1, "--aa '",
           spec, "': values out of range", usage);
  return cfg;
}

// ---------------------------------------------------------------- PIL building blocks
namespace {
Image apply_lut(const Image& img, const std::vector<std::array<uint8_t, 256>>& lut) {
  Image out = img;
  const int C = img.channels;
  for (size_t i = 0; i < out.pixels.size(); ++i) out.pixels[i] = lut[i % C][out.pixels[i]];
  return out;
}

std::vector<std::array<uint8_t, 256>> same_lut(int channels, const std::array<uint8_t, 256>& l) {
  return std::vector<std::array<uint8_t, 256>>(channels, l);
}

std::array<int64_t, 256> histogram(const Image& img, int c) {
  std::array<int64_t, 256> h{};
  for (size_t i = c; i < img.pixels.size(); i += img.channels) ++h[img.pixels[i]];
  return h;
}

// A constant or grey image brought back to img's channel count (Image.convert(mode)).
Image to_mode_of(const Image& grey, const Image& like) {
  if (like.channels == 1) return grey;
  Image out = make_image(grey.width, grey.height, like.channels);
  for (size_t i = 0; i < grey.pixels.size(); ++i)
    for (int c = 0; c < like.channels; ++c) out.pixels[i * like.channels + c] = grey.pixels[i];
  return out;
}
}  // namespace

Image to_grey(const Image& img) {
  if (img.channels == 1) return img;
  Image out = make_image(img.width, img.height, 1);
  for (size_t i = 0; i < out.pixels.size(); ++i) {
    const uint8_t* p = &img.pixels[i * 3];
    out.pixels[i] = static_cast<uint8_t>((p[0] * 19595 + p[1] * 38470 + p[2] * 7471 + 0x8000) >> 16);
  }
  return out;
}

Image blend(const Image& a, const Image& b, float alpha) {
  VT_ASSERT(a.pixels.size() == b.pixels.size());
  if (alpha == 0.0f) return a;
  if (alpha == 1.0f) return b;
  Image out = a;
  const bool interpolate = alpha >= 0 && alpha <= 1.0f;
  for (size_t i = 0; i < a.pixels.size(); ++i) {
    const float v = static_cast<float>(static_cast<int>(a.pixels[i]) +
                                       alpha * (static_cast<int>(b.pixels[i]) - static_cast<int>(a.pixels[i])));
    out.pixels[i] = interpolate ? static_cast<uint8_t>(v)
                                : (v <= 0.0f     ? 0
                                   : v >= 255.0f ? 255
                                                 : static_cast<uint8_t>(v));
  }
  return out;
}

Image enhance_color(const Image& img, double f) {
  return blend(to_mode_of(to_grey(img), img), img, static_cast<float>(f));
}

Image enhance_contrast(const Image& img, double f) {
  // ImageStat mean of the grey image, rounded: int(mean + 0.5)
  const Image grey = to_grey(img);
  double sum = 0;
  for (uint8_t v : grey.pixels) sum += v;
  const int mean = static_cast<int>(sum / static_cast<double>(grey.pixels.size()) + 0.5);
  return blend(to_mode_of(make_image(img.width, img.height, 1, static_cast<uint8_t>(mean)), img), img,
               static_cast<float>(f));
}

Image enhance_brightness(const Image& img, double f) {
  return blend(make_image(img.width, img.height, img.channels, 0), img, static_cast<float>(f));
}

Image auto_contrast(const Image& img) {
  std::vector<std::array<uint8_t, 256>> lut(img.channels);
  for (int c = 0; c < img.channels; ++c) {
    const auto h = histogram(img, c);
    int lo = 0, hi = 255;
    while (lo < 256 && !h[lo]) ++lo;
    while (hi >= 0 && !h[hi]) --hi;
    for (int ix = 0; ix < 256; ++ix) {
      if (hi <= lo) {
        lut[c][ix] = static_cast<uint8_t>(ix);
        continue;
      }
      const double scale = 255.0 / (hi - lo), offset = -lo * scale;
      int v = static_cast<int>(ix * scale + offset);  // Python int(): toward zero
      lut[c][ix] = static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
    }
  }
  return apply_lut(img, lut);
}

Image equalize(const Image& img) {
  std::vector<std::array<uint8_t, 256>> lut(img.channels);
  for (int c = 0; c < img.channels; ++c) {
    const auto h = histogram(img, c);
    int64_t total = 0, last = 0, nonzero = 0;
    for (int i = 0; i < 256; ++i)
      if (h[i]) {
        total += h[i];
        last = h[i];
        ++nonzero;
      }
    const int64_t step = nonzero <= 1 ? 0 : (total - last) / 255;
    int64_t n = step / 2;
    for (int i = 0; i < 256; ++i) {
      if (!step) {
        lut[c][i] = static_cast<uint8_t>(i);
        continue;
      }
      const int64_t v = n / step;
      lut[c][i] = static_cast<uint8_t>(v > 255 ? 255 : v);
      n += h[i];
    }
  }
  return apply_lut(img, lut);
}

Image smooth(const Image& img) {
  if (img.width < 3 || img.height < 3) return img;  // PIL copies images smaller than the kernel
  Image out = img;                                  // first and last rows and columns stay as they are
  const int C = img.channels;
  const float k = 1.0f / 13.0f, k5 = 5.0f / 13.0f;
  for (int y = 1; y < img.height - 1; ++y)
    for (int x = 1; x < img.width - 1; ++x)
      for (int c = 0; c < C; ++c) {
        // Filter3x3's order: row y+1, row y, row y-1, each a sum of three products added to an
        // accumulator that starts at 0.5 (for rounding); float arithmetic throughout, as Pillow.
        float ss = 0.5f;
        for (int dy : {1, 0, -1}) {
          const float mid = dy == 0 ? k5 : k;
          ss += static_cast<float>(img.at(y + dy, x - 1, c)) * k + static_cast<float>(img.at(y + dy, x, c)) * mid +
                static_cast<float>(img.at(y + dy, x + 1, c)) * k;
        }
        out.at(y, x, c) = ss <= 0.0f ? 0 : ss >= 255.0f ? 255 : static_cast<uint8_t>(ss);
      }
  return out;
}

// ---------------------------------------------------------------- the ops
double aug_op_argument(AugOp op, double magnitude, bool negate, const RandAugmentConfig& cfg) {
  const double level = magnitude / 10.0;
  const double sign = negate ? -1.0 : 1.0;
  switch (op) {
    case AugOp::kRotate: return sign * level * 30.0;
    case AugOp::kPosterizeIncreasing: return 4 - static_cast<int>(level * 4);
    case AugOp::kSolarizeIncreasing: return 256 - static_cast<int>(level * 256);
    case AugOp::kSolarizeAdd: return static_cast<int>(level * 110);
    case AugOp::kColorIncreasing:
    case AugOp::kContrastIncreasing:
    case AugOp::kBrightnessIncreasing:
    case AugOp::kSharpnessIncreasing: return 1.0 + sign * level * 0.9;
    case AugOp::kShearX:
    case AugOp::kShearY: return sign * level * 0.3;
    case AugOp::kTranslateXRel:
    case AugOp::kTranslateYRel: return sign * level * cfg.translate_pct;
    default: return 0;
  }
}

Image apply_aug_op(const Image& img, AugOp op, double magnitude, bool negate, const RandAugmentConfig& cfg) {
  const double arg = aug_op_argument(op, magnitude, negate, cfg);
  std::array<uint8_t, 256> l{};
  switch (op) {
    case AugOp::kAutoContrast: return auto_contrast(img);
    case AugOp::kEqualize: return equalize(img);
    case AugOp::kInvert:
      for (int i = 0; i < 256; ++i) l[i] = static_cast<uint8_t>(255 - i);
      return apply_lut(img, same_lut(img.channels, l));
    case AugOp::kRotate: return rotate(img, arg, cfg.interpolation, cfg.fill);
    case AugOp::kPosterizeIncreasing: {
      const int bits = static_cast<int>(arg);
      if (bits >= 8) return img;
      const int mask = ~((1 << (8 - bits)) - 1);
      for (int i = 0; i < 256; ++i) l[i] = static_cast<uint8_t>(i & mask);
      return apply_lut(img, same_lut(img.channels, l));
    }
    case AugOp::kSolarizeIncreasing:
      for (int i = 0; i < 256; ++i) l[i] = static_cast<uint8_t>(i < arg ? i : 255 - i);
      return apply_lut(img, same_lut(img.channels, l));
    case AugOp::kSolarizeAdd:
      for (int i = 0; i < 256; ++i) l[i] = static_cast<uint8_t>(i < 128 ? std::min(255, i + static_cast<int>(arg)) : i);
      return apply_lut(img, same_lut(img.channels, l));
    case AugOp::kColorIncreasing: return enhance_color(img, arg);
    case AugOp::kContrastIncreasing: return enhance_contrast(img, arg);
    case AugOp::kBrightnessIncreasing: return enhance_brightness(img, arg);
    case AugOp::kSharpnessIncreasing: return blend(smooth(img), img, static_cast<float>(arg));
    case AugOp::kShearX: return affine(img, {1, arg, 0, 0, 1, 0}, cfg.interpolation, cfg.fill);
    case AugOp::kShearY: return affine(img, {1, 0, 0, arg, 1, 0}, cfg.interpolation, cfg.fill);
    case AugOp::kTranslateXRel: return affine(img, {1, 0, arg * img.width, 0, 1, 0}, cfg.interpolation, cfg.fill);
    case AugOp::kTranslateYRel: return affine(img, {1, 0, 0, 0, 1, arg * img.height}, cfg.interpolation, cfg.fill);
  }
  return img;
}

Image rand_augment(const Image& img, const RandAugmentConfig& cfg, Generator& gen) {
  Image out = img;
  for (int i = 0; i < cfg.num_ops; ++i) {
    const AugOp op = static_cast<AugOp>(gen.randint(0, kNumAugOps));  // with replacement
    if (cfg.prob < 1.0 && gen.uniform() > cfg.prob) continue;
    double m = cfg.magnitude;
    if (cfg.magnitude_std > 0) m += cfg.magnitude_std * gen.normal();
    m = std::min(10.0, std::max(0.0, m));
    const bool negate = gen.uniform() > 0.5;
    out = apply_aug_op(out, op, m, negate, cfg);
  }
  return out;
}

}  // namespace vt::data
