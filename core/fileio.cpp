// POSIX implementation of the file helpers.
#include "core/fileio.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace vt {

namespace {
std::string reason() { return std::strerror(errno); }

std::string dir_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}
}  // namespace

uint64_t file_size(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) throw Error(str_cat(path, ": ", reason()));
  if (S_ISDIR(st.st_mode)) throw Error(str_cat(path, ": is a directory, expected a file"));
  if (!S_ISREG(st.st_mode)) throw Error(str_cat(path, ": is not a regular file"));
  return static_cast<uint64_t>(st.st_size);
}

std::string read_file(const std::string& path, uint64_t max_bytes) {
  const uint64_t size = file_size(path);
  if (size > max_bytes)
    throw Error(str_cat(path, ": ", size, " bytes is larger than the limit of ", max_bytes, " bytes"));
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(str_cat(path, ": ", reason()));
  std::string out(size, '\0');
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(fd, &out[done], size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = n < 0 ? reason() : "file shrank while reading";
      ::close(fd);
      throw Error(str_cat(path, ": read failed: ", why));
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return out;
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  struct stat st;
  if (::stat(path_.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw Error(str_cat(path_, ": is a directory, cannot write a file there"));
  tmp_ = str_cat(path_, ".tmp.", ::getpid());
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(str_cat(path_, ": cannot create ", tmp_, ": ", reason()));
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(tmp_.c_str());
}

void AtomicFile::write(const void* data, size_t bytes) {
  VT_CHECK(fd_ >= 0 && !committed_, path_, ": write after commit");
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::write(fd_, p, bytes);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(str_cat(path_, ": write failed: ", reason(), " (the previous file, if any, is untouched)"));
    p += n;
    bytes -= static_cast<size_t>(n);
  }
}

void AtomicFile::sync() {
  VT_CHECK(fd_ >= 0 && !committed_, path_, ": sync after commit");
  if (::fsync(fd_) != 0) throw Error(str_cat(path_, ": fsync failed: ", reason()));
}

void AtomicFile::commit() {
  VT_CHECK(fd_ >= 0 && !committed_, path_, ": commit twice");
  if (::fsync(fd_) != 0) throw Error(str_cat(path_, ": fsync failed: ", reason()));
  if (::close(fd_) != 0) {
    fd_ = -1;
    throw Error(str_cat(path_, ": close failed: ", reason()));
  }
  fd_ = -1;
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) throw Error(str_cat(path_, ": rename failed: ", reason()));
  committed_ = true;
  // Make the rename itself durable.
  const int dfd = ::open(dir_of(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  AtomicFile f(path);
  f.write(bytes);
  f.commit();
}

void make_directories(const std::string& path) {
  VT_CHECK(!path.empty(), "make_directories: empty path");
  std::string cur;
  size_t pos = 0;
  while (pos <= path.size()) {
    const size_t next = path.find('/', pos);
    const std::string part = path.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    cur += (pos == 0 && path[0] == '/') ? "/" : "";
    if (!part.empty()) {
      cur += part;
      if (::mkdir(cur.c_str(), 0755) != 0) {
        const int err = errno;
        struct stat st;
        if (err != EEXIST || ::stat(cur.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
          throw Error(str_cat(cur, ": cannot create directory: ",
                              err == EEXIST ? "exists and is not a directory" : std::strerror(err)));
      }
      cur += "/";
    }
    if (next == std::string::npos) break;
    pos = next + 1;
  }
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace vt
