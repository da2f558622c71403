// File helpers: errors name the file, atomic writes replace whole files and leave no temporary
// behind, make_directories creates parents and refuses a file in the way.
#include <doctest/doctest.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "core/error.h"
#include "core/fileio.h"
#include "tests/test_util.h"

using namespace vt;
using vt::testing::TempDir;

namespace {
bool is_dir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
int entries(const std::string& dir) {
  int n = 0;
  DIR* d = ::opendir(dir.c_str());
  while (dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
  ::closedir(d);
  return n;
}
}  // namespace

TEST_CASE("read_file and write_file_atomic") {
  TempDir t;
  const std::string f = t.path + "/a.txt";
  write_file_atomic(f, "first");
  write_file_atomic(f, "second, longer");
  CHECK(read_file(f) == "second, longer");
  CHECK(file_size(f) == 14);
  CHECK(entries(t.path) == 1);  // no temporary file left behind
  CHECK_THROWS_WITH_AS(read_file(t.path + "/missing"), doctest::Contains("missing: No such file or directory"), Error);
  CHECK_THROWS_WITH_AS(read_file(t.path), doctest::Contains("is a directory"), Error);
  CHECK_THROWS_WITH_AS(read_file(f, 4), doctest::Contains("larger than the limit"), Error);
  CHECK_THROWS_AS(write_file_atomic(t.path + "/no/such/dir/x", "y"), Error);
}

TEST_CASE("make_directories: parents, existing directories, and a file in the way") {
  TempDir t;
  make_directories(t.path + "/a/b/c");
  CHECK(is_dir(t.path + "/a/b/c"));
  make_directories(t.path + "/a/b/c/");  // exists already: fine
  make_directories(t.path + "//a/./b");  // empty and dot components
  CHECK(is_dir(t.path + "/a/b"));
  write_file_atomic(t.path + "/file", "x");
  CHECK_THROWS_WITH_AS(make_directories(t.path + "/file/sub"), doctest::Contains("exists and is not a directory"),
                       Error);
  CHECK_THROWS_AS(make_directories(""), Error);
}

TEST_CASE("csv_field: RFC 4180 quoting only where needed") {
  CHECK(csv_field("n01440764") == "n01440764");
  CHECK(csv_field("") == "");
  CHECK(csv_field("tench, Tinca tinca") == "\"tench, Tinca tinca\"");
  CHECK(csv_field("a \"quoted\" name") == "\"a \"\"quoted\"\" name\"");
  CHECK(csv_field("two\nlines") == "\"two\nlines\"");
}
