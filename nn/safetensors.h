// safetensors (https://github.com/huggingface/safetensors#format): 8-byte little-endian header
// length N, N bytes of UTF-8 JSON {"__metadata__": {str: str}, "name": {"dtype", "shape",
// "data_offsets": [begin, end]}, ...}, then the data buffer (little-endian, row-major).
//
// Writing follows the reference implementation byte for byte: tensors sorted by name (all F32),
// compact JSON with "__metadata__" first, header padded with spaces to a multiple of 8, written
// atomically. Reading validates everything and reports the first problem in one line: header
// larger than the file, invalid JSON, unknown dtype, shape/size disagreement, element counts that
// overflow, offsets outside the data, overlapping or unused byte ranges, non-string metadata.
// F16, BF16, F64 and U8 are converted to float32.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "nn/module.h"

namespace vt::nn {

struct SafetensorsFile {
  Parameters tensors;                           // in the file's offset order, converted to float32
  std::vector<std::string> dtypes;              // as stored in the file, parallel to tensors
  std::map<std::string, std::string> metadata;  // "__metadata__", empty when absent
  const Tensor* find(const std::string& name) const;
};

SafetensorsFile load_safetensors(const std::string& path);
// Parses an in-memory file; `path` only labels error messages.
SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& path);

void save_safetensors(const std::string& path, const Parameters& tensors,
                      const std::map<std::string, std::string>& metadata = {});
// The exact bytes save_safetensors writes.
std::string serialize_safetensors(const Parameters& tensors, const std::map<std::string, std::string>& metadata);

// Copies tensors from `file` into `params` by name. Every problem is listed in one error:
// missing names, unexpected names (when strict), shape mismatches. `skip` names are neither
// loaded nor reported (a head dropped for fine-tuning).
struct LoadReport {
  std::vector<std::string> missing, unexpected, mismatched, loaded;
};
LoadReport load_into(const Parameters& params, const SafetensorsFile& file, bool strict,
                     const std::vector<std::string>& skip = {});

}  // namespace vt::nn
