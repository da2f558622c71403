// Every setting of `vitality train` / `eval`, with the flag names and defaults of deit's main.py
// and timm's train.py (apps/README.md, "Flags"), the presets, and the derived values
// (effective learning rate, transforms, model configuration).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "apps/args.h"
#include "core/json.h"
#include "data/transforms.h"
#include "vit/deit.h"

namespace vt::apps {

struct TrainArgs {
  // model
  std::string model = "deit_tiny_patch16_224";  // deit's default is deit_base; tiny suits CPUs
  int input_size = 224;
  int in_chans = 3;
  int patch_size = 16, embed_dim = 192, depth = 12, num_heads = 3;  // --model custom
  double mlp_ratio = 4.0;
  double drop = 0.0, drop_path = 0.1;
  std::string attn = "softmax";
  double sparse_threshold = 0.002;
  bool eval_sparse = false;
  std::string sparse_anneal = "cosine";  // vitality: the residual weight from 1 to 0 over training
  double sparse_anneal_end = 1.0;        // ... reaching 0 at this fraction of the run
  bool model_ema = true;
  double model_ema_decay = 0.99996;
  bool distilled = false;  // --model custom: a distillation token and head (the deit_*_distilled models have them)
  // distillation (deit's flags)
  std::string distillation_type = "none";  // none, soft, hard
  double distillation_alpha = 0.5, distillation_tau = 1.0;
  std::string teacher_path, teacher_model;  // teacher_model: for card-less files (timm's)
  bool distill_from_softmax = false;        // the main job: its softmax run teaches the other two
  // optimiser and schedule
  std::string opt = "adamw";
  double opt_eps = 1e-8;
  std::vector<double> opt_betas;  // empty: (0.9, 0.999)
  double momentum = 0.9, weight_decay = 0.05;
  std::optional<double> clip_grad;
  std::string sched = "cosine";
  double lr = 5e-4, warmup_lr = 1e-6, min_lr = 1e-5, warmup_epochs = 5, decay_epochs = 30, decay_rate = 0.1;
  bool unscale_lr = false, sched_on_updates = false;
  // augmentation
  std::string aa = "rand-m9-mstd0.5-inc1";
  double smoothing = 0.1;
  std::string train_interpolation = "bicubic";
  double reprob = 0.25;
  int crop_padding = 4;  // small inputs (<= 32 px): RandomCrop padding, deit's CIFAR path
  std::string remode = "pixel";
  int recount = 1;
  double mixup = 0.8, cutmix = 1.0, mixup_prob = 1.0, mixup_switch_prob = 0.5;
  std::string mixup_mode = "batch";
  std::optional<double> cutmix_minmax;
  double color_jitter = 0.3;  // ColorJitter strength; only without RandAugment (--aa none), as timm
  bool repeated_aug = false;
  // data
  std::string data_path, data_set = "IMNET", train_split = "train", val_split = "val", class_map;
  double eval_crop_ratio = 0.875;
  int num_workers = 2;
  bool strict = false, cache_decoded = false;
  int64_t max_image_pixels = data::kDefaultMaxPixels;
  // run
  int batch_size = 64, epochs = 300, start_epoch = 0, seed = 0, threads = 0, log_interval = 10;
  int64_t max_steps = 0;  // stop each epoch after this many steps (quick runs); 0 = no limit
  std::string output_dir, resume, finetune, preset, device = "cpu";
  bool eval = false, eval_ema = false;
  int world_size = 1, rank = 0;

  std::string teacher_fingerprint;  // of the teacher's weights once loaded (recorded in the state file)

  // Derived by resolve().
  double lr_effective = 0;
  int64_t num_classes = 0;
  std::vector<std::string> class_names;
};

// Registers every train flag (with deit's and timm's aliases).
void add_train_flags(ArgParser& p, TrainArgs& a);

// --attn with the registered kinds as its choices (vit/attention_registry.h) and their summaries
// in the help text, after `what` ("attention kind", "override the attention kind", ...).
void add_attention_flag(ArgParser& p, std::string* attn, const std::string& what);
// --device: deit's command lines pass --device cuda or cpu; only cpu is accepted, any other is a
// UsageError that says so.
void check_device(const std::string& device);
// --device (deit's command lines pass it; check_device after parsing).
void add_device_flag(ArgParser& p, std::string* device);
// The flags of the commands that load a checkpoint (eval, predict): --checkpoint FILE, --model / -m
// for card-less files, --attn and --eval-crop-ratio (alias --crop-pct) overriding the card's.
void add_checkpoint_flags(ArgParser& p, std::string* checkpoint, std::string* model, std::string* attn,
                          double* crop_ratio);
// --eval-crop-ratio, when given, must lie in (0, 1]; a UsageError otherwise.
void check_crop_ratio(const ArgParser& p, double crop_ratio);

// Applies a preset's values (explicit flags given on the command line win) and checks ranges;
// throws UsageError naming the flag.
void apply_preset(TrainArgs& a, const ArgParser& p);
void validate(const TrainArgs& a);

// lr x batch x world / 512, unless --unscale-lr.
double effective_lr(const TrainArgs& a);

vit::DeitConfig model_config(const TrainArgs& a);
data::TransformConfig transform_config(const TrainArgs& a);

// Every resolved setting as an aligned table (llm.c style) and as JSON (checkpoints, log).
std::string settings_table(const TrainArgs& a);
Json settings_json(const TrainArgs& a);

}  // namespace vt::apps
