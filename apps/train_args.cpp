// Flag registration, presets, validation and the settings table for `vitality train`.
#include "apps/train_args.h"

#include <cmath>
#include <sstream>

#include "core/threads.h"
#include "data/dataset.h"

namespace vt::apps {

void add_attention_flag(ArgParser& p, std::string* attn, const std::string& what) {
  p.add_choice("attn", attn, vit::attention_kind_names(), what + " (the kinds: below)");
  std::string kinds = "attention kinds:\n";
  for (const vit::AttentionKindSpec& k : vit::attention_kinds()) kinds += str_printf("  %-10s%s\n", k.name, k.summary);
  p.epilogue(kinds);
}

void check_device(const std::string& device) {
  if (device != "cpu")
    throw UsageError(str_cat("--device ", device,
                             ": vitality runs on CPUs only (OpenBLAS and OpenMP); use --device cpu or leave it out"));
}

void add_device_flag(ArgParser& p, std::string* device) {
  p.add("device", device, "cpu (vitality runs on CPUs)");
  p.value_hint("device", "cpu");
}

void add_checkpoint_flags(ArgParser& p, std::string* checkpoint, std::string* model, std::string* attn,
                          double* crop_ratio) {
  p.add("checkpoint", checkpoint, "weights written by vitality train (with their card), or timm's deit_* with --model");
  p.value_hint("checkpoint", "FILE");
  p.add("model", model, "architecture for weights without a model card (timm's published files)");
  p.add_alias("m", "model");
  p.value_hint("model", "NAME");
  p.default_text("model", "the file's model card");
  add_attention_flag(p, attn, "run the model with this attention kind");
  p.default_text("attn", "the checkpoint's");
  p.add("eval-crop-ratio", crop_ratio, "resize to input-size / ratio, then center crop");
  p.default_text("eval-crop-ratio", "the checkpoint's");
  p.add_alias("crop-pct", "eval-crop-ratio");
}

void check_crop_ratio(const ArgParser& p, double crop_ratio) {
  if (p.was_set("eval-crop-ratio") && !(crop_ratio > 0 && crop_ratio <= 1))
    throw UsageError(str_cat("--eval-crop-ratio ", crop_ratio, " must lie in (0, 1]"));
}

void add_train_flags(ArgParser& p, TrainArgs& a) {
  p.group("model");
  p.add("model", &a.model, "deit_{tiny,small,base}[_distilled]_patch16_224, or custom");
  p.add_alias("m", "model");
  p.add("input-size", &a.input_size, "image size (pixels, square)");
  p.add("in-chans", &a.in_chans, "input channels (3; 1 for grey datasets)");
  p.add("patch-size", &a.patch_size, "--model custom: patch size");
  p.add("embed-dim", &a.embed_dim, "--model custom: embedding width D");
  p.add("depth", &a.depth, "--model custom: number of blocks");
  p.add("num-heads", &a.num_heads, "--model custom: attention heads (dividing --embed-dim)");
  p.add("mlp-ratio", &a.mlp_ratio, "--model custom: MLP hidden width / D");
  p.add_flag("distilled", &a.distilled, "--model custom: a distillation token and head, as deit_*_distilled");
  p.add("drop", &a.drop, "dropout rate");
  p.add("drop-path", &a.drop_path, "stochastic depth rate (rising linearly over the blocks)");
  p.add_flag("model-ema", &a.model_ema, "keep an exponential moving average of the weights");
  p.add("model-ema-decay", &a.model_ema_decay, "EMA decay");
  p.add_flag("eval-ema", &a.eval_ema, "evaluate the EMA weights instead of the model's");
  p.group("attention");
  add_attention_flag(p, &a.attn, "attention kind");
  p.add_action(
      "vitality", [&a] { a.attn = "vitality"; }, "same as --attn vitality (ViTALiTy's flag)");
  p.add("sparse-threshold", &a.sparse_threshold, "masked kinds: keep predicted probabilities above this");
  p.add_flag("eval-sparse", &a.eval_sparse, "vitality: evaluate with the sparse part (off: Taylor only, as deployed)");
  p.add_choice("sparse-anneal", &a.sparse_anneal, {"cosine", "none"},
               "vitality: the residual's weight falls from 1 to 0 (cosine) or stays 1");
  p.add("sparse-anneal-end", &a.sparse_anneal_end, "vitality: the fraction of training where the weight reaches 0");
  p.group("distillation");
  p.add_choice("distillation-type", &a.distillation_type, {"none", "soft", "hard"},
               "learn from a teacher's predictions: soft (KL at --distillation-tau) or hard (its top class)");
  p.add("distillation-alpha", &a.distillation_alpha, "weight of the distillation term (1 - alpha: the labels')");
  p.add("distillation-tau", &a.distillation_tau, "temperature of soft distillation");
  p.add("teacher-path", &a.teacher_path,
        "the teacher's weights: a vitality checkpoint, or timm's with --teacher-model");
  p.value_hint("teacher-path", "FILE");
  p.add("teacher-model", &a.teacher_model, "the teacher's architecture for a file without a model card");
  p.value_hint("teacher-model", "NAME");
  p.default_text("teacher-model", "the file's model card");
  p.add_flag("distill-from-softmax", &a.distill_from_softmax,
             "the main job: its softmax run becomes the teacher of the ViTALiTy and Taylor runs (distilled "
             "students, hard unless --distillation-type soft)");
  p.group("optimizer");
  p.add_choice("opt", &a.opt, {"adamw", "sgd", "momentum"}, "optimizer (sgd = Nesterov momentum, as timm)");
  p.add("opt-eps", &a.opt_eps, "AdamW epsilon");
  p.add("opt-betas", &a.opt_betas, 2, "AdamW betas (two values)");
  p.default_text("opt-betas", "0.9 0.999");
  p.add("momentum", &a.momentum, "SGD momentum");
  p.add("weight-decay", &a.weight_decay, "weight decay (not on biases, norms, pos_embed, cls_token)");
  p.add("clip-grad", &a.clip_grad, "clip the global gradient norm to this (none: off)");
  p.group("schedule");
  p.add_choice("sched", &a.sched, {"cosine", "step", "constant"}, "learning-rate schedule");
  p.add("lr", &a.lr, "learning rate at batch 512 (scaled by batch x world / 512)");
  p.add_flag("unscale-lr", &a.unscale_lr, "use --lr as given");
  p.add("warmup-lr", &a.warmup_lr, "learning rate at the start of warmup");
  p.add("min-lr", &a.min_lr, "learning rate at the end of the cosine");
  p.add("warmup-epochs", &a.warmup_epochs, "epochs of linear warmup (fractions allowed)");
  p.add("decay-epochs", &a.decay_epochs, "step schedule: epochs between decays");
  p.add("decay-rate", &a.decay_rate, "step schedule: factor per decay");
  p.add_flag("sched-on-updates", &a.sched_on_updates, "step the schedule every update (timm), not every epoch (deit)");
  p.group("augmentation");
  p.add("aa", &a.aa, "RandAugment policy, e.g. rand-m9-mstd0.5-inc1 (none: off)");
  p.add("smoothing", &a.smoothing, "label smoothing");
  p.add_choice("train-interpolation", &a.train_interpolation, {"bicubic", "bilinear"}, "resampling in training");
  p.add("reprob", &a.reprob, "random erasing probability");
  p.add("crop-padding", &a.crop_padding, "images of 32 px or less: RandomCrop padding (0: no crop)");
  p.add_choice("remode", &a.remode, {"pixel"}, "random erasing mode");
  p.add("recount", &a.recount, "random erasing count (only 1)");
  p.add("color-jitter", &a.color_jitter, "ColorJitter strength, used when --aa is none (as timm)");
  p.add("mixup", &a.mixup, "mixup alpha (0: off)");
  p.add("cutmix", &a.cutmix, "cutmix alpha (0: off)");
  p.add("cutmix-minmax", &a.cutmix_minmax, "not supported (only none)");
  p.add("mixup-prob", &a.mixup_prob, "probability of mixing a batch");
  p.add("mixup-switch-prob", &a.mixup_switch_prob, "probability of cutmix instead of mixup when both are on");
  p.add_choice("mixup-mode", &a.mixup_mode, {"batch"}, "mixing granularity");
  p.add_flag("repeated-aug", &a.repeated_aug, "not supported (only off)");
  p.group("data");
  p.add("data-path", &a.data_path, "dataset root");
  p.default_text("data-path", "Fashion-MNIST in /usr/share/datasets/fashion-mnist");
  p.add_choice("data-set", &a.data_set, {"IMNET", "TINYIMNET", "FMNIST"}, "IMNET: any ImageFolder");
  p.add("train-split", &a.train_split, "train folder name");
  p.add("val-split", &a.val_split, "validation folder name");
  p.add("class-map", &a.class_map, "file of class names, one a line: train on that subset");
  p.value_hint("class-map", "FILE");
  p.value_hint("data-path", "DIR");
  p.add("eval-crop-ratio", &a.eval_crop_ratio, "eval: resize to input-size / ratio, then center crop");
  p.add_alias("crop-pct", "eval-crop-ratio");
  p.add("num_workers", &a.num_workers, "data loading threads");
  p.add_flag("strict", &a.strict, "stop at the first unreadable file instead of skipping it");
  p.add_flag("cache-decoded", &a.cache_decoded, "keep decoded images in memory (small datasets)");
  p.add("max-image-pixels", &a.max_image_pixels, "refuse images with more pixels (PIL's limit)");
  p.group("run");
  p.add("batch-size", &a.batch_size, "batch size per process");
  p.add_alias("b", "batch-size");
  p.add("epochs", &a.epochs, "epochs");
  p.add("start_epoch", &a.start_epoch, "first epoch (resuming weights without a state file)");
  p.add("seed", &a.seed, "random seed");
  p.add("threads", &a.threads, "threads for our kernels and OpenBLAS");
  p.default_text("threads", "all cores");
  add_device_flag(p, &a.device);
  p.add("log-interval", &a.log_interval, "print a progress line every this many steps");
  p.add("max-steps", &a.max_steps, "stop each epoch after this many steps");
  p.default_text("max-steps", "no limit");
  p.add("output_dir", &a.output_dir, "where log.txt and checkpoints go ('': nothing saved)");
  p.default_text("output_dir", "runs/<preset> for the main job, else nothing saved");
  p.add("resume", &a.resume, "checkpoint to continue from, with its .state sibling");
  p.value_hint("resume", "FILE");
  p.value_hint("output_dir", "DIR");
  p.add("finetune", &a.finetune, "pretrained weights: drop a mismatched head, resize pos_embed");
  p.value_hint("finetune", "FILE");
  p.value_hint("model", "NAME");
  p.value_hint("aa", "POLICY");
  p.add_flag("eval", &a.eval, "only evaluate (the --resume checkpoint)");
  p.add_choice("preset", &a.preset, {"", "fmnist", "fmnist-long"}, "a set of defaults (explicit flags win)");
  p.default_text("preset", "fmnist without --data-path, else none");
}

void apply_preset(TrainArgs& a, const ArgParser& p) {
  auto set = [&](const char* flag, auto* field, auto value) {
    if (!p.was_set(flag)) *field = value;
  };
  if (a.preset.empty()) return;
  // Fashion-MNIST: 28x28 grey. The quick preset is a 4-block DeiT on 7x7 patches (16 + 1 tokens),
  // which learns about as fast per epoch as 4x4 patches and runs 3.5x faster; light augmentation
  // (horizontal flip, label smoothing): RandAugment, mixup, erasing and crops slow short
  // schedules down (Imagenette's authors note the same for mixup). The sparse threshold is
  // scaled to 17 tokens (uniform attention is 1/17 here, 1/197 at 224 px).
  set("data-set", &a.data_set, std::string("FMNIST"));
  set("model", &a.model, std::string("custom"));
  set("input-size", &a.input_size, 28);
  set("in-chans", &a.in_chans, 1);
  set("embed-dim", &a.embed_dim, 64);
  set("depth", &a.depth, 4);
  set("num-heads", &a.num_heads, 4);
  set("mlp-ratio", &a.mlp_ratio, 2.0);
  set("model-ema", &a.model_ema, false);
  set("aa", &a.aa, std::string("none"));
  set("color-jitter", &a.color_jitter, 0.0);  // light augmentation: flip and label smoothing only
  set("reprob", &a.reprob, 0.0);
  set("mixup", &a.mixup, 0.0);
  set("cutmix", &a.cutmix, 0.0);
  set("smoothing", &a.smoothing, 0.1);
  set("batch-size", &a.batch_size, 128);
  set("unscale-lr", &a.unscale_lr, true);
  set("sched-on-updates", &a.sched_on_updates, true);
  set("warmup-lr", &a.warmup_lr, 1e-5);
  set("min-lr", &a.min_lr, 1e-5);
  set("weight-decay", &a.weight_decay, 0.05);
  set("num_workers", &a.num_workers, 1);
  set("sparse-threshold", &a.sparse_threshold, 0.05);
  set("sparse-anneal-end", &a.sparse_anneal_end, 0.25);
  if (a.preset == "fmnist") {
    set("patch-size", &a.patch_size, 7);
    set("crop-padding", &a.crop_padding, 0);
    set("drop-path", &a.drop_path, 0.0);
    set("lr", &a.lr, 4e-3);
    set("epochs", &a.epochs, 8);
    set("warmup-epochs", &a.warmup_epochs, 0.3);
  } else {  // fmnist-long: 4x4 patches (49 + 1 tokens), random crops, 75 min on 2 cores (90.84%)
    set("patch-size", &a.patch_size, 4);
    set("crop-padding", &a.crop_padding, 2);
    set("drop-path", &a.drop_path, 0.05);
    set("lr", &a.lr, 2e-3);
    set("epochs", &a.epochs, 40);
    set("warmup-epochs", &a.warmup_epochs, 2.0);
  }
}

void validate(const TrainArgs& a) {
  auto need = [](bool ok, const std::string& msg) {
    if (!ok) throw UsageError(msg);
  };
  need(a.batch_size > 0, str_cat("--batch-size ", a.batch_size, " must be positive"));
  need(a.epochs > 0, str_cat("--epochs ", a.epochs, " must be positive"));
  need(a.start_epoch >= 0 && a.start_epoch <= a.epochs,
       str_cat("--start_epoch ", a.start_epoch, " must lie in [0, --epochs]"));
  need(a.input_size > 0, str_cat("--input-size ", a.input_size, " must be positive"));
  need(a.in_chans == 1 || a.in_chans == 3, str_cat("--in-chans ", a.in_chans, ": 1 or 3"));
  need(a.lr > 0 && a.min_lr >= 0 && a.warmup_lr >= 0, "--lr must be positive, --min-lr and --warmup-lr not negative");
  need(a.warmup_epochs >= 0, "--warmup-epochs must not be negative");
  need(a.weight_decay >= 0, "--weight-decay must not be negative");
  need(a.drop >= 0 && a.drop < 1, str_cat("--drop ", a.drop, " must lie in [0, 1)"));
  need(a.drop_path >= 0 && a.drop_path < 1, str_cat("--drop-path ", a.drop_path, " must lie in [0, 1)"));
  need(a.smoothing >= 0 && a.smoothing < 1, str_cat("--smoothing ", a.smoothing, " must lie in [0, 1)"));
  need(a.color_jitter >= 0, str_cat("--color-jitter ", a.color_jitter, " must not be negative"));
  need(a.reprob >= 0 && a.reprob <= 1, str_cat("--reprob ", a.reprob, " must lie in [0, 1]"));
  need(a.recount == 1, "--recount: only 1 is supported");
  need(a.crop_padding >= 0, "--crop-padding must not be negative");
  need(a.sparse_anneal_end > 0 && a.sparse_anneal_end <= 1, "--sparse-anneal-end must lie in (0, 1]");
  need(a.mixup >= 0 && a.cutmix >= 0, "--mixup and --cutmix must not be negative");
  need(a.mixup_prob >= 0 && a.mixup_prob <= 1 && a.mixup_switch_prob >= 0 && a.mixup_switch_prob <= 1,
       "--mixup-prob and --mixup-switch-prob must lie in [0, 1]");
  need(!a.cutmix_minmax, "--cutmix-minmax is not supported");
  need(!a.repeated_aug, "--repeated-aug is not supported (deit uses it only with several processes)");
  need(a.opt_betas.empty() || (a.opt_betas.size() == 2 && a.opt_betas[0] >= 0 && a.opt_betas[0] < 1 &&
                               a.opt_betas[1] >= 0 && a.opt_betas[1] < 1),
       "--opt-betas: two values in [0, 1)");
  need(a.opt_eps > 0, "--opt-eps must be positive");
  need(!a.clip_grad || *a.clip_grad > 0, "--clip-grad must be positive");
  need(a.model_ema_decay >= 0 && a.model_ema_decay <= 1, "--model-ema-decay must lie in [0, 1]");
  need(a.eval_crop_ratio > 0 && a.eval_crop_ratio <= 1,
       str_cat("--eval-crop-ratio ", a.eval_crop_ratio, " must lie in (0, 1]"));
  need(a.num_workers >= 0, "--num_workers must not be negative");
  need(a.threads >= 0, "--threads must not be negative");
  need(a.log_interval > 0, "--log-interval must be positive");
  need(a.max_steps >= 0, "--max-steps must not be negative");
  need(a.max_image_pixels > 0, "--max-image-pixels must be positive");
  check_device(a.device);
  need(a.sparse_threshold >= 0 && a.sparse_threshold < 1, "--sparse-threshold must lie in [0, 1)");
  need(a.mixup_mode == "batch", "--mixup-mode: only batch is supported");
  if (a.aa != "none" && !a.aa.empty()) {
    try {
      data::parse_rand_augment(a.aa);
    } catch (const Error& e) {
      throw UsageError(e.what());
    }
  }
  need(a.distillation_type == "none" || !a.teacher_path.empty() || a.distill_from_softmax,
       str_cat("--distillation-type ", a.distillation_type, " needs --teacher-path FILE"));
  need(a.distillation_type != "none" || (a.teacher_path.empty() && a.teacher_model.empty()),
       "--teacher-path and --teacher-model need --distillation-type soft or hard");
  need(a.distillation_alpha >= 0 && a.distillation_alpha <= 1,
       str_cat("--distillation-alpha ", a.distillation_alpha, " must lie in [0, 1]"));
  need(a.distillation_tau > 0, str_cat("--distillation-tau ", a.distillation_tau, " must be positive"));
  need(!a.distilled || a.model == "custom", "--distilled applies to --model custom (the deit_*_distilled models are)");
  const bool mixing = a.mixup > 0 || a.cutmix > 0;
  need(!mixing || a.batch_size % 2 == 0, str_cat("--batch-size ", a.batch_size, " must be even with mixup/cutmix"));
  if (a.model == "custom") {
    need(a.patch_size > 0 && a.embed_dim > 0 && a.depth > 0 && a.num_heads > 0, "--model custom needs positive sizes");
    need(a.embed_dim % a.num_heads == 0, str_cat("--num-heads ", a.num_heads, " does not divide --embed-dim ",
                                                 a.embed_dim, " (the head dim must be an integer)"));
  } else {
    try {
      vit::deit_config(a.model);
    } catch (const Error& e) {
      throw UsageError(str_cat("--model: ", e.what()));
    }
  }
}

double effective_lr(const TrainArgs& a) { return a.unscale_lr ? a.lr : a.lr * a.batch_size * a.world_size / 512.0; }

vit::DeitConfig model_config(const TrainArgs& a) {
  vit::DeitConfig c;
  if (a.model == "custom") {
    c.name = "custom";
    c.patch = a.patch_size;
    c.embed_dim = a.embed_dim;
    c.depth = a.depth;
    c.heads = a.num_heads;
    c.mlp_ratio = a.mlp_ratio;
    c.distilled = a.distilled;
  } else {
    c = vit::deit_config(a.model);
  }
  c.img_size = a.input_size;
  c.in_chans = a.in_chans;
  c.num_classes = a.num_classes;
  c.drop = static_cast<float>(a.drop);
  c.drop_path = static_cast<float>(a.drop_path);
  c.attn = a.attn;
  c.mask.threshold = static_cast<float>(a.sparse_threshold);
  c.eval_sparse = a.eval_sparse;
  return c;
}

data::TransformConfig transform_config(const TrainArgs& a) {
  data::TransformConfig t;
  t.input_size = a.input_size;
  t.in_chans = a.in_chans;
  if (a.data_set == "FMNIST") {  // the dataset's own statistics (train split)
    t.mean = {0.2860f, 0.2860f, 0.2860f};
    t.std = {0.3530f, 0.3530f, 0.3530f};
  }
  t.crop_ratio = a.eval_crop_ratio;
  t.train_interpolation = data::parse_interpolation(a.train_interpolation);
  if (a.aa != "none" && !a.aa.empty()) {
    data::RandAugmentConfig ra = data::parse_rand_augment(a.aa);
    for (int c = 0; c < 3; ++c) ra.fill[c] = static_cast<uint8_t>(std::min(255.0, std::round(255.0 * t.mean[c])));
    ra.interpolation = t.train_interpolation;
    t.rand_augment = ra;
  }
  t.reprob = a.reprob;
  t.small_crop_padding = a.crop_padding;
  t.color_jitter = a.color_jitter;
  return t;
}

Json settings_json(const TrainArgs& a) {
  Json j = Json::object();
  j.set("model", a.model);
  j.set("input_size", a.input_size);
  j.set("in_chans", a.in_chans);
  if (a.model == "custom") {
    j.set("patch_size", a.patch_size);
    j.set("embed_dim", a.embed_dim);
    j.set("depth", a.depth);
    j.set("num_heads", a.num_heads);
    j.set("mlp_ratio", a.mlp_ratio);
    j.set("distilled", a.distilled);
  }
  j.set("attn", a.attn);
  j.set("sparse_threshold", a.sparse_threshold);
  if (a.attn == "vitality") {
    j.set("sparse_anneal", a.sparse_anneal);
    j.set("sparse_anneal_end", a.sparse_anneal_end);
  }
  j.set("distillation_type", a.distillation_type);
  if (a.distillation_type != "none") {
    j.set("distillation_alpha", a.distillation_alpha);
    j.set("distillation_tau", a.distillation_tau);
    j.set("teacher_path", a.teacher_path);
    j.set("teacher_model", a.teacher_model);
    if (!a.teacher_fingerprint.empty()) j.set("teacher_fingerprint", a.teacher_fingerprint);
  }
  j.set("drop", a.drop);
  j.set("drop_path", a.drop_path);
  j.set("model_ema", a.model_ema);
  j.set("model_ema_decay", a.model_ema_decay);
  j.set("opt", a.opt);
  j.set("opt_eps", a.opt_eps);
  Json betas = Json::array();
  for (double b : a.opt_betas.empty() ? std::vector<double>{0.9, 0.999} : a.opt_betas) betas.push(b);
  j.set("opt_betas", betas);
  j.set("momentum", a.momentum);
  j.set("weight_decay", a.weight_decay);
  j.set("clip_grad", a.clip_grad ? Json(*a.clip_grad) : Json());
  j.set("sched", a.sched);
  j.set("sched_on_updates", a.sched_on_updates);
  j.set("lr", a.lr);
  j.set("lr_effective", effective_lr(a));
  j.set("unscale_lr", a.unscale_lr);
  j.set("warmup_lr", a.warmup_lr);
  j.set("min_lr", a.min_lr);
  j.set("warmup_epochs", a.warmup_epochs);
  j.set("aa", a.aa);
  j.set("color_jitter", a.color_jitter);
  j.set("smoothing", a.smoothing);
  j.set("train_interpolation", a.train_interpolation);
  j.set("reprob", a.reprob);
  j.set("crop_padding", a.crop_padding);
  j.set("mixup", a.mixup);
  j.set("cutmix", a.cutmix);
  j.set("mixup_prob", a.mixup_prob);
  j.set("mixup_switch_prob", a.mixup_switch_prob);
  j.set("data_path", a.data_path);
  j.set("data_set", a.data_set);
  j.set("class_map", a.class_map);
  j.set("eval_crop_ratio", a.eval_crop_ratio);
  j.set("batch_size", a.batch_size);
  j.set("epochs", a.epochs);
  j.set("seed", a.seed);
  j.set("world_size", a.world_size);
  j.set("max_steps", static_cast<int64_t>(a.max_steps));
  j.set("preset", a.preset);
  return j;
}

std::string settings_table(const TrainArgs& a) {
  std::ostringstream os;
  const Json j = settings_json(a);
  os << "+------------------------+------------------------------------------------------------+\n";
  for (const auto& [k, v] : j.members()) {
    std::string val = v.is_string() ? v.as_string() : v.dump();
    if (val.empty()) val = "''";
    if (val.size() > 58) val = val.substr(0, 55) + "...";
    char line[160];
    std::snprintf(line, sizeof line, "| %-22s | %-58s |\n", k.c_str(), val.c_str());
    os << line;
  }
  os << "+------------------------+------------------------------------------------------------+\n";
  return os.str();
}

}  // namespace vt::apps
