// Chapter 4: training a network (apps/walkthrough/04-training.md).
#include <cmath>
#include <optional>

#include "apps/chart.h"
#include "apps/walkthrough/story.h"
#include "core/autograd.h"
#include "core/ops.h"
#include "core/rng.h"
#include "nn/optim.h"

namespace vt::apps::walkthrough {

namespace {

struct Spirals {
  Tensor X;  // (N, 2)
  std::vector<int64_t> y;
};

// Three arms: class c's points lie at radius r and angle 4c + 4r (+ noise), r in [0, 1).
Spirals make_spirals(int points, Generator& gen) {
  Spirals d;
  d.X = empty({3 * points, 2});
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < points; ++i) {
      const double r = double(i) / points, t = 4.0 * c + 4.0 * r + 0.2 * gen.normal();
      d.X.at({c * points + i, 0}) = static_cast<float>(r * std::sin(t));
      d.X.at({c * points + i, 1}) = static_cast<float>(r * std::cos(t));
      d.y.push_back(c);
    }
  return d;
}

struct Mlp {  // 2 -> 64 -> 3, ReLU
  Tensor w1, b1, w2, b2;
  explicit Mlp(Generator& gen) {
    auto init = [&](Shape shape, int fan_in) {  // PyTorch's Linear: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
      const float bound = 1.f / std::sqrt(float(fan_in));
      return uniform(shape, -bound, bound, &gen).set_requires_grad();
    };
    w1 = init({2, 64}, 2), b1 = init({64}, 2), w2 = init({64, 3}, 64), b2 = init({3}, 64);
  }
  Tensor forward(const Tensor& x) const { return matmul(relu(matmul(x, w1) + b1), w2) + b2; }
  nn::Parameters params() const { return {{"w1", w1}, {"b1", b1}, {"w2", w2}, {"b2", b2}}; }
};

double accuracy(const Mlp& m, const Spirals& d) {
  NoGradGuard no_grad;
  const std::vector<int64_t> pred = argmax(m.forward(d.X));
  int64_t right = 0;
  for (size_t i = 0; i < pred.size(); ++i) right += pred[i] == d.y[i];
  return double(right) / double(pred.size());
}

}  // namespace

void chapter_training(Story& s) {
  s.step("the data: 3 spiral arms of 100 points in the plane");
  Generator data_gen(0);
  const Spirals d = make_spirals(100, data_gen);
  s.fact("X.shape", shape_str(d.X.shape()));

  s.step("the model and its first loss");
  s.predict("before any training the model guesses evenly among 3 classes: what is the cross-entropy?");
  Panel loss_panel("Training loss", "step", "cross-entropy");
  loss_panel.integer_x = true;
  std::optional<Mlp> final_model;  // AdamW's, for the regions
  for (const char* name : {"SGD (momentum 0.9, lr 0.5)", "AdamW (lr 0.01)"}) {
    Generator gen(7);
    Mlp m(gen);  // the same start for both optimisers
    std::unique_ptr<nn::Optimizer> opt;
    const bool adamw = name[0] == 'A';
    if (adamw) opt = std::make_unique<nn::AdamW>(std::vector<nn::ParamGroup>{{m.params(), 0.0}}, nn::AdamWOptions{});
    else opt = std::make_unique<nn::SGD>(std::vector<nn::ParamGroup>{{m.params(), 0.0}}, nn::SgdOptions{});
    Series curve(name);
    double first = 0, last = 0;
    for (int step = 0; step <= 300; ++step) {
      Tensor loss = cross_entropy(m.forward(d.X), d.y);
      if (step == 0) first = loss.item();
      last = loss.item();
      if (step % 10 == 0) {
        curve.x.push_back(step);
        curve.y.push_back(last);
      }
      if (step == 300) break;
      opt->zero_grad();
      loss.backward();
      opt->step(adamw ? 0.01 : 0.5);
    }
    if (!adamw) s.fact("first loss", str_printf("%.4f (ln 3 = %.4f)", first, std::log(3.0)));
    s.fact(str_cat(name, ": loss after 300 steps"), str_printf("%.3f", last));
    s.fact(str_cat(name, ": training accuracy"), str_printf("%.0f%%", 100 * accuracy(m, d)));
    loss_panel.series.push_back(curve);
    if (adamw) final_model = m;  // the tensors are shared handles: no copy
  }
  s.picture("04-loss.svg", line_chart_svg({loss_panel}, "Spirals: 2 -> 64 -> 3 MLP, full batch"), "the loss curves");

  s.step("what the network learned: its decision regions");
  const int grid = 40;
  Tensor pts = empty({grid * grid, 2});
  for (int i = 0; i < grid; ++i)
    for (int j = 0; j < grid; ++j) {
      pts.at({i * grid + j, 0}) = -1.f + 2.f * (j + 0.5f) / grid;  // x to the right
      pts.at({i * grid + j, 1}) = 1.f - 2.f * (i + 0.5f) / grid;   // y up
    }
  std::vector<int64_t> region;
  {
    NoGradGuard no_grad;
    region = argmax(final_model->forward(pts));
  }
  Heatmap h;
  h.title = "AdamW's network: the class it predicts over [-1, 1]^2 (0, 1, 2)";
  h.row_label = "y";
  h.col_label = "x";
  h.annotate = false;
  for (int i = 0; i < grid; ++i) h.rows.push_back(i % 10 == 0 ? str_printf("%.1f", 1.0 - 2.0 * i / grid) : "");
  for (int j = 0; j < grid; ++j) h.cols.push_back(j % 10 == 0 ? str_printf("%.1f", -1.0 + 2.0 * j / grid) : "");
  for (int64_t c : region) h.values.push_back(double(c));
  s.picture("04-regions.svg", heatmap_svg(h), "the decision regions: three interleaved arms");
}

}  // namespace vt::apps::walkthrough
