// Shared by the fuzz targets. Each target file defines VT_FUZZ_TARGET(name) { ... data, size ... }:
// in fuzz builds (clang -fsanitize=fuzzer, tests/fuzz/run.sh) it becomes libFuzzer's entry point;
// in the normal suite it is an ordinary function that test_corpus.cpp runs over the committed
// seed corpus. A target may throw vt::Error (a clear rejection is the right answer to garbage);
// anything else, a crash or a sanitizer report is a bug.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"

#ifdef VITALITY_FUZZING
#define VT_FUZZ_TARGET(name) extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
#else
#define VT_FUZZ_TARGET(name) int fuzz_##name(const uint8_t* data, size_t size)
#endif

namespace vt::fuzz {

// The bytes as an in-memory file with a path (/proc/self/fd/N) for readers that take paths.
class MemFile {
 public:
  MemFile(const uint8_t* data, size_t size) : fd_(::memfd_create("vitality-fuzz", 0)) {
    if (fd_ < 0) throw Error("memfd_create failed");
    size_t done = 0;
    while (done < size) {
      const ssize_t n = ::write(fd_, data + done, size - done);
      if (n <= 0) throw Error("memfd write failed");
      done += static_cast<size_t>(n);
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~MemFile() { ::close(fd_); }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  int fd_;
  std::string path_;
};

inline std::string text(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

}  // namespace vt::fuzz
