// DeiT's image transforms (data/README.md), on decoded images,
// writing normalised float (C, S, S) into a batch slot. Randomness comes from a Generator the
// caller derives from (seed, epoch, sample index), so a sample's augmentation never depends on
// which thread made it.
//
//   eval   Resize(int(S / crop_ratio)) of the shorter side (bicubic as PIL, or bilinear),
//          CenterCrop(S) with torchvision's half-to-even offsets, ToTensor, Normalize
//   train  RandomResizedCrop(S, scale, ratio; 10 tries then the centre fallback), horizontal
//          flip, RandAugment, ToTensor, Normalize, RandomErasing (pixel mode)
//   small  (S <= 32, deit's CIFAR path) eval: no resize; train: RandomCrop(S, padding 4)
// Batch level: Mixup / CutMix (timm's Mixup, batch mode) producing label-smoothed soft targets.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "data/geometry.h"
#include "data/image.h"
#include "data/randaugment.h"

namespace vt {
class Generator;
}

namespace vt::data {

constexpr std::array<float, 3> kImagenetMean = {0.485f, 0.456f, 0.406f};
constexpr std::array<float, 3> kImagenetStd = {0.229f, 0.224f, 0.225f};

struct TransformConfig {
  int input_size = 224;
  int in_chans = 3;  // images are converted to this many channels (grey <-> RGB)
  std::array<float, 3> mean = kImagenetMean, std = kImagenetStd;
  // eval
  double crop_ratio = 0.875;
  Interpolation eval_interpolation = Interpolation::kBicubic;
  // train
  Interpolation train_interpolation = Interpolation::kBicubic;
  double scale_min = 0.08, scale_max = 1.0, ratio_min = 3.0 / 4.0, ratio_max = 4.0 / 3.0;
  double hflip = 0.5;
  std::optional<RandAugmentConfig> rand_augment;  // none = off
  // torchvision's ColorJitter(cj, cj, cj) when there is no RandAugment, as timm's transforms: the
  // brightness, contrast and saturation factors drawn uniformly from [max(0, 1 - cj), 1 + cj] and
  // applied in a random order (0 = off)
  double color_jitter = 0;
  double reprob = 0.25;        // random erasing probability (pixel mode)
  int small_crop_padding = 4;  // small inputs: RandomCrop(S, padding) (0 = off)
  bool small_input() const { return input_size <= 32; }
};

// Converts to `channels` channels as PIL's convert() does (RGB -> L weights, L -> RGB copies).
Image convert_channels(const Image& img, int channels);

// The crop box RandomResizedCrop picks (left, top, width, height); exposed for tests.
std::array<int, 4> random_resized_crop_box(int width, int height, const TransformConfig& cfg, Generator& gen);

// The uint8 image before ToTensor (tests compare it with PIL); `out` variants write normalised
// floats (C, S, S) into out.
Image eval_image(const Image& img, const TransformConfig& cfg);
void eval_transform(const Image& img, const TransformConfig& cfg, float* out);
Image train_image(const Image& img, const TransformConfig& cfg, Generator& gen);
Image color_jitter(const Image& img, double cj, Generator& gen);
void train_transform(const Image& img, const TransformConfig& cfg, Generator& gen, float* out);

// ToTensor + Normalize: (v / 255 - mean) / std per channel, in float as torchvision does.
void to_normalized(const Image& img, const TransformConfig& cfg, float* out);

// timm's RandomErasing on one normalised (C, H, W) sample: with probability p, one box of area
// U(0.02, 1/3) of the image and log-uniform aspect in [0.3, 1/0.3] (10 tries) gets N(0, 1) noise.
void random_erasing(float* chw, int C, int H, int W, double p, Generator& gen);

struct MixupConfig {
  double mixup_alpha = 0.8, cutmix_alpha = 1.0, prob = 1.0, switch_prob = 0.5, smoothing = 0.1;
  int64_t num_classes = 1000;
  bool enabled() const { return prob > 0 && (mixup_alpha > 0 || cutmix_alpha > 0); }
};

// timm's Mixup in batch mode: with probability `prob`, mixes images (B, C, H, W) in place with
// the batch reversed (CutMix with probability switch_prob when both are on, lambda corrected to
// the pasted area) and returns soft targets (B, num_classes) = lambda y + (1 - lambda) y_flipped
// with y the smoothed one-hot (off = s / K, on = 1 - s + s / K). B must be even.
Tensor mixup_batch(Tensor& images, const std::vector<int64_t>& labels, const MixupConfig& cfg, Generator& gen);

// Smoothed one-hot targets without mixing (what mixup_batch returns when it does not mix).
Tensor smooth_one_hot(const std::vector<int64_t>& labels, int64_t num_classes, double smoothing);

}  // namespace vt::data
