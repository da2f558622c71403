// stb_image wrappers with a pixel limit checked from the header.
#include "data/image.h"

#include <stb_image.h>
#include <stb_image_write.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstring>
#include <string>
#include <vector>

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
// stb_image 2.27 (Debian 12) trusts two header fields it should not; later versions check them
// (nothings/stb issues 1289 and 1291, pull request 1297). Both are checked here before stb runs,
// and a third input it mishandles is rewritten (3. below).
//
// 1. A JPEG Huffman table (DHT) lists how many codes it has of each length 1..16; stb copies
//    that many symbols into 256-entry arrays, so a sum above 256 overflows the heap. Every DHT
//    segment is checked, including those between the scans of a progressive JPEG: segments are
//    skipped by their length, entropy-coded data up to the next marker (FF followed by a byte
//    that is neither 00, a stuffed FF, nor a restart marker D0-D7), and stray bytes between
//    segments one by one, as stb does.
// Where a JPEG's data starts after its start-of-image marker, or 0 if the bytes are not a JPEG
// to stb: it accepts any number of FF fill bytes before D8, so we do too.
size_t jpeg_after_soi(const std::string& b) {
  size_t i = 0;
  while (i < b.size() && uint8_t(b[i]) == 0xFF) ++i;
  return i >= 1 && i < b.size() && uint8_t(b[i]) == 0xD8 ? i + 1 : 0;
}

bool jpeg_huffman_tables_ok(const std::string& b, std::string& error) {
  const size_t n = b.size();
  size_t i = jpeg_after_soi(b);
  while (i + 1 < n) {
    if (uint8_t(b[i]) != 0xFF) {  // stray byte between segments
      ++i;
      continue;
    }
    const uint8_t m = uint8_t(b[i + 1]);
    if (m == 0xFF || m == 0x00 || (m >= 0xD0 && m <= 0xD8) || m == 0x01) {  // fill byte, no-length markers
      ++i;
      continue;
    }
    if (m == 0xD9) return true;  // EOI
    if (i + 4 > n) return true;  // truncated; stb reports it
    const size_t len = be16(b, i + 2);
    const size_t seg = i + 4, end = std::min(n, i + 2 + len);
    if (m == 0xC4) {
      size_t p = seg;
      while (p < end) {
        if (p + 17 > end) {
          error = str_cat("corrupt JPEG: Huffman table at byte ", p, " runs past its segment");
          return false;
        }
        size_t codes = 0;
        for (int k = 1; k <= 16; ++k) codes += uint8_t(b[p + k]);
        if (codes > 256) {
          error = str_cat("corrupt JPEG: Huffman table at byte ", p, " declares ", codes, " codes (at most 256)");
          return false;
        }
        p += 17 + codes;
      }
    }
    i += 2 + len;
    if (m == 0xDA) {  // start of scan: skip the entropy-coded data to the next marker
      while (i + 1 < n && !(uint8_t(b[i]) == 0xFF && uint8_t(b[i + 1]) != 0x00 && uint8_t(b[i + 1]) != 0xFF &&
                            !(uint8_t(b[i + 1]) >= 0xD0 && uint8_t(b[i + 1]) <= 0xD7)))
        ++i;
    }
  }
  return true;
}

