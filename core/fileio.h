// File helpers with the two guarantees users rely on: errors name the file and the reason, and a
// write never leaves a half-written file in place of a good one (write a temporary file in the
// same directory, flush it to disk, then rename it over the target).
#pragma once

#include <cstdint>
#include <string>

namespace vt {

// The whole file as bytes. Throws vt::Error ("<path>: No such file or directory") for missing
// files, directories, devices and read errors; `max_bytes` bounds what a corrupt size can cost.
std::string read_file(const std::string& path, uint64_t max_bytes = uint64_t{1} << 36);

// Size of a regular file in bytes; throws like read_file.
uint64_t file_size(const std::string& path);

// Writes to "<path>.tmp.<pid>" and renames it to `path` on commit(); destroying an uncommitted
// writer removes the temporary file. Every failure (full disk, quota, permissions) throws
// vt::Error naming the target path, and leaves any previous file at `path` untouched.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t bytes);
  void write(const std::string& bytes) { write(bytes.data(), bytes.size()); }
  void sync();    // fsync the temporary (a later commit() then renames at once)
  void commit();  // flush, fsync, rename over the target, fsync the directory

 private:
  std::string path_, tmp_;
  int fd_ = -1;
  bool committed_ = false;
};

// Convenience: the whole file in one atomic write.
void write_file_atomic(const std::string& path, const std::string& bytes);

// mkdir -p: creates `path` and its missing parents; throws naming the component that failed
// (including a component that exists and is not a directory).
void make_directories(const std::string& path);

// One CSV field as RFC 4180 writes it: quoted (with inner quotes doubled) when it holds a comma,
// a quote or a line break; as it is otherwise.
std::string csv_field(const std::string& text);

}  // namespace vt
