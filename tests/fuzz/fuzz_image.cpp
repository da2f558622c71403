// Image files through the dataset path: header probe, decode by content (stb_image), RGB
// conversion, then DeiT's eval transform at a small size when the image decodes.
#include "data/image.h"
#include "data/transforms.h"
#include "fuzz_util.h"

#include <vector>

VT_FUZZ_TARGET(image) {
  const std::string bytes = vt::fuzz::text(data, size);
  int w = 0, h = 0;
  std::string error;
  const int64_t max_pixels = 1 << 22;  // as --max-image-pixels: refused before decoding
  vt::data::probe_image(bytes, w, h, error, max_pixels);
  try {
    const vt::data::DecodeResult r = vt::data::decode_image(bytes, max_pixels);
    if (r.image) {
      vt::data::TransformConfig cfg;
      cfg.input_size = 16;
      std::vector<float> out(3 * 16 * 16);
      vt::data::eval_transform(*r.image, cfg, out.data());
    }
  } catch (const vt::Error&) {
  }
  return 0;
}
