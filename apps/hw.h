// The bridge from a model to the hardware model: trace one forward pass (batch 1, inference) and
// evaluate it on an accelerator. Used by `vitality hw` and by the main job's summary.
#pragma once

#include "core/tensor.h"
#include "hwmodel/config.h"
#include "hwmodel/model.h"
#include "vit/deit.h"

namespace vt::apps {

// `image`: (1, C, S, S), already normalised. Sparse kinds take their masks from this image.
hw::Report estimate_on_accelerator(vit::Deit& model, const Tensor& image, const hw::ArchConfig& arch,
                                   const hw::EnergyTable& energy, hw::TimingMode mode = hw::TimingMode::kDefault);

}  // namespace vt::apps
