// Checkpoints as two safetensors files (nn/README.md, "Formats"): "<name>.safetensors" holds only the model weights
// under unprefixed timm names, so timm and PyTorch load it strictly; "<name>.state.safetensors" beside it holds the
// training state (optimizer.*, model_ema.* tensors) with scalars and JSON in __metadata__.
//
// Both files are written and fsynced as temporaries ("<file>.tmp.<pid>") before either is
// renamed over its predecessor, state first, and both carry the same checkpoint_id. A crash
// between the two renames leaves the new state beside the old weights and the complete new
// weights in their temporary file; load_checkpoint finishes that interrupted save (renames the
// temporary whose checkpoint_id matches) instead of pairing new optimizer moments with old
// weights, and says so in `recovered`.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "nn/module.h"
#include "nn/safetensors.h"

namespace vt::nn {

// "run/checkpoint.safetensors" -> "run/checkpoint.state.safetensors"
std::string state_path_for(const std::string& weights_path);

// After both renames it removes the temporaries that killed writers left beside either file
// (remove_stale_temporaries), so repeated crashes do not pile up checkpoint-sized files.
void save_checkpoint(const std::string& weights_path, const Parameters& weights, const Parameters& state,
                     std::map<std::string, std::string> weights_meta, std::map<std::string, std::string> state_meta);

// Removes "<target>.tmp.<pid>" files whose writing process no longer exists on this machine.
// Temporaries of live processes (another save in progress) and of this one are kept.
void remove_stale_temporaries(const std::string& target);

struct LoadedCheckpoint {
  SafetensorsFile weights;
  std::optional<SafetensorsFile> state;  // absent when the file has no .state sibling
  std::string recovered;                 // non-empty when an interrupted save was completed
};
// Loads the weights and, when present, the state. When the two come from different saves it
// completes the interrupted save from its temporary file if that is whole; otherwise throws.
LoadedCheckpoint load_checkpoint(const std::string& weights_path);

}  // namespace vt::nn
