// `vitality demo`: the library end to end in a few dozen lines. A 2-layer MLP learns to tell
// three interleaved spirals apart (the classic CS231n toy problem) with full-batch SGD + momentum.
// Exercises creation, broadcasting, matmul, gelu, cross-entropy, backward and no-grad updates.
//
// Shapes: X (N,2) points, W1 (2,H), b1 (H,), W2 (H,C), b2 (C,); N = C * points per class.
#include <cmath>
#include <cstdio>

#include "apps/args.h"
#include "apps/commands.h"
#include "core/autograd.h"
#include "core/ops.h"
#include "core/rng.h"
#include "core/threads.h"

namespace vt::apps {

int run_demo(int argc, char** argv) {
  int steps = 400, hidden = 64, points = 100, threads = 0;
  double lr = 0.5;
  int64_t seed = 0;
  ArgParser args("demo", "Fit a small MLP to three spirals and print the loss as it falls.");
  args.add("steps", &steps, "optimisation steps");
  args.add("hidden", &hidden, "hidden width");
  args.add("points", &points, "points per class");
  args.add("lr", &lr, "learning rate (SGD, momentum 0.9)");
  args.add("seed", &seed, "random seed");
  args.add("threads", &threads, "threads for OpenMP and OpenBLAS");
  args.default_text("threads", "all cores");
  if (!args.parse(argc, argv, 2)) return 0;
  if (steps < 1 || hidden < 1 || points < 1 || lr <= 0)
    throw UsageError("--steps, --hidden, --points and --lr must be positive");
  set_num_threads(threads > 0 ? threads : hardware_threads());
  Generator gen(static_cast<uint64_t>(seed));

  // Data: class c's points lie on an arm r -> angle 4c + 4r, with noise.
  const int C = 3, N = C * points;
  Tensor X = empty({N, 2});
  std::vector<int64_t> y(N);
  for (int c = 0; c < C; ++c)
    for (int i = 0; i < points; ++i) {
      const double r = static_cast<double>(i) / points, t = 4.0 * c + 4.0 * r + 0.2 * gen.normal();
      X.at({c * points + i, 0}) = static_cast<float>(r * std::sin(t));
      X.at({c * points + i, 1}) = static_cast<float>(r * std::cos(t));
      y[c * points + i] = c;
    }

  // Parameters, initialised as PyTorch's Linear: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
  auto init = [&](Shape s, int fan_in) {
    const float b = 1.0f / std::sqrt(static_cast<float>(fan_in));
    return uniform(s, -b, b, &gen).set_requires_grad();
  };
  std::vector<Tensor> params = {init({2, hidden}, 2), init({hidden}, 2), init({hidden, C}, hidden), init({C}, hidden)};
  std::vector<Tensor> velocity;
  for (const Tensor& p : params) velocity.push_back(zeros(p.shape()));

  std::printf("demo: MLP 2 -> %d -> %d on %d spiral points, %d threads, %s\n", hidden, C, N, num_threads(),
              blas_info().c_str());
  float loss_value = 0;
  for (int step = 0; step <= steps; ++step) {
    Tensor h = gelu(matmul(X, params[0]) + params[1]);  // (N,H)
    Tensor logits = matmul(h, params[2]) + params[3];   // (N,C)
    Tensor loss = cross_entropy(logits, y);
    loss_value = loss.item();
    if (!std::isfinite(loss_value)) throw Error(str_cat("demo: loss became ", loss_value, " at step ", step));
    if (step % 50 == 0 || step == steps) {
      std::vector<int64_t> pred = argmax(logits);
      int correct = 0;
      for (int i = 0; i < N; ++i) correct += pred[i] == y[i];
      std::printf("step %4d  loss %.4f  accuracy %.1f%%\n", step, loss_value, 100.0 * correct / N);
    }
    if (step == steps) break;
    for (Tensor& p : params) p.zero_grad();
    loss.backward();
    NoGradGuard no_grad;  // the update itself is not part of any graph
    for (size_t k = 0; k < params.size(); ++k) {
      float* v = velocity[k].data();
      float* w = params[k].data();
      const float* g = params[k].grad().data();
      for (int64_t i = 0; i < params[k].numel(); ++i) {
        v[i] = 0.9f * v[i] + g[i];
        w[i] -= static_cast<float>(lr) * v[i];
      }
    }
  }
  return 0;
}

}  // namespace vt::apps
