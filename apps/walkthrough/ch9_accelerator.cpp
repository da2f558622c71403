// Chapter 9: from operations to accelerator cycles (apps/walkthrough/09-accelerator.md).
#include <cmath>

#include "apps/hw.h"
#include "apps/walkthrough/story.h"
#include "core/rng.h"
#include "hwmodel/config.h"
#include "hwmodel/model.h"
#include "hwmodel/systolic.h"
#include "vit/deit.h"

namespace vt::apps::walkthrough {

void chapter_accelerator(Story& s) {
  s.step("one GEMM on a 4 x 4 output-stationary systolic array, by hand");
  s.say("C (M x N) = A (M x K) B (K x N) with M = 6, N = 5, K = 8. Output-stationary: each PE owns one element");
  s.say("of C; rows of A enter from the left, columns of B from the top, one step per cycle, skewed so that");
  s.say("matching pairs meet. C is 6 x 5 on a 4 x 4 array: ceil(6/4) x ceil(5/4) = 4 folds.");
  s.say("A fold using r' rows and c' columns streams K = 8 pairs through, plus (r'-1) + (c'-1) cycles of skew");
  s.say("for the last PE's pairs to arrive; its results then leave while the next fold streams in.");
  s.predict("sum over the folds (r', c') = (4,4), (2,4), (4,1), (2,1) of K + (r'-1) + (c'-1)?");
  const int64_t K = 8;
  int64_t by_hand = 0;
  for (auto [r, c] : {std::pair<int64_t, int64_t>{4, 4}, {2, 4}, {4, 1}, {2, 1}}) by_hand += K + (r - 1) + (c - 1);
  s.fact("cycles by hand", str_cat(by_hand));
  hw::ArchConfig arch = hw::load_arch_config("vitality");
  hw::ArrayConfig array = arch.sa_general;
  array.rows = array.cols = 4;
  array.dataflow = hw::Dataflow::kOS;
  array.os_drain_explicit = false;
  const hw::GemmTiming t = hw::systolic_gemm({6, 5, 8, 1}, array, hw::GemmOperands{}, arch);
  s.fact("cycles from hwmodel (systolic_gemm)", str_cat(t.compute_cycles, " in ", t.folds, " folds"));
  s.fact("utilisation: MACs / (PEs x cycles)", str_printf("%.3f", 6.0 * 5 * 8 / (16.0 * double(t.compute_cycles))));

  s.step("DeiT-Tiny's forward pass on the ViTALiTy accelerator");
  vit::DeitConfig cfg = vit::deit_config("deit_tiny_patch16_224");
  cfg.attn = "taylor";
  vit::Deit model(cfg);
  Generator gen(0);
  model.init(gen);
  // the model runs once under the op trace (core/trace.h); hwmodel lowers the trace to accelerator ops
  // and times them (apps/hw.h: lower_trace, then evaluate)
  const hw::Report r = estimate_on_accelerator(model, randn({1, 3, 224, 224}, &gen), arch,
                                               hw::load_energy_table("energy-45nm"), hw::TimingMode::kDefault);
  s.fact("ops on the accelerator", str_cat(r.ops.size()));
  s.fact("latency", str_printf("%.1f us (%.0f cycles at 1 GHz)", r.latency_s * 1e6, r.cycles));
  s.say("Algorithm 1 in block 0, each step on its unit (hw --ops shows every op):");
  for (size_t i = 0; i < r.ops.size(); ++i)
    if (r.ops[i].attention && r.ops[i].name.rfind("blocks.0.", 0) == 0)
      s.say(str_printf("  %-4s %-34s %-12s %8lld cycles", r.ops[i].step.c_str(), r.ops[i].step_name.c_str(),
                       r.arrays[i].c_str(), static_cast<long long>(r.costs[i].cycles)));

  s.step("the pipeline: units hand each other chunks of 32 tokens");
  s.fact("cycles if every op ran alone, one after another", str_printf("%.0f", r.serial_cycles));
  s.fact("cycles with the pipeline", str_printf("%.0f (%.2fx faster)", r.cycles, r.serial_cycles / r.cycles));

  s.step("Amdahl: the gain is bounded by attention's share");
  const double share = r.attention_cycles / r.cycles;
  s.fact("attention's share of the latency", str_printf("%.1f%%", 100 * share));
  s.predict("if attention took no time at all, how much faster would the whole model run?");
  s.fact("the bound 1 / (1 - share)", str_printf("%.2fx", 1 / (1 - share)));
  s.say("At 224 px most of DeiT-Tiny's time is in the linear layers and the MLP; attention's share, and with it");
  s.say("what a faster attention can buy, grows with the tokens (hw --sweep-tokens).");
}

}  // namespace vt::apps::walkthrough
