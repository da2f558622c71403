// Loading pretrained weights into a DeiT, as deit's --finetune does: a classifier head of the
// wrong size is dropped (the model keeps its fresh head), pos_embed is resized bicubically when
// the image size differs, and every other tensor must be present with the right shape.
#pragma once

#include <string>
#include <vector>

#include "nn/safetensors.h"
#include "vit/deit.h"

namespace vt::vit {

struct FinetuneReport {
  std::vector<std::string> messages;  // what was dropped or resized, one line each
  std::vector<std::string> ignored;   // names in the file the model does not have
};

// Throws (one line) when a required tensor is missing or has another shape.
FinetuneReport load_pretrained(Deit& model, const nn::SafetensorsFile& file);

}  // namespace vt::vit
