// Decoded images: 8-bit, interleaved (H, W, C) with C = 3 (RGB) or 1 (grey), and decoding with
// stb_image by content. Decoding is a pure function of the bytes, safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vt::data {

struct Image {
  int width = 0, height = 0, channels = 3;
  std::vector<uint8_t> pixels;  // height * width * channels, row-major, channels interleaved
  uint8_t* row(int y) { return pixels.data() + static_cast<size_t>(y) * width * channels; }
  const uint8_t* row(int y) const { return pixels.data() + static_cast<size_t>(y) * width * channels; }
  uint8_t& at(int y, int x, int c) { return pixels[(static_cast<size_t>(y) * width + x) * channels + c]; }
  uint8_t at(int y, int x, int c) const { return pixels[(static_cast<size_t>(y) * width + x) * channels + c]; }
};

Image make_image(int width, int height, int channels, uint8_t fill = 0);

// PIL's default limit (Image.MAX_IMAGE_PIXELS): larger headers are refused before decoding.
constexpr int64_t kDefaultMaxPixels = 89478485;

struct DecodeResult {
  std::optional<Image> image;
  std::string error;  // stb's reason (or ours) when image is empty
};

// Header only: size and channel count, no pixel allocation. False (with `error`) when stb cannot
// read the header or the image exceeds max_pixels.
bool probe_image(const std::string& bytes, int& width, int& height, std::string& error, int64_t max_pixels);

// Decodes PNG/JPEG (baseline, progressive, CMYK/YCCK)/BMP/PNM by content into RGB:
// grey is replicated, alpha dropped, 16-bit reduced to 8-bit, CMYK converted (as PIL's
// convert('RGB')). The header is checked against max_pixels before any pixel memory is allocated.
DecodeResult decode_image(const std::string& bytes, int64_t max_pixels = kDefaultMaxPixels);

// The PNG file's bytes for an image of 1 (grey), 3 (RGB) or 4 (RGBA) channels (stb_image_write).
std::string encode_png(const Image& img);

}  // namespace vt::data
