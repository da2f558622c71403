// The fuzz targets over their committed seed corpus (and any input that once crashed them, kept
// in the same folders), in the normal suite: every run of CI replays them, with the sanitizers
// in the sanitized build. Add a regression: drop the file into tests/fuzz/corpus/<target>/.
#include <doctest/doctest.h>

#include <dirent.h>

#include <string>
#include <vector>

#include "core/fileio.h"

#define VT_FUZZ_DECLARE(name) int fuzz_##name(const uint8_t* data, size_t size);
VT_FUZZ_DECLARE(safetensors)
VT_FUZZ_DECLARE(idx)
VT_FUZZ_DECLARE(image)
VT_FUZZ_DECLARE(hw_config)
VT_FUZZ_DECLARE(workload)
VT_FUZZ_DECLARE(class_map)

namespace {

int replay(const std::string& target, int (*fn)(const uint8_t*, size_t)) {
  const std::string dir = std::string(VITALITY_TEST_DATA) + "/fuzz/corpus/" + target;
  DIR* d = ::opendir(dir.c_str());
  REQUIRE_MESSAGE(d, dir);
  int files = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const std::string bytes = vt::read_file(dir + "/" + e->d_name);
    CAPTURE(e->d_name);
    fn(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    // every prefix too: truncated files are the commonest damage
    for (size_t cut : {size_t{0}, size_t{1}, size_t{8}, bytes.size() / 2, bytes.size() - 1})
      if (cut < bytes.size()) fn(reinterpret_cast<const uint8_t*>(bytes.data()), cut);
    ++files;
  }
  ::closedir(d);
  return files;
}

}  // namespace

TEST_CASE("fuzz targets replay their corpus without crashing") {
  CHECK(replay("safetensors", fuzz_safetensors) >= 3);
  CHECK(replay("idx", fuzz_idx) >= 3);
  CHECK(replay("image", fuzz_image) >= 6);
  CHECK(replay("hw_config", fuzz_hw_config) >= 3);
  CHECK(replay("workload", fuzz_workload) >= 2);
  CHECK(replay("class_map", fuzz_class_map) >= 2);
}
