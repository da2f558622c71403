// Helpers every test folder uses: a temporary directory that cleans up after itself.
#pragma once

#include <stdlib.h>

#include <cstdlib>
#include <string>

#include "core/error.h"
#include "core/fileio.h"

namespace vt::testing {

// A fresh directory under /tmp (/tmp/vitality_<tag>_XXXXXX), removed with everything in it when
// the object dies. Tests write only here, never into the source tree.
struct TempDir {
  std::string path;
  explicit TempDir(const std::string& tag = "test") {
    std::string tmpl = "/tmp/vitality_" + tag + "_XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw Error("mkdtemp " + tmpl + " failed");
    path = tmpl;
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(const std::string& rel) const { return path + "/" + rel; }
  // Creates `rel` (and its parents) inside the directory; returns its path.
  std::string mkdir(const std::string& rel) const {
    make_directories(file(rel));
    return file(rel);
  }
  // Writes `bytes` to `rel`, creating its parent directories.
  void write(const std::string& rel, const std::string& bytes) const {
    const size_t slash = rel.rfind('/');
    if (slash != std::string::npos) mkdir(rel.substr(0, slash));
    write_file_atomic(file(rel), bytes);
  }
  void copy(const std::string& from, const std::string& rel) const { write(rel, read_file(from)); }
};

}  // namespace vt::testing
