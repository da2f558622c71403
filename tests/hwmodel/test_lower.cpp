// Lowering a traced DeiT forward pass: the exact operation counts of DeiT-Tiny per layer (the
// paper's numbers: 87.15 M linear MACs, 14.90 M softmax-attention MACs, 4.88 M Taylor MACs, and
// divisions per head falling from n^2 to n d + d), MAC conservation against the trace, the units
// Algorithm 1's steps land on, and the errors for what cannot be lowered.
#include <doctest/doctest.h>

#include <map>

#include "core/autograd.h"
#include "core/rng.h"
#include "core/trace.h"
#include "hwmodel/lower.h"
#include "hwmodel/model.h"
#include "hwmodel_test_util.h"
#include "vit/deit.h"

using namespace vt;
using namespace vt::hw;
using namespace vt::hw::test;

namespace {

std::vector<TraceRecord> trace_tiny(const std::string& kind, int64_t depth = 12) {
  vit::DeitConfig cfg = vit::deit_config("deit_tiny_patch16_224");
  cfg.attn = kind;
  cfg.depth = depth;
  vit::Deit model(cfg);
  Generator gen(0);
  model.init(gen);
  Trace trace;
  NoGradGuard no_grad;
  TraceSession on(trace);
  model.forward(randn({1, 3, 224, 224}, &gen), nn::Context{});
  return trace.records;
}

// MACs and divisions of block 0, by category.
struct Counts {
  double linear = 0, attention = 0, divs = 0;
};
Counts block0(const Report& r) {
  Counts c;
  for (size_t i = 0; i < r.ops.size(); ++i) {
    if (r.ops[i].layer != "blocks.0") continue;
    if (r.ops[i].attention) {
      c.attention += r.costs[i].macs;
      c.divs += r.costs[i].divs;
    } else if (r.ops[i].trace_kind == "linear") {
      c.linear += r.costs[i].macs;
    }
  }
  return c;
}

}  // namespace

TEST_CASE("DeiT-Tiny per layer: the paper's MAC and division counts") {
  const Report soft = evaluate(lower_trace(trace_tiny("softmax", 1)), load_arch_config("softmax-baseline"), energy45());
  const Report tay = evaluate(lower_trace(trace_tiny("taylor", 1)), load_arch_config("vitality"), energy45());
  const Counts s = block0(soft), t = block0(tay);
  // linear: QKV 3 n D^2 + proj n D^2 + MLP 8 n D^2 with n = 197, D = 192
  CHECK(s.linear == 197.0 * 192 * 192 * 12);
  CHECK(s.linear == 87146496);
  CHECK(t.linear == s.linear);
  // softmax attention: Q K^T and P V, 2 n^2 d per head, 3 heads
  CHECK(s.attention == 2.0 * 197 * 197 * 64 * 3);
  CHECK(s.attention == 14902656);
  // Taylor: K^T V and Q G (n d^2 each) and Q k_sum^T (n d), per head
  CHECK(t.attention == (2.0 * 197 * 64 * 64 + 197 * 64) * 3);
  CHECK(t.attention == 4879296);
  // divisions per head: n^2 (softmax) against n d + d (the mean and step 6): 38809 / 12672
  CHECK(s.divs / 3 == 197.0 * 197);
  CHECK(t.divs / 3 == 197.0 * 64 + 64);
  CHECK(s.divs / t.divs == doctest::Approx(3.0626).epsilon(1e-3));  // about n / d = 3.08
}

TEST_CASE("every traced MAC is lowered exactly once") {
  for (const vit::AttentionKindSpec& kind : vit::attention_kinds()) {
    if (kind.inference_kind) continue;  // traced in inference as its deployed kind
    const std::vector<TraceRecord> records = trace_tiny(kind.name, 2);
    double traced = 0;  // 2 flops per MAC in the trace's linear, GEMM-step and sparse-product records
    for (const TraceRecord& r : records)
      if (r.kind == "linear" || r.kind == "gemm" || r.kind == "sddmm" || r.kind == "spmm") traced += r.flops / 2;
    const Report r = evaluate(lower_trace(records), load_arch_config(kind.accelerator), energy45());
    CAPTURE(kind.name);
    CHECK(traced > 0);
    CHECK(r.macs == traced);
  }
}

