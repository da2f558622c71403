// IDX reading through zlib's gz* interface, which also reads uncompressed files transparently.
#include "data/idx.h"

#include <zlib.h>

#include <sys/stat.h>

#include <algorithm>

#include "core/error.h"

namespace vt::data {

namespace {
// Reads exactly n bytes; false at a premature end.
bool read_exact(gzFile f, void* dst, size_t n) {
  char* p = static_cast<char*>(dst);
  while (n > 0) {
    const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n, 1u << 30));
    const int got = gzread(f, p, chunk);
    if (got <= 0) return false;
    p += got;
    n -= static_cast<size_t>(got);
  }
  return true;
}
}  // namespace

IdxArray read_idx(const std::string& path, int expected_dims) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) throw Error(str_cat(path, ": No such file or directory"));
  if (!S_ISREG(st.st_mode)) throw Error(str_cat(path, ": is not a regular file"));
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw Error(str_cat(path, ": cannot open"));
  struct Closer {
    gzFile f;
    ~Closer() { gzclose(f); }
  } closer{f};
  unsigned char magic[4];
  if (!read_exact(f, magic, 4)) throw Error(str_cat(path, ": not an IDX file (shorter than its 4-byte magic)"));
  if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || magic[3] != expected_dims)
    throw Error(str_cat(path, ": not an unsigned-byte IDX file with ", expected_dims, " dimensions (magic ",
                        int(magic[0]), " ", int(magic[1]), " ", int(magic[2]), " ", int(magic[3]), ")"));
  IdxArray a;
  uint64_t total = 1;
  for (int d = 0; d < expected_dims; ++d) {
    unsigned char b[4];
    if (!read_exact(f, b, 4)) throw Error(str_cat(path, ": truncated IDX header"));
    const uint32_t v = (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | b[3];
    if (v == 0) throw Error(str_cat(path, ": IDX dimension ", d, " is 0"));
    a.dims.push_back(v);
    total *= v;
    if (total > (uint64_t{1} << 34)) throw Error(str_cat(path, ": IDX dimensions promise more than 16 GB of data"));
  }
  // Grow with the data actually read: a corrupt header promising gigabytes must not allocate them
  // (the decompressed size of a gzip stream is not known before reading it).
  constexpr uint64_t kChunk = uint64_t{16} << 20;
  while (a.data.size() < total) {
    const uint64_t have = a.data.size(), want = std::min(kChunk, total - have);
    a.data.resize(have + want);
    if (!read_exact(f, a.data.data() + have, want))
      throw Error(str_cat(path, ": truncated: the header promises ", total, " data bytes but the file ends before"));
  }
  unsigned char extra;
  if (gzread(f, &extra, 1) > 0)
    throw Error(str_cat(path, ": unexpected data after the ", total, " bytes the header promises"));
  int err = 0;
  gzerror(f, &err);
  if (err != Z_OK && err != Z_STREAM_END) throw Error(str_cat(path, ": corrupt gzip stream"));
  return a;
}

IdxSplit read_idx_split(const std::string& images_path, const std::string& labels_path, int64_t num_classes) {
  IdxArray im = read_idx(images_path, 3), lb = read_idx(labels_path, 1);
  if (im.dims[0] != lb.dims[0])
    throw Error(
        str_cat(images_path, " holds ", im.dims[0], " images but ", labels_path, " holds ", lb.dims[0], " labels"));
  IdxSplit s;
  s.count = im.dims[0];
  s.rows = static_cast<int>(im.dims[1]);
  s.cols = static_cast<int>(im.dims[2]);
  s.pixels = std::move(im.data);
  s.labels.reserve(s.count);
  for (int64_t i = 0; i < s.count; ++i) {
    if (lb.data[i] >= num_classes)
      throw Error(
          str_cat(labels_path, ": label ", int(lb.data[i]), " of item ", i, " is outside [0, ", num_classes, ")"));
    s.labels.push_back(lb.data[i]);
  }
  return s;
}

}  // namespace vt::data
