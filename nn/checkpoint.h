// Checkpoints as two safetensors files (DESIGN.md section 4, reference/deit-timm-conventions.md
// 6.7): "<name>.safetensors" holds only the model weights under unprefixed timm names, so timm
// and PyTorch load it strictly; "<name>.state.safetensors" beside it holds the training state
// (optimizer.*, model_ema.* tensors) with scalars and JSON in __metadata__.
//
// Each file is written atomically (temporary file, fsync, rename). The state file is renamed
// first and both carry the same checkpoint_id, so a crash between the two renames is detected
// on load instead of silently pairing new optimizer moments with old weights.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "nn/module.h"
#include "nn/safetensors.h"

namespace vt::nn {

// "run/checkpoint.safetensors" -> "run/checkpoint.state.safetensors"
std::string state_path_for(const std::string& weights_path);

void save_checkpoint(const std::string& weights_path, const Parameters& weights, const Parameters& state,
                     std::map<std::string, std::string> weights_meta, std::map<std::string, std::string> state_meta);

struct LoadedCheckpoint {
  SafetensorsFile weights;
  std::optional<SafetensorsFile> state;  // absent when the file has no .state sibling
};
// Loads the weights and, when present, the state; throws if the two come from different saves.
LoadedCheckpoint load_checkpoint(const std::string& weights_path);

}  // namespace vt::nn
