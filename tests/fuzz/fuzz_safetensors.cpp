// safetensors: any bytes must parse or be rejected with vt::Error, allocating at most about the
// file's size.
#include "fuzz_util.h"
#include "nn/safetensors.h"

VT_FUZZ_TARGET(safetensors) {
  try {
    const vt::nn::SafetensorsFile f = vt::nn::parse_safetensors(vt::fuzz::text(data, size), "fuzz.safetensors");
    for (const auto& t : f.tensors) (void)t.tensor.numel();
  } catch (const vt::Error&) {
  }
  return 0;
}
