// A two-class ImageFolder of real photos (the data fixtures) under a fresh temporary directory,
// and the flags of a small fast model and recipe on it, for the end-to-end tests of `train`.
#pragma once

#include <string>

#include "core/fileio.h"
#include "tests/test_util.h"

namespace vt::testing {

inline const std::string kPhotos = VITALITY_TEST_DATA "/data/fixtures/photos/";

// A two-class ImageFolder of real photos under a fresh temporary directory.
struct TinyFolder {
  TempDir dir{"train"};
  std::string root = dir.path;
  TinyFolder() {
    const char* photos[] = {"chelsea.jpg", "coffee.jpg", "camera.jpg", "rocket.jpg"};
    for (const char* split : {"train", "val"})
      for (int c = 0; c < 2; ++c)
        for (int i = 0; i < (split[0] == 't' ? 6 : 2); ++i)
          dir.copy(kPhotos + photos[(c * 2 + i) % 4],
                   std::string(split) + "/class" + std::to_string(c) + "/" + std::to_string(i) + ".jpg");
  }
  // A small fast model and recipe on this folder.
  std::string flags(const std::string& out) const {
    return "--data-path " + root +
           " --model custom --input-size 32 --patch-size 8 --embed-dim 16 --depth 1 "
           "--num-heads 2 --batch-size 4 --threads 1 --num_workers 1 --warmup-epochs 1 --aa none --reprob 0 "
           "--mixup 0 --cutmix 0 --drop-path 0 --no-model-ema --log-interval 1 --output_dir " +
           out;
  }
};

}  // namespace vt::testing
