// Training checkpoints on top of nn/checkpoint.h: what goes into the weights file's metadata (the
// model's configuration, preprocessing and class names, so eval and predict can rebuild the model
// from the file alone) and into the state file (optimizer, EMA, progress, settings).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "apps/engine.h"
#include "core/json.h"
#include "nn/checkpoint.h"
#include "vit/deit.h"

namespace vt::apps {

// {"model", "img_size", "patch", ..., "attn", "mean", "std", "crop_ratio", "interpolation", "classes"}
Json model_card(const vit::DeitConfig& cfg, const data::TransformConfig& t, const std::vector<std::string>& classes);
vit::DeitConfig config_from_card(const Json& card);
data::TransformConfig transform_from_card(const Json& card);
std::vector<std::string> classes_from_card(const Json& card);

struct SaveInputs {
  const vit::Deit& model;
  const nn::Optimizer& opt;
  const nn::ModelEma* ema;
  const Progress& progress;
  const TrainArgs& args;
  const std::vector<std::string>& classes;
};
void save_training_checkpoint(const std::string& path, const SaveInputs& in);

// Restores weights, optimizer, EMA and progress from a checkpoint pair. Without a .state file
// only the weights are loaded (deit's behaviour when a checkpoint lacks optimizer state).
struct Resumed {
  bool with_state = false;  // a state file was restored
  int64_t world_size = 1;   // processes that wrote the checkpoint
  Json args;                // the settings of the run that wrote it (settings_json)
};
Resumed resume_training(const std::string& path, vit::Deit& model, nn::Optimizer& opt, nn::ModelEma* ema,
                        Progress& progress);

// A model built from a checkpoint's card (no flags needed), with its weights loaded.
struct LoadedModel {
  std::unique_ptr<vit::Deit> model;
  data::TransformConfig transform;
  std::vector<std::string> classes;
  Json card;
};
LoadedModel load_model(const std::string& path);

// As load_model, or, for weights without a card (timm's published deit_* files), the registry
// model `model_name` with the class count read from head.weight and ImageNet preprocessing.
LoadedModel load_model(const std::string& path, const std::string& model_name, const std::string& attn);

// One line for eval and predict: the file, the attention kind it runs (and the kind it is evaluated
// as), and the preprocessing: "W.safetensors: taylor attention (evaluated as taylor), 224 px,
// resize 256 px then center crop (ratio 0.875, bicubic)".
std::string describe_model(const std::string& path, const LoadedModel& m);

}  // namespace vt::apps