// 2. A binary PPM/PGM header's width, height and maximum value are parsed into an int without
//    an overflow check (undefined behaviour for "3333333333"): numbers above 2^24 are refused.
//    And a maximum value above 255 (16 bits per sample) makes stb 2.27 convert the channels of
//    an 8-bit-sized buffer and then read it as 16-bit, past its end: refused too (found by
//    tests/fuzz; such files are rare outside scientific imaging).
bool pnm_header_ok(const std::string& b, std::string& error) {
  size_t i = 2;
  for (int field = 0; field < 3; ++field) {
    while (i < b.size() && (std::isspace(uint8_t(b[i])) || b[i] == '#')) {
      if (b[i] == '#')
        while (i < b.size() && b[i] != '\n' && b[i] != '\r') ++i;
      else ++i;
    }
    uint64_t value = 0;
    for (; i < b.size() && std::isdigit(uint8_t(b[i])); ++i) {
      value = value * 10 + uint64_t(b[i] - '0');
      if (value > (uint64_t(1) << 24)) {
        error = str_cat("PNM header field ", field + 1, " exceeds 16777216");
        return false;
      }
    }
    if (field == 2 && value > 255) {
      error = str_cat("16-bit PPM/PGM (maximum value ", value, ") is not supported");
      return false;
    }
  }
  return true;
}
// 3. A PNG whose first IDAT chunk is empty (legal: the image data may be split across IDAT chunks
//    of any size) makes stb 2.27 copy zero bytes into its not-yet-allocated data buffer,
//    memcpy(NULL, src, 0): undefined behaviour, caught by UBSan under tests/fuzz. Empty IDAT
//    chunks carry nothing, so the ones before the first non-empty IDAT are removed from a copy
//    of the file (stb does not check chunk CRCs). Returns false when nothing needs removing.
bool drop_leading_empty_idat(const std::string& b, std::string& fixed) {
  if (b.size() < 8 || b.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) return false;
  std::vector<size_t> empty;  // offsets of the empty IDAT chunks (12 bytes each) before the data
  for (size_t i = 8; i + 12 <= b.size();) {
    const uint64_t length = be32(b, i);
    if (length > b.size() - i - 12) break;  // cut short: stb reports it
    const bool idat = b.compare(i + 4, 4, "IDAT") == 0;
    if (idat && length > 0) break;  // data has started: the rest goes to stb as it is
    if (idat) empty.push_back(i);
    i += 12 + length;
  }
  if (empty.empty()) return false;  // the usual case: no copy
  fixed.clear();
  size_t from = 0;
  for (size_t at : empty) {
    fixed.append(b, from, at - from);
    from = at + 12;
  }
  fixed.append(b, from, std::string::npos);
  return true;
}

}  // namespace

bool probe_image(const std::string& bytes, int& width, int& height, std::string& error, int64_t max_pixels) {
  if (bytes.empty()) {
    error = "empty file";
    return false;
  }
  uint64_t sw = 0, sh = 0;
  if (sniff_dimensions(bytes, sw, sh) && sw * sh > static_cast<uint64_t>(max_pixels)) {
    error =
        str_cat("image of ", sw, "x", sh, " pixels exceeds the limit of ", max_pixels, " pixels (--max-image-pixels)");
    return false;
  }
  if (bytes.size() > static_cast<size_t>(INT_MAX)) {
    error = "file larger than 2 GB";
    return false;
  }
  if (jpeg_after_soi(bytes) && !jpeg_huffman_tables_ok(bytes, error)) return false;
  if (bytes.size() >= 2 && bytes[0] == 'P' && (bytes[1] == '5' || bytes[1] == '6') && !pnm_header_ok(bytes, error))
    return false;
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
  if (jpeg_after_soi(bytes) &&
      bytes.find("\xFF\xD9", bytes.size() > 1024 ? bytes.size() - 1024 : 0) == std::string::npos) {
    r.error = "truncated JPEG (no end-of-image marker in its last 1 KiB)";
    return r;
  }
  std::string without_empty_idat;
  const std::string& input = drop_leading_empty_idat(bytes, without_empty_idat) ? without_empty_idat : bytes;
  int comp = 0;
  stbi_uc* data = stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(input.data()), static_cast<int>(input.size()),
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

std::string encode_png(const Image& img) {
  VT_CHECK(img.width > 0 && img.height > 0 && (img.channels == 1 || img.channels == 3 || img.channels == 4),
           "encode_png: a ", img.width, "x", img.height, " image with ", img.channels, " channels");
  VT_CHECK(img.pixels.size() == size_t(img.width) * img.height * img.channels, "encode_png: ", img.pixels.size(),
           " bytes for a ", img.width, "x", img.height, "x", img.channels, " image");
  std::string out;
  const auto append = [](void* ctx, void* data, int size) {
    static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), static_cast<size_t>(size));
  };
  VT_CHECK(stbi_write_png_to_func(append, &out, img.width, img.height, img.channels, img.pixels.data(),
                                  img.width * img.channels),
           "encode_png: stb_image_write failed on a ", img.width, "x", img.height, " image");
  return out;
}

}  // namespace vt::data
