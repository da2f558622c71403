// Path checks before work (see preflight.h).
#include "apps/preflight.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/error.h"
#include "core/fileio.h"

namespace vt::apps {

namespace {
[[noreturn]] void fail(const std::string& flag, const std::string& path, const std::string& why) {
  throw Error(str_cat("--", flag, " ", path, ": ", why));
}
}  // namespace

void require_file(const std::string& flag, const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) fail(flag, path, std::strerror(errno));
  if (S_ISDIR(st.st_mode)) fail(flag, path, "is a directory, expected a file");
  if (!S_ISREG(st.st_mode)) fail(flag, path, "is not a regular file");
  if (::access(path.c_str(), R_OK) != 0) fail(flag, path, std::strerror(errno));
}

void require_dir(const std::string& flag, const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) fail(flag, path, std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) fail(flag, path, "is not a directory");
  if (::access(path.c_str(), R_OK | X_OK) != 0) fail(flag, path, std::strerror(errno));
}

void require_writable_dir(const std::string& flag, const std::string& path) {
  try {
    make_directories(path);
  } catch (const Error& e) {
    fail(flag, path, e.what());
  }
  const std::string probe = path + "/.vitality-write-probe." + std::to_string(::getpid());
  FILE* f = std::fopen(probe.c_str(), "wb");
  if (!f) fail(flag, path, str_cat("cannot write there: ", std::strerror(errno)));
  std::fclose(f);
  std::remove(probe.c_str());
}

}  // namespace vt::apps
