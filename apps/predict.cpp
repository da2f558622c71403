// `vitality predict`: top-k classes with probabilities for single images (vit.cpp's "> class :
// prob" lines), optionally a CSV like timm's inference.py.
#include <cmath>
#include <cstdio>

#include "apps/chart.h"
#include "apps/checkpointing.h"
#include "apps/commands.h"
#include "apps/preflight.h"
#include "apps/train_args.h"
#include "core/autograd.h"
#include "core/fileio.h"
#include "core/ops.h"
#include "core/threads.h"
#include "data/dataset.h"
#include "data/image.h"
#include "data/transforms.h"
#include "vit/attention_weights.h"

namespace vt::apps {

namespace {

// Pixels repeated to at least `side` pixels a side (SVG renderers may smooth a stretched image).
data::Image nearest_upscale(const data::Image& img, int side) {
  const int f = std::max(1, (side + std::max(img.width, img.height) - 1) / std::max(img.width, img.height));
  data::Image out = data::make_image(img.width * f, img.height * f, img.channels);
  for (int y = 0; y < out.height; ++y)
    for (int x = 0; x < out.width; ++x)
      for (int c = 0; c < img.channels; ++c) out.at(y, x, c) = img.at(y / f, x / f, c);
  return out;
}

// The picture of --attention-map (vit/attention_weights.h computes what it shows).
std::string attention_map_svg(vit::Deit& model, const Tensor& x, const data::Image& seen, const std::string& title) {
  const std::vector<vit::BlockAttention> maps = vit::attention_maps(model, x);
  const vit::BlockAttention& last = maps.back();
  const int64_t H = last.weights.size(0), n = last.weights.size(1), grid = model.cfg.img_size / model.cfg.patch;
  const int64_t prefix = model.cfg.prefix_tokens();
  VT_CHECK(n == grid * grid + prefix, "attention map: ", n, " tokens for a ", grid, "x", grid, " patch grid");
  const std::string png = data::encode_png(nearest_upscale(seen, 224));
  std::vector<OverlayPanel> panels;
  OverlayPanel input;
  input.title = "input as the model sees it";
  input.png = png;
  input.caption = str_printf("%d x %d px, %lld x %lld patches", seen.width, seen.height, static_cast<long long>(grid),
                             static_cast<long long>(grid));
  panels.push_back(input);
  // a grid of values (one per patch) over the image
  auto grid_panel = [&](std::string title, std::vector<double> values, std::string caption) {
    OverlayPanel p;
    p.title = std::move(title);
    p.png = png;
    p.rows = p.cols = static_cast<int>(grid);
    p.values = std::move(values);
    p.caption = std::move(caption);
    return p;
  };
  panels.push_back(
      grid_panel(str_printf("block %zu: cls attention, mean of %lld heads", maps.size(), static_cast<long long>(H)),
                 vit::cls_row_mean_of_heads(last, prefix), "cls row, mean over heads"));
  panels.push_back(grid_panel(str_printf("rollout over %zu block%s", maps.size(), maps.size() == 1 ? "" : "s"),
                              vit::cls_row(vit::attention_rollout(maps), prefix), "cls row of the rollout"));
  if (!last.masks.empty()) {
    std::vector<double> heads_keeping(n - prefix, 0.0);
    int64_t nnz = 0;
    for (const vit::CsrMask& m : last.masks) {
      for (int32_t e = m.row_ptr[0]; e < m.row_ptr[1]; ++e)
        if (m.col[e] >= prefix) heads_keeping[m.col[e] - prefix] += 1;
      nnz += m.nnz();
    }
    panels.push_back(grid_panel(
        str_printf("block %zu mask: heads keeping cls -> patch", maps.size()), heads_keeping,
        str_printf("of %lld heads; density %.3f", static_cast<long long>(H), double(nnz) / double(H * n * n))));
    data::Image mask = data::make_image(static_cast<int>(n), static_cast<int>(n), 1, 0);
    const vit::CsrMask& m0 = last.masks[0];
    for (int64_t i = 0; i < n; ++i)
      for (int32_t e = m0.row_ptr[i]; e < m0.row_ptr[i + 1]; ++e) mask.at(static_cast<int>(i), m0.col[e], 0) = 255;
    OverlayPanel full;
    full.title = str_printf("block %zu mask, head 1 (%lld x %lld tokens)", maps.size(), static_cast<long long>(n),
                            static_cast<long long>(n));
    full.png = data::encode_png(nearest_upscale(mask, 224));
    full.caption = str_printf("white: kept (%.3f of pairs)", double(m0.nnz()) / double(n * n));
    panels.push_back(full);
  }
  return overlay_svg(
      panels, title,
      "Each panel's colours span its own range (printed under it).\n"
      "The weights are those the model applies (Z = W V): softmax's probabilities,\n"
      "Taylor's first-order weights (which can be negative), the masked kinds' softmax over kept pairs.\n"
      "Rollout (Abnar & Zuidema, 2020): per block (mean of the heads + I) / 2, multiplied through the "
      "blocks.");
}

}  // namespace

int run_predict(int argc, char** argv) {
  std::vector<std::string> images;
  std::string checkpoint, model, results_file, attn, attention_map, device = "cpu";
  int topk = 5, threads = 0;
  double crop_ratio = 0;
  ArgParser p("predict", "Classify images with a checkpoint and print the top-k classes.");
  p.positional("IMAGE", &images, "image files (any format stb_image reads; grey and RGBA are converted)");
  p.group("model");
  add_checkpoint_flags(p, &checkpoint, &model, &attn, &crop_ratio);
  p.group("output");
  p.add("topk", &topk, "classes to print per image");
  p.add_alias("k", "topk");
  p.add("results-file", &results_file, "CSV: filename, rank, index, label, prob");
  p.value_hint("results-file", "FILE");
  p.add("attention-map", &attention_map,
        "SVG of the image with the cls token's attention over the patches: last block (mean over heads) and "
        "rollout over all blocks; the masked kinds' masks beside (one image only)");
  p.value_hint("attention-map", "FILE.svg");
  p.group("run");
  p.add("threads", &threads, "compute threads");
  p.default_text("threads", "all cores");
  add_device_flag(p, &device);
  if (!p.parse(argc, argv, 2)) return 0;
  check_device(device);
  check_crop_ratio(p, crop_ratio);
  if (checkpoint.empty()) throw UsageError("--checkpoint FILE is required");
  require_file("checkpoint", checkpoint);
  if (images.empty()) throw UsageError("give at least one image");
  if (!attention_map.empty() && images.size() != 1)
    throw UsageError(str_cat("--attention-map draws one image; ", images.size(), " were given"));
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
      csv += str_cat(csv_field(data::printable_path(path)), ",", i + 1, ",", c, ",", csv_field(label), ",",
                     probs.data()[c], "\n");
    }
    if (!attention_map.empty()) {
      const int64_t top = order[0];
      const std::string label = top < static_cast<int64_t>(m.classes.size()) ? m.classes[top] : std::to_string(top);
      write_file_atomic(
          attention_map,
          attention_map_svg(*m.model, x, data::eval_image(*r.image, m.transform),
                            str_printf("%s: %s (%.3f), %s attention", data::printable_path(path).c_str(), label.c_str(),
                                       probs.data()[top], m.model->attention().deployed().name)));
      std::printf("wrote %s\n", attention_map.c_str());
    }
  }
  if (!results_file.empty()) write_file_atomic(results_file, csv);
  return failures ? 1 : 0;
}

}  // namespace vt::apps