TEST_CASE("Algorithm 1's steps land on the units the paper names") {
  const std::vector<HwOp> ops = lower_trace(trace_tiny("taylor", 1));
  std::map<std::string, Unit> unit;
  for (const HwOp& op : ops)
    if (op.attention) {
      unit[op.step] = op.unit;
      // the kernel's step ids (vit/attention_taylor.cpp) reach the hardware model unchanged
      CHECK(op.name == "blocks.0.attn.core." + op.step);
      CHECK_FALSE(op.step_name.empty());
    }
  CHECK(unit.size() == 11);
  CHECK(unit.at("1a") == Unit::kAccumulator);
  CHECK(unit.at("1b") == Unit::kDivider);
  CHECK(unit.at("1c") == Unit::kAdder);
  CHECK(unit.at("2") == Unit::kSaGeneral);
  CHECK(unit.at("3a") == Unit::kAccumulator);
  CHECK(unit.at("3b") == Unit::kAccumulator);
  CHECK(unit.at("4a") == Unit::kSaDiag);
  CHECK(unit.at("4b") == Unit::kAdder);
  CHECK(unit.at("5a") == Unit::kSaGeneral);
  CHECK(unit.at("5b") == Unit::kAdder);
  CHECK(unit.at("6") == Unit::kDivider);
  // reductions over all tokens are barriers: the mean, and G and k_sum before steps 4 and 5
  for (const HwOp& op : ops) {
    const std::string step = op.step;
    if (step == "1b" || step == "1c" || step == "4a" || step == "5a" || step == "5b") {
      bool barrier = false;
      for (const Dep& d : op.deps) barrier |= d.kind == EdgeKind::kBarrier;
      CHECK_MESSAGE(barrier, step);
    }
  }
}

TEST_CASE("what cannot be lowered or run is an error that says so") {
  std::vector<TraceRecord> records = trace_tiny("softmax", 1);
  CHECK_THROWS_WITH_AS(evaluate(lower_trace(records), load_arch_config("vitality"), energy45()),
                       doctest::Contains("softmax unit"), Error);
  records[3].backward = true;
  CHECK_THROWS_WITH_AS(lower_trace(records), doctest::Contains("backward"), Error);
  TraceRecord odd;
  odd.kind = "fft";
  odd.scope = "blocks.0.mixer";
  CHECK_THROWS_WITH_AS(lower_trace({odd}), doctest::Contains("no lowering for traced op 'fft'"), Error);
  CHECK_THROWS_WITH_AS(lower_trace({}), doctest::Contains("empty"), Error);
}

TEST_CASE("GEMM tables in SCALE-Sim's format") {
  const std::vector<HwOp> ops = parse_gemm_workload("Layer,M,N,K,\nqkv,197,576,192,\nattn,197,197,64,3\n", "w.csv");
  REQUIRE(ops.size() == 2);
  CHECK(ops[0].name == "qkv");
  CHECK(ops[0].M == 197);
  CHECK(ops[0].N == 576);
  CHECK(ops[0].K == 192);
  CHECK(ops[1].batch == 3);
  CHECK_THROWS_WITH_AS(parse_gemm_workload("Layer,M,N,K\nx,197,0,64\n", "w.csv"), doctest::Contains("w.csv:2: N = '0'"),
                       Error);
  CHECK_THROWS_WITH_AS(parse_gemm_workload("Layer,M,N,K\nx,197,64\n", "w.csv"), doctest::Contains("w.csv:2"), Error);
  CHECK_THROWS_WITH_AS(parse_gemm_workload("a,b,c\n", "w.csv"), doctest::Contains("header"), Error);
  CHECK_THROWS_WITH_AS(parse_gemm_workload("Layer,M,N,K\n", "w.csv"), doctest::Contains("no layers"), Error);
}

TEST_CASE("convolution topologies as SCALE-Sim lowers them: ofmap pixels, window, filters, strides, depthwise") {
  const std::string header =
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n";
  // 31 x 31, 3 x 3, stride 2: ceil((31 - 3 + 2) / 2) = 15 per side; 17 x 13, 5 x 5, stride 2: 7 x 5;
  // a separate stride width: 28 x 28, 3 x 3, strides 1 and 2: 26 x ceil((28 - 3 + 2) / 2) = 26 x 14
  const std::vector<HwOp> ops = parse_gemm_workload(header +
                                                        "a, 31, 31, 3, 3, 16, 32, 2,\n"
                                                        "b, 17, 13, 5, 5, 8, 24, 2,\n"
                                                        "c, 28, 28, 3, 3, 4, 8, 1, 2,\n"
                                                        "DP_d, 8, 8, 3, 3, 2, 4, 1,\n",
                                                    "conv.csv");
  REQUIRE(ops.size() == 5);
  CHECK(ops[0].M == 225);
  CHECK(ops[0].K == 144);
  CHECK(ops[0].N == 32);
  CHECK(ops[1].M == 35);
  CHECK(ops[1].K == 200);
  CHECK(ops[2].M == 26 * 14);
  CHECK(ops[3].name == "DP_dChannel_0");  // depthwise: one single-channel layer per channel
  CHECK(ops[4].name == "DP_dChannel_1");
  CHECK(ops[4].M == 36);
  CHECK(ops[4].K == 9);
  CHECK_THROWS_WITH_AS(parse_gemm_workload(header + "x, 4, 4, 5, 5, 1, 1, 1,\n", "conv.csv"),
                       doctest::Contains("conv.csv:2: the filter (5 x 5) is larger than the ifmap (4 x 4)"), Error);
  CHECK_THROWS_WITH_AS(parse_gemm_workload(header + "x, 4, 4, 3, 3, 1, 1,\n", "conv.csv"),
                       doctest::Contains("conv.csv:2: expected 'name, IFMAP Height"), Error);
}
