// Optimisers against hand-evaluated PyTorch formulas, parameter groups, clipping, EMA, state.
#include <doctest/doctest.h>

#include <cmath>

#include "core/ops.h"
#include "nn/optim.h"

using namespace vt;

namespace {
nn::NamedTensor param(const std::string& name, std::vector<float> v, Shape s) {
  return {name, from_data(std::move(v), s).set_requires_grad()};
}
}  // namespace

TEST_CASE("timm's parameter groups: no decay for 1-D, biases, pos_embed, cls_token") {
  nn::Parameters ps = {param("cls_token", {0, 0}, {1, 1, 2}),
                       param("pos_embed", {0, 0}, {1, 1, 2}),
                       param("blocks.0.attn.qkv.weight", {0, 0, 0, 0}, {2, 2}),
                       param("blocks.0.attn.qkv.bias", {0, 0}, {2}),
                       param("norm.weight", {1, 1}, {2}),
                       param("head.weight", {0, 0}, {1, 2})};
  auto groups = nn::param_groups_weight_decay(ps, 0.05);
  REQUIRE(groups.size() == 2);
  CHECK(groups[0].weight_decay == 0.0);
  CHECK(groups[1].weight_decay == 0.05);
  std::vector<std::string> decayed;
  for (auto& p : groups[1].params) decayed.push_back(p.name);
  CHECK(decayed == std::vector<std::string>{"blocks.0.attn.qkv.weight", "head.weight"});
  CHECK(groups[0].params.size() == 4);
}

TEST_CASE("AdamW: two steps equal PyTorch's formula evaluated by hand") {
  nn::Parameters ps = {param("w", {1.0f, -2.0f}, {1, 2})};
  nn::AdamW opt({nn::ParamGroup{ps, 0.1}}, nn::AdamWOptions{0.9, 0.999, 1e-8});
  double w[2] = {1.0, -2.0}, m[2] = {0, 0}, v[2] = {0, 0};
  const double grads[2][2] = {{0.5, -0.25}, {0.1, 0.3}};
  const double lr = 0.01;
  for (int step = 1; step <= 2; ++step) {
    ps[0].tensor.set_grad(from_data({float(grads[step - 1][0]), float(grads[step - 1][1])}, {1, 2}));
    opt.step(lr);
    for (int i = 0; i < 2; ++i) {
      const double g = grads[step - 1][i];
      w[i] *= 1 - lr * 0.1;
      m[i] = 0.9 * m[i] + 0.1 * g;
      v[i] = 0.999 * v[i] + 0.001 * g * g;
      const double mhat = m[i] / (1 - std::pow(0.9, step)), vhat = v[i] / (1 - std::pow(0.999, step));
      w[i] -= lr * mhat / (std::sqrt(vhat) + 1e-8);
      CHECK(ps[0].tensor.data()[i] == doctest::Approx(w[i]).epsilon(1e-6));
    }
  }
  CHECK(opt.steps() == 2);
  // A parameter without a gradient is left alone.
  ps[0].tensor.zero_grad();
  const float before = ps[0].tensor.data()[0];
  opt.step(lr);
  CHECK(ps[0].tensor.data()[0] == before);
}

TEST_CASE("SGD with momentum and Nesterov, as torch.optim.SGD") {
  for (bool nesterov : {false, true}) {
    nn::Parameters ps = {param("w", {1.0f}, {1})};
    nn::SGD opt({nn::ParamGroup{ps, 0.01}}, nn::SgdOptions{0.9, nesterov});
    double w = 1.0, buf = 0;
    for (int step = 0; step < 3; ++step) {
      const double g = 0.5 - 0.2 * step;
      ps[0].tensor.set_grad(from_data({float(g)}, {1}));
      opt.step(0.1);
      const double d = g + 0.01 * w;
      buf = step == 0 ? d : 0.9 * buf + d;
      w -= 0.1 * (nesterov ? d + 0.9 * buf : buf);
      CHECK(ps[0].tensor.item() == doctest::Approx(w).epsilon(1e-6));
    }
  }
}

TEST_CASE("clip_grad_norm scales the global norm down to max_norm") {
  nn::Parameters ps = {param("a", {0, 0}, {2}), param("b", {0}, {1})};
  ps[0].tensor.set_grad(from_data({3, 0}, {2}));
  ps[1].tensor.set_grad(from_data({4}, {1}));
  CHECK(nn::clip_grad_norm(ps, 1.0) == doctest::Approx(5.0));
  CHECK(ps[0].tensor.grad().data()[0] == doctest::Approx(0.6f).epsilon(1e-5));
  CHECK(ps[1].tensor.grad().data()[0] == doctest::Approx(0.8f).epsilon(1e-5));
  CHECK(nn::clip_grad_norm(ps, 10.0) == doctest::Approx(1.0).epsilon(1e-5));  // below: untouched
  CHECK(ps[1].tensor.grad().data()[0] == doctest::Approx(0.8f).epsilon(1e-5));
}

TEST_CASE("ModelEma and optimiser state round trips") {
  nn::Parameters ps = {param("w", {1, 2}, {2})};
  nn::ModelEma ema(ps, 0.9);
  ps[0].tensor.data()[0] = 11;
  ema.update(ps);
  CHECK(ema.shadow()[0].tensor.data()[0] == doctest::Approx(2.0f));  // 0.9 * 1 + 0.1 * 11
  CHECK(ema.shadow()[0].name == "w");
  nn::AdamW a({nn::ParamGroup{ps, 0.0}}, {});
  ps[0].tensor.set_grad(from_data({1, 1}, {2}));
  a.step(0.1);
  nn::Parameters st = a.state();
  CHECK(st[0].name == "optimizer.exp_avg.w");
  CHECK(st[1].name == "optimizer.exp_avg_sq.w");
  nn::AdamW b({nn::ParamGroup{ps, 0.0}}, {});
  b.load_state(st);
  CHECK(b.state()[0].tensor.to_vector() == st[0].tensor.to_vector());
  CHECK_THROWS_WITH_AS(b.load_state({}), "optimizer state: tensor 'optimizer.exp_avg.w' is missing", Error);
}
