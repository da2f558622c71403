// Chapter 5: softmax attention for one head (apps/walkthrough/05-softmax-attention.md).
#include <cmath>

#include "apps/chart.h"
#include "apps/walkthrough/story.h"
#include "core/autograd.h"
#include "core/ops.h"
#include "core/rng.h"
#include "vit/attention.h"

namespace vt::apps::walkthrough {

void chapter_softmax(Story& s) {
  NoGradGuard no_grad;
  const int64_t n = 8, d = 4;
  Generator gen(5);
  const Tensor q = randn({n, d}, &gen), k = randn({n, d}, &gen), v = randn({n, d}, &gen);
  s.step("one head: n = 8 tokens, each with a query, a key and a value of d = 4 numbers");
  s.fact("Q, K, V shapes", shape_str(q.shape()));

  s.step("scores S = Q K^T / sqrt(d): how well each query matches each key");
  const float scale = 1.f / std::sqrt(float(d));
  const Tensor S = matmul(q, k, false, true) * scale;  // K^T through the transpose flag
  s.fact("S.shape", shape_str(S.shape()));
  s.say("Without the 1/sqrt(d) the scores' spread grows with d, and softmax saturates to one winner.");

  s.step("P = softmax(S) row by row: each row is a probability distribution over the tokens");
  const Tensor P = softmax(S);
  double worst = 0;
  for (int64_t i = 0; i < n; ++i) {
    double row = 0;
    for (int64_t j = 0; j < n; ++j) row += P.at({i, j});
    worst = std::max(worst, std::fabs(row - 1));
  }
  s.fact("largest |row sum of P - 1|", str_printf("%.1e", worst));
  Heatmap h;
  h.title = "P = softmax(Q K^T / sqrt(d)): row i = how much token i reads from each token";
  h.row_label = "query token i";
  h.col_label = "key token j";
  for (int64_t i = 0; i < n; ++i) h.rows.push_back(std::to_string(i)), h.cols.push_back(std::to_string(i));
  for (int64_t i = 0; i < n * n; ++i) h.values.push_back(P.data()[i]);
  s.picture("05-attention.svg", heatmap_svg(h), "the n x n attention matrix");

  s.step("Z = P V: each output is a weighted mean of the values");
  const Tensor Z = matmul(P, v);
  const Tensor kernel =
      vit::attention_softmax(q.reshape({1, 1, n, d}), k.reshape({1, 1, n, d}), v.reshape({1, 1, n, d}));
  float diff = 0;
  for (int64_t i = 0; i < n * d; ++i) diff = std::max(diff, std::fabs(Z.data()[i] - kernel.data()[i]));
  s.fact("max |Z by hand - vit::attention_softmax|", str_printf("%.1e", diff));

  s.step("the cost: quadratic in the tokens");
  s.predict("DeiT-Tiny at 224 px has n = 197 tokens and d = 64 per head: how many multiply-adds for Q K^T and P V?");
  const int64_t N = 197, D = 64;
  s.fact("multiply-adds per head, 2 n^2 d", str_cat(2 * N * N * D));
  s.fact("exponentials and divisions per head, n^2", str_cat(N * N));
  s.fact("at 4x the pixels (n = 785)", str_printf("%.1fx the multiply-adds", double(785 * 785) / double(N * N)));
}

}  // namespace vt::apps::walkthrough
