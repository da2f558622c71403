// IDX files: plain and gzip, and every kind of broken file (Fashion-MNIST itself: test_fashion_mnist.cpp).
#include <doctest/doctest.h>

#include <unistd.h>
#include <zlib.h>

#include <cstdio>

#include "data/dataset.h"
#include "data/idx.h"
#include "tests/data/data_test_util.h"

using namespace vt;
using namespace vt::data;
using vt::testing::TempDir;

namespace {
std::string idx_bytes(std::vector<uint32_t> dims, size_t data_len, uint8_t type = 0x08, uint8_t fill = 1) {
  std::string s = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    for (int i = 3; i >= 0; --i) s += static_cast<char>((d >> (8 * i)) & 0xFF);
  return s + std::string(data_len, static_cast<char>(fill));
}
void write_gz(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}
}  // namespace

TEST_CASE("IDX: plain and gzip, and each broken file a one-line error") {
  TempDir dir;
  write_gz(dir.path + "/ok-images-idx3-ubyte.gz", idx_bytes({3, 2, 2}, 12));
  dir.write("ok-labels-idx1-ubyte", idx_bytes({3}, 3, 0x08, 2));
  IdxDataset ds(dir.path, "ok", {"a", "b", "c"});
  CHECK(ds.size() == 3);
  CHECK(ds.label(2) == 2);
  write_gz(dir.path + "/cut.gz", idx_bytes({3, 2, 2}, 11));
  CHECK_THROWS_WITH_AS(
      read_idx(dir.path + "/cut.gz", 3),
      (dir.path + "/cut.gz: truncated: the header promises 12 data bytes but the file ends before").c_str(), Error);
  dir.write("long", idx_bytes({2}, 3));
  CHECK_THROWS_WITH_AS(read_idx(dir.path + "/long", 1),
                       (dir.path + "/long: unexpected data after the 2 bytes the header promises").c_str(), Error);
  dir.write("float", idx_bytes({2}, 8, 0x0D));
  CHECK_THROWS_WITH_AS(read_idx(dir.path + "/float", 1),
                       (dir.path + "/float: not an unsigned-byte IDX file with 1 dimensions (magic 0 0 13 1)").c_str(),
                       Error);
  dir.write("tiny", "ab");
  CHECK_THROWS_AS(read_idx(dir.path + "/tiny", 1), Error);
  dir.write("zero", idx_bytes({0}, 0));
  CHECK_THROWS_AS(read_idx(dir.path + "/zero", 1), Error);
  dir.write("bad-labels-idx1-ubyte", idx_bytes({3}, 3, 0x08, 7));
  dir.write("bad-images-idx3-ubyte", idx_bytes({3, 2, 2}, 12));
  CHECK_THROWS_WITH_AS(IdxDataset(dir.path, "bad", {"a", "b"}),
                       (dir.path + "/bad-labels-idx1-ubyte: label 7 of item 0 is outside [0, 2)").c_str(), Error);
  dir.write("mis-labels-idx1-ubyte", idx_bytes({2}, 2));
  dir.write("mis-images-idx3-ubyte", idx_bytes({3, 2, 2}, 12));
  CHECK_THROWS_AS(IdxDataset(dir.path, "mis", {"a", "b"}), Error);
  CHECK_THROWS_WITH_AS(
      IdxDataset(dir.path, "none", {"a"}),
      (dir.path + ": no none-images-idx3-ubyte[.gz] (Fashion-MNIST: apt-get install dataset-fashion-mnist)").c_str(),
      Error);
}

TEST_CASE("IDX: a header promising gigabytes allocates only what the file holds") {
  // 16000 x 1024 x 1024 bytes (16 GB, under the 16 GiB cap) promised by a 1 KB file: the error
  // must come without allocating the promise.
  auto peak_kb = [] {
    FILE* f = std::fopen("/proc/self/status", "r");
    char line[256];
    long kb = 0;
    while (f && std::fgets(line, sizeof line, f))
      if (std::sscanf(line, "VmHWM: %ld kB", &kb) == 1) break;
    if (f) std::fclose(f);
    return kb;
  };
  TempDir dir;
  dir.write("huge", idx_bytes({16000, 1024, 1024}, 1000));
  const long before = peak_kb();
  CHECK_THROWS_WITH_AS(read_idx(dir.path + "/huge", 3), doctest::Contains("truncated"), Error);
  CHECK(peak_kb() - before < 64 * 1024);  // at most one 16 MiB read chunk, far below 16 GB
}
