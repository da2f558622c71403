// Internal to core: exp and the normal CDF as straight-line float code that the compiler can
// vectorise inside a loop (libm's expf/erff are opaque calls, one element at a time). These are
// accurate implementations, not "fast math": exp is within 2 ulp of expf on its whole range,
// the normal CDF within 1e-7 absolute (tested in tests/core/test_vecmath.cpp). No -ffast-math.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace vt::detail {

inline float bits_to_float(int32_t i) {
  float f;
  std::memcpy(&f, &i, sizeof f);
  return f;
}

inline int32_t float_to_bits(float f) {
  int32_t i;
  std::memcpy(&i, &f, sizeof i);
  return i;
}

// The functions below are straight-line code (selects, no branches), so a loop calling them
// vectorises; with GCC that needs -fno-trapping-math (see CMakeLists.txt), which changes no value.

// e^x. Cody-Waite reduction x = n ln2 + r with |r| <= ln2/2, Cephes' degree-6 polynomial for e^r,
// then 2^n applied as two exact power-of-two factors, so that overflow gives +inf, underflow
// gives denormals and then 0, as IEEE multiplication does. NaN propagates through the clamps.
inline float exp_f32(float x) {
  // Clamp written as "bound > x ? bound : x" so that NaN falls through (and maps to maxps/minps).
  float xc = -104.f > x ? -104.f : x;  // e^-104 rounds to 0
  xc = 89.f < xc ? 89.f : xc;          // e^89 overflows to inf
  // n = round(xc * log2(e)) with the 1.5 * 2^23 trick (round to nearest even, no libm call);
  // the integer n also sits in the low mantissa bits of `shifted`, which saves a float->int
  // conversion (a conversion may trap, which keeps GCC from vectorising the loop).
  const float shifted = xc * 1.44269504088896341f + 12582912.f;
  const float n = shifted - 12582912.f;
  const int32_t ni = float_to_bits(shifted) - 0x4B400000;
  float r = xc - n * 0.693359375f;  // ln2 split in two: the first product is exact
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float er = p * r * r + r + 1.f;
  // 2^n = 2^h * 2^(n-h) with h = floor(n/2) (an arithmetic shift: GCC and clang define >> of a
  // negative int so, and it vectorises to one instruction where n/2 took three): both factors are
  // normal floats for n in [-150, 129], and the products round exactly as one multiplication by
  // 2^n would.
  // The exponent fields are shifted as unsigned: for a NaN input ni is garbage (er is NaN and
  // so is the result), and a signed shift of it would be undefined behaviour.
  const int32_t h = ni >> 1;
  const uint32_t e1 = static_cast<uint32_t>(h + 127) << 23, e2 = static_cast<uint32_t>(ni - h + 127) << 23;
  return er * bits_to_float(static_cast<int32_t>(e1)) * bits_to_float(static_cast<int32_t>(e2));
}

// The standard normal CDF Phi(x) = (1 + erf(x / sqrt 2)) / 2 and density phi(x), sharing one
// exp. erf uses Abramowitz & Stegun 7.1.26, erf(z) = 1 - t P(t) e^(-z^2) with t = 1/(1 + p z)
// (absolute error below 1.5e-7, the formula PyTorch's vectorised CPU erf uses too); the factor
// e^(-z^2) = e^(-x^2/2) is also sqrt(2 pi) phi(x), which GELU's backward needs.
inline void normal_cdf_pdf_f32(float x, float& cdf, float& pdf) {
  const float z = std::fabs(x) * 0.70710678118654752f;
  const float e = exp_f32(-z * z);  // e^(-x^2/2)
  const float t = 1.f / (1.f + 0.3275911f * z);
  float poly = 1.061405429f;
  poly = poly * t - 1.453152027f;
  poly = poly * t + 1.421413741f;
  poly = poly * t - 0.284496736f;
  poly = poly * t + 0.254829592f;
  const float erf_abs = 1.f - poly * t * e;  // erf(|x| / sqrt 2)
  cdf = 0.5f + 0.5f * std::copysign(erf_abs, x);
  pdf = 0.39894228040143267794f * e;  // 1/sqrt(2 pi) e^(-x^2/2)
}

inline float normal_cdf_f32(float x) {
  float cdf, pdf;
  normal_cdf_pdf_f32(x, cdf, pdf);
  return cdf;
}

// The exact (erf) GELU, x Phi(x), and its derivative Phi(x) + x phi(x): core's gelu op and the
// linear layer's fused GELU (nn/linear.cpp) share these.
inline float gelu_f32(float x) { return x * normal_cdf_f32(x); }
inline float gelu_grad_f32(float x) {
  float cdf, pdf;
  normal_cdf_pdf_f32(x, cdf, pdf);
  return cdf + x * pdf;
}

}  // namespace vt::detail

namespace vt::detail {

// Sum of n contiguous floats with 8 running lanes: vectorisable (the lanes are independent) and
// more accurate than one running sum; the order is fixed, so results are reproducible.
inline float sum_f32(const float* p, int64_t n) {
  float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) lane[k] += p[i + k];
  for (int k = 0; i < n; ++i, ++k) lane[k] += p[i];
  return ((lane[0] + lane[4]) + (lane[1] + lane[5])) + ((lane[2] + lane[6]) + (lane[3] + lane[7]));
}

// Maximum of n >= 1 contiguous floats, 8 lanes (NaN propagates: a NaN lane stays NaN).
inline float max_f32(const float* p, int64_t n) {
  float lane[8];
  for (int k = 0; k < 8; ++k) lane[k] = p[0];
  int64_t i = 0;
  // Bitwise | on the comparisons, not ||: no short circuit, so the selects vectorise (with ||
  // GCC kept a branch per lane, 1.2 ns per element instead of a few hundredths).
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) {
      const float v = p[i + k];
      lane[k] = ((lane[k] < v) | (v != v)) ? v : lane[k];
    }
  for (int k = 0; i < n; ++i, ++k) lane[k] = ((lane[k] < p[i]) | (p[i] != p[i])) ? p[i] : lane[k];
  float m = lane[0];
  for (int k = 1; k < 8; ++k) m = ((m < lane[k]) | (lane[k] != lane[k])) ? lane[k] : m;
  return m;
}

// Dot product of two contiguous float vectors, same lane scheme.
inline float dot_f32(const float* a, const float* b, int64_t n) {
  float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) lane[k] += a[i + k] * b[i + k];
  for (int k = 0; i < n; ++i, ++k) lane[k] += a[i] * b[i];
  return ((lane[0] + lane[4]) + (lane[1] + lane[5])) + ((lane[2] + lane[6]) + (lane[3] + lane[7]));
}

}  // namespace vt::detail
