// Chapter 8: a vision transformer trained on Fashion-MNIST for about a minute, and what it
// attends to (apps/walkthrough/08-vision-transformer.md).
#include <unistd.h>

#include <chrono>
#include <cmath>

#include "apps/chart.h"
#include "apps/walkthrough/story.h"
#include "core/autograd.h"
#include "core/ops.h"
#include "core/rng.h"
#include "data/dataset.h"
#include "data/image.h"
#include "data/loader.h"
#include "data/transforms.h"
#include "nn/optim.h"
#include "vit/attention_weights.h"
#include "vit/deit.h"

namespace vt::apps::walkthrough {

void chapter_vit(Story& s) {
  const std::string dir = data::kFashionMnistDir;
  VT_CHECK(::access((dir + "/train-images-idx3-ubyte.gz").c_str(), R_OK) == 0, dir,
           ": Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist; the README's first command does)");
  s.step("the data: Fashion-MNIST, 28 x 28 grey images of 10 kinds of clothing");
  auto train = std::make_shared<data::IdxDataset>(dir, "train", data::fashion_mnist_classes());
  auto test = std::make_shared<data::IdxDataset>(dir, "t10k", data::fashion_mnist_classes());
  s.fact("train and test images", str_cat(train->size(), " and ", test->size()));

  s.step("the model: patches, a cls token, position embeddings, blocks, a head");
  vit::DeitConfig c;
  c.name = "walkthrough";
  c.img_size = 28, c.patch = 7, c.in_chans = 1, c.embed_dim = 64, c.depth = 4, c.heads = 4, c.mlp_ratio = 2;
  c.num_classes = 10;
  vit::Deit model(c);
  Generator gen(0);
  model.init(gen);
  s.fact("patches of 7 x 7 pixels", str_cat((28 / 7) * (28 / 7), " patches + 1 cls token = ", c.tokens(), " tokens"));
  s.fact("patch_embed: each 49-pixel patch becomes a vector of", str_cat(c.embed_dim, " numbers"));
  s.fact("parameters", str_cat(model.num_parameters()));
  s.predict("what accuracy does an untrained model have on 10 classes?");

  s.step("training: one pass over the 60000 images (AdamW, batch 128, cosine learning rate)");
  data::LoaderOptions lo;
  lo.batch_size = 128;
  lo.num_workers = 1;
  lo.transform.input_size = 28;
  lo.transform.in_chans = 1;
  lo.transform.mean = {0.286f, 0.286f, 0.286f};  // Fashion-MNIST's own statistics
  lo.transform.std = {0.353f, 0.353f, 0.353f};
  lo.transform.rand_augment.reset();
  lo.transform.reprob = 0;
  lo.transform.small_crop_padding = 0;
  data::DataLoader loader(train, lo);
  nn::AdamW opt(nn::param_groups_weight_decay(model.parameters(), 0.05), nn::AdamWOptions{});
  const int64_t steps = loader.batches_per_epoch();
  loader.start_epoch(0);
  Panel loss_panel("Training loss", "step", "cross-entropy");
  loss_panel.integer_x = true;
  Series curve("loss (mean of 20 steps)");
  double window = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t step = 0; step < steps; ++step) {
    std::optional<data::Batch> b = loader.next();
    if (!b) break;
    const double lr = 1e-5 + 0.5 * (4e-3 - 1e-5) * (1 + std::cos(M_PI * double(step) / double(steps)));
    Generator step_gen = Generator::derive(0, 0, static_cast<uint64_t>(step));
    Tensor loss = cross_entropy(model.forward(b->images, nn::Context{true, &step_gen}), b->labels, 0.1f);
    opt.zero_grad();
    loss.backward();
    opt.step(lr);
    window += loss.item();
    if ((step + 1) % 20 == 0) {
      curve.x.push_back(double(step + 1));
      curve.y.push_back(window / 20);
      window = 0;
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  s.say(str_printf("%lld steps in %.0f s on this machine (varies)", static_cast<long long>(steps), seconds));
  loss_panel.series.push_back(curve);
  s.picture("08-loss.svg", line_chart_svg({loss_panel}, "A 4-block ViT on Fashion-MNIST, one epoch"), "the loss");

  s.step("evaluation on the 10000 test images");
  data::LoaderOptions eval = lo;
  eval.train = false;
  eval.shuffle = false;
  eval.drop_last = false;
  eval.batch_size = 500;
  data::DataLoader test_loader(test, eval);
  test_loader.start_epoch(0);
  int64_t right = 0, seen = 0;
  {
    NoGradGuard no_grad;
    while (std::optional<data::Batch> b = test_loader.next()) {
      const std::vector<int64_t> pred = argmax(model.forward(b->images, nn::Context{}));
      for (size_t i = 0; i < pred.size(); ++i) right += pred[i] == b->labels[i];
      seen += static_cast<int64_t>(pred.size());
    }
  }
  const double acc = 100.0 * double(right) / double(seen);
  s.fact("test accuracy after one epoch", str_printf("%.1f%% (%s 80%%)", acc, acc > 80 ? "above" : "BELOW"));

  s.step("what the cls token attends to, for one test image");
  const data::DecodeResult img = test->load(0);
  Tensor x = empty({1, 1, 28, 28});
  data::eval_transform(*img.image, eval.transform, x.data());
  const std::vector<vit::BlockAttention> maps = vit::attention_maps(model, x);
  const Tensor rollout = vit::attention_rollout(maps);
  const std::vector<double> mean = vit::cls_row_mean_of_heads(maps.back(), c.prefix_tokens()),
                            rolled = vit::cls_row(rollout, c.prefix_tokens());
  double row = 0;
  for (int64_t j = 0; j < c.tokens(); ++j) row += rollout.data()[j];
  s.fact("the rollout's cls row sums to", str_printf("%.4f", row));
  data::Image big = data::make_image(224, 224, 1);
  for (int y = 0; y < 224; ++y)
    for (int xx = 0; xx < 224; ++xx) big.at(y, xx, 0) = img.image->at(y / 8, xx / 8, 0);
  const std::string png = data::encode_png(big);
  OverlayPanel input, a1, a2;
  input.title = str_cat("test image 0: ", test->classes()[test->label(0)]);
  input.png = png;
  a1.title = "last block, mean of 4 heads";
  a1.png = png, a1.rows = a1.cols = 4, a1.values = mean;
  a2.title = "rollout over 4 blocks";
  a2.png = png, a2.rows = a2.cols = 4, a2.values = rolled;
  s.picture("08-attention.svg", overlay_svg({input, a1, a2}, "What the cls token reads from each 7 x 7 patch"),
            "attention maps of a test image");
}

}  // namespace vt::apps::walkthrough
