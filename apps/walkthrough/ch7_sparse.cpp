// Chapter 7: SANGER's sparse attention and ViTALiTy's training attention
// (apps/walkthrough/07-sparse-and-vitality.md).
#include <cmath>

#include "apps/chart.h"
#include "apps/walkthrough/story.h"
#include "core/autograd.h"
#include "core/ops.h"
#include "core/rng.h"
#include "vit/attention.h"
#include "vit/attention_registry.h"
#include "vit/attention_weights.h"

namespace vt::apps::walkthrough {

namespace {
Tensor heads(const Tensor& x) { return x.reshape({1, 1, x.size(0), x.size(1)}); }
float max_diff(const Tensor& a, const Tensor& b) {
  float m = 0;
  for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, std::fabs(a.data()[i] - b.data()[i]));
  return m;
}
}  // namespace

void chapter_sparse(Story& s) {
  NoGradGuard no_grad;
  const int64_t n = 16, d = 8;
  Generator gen(11);
  const Tensor Q = randn({n, d}, &gen) * 1.5f, K = randn({n, d}, &gen) * 1.5f, V = randn({n, d}, &gen);

  s.step("SANGER predicts which scores matter from 4-bit copies of Q and K");
  s.say("q and k are rounded to integers in [-7, 7] (scale = max |x| / 7), their product is exact, and the");
  s.say("predicted probabilities softmax(Q~ K~^T / sqrt(d)) above a threshold mark the pairs to keep.");
  vit::MaskOptions opt;
  opt.threshold = 0.05f;
  const vit::CsrMask mask = vit::predict_mask(Q.data(), d, K.data(), d, n, d, opt);
  s.predict("uniform attention over 16 tokens is 1/16 = 0.0625: with a threshold of 0.05, will most pairs stay?");
  s.fact("kept pairs at threshold 0.05", str_printf("%lld of %lld (density %.3f)", static_cast<long long>(mask.nnz()),
                                                    static_cast<long long>(n * n), double(mask.nnz()) / double(n * n)));
  Heatmap h;
  h.title = "SANGER's predicted mask (1 = kept) for one head, threshold 0.05";
  h.row_label = "query token";
  h.col_label = "key token";
  for (int64_t i = 0; i < n; ++i) h.rows.push_back(std::to_string(i)), h.cols.push_back(std::to_string(i));
  h.values.assign(n * n, 0);
  for (int64_t i = 0; i < n; ++i)
    for (int32_t e = mask.row_ptr[i]; e < mask.row_ptr[i + 1]; ++e) h.values[i * n + mask.col[e]] = 1;
  s.picture("07-mask.svg", heatmap_svg(h), "the mask");

  s.step("sparse attention: softmax over the kept pairs only");
  const Tensor softmax_z = vit::attention_softmax(heads(Q), heads(K), heads(V));
  vit::SparseStats stats;
  const Tensor sparse_z = vit::attention_sparse(heads(Q), heads(K), heads(V), opt, &stats);
  s.fact("max |sparse - softmax| at threshold 0.05", str_printf("%.3f", max_diff(sparse_z, softmax_z)));
  vit::MaskOptions all = opt;
  all.threshold = 0.f;  // a probability is never below 0: every pair kept
  s.fact("negative control, a keep-all mask: max |sparse - softmax|",
         str_printf("%.1e", max_diff(vit::attention_sparse(heads(Q), heads(K), heads(V), all), softmax_z)));

  s.step("ViTALiTy in training: Taylor for every pair, plus exp's higher-order residual on SANGER's pairs");
  s.say("exp(S) = 1 + S + R, R = S^2/2 + S^3/6 + ...: the low-rank part 1 + S is Taylor attention, and training");
  s.say("adds lambda R on the kept pairs, in one shared normalisation. lambda = 1 with every pair kept is softmax;");
  s.say("lambda = 0 (or no pair kept) is Taylor.");
  const Tensor taylor_z = vit::attention_taylor(heads(Q), heads(K), heads(V));
  vit::MaskOptions keep_all = all;
  keep_all.residual_weight = 1.f;
  s.fact("lambda 1, every pair kept: max |vitality - softmax|",
         str_printf("%.1e", max_diff(vit::attention_vitality(heads(Q), heads(K), heads(V), keep_all), softmax_z)));
  vit::MaskOptions none = opt;
  none.threshold = 1.f;       // nothing above 1 ...
  none.keep_row_max = false;  // ... and not even each row's top score: an empty mask
  s.fact("negative control, an empty mask: max |vitality - taylor|",
         str_printf("%.1e", max_diff(vit::attention_vitality(heads(Q), heads(K), heads(V), none), taylor_z)));
  vit::MaskOptions half = opt;
  half.residual_weight = 0.5f;
  const Tensor half_z = vit::attention_vitality(heads(Q), heads(K), heads(V), half);
  s.fact("lambda 0.5 at threshold 0.05: max |vitality - softmax|, max |vitality - taylor|",
         str_printf("%.3f, %.3f", max_diff(half_z, softmax_z), max_diff(half_z, taylor_z)));

  s.step("annealed away: lambda falls from 1 to 0 during training, so the trained network is pure Taylor");
  const vit::AttentionKindSpec& vitality = vit::attention_kind("vitality");
  vit::ResidualAnneal anneal;
  anneal.end = 0.25;  // the fmnist preset: zero after the first quarter of training
  Panel p("The residual's weight (--sparse-anneal cosine --sparse-anneal-end 0.25)", "fraction of training", "lambda");
  Series w("lambda");
  for (int i = 0; i <= 40; ++i) {
    w.x.push_back(i / 40.0);
    w.y.push_back(vitality.residual_weight(i / 40.0, anneal));
  }
  p.series.push_back(w);
  s.fact(
      "lambda at 0, 1/8, 1/4 and 1/2 of training",
      str_printf("%.3f, %.3f, %.3f, %.3f", vitality.residual_weight(0, anneal), vitality.residual_weight(0.125, anneal),
                 vitality.residual_weight(0.25, anneal), vitality.residual_weight(0.5, anneal)));
  s.fact("the kind that evaluation and the accelerator run", vitality.deployed().name);
  s.picture("07-anneal.svg", line_chart_svg({p}, "ViTALiTy's anneal"), "lambda over training");
}

}  // namespace vt::apps::walkthrough
