// Eval and train transforms, random erasing, Mixup / CutMix.
#include "data/transforms.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/rng.h"
#include "data/randaugment.h"

namespace vt::data {

Image convert_channels(const Image& img, int channels) {
  VT_CHECK(channels == 1 || channels == 3, "convert: ", channels, " channels (1 or 3 supported)");
  if (img.channels == channels) return img;
  if (channels == 1) return to_grey(img);
  Image out = make_image(img.width, img.height, 3);
  for (size_t i = 0; i < img.pixels.size(); ++i)
    out.pixels[3 * i] = out.pixels[3 * i + 1] = out.pixels[3 * i + 2] = img.pixels[i];
  return out;
}

void to_normalized(const Image& img, const TransformConfig& cfg, float* out) {
  const int C = img.channels, HW = img.width * img.height;
  for (int c = 0; c < C; ++c) {
    const float mean = cfg.mean[c], std = cfg.std[c];
    float* dst = out + static_cast<size_t>(c) * HW;
    for (int i = 0; i < HW; ++i)
      dst[i] = (static_cast<float>(img.pixels[static_cast<size_t>(i) * C + c]) / 255.0f - mean) / std;
  }
}

// ---------------------------------------------------------------- eval
namespace {
// torchvision Resize(int): the shorter side becomes `size`, the longer int(size * long / short).
Image resize_shorter(const Image& img, int size, Interpolation interp) {
  const bool w_short = img.width <= img.height;
  const int shortside = w_short ? img.width : img.height, longside = w_short ? img.height : img.width;
  const int new_long = static_cast<int>(static_cast<double>(static_cast<int64_t>(size) * longside) / shortside);
  return w_short ? resize(img, size, new_long, interp) : resize(img, new_long, size, interp);
}

// torchvision CenterCrop: offset round((in - out) / 2) with Python's half-to-even rounding; a
// crop larger than the image pads with zeros, (out - in) // 2 on the leading side.
int center_offset(int in, int out) {
  if (in < out) return -((out - in) / 2);
  return static_cast<int>(std::nearbyint((in - out) / 2.0));
}
}  // namespace

Image eval_image(const Image& img0, const TransformConfig& cfg) {
  Image img = convert_channels(img0, cfg.in_chans);
  const int S = cfg.input_size;
  if (cfg.small_input()) {
    if (img.width != S || img.height != S) img = resize(img, S, S, cfg.eval_interpolation);
    return img;
  }
  img = resize_shorter(img, static_cast<int>(S / cfg.crop_ratio), cfg.eval_interpolation);
  return crop(img, center_offset(img.width, S), center_offset(img.height, S), S, S);
}

void eval_transform(const Image& img, const TransformConfig& cfg, float* out) {
  to_normalized(eval_image(img, cfg), cfg, out);
}

// ---------------------------------------------------------------- train
std::array<int, 4> random_resized_crop_box(int W, int H, const TransformConfig& cfg, Generator& gen) {
  const double area = static_cast<double>(W) * H;
  const double log_lo = std::log(cfg.ratio_min), log_hi = std::log(cfg.ratio_max);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = gen.uniform(cfg.scale_min, cfg.scale_max) * area;
    const double aspect = std::exp(gen.uniform(log_lo, log_hi));
    const int w = static_cast<int>(std::nearbyint(std::sqrt(target * aspect)));
    const int h = static_cast<int>(std::nearbyint(std::sqrt(target / aspect)));
    if (w <= W && h <= H && w > 0 && h > 0) {
      const int top = static_cast<int>(gen.randint(0, H - h + 1)), left = static_cast<int>(gen.randint(0, W - w + 1));
      return {left, top, w, h};
    }
  }
  // Fallback: the whole image, or its centre at the nearest allowed aspect ratio.
  const double in_ratio = static_cast<double>(W) / H;
  int w = W, h = H;
  if (in_ratio < cfg.ratio_min) h = static_cast<int>(std::nearbyint(W / cfg.ratio_min));
  else if (in_ratio > cfg.ratio_max) w = static_cast<int>(std::nearbyint(H * cfg.ratio_max));
  return {(W - w) / 2, (H - h) / 2, w, h};
}

Image train_image(const Image& img0, const TransformConfig& cfg, Generator& gen) {
  Image img = convert_channels(img0, cfg.in_chans);
  const int S = cfg.input_size;
  if (cfg.small_input()) {
    // deit's small-image path: RandomCrop(S, padding=4) (zero padding)
    if (img.width != S || img.height != S) img = resize(img, S, S, cfg.train_interpolation);
    const int pad = cfg.small_crop_padding;
    if (pad > 0) {
      const int top = static_cast<int>(gen.randint(0, 2 * pad + 1)) - pad,
                left = static_cast<int>(gen.randint(0, 2 * pad + 1)) - pad;
      img = crop(img, left, top, S, S);
    }
  } else {
    const auto [left, top, w, h] = random_resized_crop_box(img.width, img.height, cfg, gen);
    img = resize(crop(img, left, top, w, h), S, S, cfg.train_interpolation);
  }
  if (cfg.hflip > 0 && gen.uniform() < cfg.hflip) img = flip_horizontal(img);
  if (cfg.rand_augment) img = rand_augment(img, *cfg.rand_augment, gen);
  else if (cfg.color_jitter > 0) img = color_jitter(img, cfg.color_jitter, gen);
  return img;
}

