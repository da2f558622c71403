// Fashion-MNIST from its Debian package (dataset-fashion-mnist), the main job's data. ctest runs
// this file only where the package is installed and reports it as skipped elsewhere
// (tests/data/CMakeLists.txt); the Quick start's commands install it, so CI always runs it.
#include <doctest/doctest.h>

#include "data/dataset.h"
#include "data/idx.h"

using namespace vt;
using namespace vt::data;

TEST_CASE("Fashion-MNIST from the Debian package") {
  IdxDataset test(kFashionMnistDir, "t10k", fashion_mnist_classes());
  CHECK(test.size() == 10000);
  CHECK(test.rows() == 28);
  SplitSummary s = test.summary("val");
  for (int64_t c : s.per_class) CHECK(c == 1000);
  DecodeResult r = test.load(0);
  REQUIRE(r.image);
  CHECK(r.image->channels == 1);
  CHECK(test.label(0) == 9);  // the first test item is an ankle boot
}
