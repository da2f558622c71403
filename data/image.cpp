// stb_image wrappers with a pixel limit checked from the header.
#include "data/image.h"

#include <stb_image.h>

#include <climits>
#include <cstring>

#include "core/error.h"

namespace vt::data {

Image make_image(int width, int height, int channels, uint8_t fill) {
  Image im;
  im.width = width;
  im.height = height;
  im.channels = channels;
  im.pixels.assign(static_cast<size_t>(width) * height * channels, fill);
  return im;
}

namespace {
uint32_t be16(const std::string& b, size_t i) { return (uint32_t(uint8_t(b[i])) << 8) | uint8_t(b[i + 1]); }
uint32_t be32(const std::string& b, size_t i) { return (be16(b, i) << 16) | be16(b, i + 2); }

// Width and height from a PNG's IHDR or a JPEG's first SOF marker, without decoding: stb refuses
// headers above 2^30 bytes with a generic "unknown image type", and we want to say why.
bool sniff_dimensions(const std::string& b, uint64_t& w, uint64_t& h) {
  if (b.size() >= 24 && b.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0 && b.compare(12, 4, "IHDR") == 0) {
    w = be32(b, 16);
    h = be32(b, 20);
    return true;
  }
  if (b.size() >= 4 && uint8_t(b[0]) == 0xFF && uint8_t(b[1]) == 0xD8) {
    size_t i = 2;
    while (i + 9 < b.size()) {
      if (uint8_t(b[i]) != 0xFF) return false;
      const uint8_t marker = uint8_t(b[i + 1]);
      if (marker >= 0xC0 && marker <= 0xC3) {
        h = be16(b, i + 5);
        w = be16(b, i + 7);
        return true;
      }
      i += 2 + be16(b, i + 2);
    }
  }
  return false;
}
}  // namespace

bool probe_image(const std::string& bytes, int& width, int& height, std::string& error, int64_t max_pixels) {
  if (bytes.empty()) {
    error = "empty file";
    return false;
  }
  uint64_t sw = 0, sh = 0;
  if (sniff_dimensions(bytes, sw, sh) && sw * sh > static_cast<uint64_t>(max_pixels)) {
    error = str_cat("image of ", sw, "x", sh, " pixels exceeds the limit of ", max_pixels, " pixels (--max-image-pixels)");
    return false;
  }
  if (bytes.size() > static_cast<size_t>(INT_MAX)) {
    error = "file larger than 2 GB";
    return false;
  }
  int comp = 0;
  const auto* p = reinterpret_cast<const stbi_uc*>(bytes.data());
  if (!stbi_info_from_memory(p, static_cast<int>(bytes.size()), &width, &height, &comp)) {
    const char* why = stbi_failure_reason();
    error = str_cat("not a decodable image (", why ? why : "unknown format", ")");
    return false;
  }
  if (width <= 0 || height <= 0) {
    error = str_cat("invalid size ", width, "x", height);
    return false;
  }
  if (static_cast<int64_t>(width) * height > max_pixels) {
    error = str_cat("image of ", width, "x", height, " pixels exceeds the limit of ", max_pixels,
                    " pixels (--max-image-pixels)");
    return false;
  }
  return true;
}

DecodeResult decode_image(const std::string& bytes, int64_t max_pixels) {
  DecodeResult r;
  int w = 0, h = 0;
  if (!probe_image(bytes, w, h, r.error, max_pixels)) return r;
  // stb decodes a truncated JPEG without complaint (the missing part comes out grey); PIL refuses
  // it. A complete JPEG ends with the EOI marker FF D9 (trailing bytes after it are tolerated).
  if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0xFF && static_cast<unsigned char>(bytes[1]) == 0xD8 &&
      bytes.find("\xFF\xD9", bytes.size() > 1024 ? bytes.size() - 1024 : 0) == std::string::npos) {
    r.error = "truncated JPEG (no end-of-image marker in its last 1 KiB)";
    return r;
  }
  int comp = 0;
  stbi_uc* data = stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()), static_cast<int>(bytes.size()),
                                        &w, &h, &comp, 3);
  if (!data) {
    const char* why = stbi_failure_reason();
    r.error = str_cat("decoding failed (", why ? why : "unknown reason", ")");
    return r;
  }
  Image im;
  im.width = w;
  im.height = h;
  im.channels = 3;
  im.pixels.assign(data, data + static_cast<size_t>(w) * h * 3);
  stbi_image_free(data);
  r.image = std::move(im);
  return r;
}

}  // namespace vt::data
