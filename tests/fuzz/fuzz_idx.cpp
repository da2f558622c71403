// IDX files, plain or gzip: parsed through the same path as Fashion-MNIST (zlib's gz reader).
#include "data/idx.h"
#include "fuzz_util.h"

VT_FUZZ_TARGET(idx) {
  try {
    const vt::fuzz::MemFile f(data, size);
    // the first byte picks the expected rank, so both image (3) and label (1) files are reached
    vt::data::read_idx(f.path(), size > 3 && data[3] == 1 ? 1 : 3);
  } catch (const vt::Error&) {
  }
  return 0;
}
