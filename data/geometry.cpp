// Pillow-exact resize, affine transform, rotate, crop and flip (see geometry.h for the sources).
#include "data/geometry.h"

#include <climits>
#include <cmath>

#include "core/error.h"

namespace vt::data {

Interpolation parse_interpolation(const std::string& name) {
  if (name == "bicubic") return Interpolation::kBicubic;
  if (name == "bilinear") return Interpolation::kBilinear;
  if (name == "nearest") return Interpolation::kNearest;
  throw Error(str_cat("unknown interpolation '", name, "' (bicubic, bilinear, nearest)"));
}

// ---------------------------------------------------------------- resize (Resample.c)
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;

double bicubic_kernel(double x) {  // Keys, a = -0.5, support 2
  const double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

double bilinear_kernel(double x) {  // triangle, support 1
  if (x < 0.0) x = -x;
  if (x < 1.0) return 1.0 - x;
  return 0.0;
}

struct Coeffs {
  int ksize = 0;
  std::vector<int> bounds;  // per output: first input index, count
  std::vector<int32_t> k;   // per output: ksize fixed-point weights
};

// precompute_coeffs + normalize_coeffs_8bpc, for the source range [in0, in1) of in_size pixels.
Coeffs precompute(int in_size, float in0, float in1, int out_size, Interpolation interp) {
  const double support0 = interp == Interpolation::kBicubic ? 2.0 : 1.0;
  double scale = static_cast<double>(in1 - in0) / out_size;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = support0 * filterscale;
  Coeffs c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.bounds.resize(2 * static_cast<size_t>(out_size));
  c.k.assign(static_cast<size_t>(out_size) * c.ksize, 0);
  std::vector<double> w(c.ksize);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = in0 + (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      const double arg = (x + xmin - center + 0.5) * ss;
      w[x] = interp == Interpolation::kBicubic ? bicubic_kernel(arg) : bilinear_kernel(arg);
      ww += w[x];
    }
    for (int x = 0; x < xmax; ++x) {
      const double v = ww != 0.0 ? w[x] / ww : w[x];
      c.k[static_cast<size_t>(xx) * c.ksize + x] = v < 0 ? static_cast<int32_t>(-0.5 + v * (1 << kPrecisionBits))
                                                         : static_cast<int32_t>(0.5 + v * (1 << kPrecisionBits));
    }
    c.bounds[2 * xx] = xmin;
    c.bounds[2 * xx + 1] = xmax;
  }
  return c;
}

inline uint8_t clip8(int64_t ss) {
  const int64_t v = ss >> kPrecisionBits;  // floor, as an arithmetic shift
  return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

// Horizontal pass over rows [y0, y0 + out.height) of `in`.
void resample_horizontal(const Image& in, Image& out, int y0, const Coeffs& c) {
  const int C = in.channels;
  for (int y = 0; y < out.height; ++y) {
    const uint8_t* src = in.row(y0 + y);
    uint8_t* dst = out.row(y);
    for (int xx = 0; xx < out.width; ++xx) {
      const int xmin = c.bounds[2 * xx], xmax = c.bounds[2 * xx + 1];
      const int32_t* k = &c.k[static_cast<size_t>(xx) * c.ksize];
      for (int ch = 0; ch < C; ++ch) {
        int64_t ss = int64_t{1} << (kPrecisionBits - 1);
        for (int x = 0; x < xmax; ++x) ss += static_cast<int64_t>(src[(x + xmin) * C + ch]) * k[x];
        dst[xx * C + ch] = clip8(ss);
      }
    }
  }
}

void resample_vertical(const Image& in, Image& out, const Coeffs& c) {
  const int C = in.channels;
  for (int yy = 0; yy < out.height; ++yy) {
    const int ymin = c.bounds[2 * yy], ymax = c.bounds[2 * yy + 1];
    const int32_t* k = &c.k[static_cast<size_t>(yy) * c.ksize];
    uint8_t* dst = out.row(yy);
    for (int x = 0; x < out.width * C; ++x) {
      int64_t ss = int64_t{1} << (kPrecisionBits - 1);
      for (int y = 0; y < ymax; ++y) ss += static_cast<int64_t>(in.row(y + ymin)[x]) * k[y];
      dst[x] = clip8(ss);
    }
  }
}

Image resize_nearest(const Image& in, int out_w, int out_h) {
  // PIL's NEAREST resize: source index = int((x + 0.5) * in / out)
  Image out = make_image(out_w, out_h, in.channels);
  for (int y = 0; y < out_h; ++y) {
    const int sy = std::min(in.height - 1, static_cast<int>((y + 0.5) * in.height / out_h));
    for (int x = 0; x < out_w; ++x) {
      const int sx = std::min(in.width - 1, static_cast<int>((x + 0.5) * in.width / out_w));
      for (int c = 0; c < in.channels; ++c) out.at(y, x, c) = in.at(sy, sx, c);
    }
  }
  return out;
}

}  // namespace

Image resize(const Image& in, int out_w, int out_h, Interpolation interp) {
  VT_CHECK(out_w > 0 && out_h > 0 && in.width > 0 && in.height > 0, "resize: cannot resize ", in.width, "x", in.height,
           " to ", out_w, "x", out_h);
  if (out_w == in.width && out_h == in.height) return in;
  if (interp == Interpolation::kNearest) return resize_nearest(in, out_w, out_h);
  const bool need_h = out_w != in.width, need_v = out_h != in.height;
  const Coeffs ch = precompute(in.width, 0.f, static_cast<float>(in.width), out_w, interp);
  Coeffs cv = precompute(in.height, 0.f, static_cast<float>(in.height), out_h, interp);
  // Only the source rows the vertical pass reads go through the horizontal pass.
  const int ybox_first = cv.bounds[0];
  const int ybox_last = cv.bounds[2 * out_h - 2] + cv.bounds[2 * out_h - 1];
  Image temp;
  const Image* src = &in;
  if (need_h) {
    for (int i = 0; i < out_h; ++i) cv.bounds[2 * i] -= ybox_first;
    temp = make_image(out_w, ybox_last - ybox_first, in.channels);
    resample_horizontal(in, temp, ybox_first, ch);
    src = &temp;
  }
  if (!need_v) return temp;
  Image out = make_image(out_w, out_h, in.channels);
  resample_vertical(*src, out, cv);
  return out;
}

Image crop(const Image& in, int left, int top, int width, int height) {
  VT_CHECK(width > 0 && height > 0, "crop: empty crop ", width, "x", height);
  Image out = make_image(width, height, in.channels, 0);
  for (int y = 0; y < height; ++y) {
    const int sy = top + y;
    if (sy < 0 || sy >= in.height) continue;
    for (int x = 0; x < width; ++x) {
      const int sx = left + x;
      if (sx < 0 || sx >= in.width) continue;
      for (int c = 0; c < in.channels; ++c) out.at(y, x, c) = in.at(sy, sx, c);
    }
  }
  return out;
}

Image flip_horizontal(const Image& in) {
  Image out = make_image(in.width, in.height, in.channels);
  for (int y = 0; y < in.height; ++y)
    for (int x = 0; x < in.width; ++x)
      for (int c = 0; c < in.channels; ++c) out.at(y, x, c) = in.at(y, in.width - 1 - x, c);
  return out;
}

// ---------------------------------------------------------------- affine (Geometry.c)
namespace {

inline int clip_index(int v, int n) { return v < 0 ? 0 : v < n ? v : n - 1; }

// PIL's cubic through four samples at fractional offset d (Geometry.c's BICUBIC macro).
inline double cubic4(double v1, double v2, double v3, double v4, double d) {
  const double p1 = v2, p2 = -v1 + v3, p3 = 2 * (v1 - v2) + v3 - v4, p4 = -v1 + v2 - v3 + v4;
  return p1 + d * (p2 + d * (p3 + d * p4));
}

// Samples channel c at (xin, yin); false when the point lies outside the image.
bool sample(const Image& im, double xin, double yin, Interpolation interp, uint8_t* out) {
  if (xin < 0.0 || xin >= im.width || yin < 0.0 || yin >= im.height) return false;
  const int C = im.channels;
  if (interp == Interpolation::kNearest) {
    const int x = static_cast<int>(xin), y = static_cast<int>(yin);
    for (int c = 0; c < C; ++c) out[c] = im.at(y, x, c);
    return true;
  }
  xin -= 0.5;
  yin -= 0.5;
  int x = static_cast<int>(std::floor(xin)), y = static_cast<int>(std::floor(yin));
  const double dx = xin - x, dy = yin - y;
  if (interp == Interpolation::kBilinear) {
    const int x0 = clip_index(x, im.width), x1 = clip_index(x + 1, im.width);
    for (int c = 0; c < C; ++c) {
      const uint8_t* r0 = im.row(clip_index(y, im.height));
      double v1 = r0[x0 * C + c] + (r0[x1 * C + c] - r0[x0 * C + c]) * dx;
      double v2 = v1;
      if (y + 1 >= 0 && y + 1 < im.height) {
        const uint8_t* r1 = im.row(y + 1);
        v2 = r1[x0 * C + c] + (r1[x1 * C + c] - r1[x0 * C + c]) * dx;
      }
      v1 = v1 + (v2 - v1) * dy;
      out[c] = static_cast<uint8_t>(v1);
    }
    return true;
  }
  --x;
  --y;
  const int xs[4] = {clip_index(x, im.width), clip_index(x + 1, im.width), clip_index(x + 2, im.width),
                     clip_index(x + 3, im.width)};
  for (int c = 0; c < C; ++c) {
    auto row_value = [&](const uint8_t* r) {
      return cubic4(r[xs[0] * C + c], r[xs[1] * C + c], r[xs[2] * C + c], r[xs[3] * C + c], dx);
    };
    // Rows below the image repeat the previous row's value; the first row is clamped.
    double v1 = row_value(im.row(clip_index(y, im.height)));
    double v2 = (y + 1 >= 0 && y + 1 < im.height) ? row_value(im.row(y + 1)) : v1;
    double v3 = (y + 2 >= 0 && y + 2 < im.height) ? row_value(im.row(y + 2)) : v2;
    double v4 = (y + 3 >= 0 && y + 3 < im.height) ? row_value(im.row(y + 3)) : v3;
    const double v = cubic4(v1, v2, v3, v4, dy);
    out[c] = v <= 0.0 ? 0 : v >= 255.0 ? 255 : static_cast<uint8_t>(v);
  }
  return true;
}

}  // namespace

Image affine(const Image& in, const std::array<double, 6>& m, Interpolation interp,
             const std::array<uint8_t, 3>& fill) {
  Image out = make_image(in.width, in.height, in.channels);
  const int C = in.channels;
  for (int y = 0; y < out.height; ++y) {
    uint8_t* dst = out.row(y);
    for (int x = 0; x < out.width; ++x) {
      const double xin = x + 0.5, yin = y + 0.5;
      const double sx = m[0] * xin + m[1] * yin + m[2];
      const double sy = m[3] * xin + m[4] * yin + m[5];
      if (!sample(in, sx, sy, interp, dst + x * C))
        for (int c = 0; c < C; ++c) dst[x * C + c] = fill[C == 1 ? 0 : c];
    }
  }
  return out;
}

Image rotate(const Image& in, double degrees, Interpolation interp, const std::array<uint8_t, 3>& fill) {
  double angle = std::fmod(degrees, 360.0);
  if (angle < 0) angle += 360.0;
  if (angle == 0) return in;  // PIL returns a copy
  // Image.rotate: the inverse rotation about the centre, matrix entries rounded to 15 decimals.
  auto round15 = [](double v) { return std::nearbyint(v * 1e15) / 1e15; };
  const double a = -angle * M_PI / 180.0;
  std::array<double, 6> m = {round15(std::cos(a)),  round15(std::sin(a)), 0.0,
                             round15(-std::sin(a)), round15(std::cos(a)), 0.0};
  const double cx = in.width / 2.0, cy = in.height / 2.0;
  m[2] = m[0] * -cx + m[1] * -cy + m[2] + cx;
  m[5] = m[3] * -cx + m[4] * -cy + m[5] + cy;
  return affine(in, m, interp, fill);
}

}  // namespace vt::data
