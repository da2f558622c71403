// Chapter 6: ViTALiTy's linear Taylor attention, Algorithm 1 (apps/walkthrough/06-taylor-attention.md).
#include <chrono>
#include <cmath>

#include "apps/chart.h"
#include "apps/walkthrough/story.h"
#include "core/autograd.h"
#include "core/ops.h"
#include "core/rng.h"
#include "vit/attention.h"
#include "vit/attention_registry.h"

namespace vt::apps::walkthrough {

namespace {

float max_abs(const Tensor& a) {
  float m = 0;
  for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, std::fabs(a.data()[i]));
  return m;
}
float max_diff(const Tensor& a, const Tensor& b) {
  float m = 0;
  for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, std::fabs(a.data()[i] - b.data()[i]));
  return m;
}
Tensor heads(const Tensor& x) { return x.reshape({1, 1, x.size(0), x.size(1)}); }

}  // namespace

void chapter_taylor(Story& s) {
  NoGradGuard no_grad;
  const int64_t n = 8, d = 4;
  Generator gen(5);  // the head of chapter 5
  const Tensor Q = randn({n, d}, &gen), K = randn({n, d}, &gen), V = randn({n, d}, &gen);
  const float rd = std::sqrt(float(d));

  s.step("Algorithm 1 on chapter 5's head, step by step (ids as the paper and vit/attention_taylor.cpp number them)");
  const Tensor k_col = sum(K, {0}, true);               // 1a: 1^T K
  const Tensor k_bar = k_col / float(n);                // 1b
  const Tensor K_hat = K - k_bar;                       // 1c: centre the keys over the tokens
  const Tensor G = matmul(K_hat, V, true, false);       // 2: the global context, d x d
  const Tensor k_hat_sum = sum(K_hat, {0}, true);       // 3a: 0 in exact arithmetic
  const Tensor v_sum = sum(V, {0}, true);               // 3b
  const Tensor qk = matmul(Q, k_hat_sum, false, true);  // 4a: n x 1
  const Tensor t_D = qk + float(n) * rd;                // 4b: the normaliser
  const Tensor T_N = matmul(Q, G) + v_sum * rd;         // 5a, 5b: the numerator
  const Tensor Z = T_N / t_D;                           // 6
  s.fact("G = K_hat^T V shape (never n x n)", shape_str(G.shape()));
  s.fact("largest |k_hat_sum| (0 in exact arithmetic)", str_printf("%.1e", max_abs(k_hat_sum)));
  s.say("the steps as the kernel records them for the accelerator (vit/attention_registry.h):");
  vit::StepDims dims;
  dims.n = 197, dims.d = 64;
  for (const TraceRecord& r : vit::attention_kind("taylor").steps(dims))
    s.say(str_printf("  %-3s %-40s %-11s -> %s", r.step.c_str(), r.step_name.c_str(), r.kind.c_str(),
                     shape_str(r.output).c_str()));

  s.step("the same result three ways");
  const Tensor kernel = vit::attention_taylor(heads(Q), heads(K), heads(V));
  const Tensor A = matmul(Q, K_hat, false, true) * (1.f / rd) + 1.f;  // the n x n first-order weights
  const Tensor quadratic = matmul(A, V) / sum(A, {1}, true);
  s.fact("max |steps by hand - vit::attention_taylor|", str_printf("%.1e", max_diff(Z, kernel)));
  s.fact("max |steps - the quadratic form diag(A 1)^-1 A V|", str_printf("%.1e", max_diff(Z, quadratic)));

  s.step("how far from softmax: exp(x) ~ 1 + x is good for small scores");
  s.predict("the error is second order: shrink the scores 3x, and the error shrinks how much?");
  Panel err("Taylor vs softmax", "score scale (queries multiplied by)", "max |Z_taylor - Z_softmax| / max |Z_softmax|");
  err.log_x = err.log_y = true;
  Series e("relative error");
  double prev = 0;
  for (double scale : {0.03, 0.1, 0.3, 1.0, 3.0}) {
    const Tensor q = Q * float(scale);
    const Tensor zs = vit::attention_softmax(heads(q), heads(K), heads(V)),
                 zt = vit::attention_taylor(heads(q), heads(K), heads(V));
    const double rel = max_diff(zs, zt) / max_abs(zs);
    e.x.push_back(scale);
    e.y.push_back(rel);
    s.fact(str_printf("relative error at scale %g", scale), str_printf("%.2e", rel));
    if (scale == 0.03) prev = rel;
    if (scale == 0.1)
      s.fact("error ratio from scale 0.03 to 0.1",
             str_printf("%.1f (second order predicts (0.1 / 0.03)^2 = %.1f)", rel / prev, (0.1 / 0.03) * (0.1 / 0.03)));
  }
  err.series.push_back(e);
  s.picture("06-error.svg", line_chart_svg({err}, "Taylor attention's error against softmax on one head"),
            "the error as the scores grow");

  s.step("the cost: Taylor is linear in the tokens");
  s.fact("multiply-adds per head at n = 197, d = 64: softmax 2 n^2 d", str_cat(2 * 197 * 197 * 64));
  s.fact("multiply-adds per head at n = 197, d = 64: Taylor 2 n d^2 + n d", str_cat(2 * 197 * 64 * 64 + 197 * 64));
  Panel time("Measured time of one head (d = 64)", "tokens n", "milliseconds");
  time.log_x = time.log_y = true;
  Series ts("softmax"), tt("taylor");
  using Clock = std::chrono::steady_clock;
  for (int64_t tokens : {128, 256, 512, 1024, 2048}) {
    Generator g(9);
    const Tensor q = randn({1, 1, tokens, 64}, &g) * 0.1f, k = randn({1, 1, tokens, 64}, &g),
                 v = randn({1, 1, tokens, 64}, &g);
    auto best = [&](auto f) {
      double b = 1e30;
      for (int r = 0; r < 3; ++r) {
        const auto t0 = Clock::now();
        f();
        b = std::min(b, std::chrono::duration<double>(Clock::now() - t0).count());
      }
      return b * 1e3;
    };
    ts.x.push_back(double(tokens));
    ts.y.push_back(best([&] { vit::attention_softmax(q, k, v); }));
    tt.x.push_back(double(tokens));
    tt.y.push_back(best([&] { vit::attention_taylor(q, k, v); }));
  }
  const auto slope = [](const Series& x) {  // from the smallest to the largest n
    const size_t a = 0, b = x.x.size() - 1;
    return std::log(x.y[b] / x.y[a]) / std::log(x.x[b] / x.x[a]);
  };
  s.say(
      str_printf("measured on this machine (varies): from 128 to 2048 tokens softmax's time grows as n^%.2f, "
                 "Taylor's as n^%.2f",
                 slope(ts), slope(tt)));
  time.series = {ts, tt};
  s.picture("06-time.svg", line_chart_svg({time}, "Quadratic against linear attention on this CPU"),
            "measured time as the tokens grow");
}

}  // namespace vt::apps::walkthrough
