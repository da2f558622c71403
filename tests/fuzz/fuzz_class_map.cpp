// timm's --class-map file (one class per line).
#include "data/dataset.h"
#include "fuzz_util.h"

VT_FUZZ_TARGET(class_map) {
  try {
    const vt::fuzz::MemFile f(data, size);
    vt::data::read_class_map(f.path());
  } catch (const vt::Error&) {
  }
  return 0;
}
