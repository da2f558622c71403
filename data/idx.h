// IDX files (MNIST, Fashion-MNIST), plain or gzip-compressed: a 4-byte magic (0, 0, type 0x08 =
// unsigned byte, number of dimensions), one big-endian uint32 per dimension, then the data.
// Everything is validated: magic, dimensions, the exact data length, label range.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vt::data {

struct IdxArray {
  std::vector<uint32_t> dims;  // e.g. (60000, 28, 28) or (60000,)
  std::vector<uint8_t> data;
};

// Reads an unsigned-byte IDX file with `expected_dims` dimensions; throws one line naming the file.
IdxArray read_idx(const std::string& path, int expected_dims);

// Images (N, H, W) and labels (N,) from two IDX files; labels must lie in [0, num_classes).
struct IdxSplit {
  int64_t count = 0;
  int rows = 0, cols = 0;
  std::vector<uint8_t> pixels;  // N * rows * cols
  std::vector<int64_t> labels;
};
IdxSplit read_idx_split(const std::string& images_path, const std::string& labels_path, int64_t num_classes);

}  // namespace vt::data
