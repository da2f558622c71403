// `vitality predict`: top-k classes with probabilities for single images (vit.cpp's "> class :
// prob" lines), optionally a CSV like timm's inference.py.
#include <cmath>
#include <cstdio>

#include "apps/checkpointing.h"
#include "apps/commands.h"
#include "apps/preflight.h"
#include "apps/train_args.h"
#include "core/autograd.h"
#include "core/fileio.h"
#include "core/ops.h"
#include "core/threads.h"
#include "data/dataset.h"

namespace vt::apps {

int run_predict(int argc, char** argv) {
  std::vector<std::string> images;
  std::string checkpoint, model, results_file, attn, device = "cpu";
  int topk = 5, threads = 0;
  double crop_ratio = 0;
  ArgParser p("predict", "Classify images with a checkpoint and print the top-k classes.");
  p.positional("IMAGE", &images, "image files (any format stb_image reads; grey and RGBA are converted)");
  p.group("model");
  p.add("checkpoint", &checkpoint, "weights written by vitality train (class names come from the file)");
  p.value_hint("checkpoint", "FILE");
  p.add("model", &model, "architecture for weights without a model card (timm's published files)");
  p.add_alias("m", "model");
  p.value_hint("model", "NAME");
  p.default_text("model", "the file's model card");
  add_attention_flag(p, &attn, "run the model with this attention kind");
  p.default_text("attn", "the checkpoint's");
  p.add("eval-crop-ratio", &crop_ratio, "resize to input-size / ratio, then center crop");
  p.default_text("eval-crop-ratio", "the checkpoint's");
  p.add_alias("crop-pct", "eval-crop-ratio");
  p.group("output");
  p.add("topk", &topk, "classes to print per image");
  p.add_alias("k", "topk");
  p.add("results-file", &results_file, "CSV: filename, rank, index, label, prob");
  p.value_hint("results-file", "FILE");
  p.group("run");
  p.add("threads", &threads, "compute threads");
  p.default_text("threads", "all cores");
  p.add("device", &device, "cpu (vitality runs on CPUs)");
  p.value_hint("device", "cpu");
  if (!p.parse(argc, argv, 2)) return 0;
  check_device(device);
  if (p.was_set("eval-crop-ratio") && !(crop_ratio > 0 && crop_ratio <= 1))
    throw UsageError(str_cat("--eval-crop-ratio ", crop_ratio, " must lie in (0, 1]"));
  if (checkpoint.empty()) throw UsageError("--checkpoint FILE is required");
  require_file("checkpoint", checkpoint);
  if (images.empty()) throw UsageError("give at least one image");
  if (topk < 1) throw UsageError("--topk must be at least 1");
  set_num_threads(threads > 0 ? threads : hardware_threads());
  LoadedModel m = load_model(checkpoint, model, attn);
  if (p.was_set("eval-crop-ratio")) m.transform.crop_ratio = crop_ratio;
  std::printf("%s\n", describe_model(checkpoint, m).c_str());
  const int64_t K = m.model->cfg.num_classes, k = std::min<int64_t>(topk, K);
  const int S = m.transform.input_size, C = m.transform.in_chans;
  std::string csv = "filename,rank,index,label,prob\n";
  int failures = 0;
  NoGradGuard no_grad;
  for (const std::string& path : images) {
    data::DecodeResult r;
    try {
      r = data::decode_image(read_file(path, uint64_t{1} << 30));
    } catch (const Error& e) {
      r.error = e.what();
    }
    if (!r.image) {
      std::fprintf(stderr, "%s: %s\n", data::printable_path(path).c_str(), r.error.c_str());
      ++failures;
      continue;
    }
    Tensor x = empty({1, C, S, S});
    data::eval_transform(*r.image, m.transform, x.data());
    Tensor probs = softmax(m.model->forward(x, nn::Context{}));
    std::vector<int64_t> order(K);
    for (int64_t i = 0; i < K; ++i) order[i] = i;
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](int64_t a, int64_t b) { return probs.data()[a] > probs.data()[b]; });
    std::printf("%s\n", data::printable_path(path).c_str());
    for (int64_t i = 0; i < k; ++i) {
      const int64_t c = order[i];
      const std::string label = c < static_cast<int64_t>(m.classes.size()) ? m.classes[c] : std::to_string(c);
      std::printf("  > %-24s : %.4f\n", label.c_str(), probs.data()[c]);
      csv += str_cat(data::printable_path(path), ",", i + 1, ",", c, ",\"", label, "\",", probs.data()[c], "\n");
    }
  }
  if (!results_file.empty()) write_file_atomic(results_file, csv);
  return failures ? 1 : 0;
}

}  // namespace vt::apps