Image color_jitter(const Image& img, double cj, Generator& gen) {
  int order[3] = {0, 1, 2};  // a random permutation (torchvision's randperm)
  for (int i = 2; i > 0; --i) std::swap(order[i], order[gen.randint(0, i + 1)]);
  double factor[3];
  for (double& f : factor) f = gen.uniform(std::max(0.0, 1 - cj), 1 + cj);
  Image out = img;
  for (int k : order)
    out = k == 0   ? enhance_brightness(out, factor[0])
          : k == 1 ? enhance_contrast(out, factor[1])
                   : enhance_color(out, factor[2]);
  return out;
}

void train_transform(const Image& img, const TransformConfig& cfg, Generator& gen, float* out) {
  const Image t = train_image(img, cfg, gen);
  to_normalized(t, cfg, out);
  if (cfg.reprob > 0) random_erasing(out, t.channels, t.height, t.width, cfg.reprob, gen);
}

void random_erasing(float* chw, int C, int H, int W, double p, Generator& gen) {
  if (gen.uniform() > p) return;
  const double area = static_cast<double>(H) * W;
  const double log_lo = std::log(0.3), log_hi = std::log(1 / 0.3);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = gen.uniform(0.02, 1.0 / 3.0) * area;
    const double aspect = std::exp(gen.uniform(log_lo, log_hi));
    const int h = static_cast<int>(std::nearbyint(std::sqrt(target * aspect)));
    const int w = static_cast<int>(std::nearbyint(std::sqrt(target / aspect)));
    if (w < W && h < H) {
      const int top = static_cast<int>(gen.randint(0, H - h + 1)), left = static_cast<int>(gen.randint(0, W - w + 1));
      for (int c = 0; c < C; ++c)
        for (int y = top; y < top + h; ++y)
          for (int x = left; x < left + w; ++x)
            chw[(static_cast<size_t>(c) * H + y) * W + x] = static_cast<float>(gen.normal());
      return;
    }
  }
}

// ---------------------------------------------------------------- Mixup / CutMix
Tensor smooth_one_hot(const std::vector<int64_t>& labels, int64_t K, double smoothing) {
  const float off = static_cast<float>(smoothing / K), on = static_cast<float>(1.0 - smoothing + smoothing / K);
  Tensor t = full({static_cast<int64_t>(labels.size()), K}, off);
  for (size_t i = 0; i < labels.size(); ++i) t.data()[i * K + labels[i]] = on;
  return t;
}

Tensor mixup_batch(Tensor& images, const std::vector<int64_t>& labels, const MixupConfig& cfg, Generator& gen) {
  const int64_t B = images.size(0), C = images.size(1), H = images.size(2), W = images.size(3), K = cfg.num_classes;
  VT_CHECK(B % 2 == 0, "mixup/cutmix: the batch size must be even, got ", B, " (as timm requires)");
  double lam = 1.0;
  bool cutmix = false;
  if (cfg.enabled() && gen.uniform() < cfg.prob) {
    if (cfg.mixup_alpha > 0 && cfg.cutmix_alpha > 0) cutmix = gen.uniform() < cfg.switch_prob;
    else cutmix = cfg.cutmix_alpha > 0;
    lam = cutmix ? gen.beta(cfg.cutmix_alpha, cfg.cutmix_alpha) : gen.beta(cfg.mixup_alpha, cfg.mixup_alpha);
  }
  float* x = images.data();
  const int64_t sample = C * H * W;
  if (lam != 1.0 && cutmix) {
    // A box of side ratio sqrt(1 - lam) centred uniformly, clipped; lam becomes the kept area.
    const double ratio = std::sqrt(1 - lam);
    const int64_t cut_h = static_cast<int64_t>(H * ratio), cut_w = static_cast<int64_t>(W * ratio);
    const int64_t cy = gen.randint(0, H), cx = gen.randint(0, W);
    const int64_t yl = std::clamp(cy - cut_h / 2, int64_t{0}, H), yh = std::clamp(cy + cut_h / 2, int64_t{0}, H);
    const int64_t xl = std::clamp(cx - cut_w / 2, int64_t{0}, W), xh = std::clamp(cx + cut_w / 2, int64_t{0}, W);
    lam = 1.0 - static_cast<double>((yh - yl) * (xh - xl)) / static_cast<double>(H * W);
    // x[:, :, yl:yh, xl:xh] = x.flip(0)[...]: pairs (i, B-1-i) swap their boxes.
    for (int64_t i = 0; i < B / 2; ++i) {
      float* a = x + i * sample;
      float* b = x + (B - 1 - i) * sample;
      for (int64_t c = 0; c < C; ++c)
        for (int64_t y = yl; y < yh; ++y)
          for (int64_t xx = xl; xx < xh; ++xx) std::swap(a[(c * H + y) * W + xx], b[(c * H + y) * W + xx]);
    }
  } else if (lam != 1.0) {
    const float l = static_cast<float>(lam), m = static_cast<float>(1 - lam);
    for (int64_t i = 0; i < B / 2; ++i) {  // x = lam x + (1 - lam) x.flip(0), pairwise
      float* a = x + i * sample;
      float* b = x + (B - 1 - i) * sample;
      for (int64_t j = 0; j < sample; ++j) {
        const float va = a[j], vb = b[j];
        a[j] = va * l + vb * m;
        b[j] = vb * l + va * m;
      }
    }
  }
  Tensor y1 = smooth_one_hot(labels, K, cfg.smoothing);
  std::vector<int64_t> flipped(labels.rbegin(), labels.rend());
  Tensor y2 = smooth_one_hot(flipped, K, cfg.smoothing);
  Tensor out = empty({B, K});
  const float l = static_cast<float>(lam), m = static_cast<float>(1 - lam);
  for (int64_t i = 0; i < B * K; ++i) out.data()[i] = y1.data()[i] * l + y2.data()[i] * m;
  return out;
}

}  // namespace vt::data
