// Geometric image operations computed exactly as Pillow 9.4 computes them, so that our transforms
// match DeiT's PIL + torchvision pipeline to the grey level:
//   resize       Image.resize: separable passes, antialiased (the filter support grows with the
//                downscale factor), 22-bit fixed-point coefficients, horizontal pass first
//                (src/libImaging/Resample.c); bicubic is Keys' kernel with a = -0.5
//   affine       Image.transform(AFFINE): inverse mapping of pixel centres, bicubic (a = -1 form
//                in Geometry.c) or bilinear sampling, fillcolor outside the source
//   crop, hflip  Image.crop (zeros outside), Image.transpose(FLIP_LEFT_RIGHT)
#pragma once

#include <array>

#include "data/image.h"

namespace vt::data {

enum class Interpolation { kNearest, kBilinear, kBicubic };

Interpolation parse_interpolation(const std::string& name);  // "bicubic", "bilinear", "nearest"

Image resize(const Image& in, int out_w, int out_h, Interpolation interp);
Image crop(const Image& in, int left, int top, int width, int height);  // zero-filled outside
Image flip_horizontal(const Image& in);

// out(x, y) = in(a x' + b y' + c, d x' + e y' + f) with x' = x + 0.5, y' = y + 0.5 (PIL's
// convention); pixels mapped outside the source take `fill`.
Image affine(const Image& in, const std::array<double, 6>& m, Interpolation interp, const std::array<uint8_t, 3>& fill);

// Image.rotate(degrees, resample, fillcolor=fill): counter-clockwise about the centre, same size.
Image rotate(const Image& in, double degrees, Interpolation interp, const std::array<uint8_t, 3>& fill);

}  // namespace vt::data
