// Whole-model invariants on DeiT-Tiny for each accelerator: utilisation at most 1, DRAM traffic
// at least the compulsory bytes, every op at least its roofline bound, totals that fall strictly
// with more bandwidth, bigger arrays and bigger buffers (until everything fits), and the pipeline
// never slower than running the ops one by one.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "core/autograd.h"
#include "core/json.h"
#include "core/rng.h"
#include "core/trace.h"
#include "hwmodel/lower.h"
#include "hwmodel/model.h"
#include "hwmodel/report.h"
#include "hwmodel_test_util.h"
#include "vit/deit.h"

using namespace vt;
using namespace vt::hw;
using namespace vt::hw::test;

namespace {

struct Workload {
  std::vector<HwOp> ops;
  double weight_bytes = 0;
};

Workload tiny(const std::string& kind, int64_t depth = 2) {
  vit::DeitConfig cfg = vit::deit_config("deit_tiny_patch16_224");
  cfg.attn = kind;
  cfg.depth = depth;
  vit::Deit model(cfg);
  Generator gen(0);
  model.init(gen);
  Trace trace;
  {
    NoGradGuard no_grad;
    TraceSession on(trace);
    model.forward(randn({1, 3, 224, 224}, &gen), nn::Context{});
  }
  Workload w;
  w.ops = lower_trace(trace.records);
  for (const auto& [name, p] : model.parameters())
    if (name.find("weight") != std::string::npos && p.dim() == 2)
      w.weight_bytes += 2.0 * p.numel();  // the GEMM weights
  return w;
}

const std::pair<const char*, const char*> kSetups[] = {
    {"taylor", "vitality"}, {"softmax", "softmax-baseline"}, {"sparse", "sanger"}};

}  // namespace

TEST_CASE("per-op invariants: utilisation <= 1, roofline bound, compulsory traffic") {
  for (const auto& [kind, name] : kSetups) {
    CAPTURE(name);
    const ArchConfig arch = load_arch_config(name);
    const Workload w = tiny(kind);
    const Report r = evaluate(w.ops, arch, energy45());
    double dram_read = 0;
    for (size_t i = 0; i < r.ops.size(); ++i) {
      const OpCost& c = r.costs[i];
      CAPTURE(r.ops[i].name);
      dram_read += c.dram_read_bytes;
      if (r.ops[i].kind == OpKind::kLayout) continue;
      for (double u : {c.mapping_efficiency, c.compute_utilization, c.overall_utilization}) {
        CHECK(u > 0);
        CHECK(u <= 1 + 1e-12);
      }
      const double pes = double(unit_width(r.ops[i].unit, arch));
      const double roofline = std::max((c.macs + c.low_precision_macs) / pes,
                                       (c.dram_read_bytes + c.dram_write_bytes) / arch.dram_bytes_per_cycle());
      CHECK(double(c.cycles) >= roofline - 1e-9);
      CHECK(c.cycles >= c.compute_cycles);
    }
    // every weight and the image are read from DRAM at least once
    CHECK(dram_read >= w.weight_bytes + 3.0 * 224 * 224 * 2);
    CHECK(r.cycles <= r.serial_cycles + 1e-6);
    CHECK(r.sa_general_utilization <= 1.0);
    CHECK(r.energy_pj() == doctest::Approx(r.compute_pj + r.sram_pj + r.dram_pj + r.leakage_energy_pj));
    double attributed = 0;
    for (double c : r.attributed_cycles) attributed += c;
    CHECK(attributed == doctest::Approx(r.cycles));
  }
}

TEST_CASE("time falls strictly with more bandwidth, a bigger array and bigger buffers until everything fits") {
  const Workload w = tiny("taylor");
  auto cycles = [&](std::initializer_list<std::pair<std::string, std::string>> keys) {
    return evaluate(w.ops, arch_with("vitality", keys), energy45()).cycles;
  };
  // every op that touches DRAM pays at least its first load (the prologue) at this bandwidth
  double prev = 1e300;
  for (const char* bw : {"8e9", "32e9", "128e9", "512e9", "4e12"}) {
    CAPTURE(bw);
    const double c = cycles({{"dram_bytes_per_s", bw}});
    CHECK(c < prev);
    prev = c;
  }
  // the GEMMs are compute-bound: fewer folds on a bigger array
  prev = 1e300;
  for (const char* side : {"8", "16", "32", "64"}) {
    CAPTURE(side);
    const double c = cycles({{"sa_general_rows", side}, {"sa_general_cols", side}});
    CHECK(c < prev);
    prev = c;
  }
  // fewer refetches and spills with bigger buffers, until every operand fits in half its buffer
  // (DeiT-Tiny's largest, the 197 x 768 MLP hidden, is 296 KiB): beyond that nothing changes
  prev = 1e300;
  for (const char* kib : {"32", "64", "256", "1024"}) {
    CAPTURE(kib);
    const double c = cycles({{"sram_kib_ifmap", kib}, {"sram_kib_filter", kib}, {"sram_kib_ofmap", kib}});
    CHECK(c < prev);
    prev = c;
  }
  CHECK(cycles({{"sram_kib_ifmap", "8192"}, {"sram_kib_filter", "8192"}, {"sram_kib_ofmap", "8192"}}) == prev);
}

TEST_CASE("without a pipeline every op runs alone; with one, ViTALiTy overlaps its units") {
  const Workload w = tiny("taylor");
  const Report serial = evaluate(w.ops, arch_with("vitality", {{"pipeline_chunk_tokens", "0"}}), energy45());
  CHECK(serial.cycles == doctest::Approx(serial.serial_cycles));
  CHECK(serial.segments.size() == serial.ops.size());
  const Report piped = evaluate(w.ops, load_arch_config("vitality"), energy45());
  CHECK(piped.cycles < serial.cycles);
  CHECK(piped.dynamic_energy_pj <= serial.dynamic_energy_pj);  // streamed tensors skip DRAM
}

TEST_CASE("SCALE-Sim v2 mode: its free cold start and off-by-one over a GEMM table") {
  // Operands that fit in half their buffers never stall in SCALE-Sim v2, at any bandwidth: the
  // op time is its compute time, one cycle short of the closed form.
  const std::vector<HwOp> ops = parse_gemm_workload("Layer,M,N,K\nqkv,197,64,192\n", "w.csv");
  for (const char* bw : {"1e9", "128e9"}) {
    const ArchConfig arch = arch_with("vitality", {{"dram_bytes_per_s", bw}, {"dram_latency_cycles", "0"}});
    const Report v2 = evaluate(ops, arch, energy45(), TimingMode::kScaleSimV2);
    CHECK(v2.cycles == 3491);
  }
  const ArchConfig slow = arch_with("vitality", {{"dram_bytes_per_s", "1e9"}});
  CHECK(evaluate(ops, slow, energy45()).cycles > 3492);  // our default pays for the loads
}

TEST_CASE("reports: CSV rows per op and layer, JSON with every table") {
  const Report r = evaluate(tiny("taylor", 1).ops, load_arch_config("vitality"), energy45());
  const std::string ops = ops_csv(r), layers = layers_csv(r), json = report_json(r), text = report_text(r, true);
  CHECK(std::count(ops.begin(), ops.end(), '\n') == static_cast<long>(r.ops.size() + 1));
  CHECK(ops.rfind("layer,op,step,kind,unit,array,shape,segment,macs,cycles,compute_cycles,preload,stream,skew,drain",
                  0) == 0);
  CHECK(std::count(layers.begin(), layers.end(), '\n') == static_cast<long>(r.layers.size() + 1));
  const Json j = Json::parse(json);
  CHECK(j.find("ops")->size() == r.ops.size());
  // numbers are JSON numbers, the same values the CSV shows, and every op names its physical array
  const Json& summary = *j.find("summary");
  CHECK(summary.find("total_cycles")->is_number());
  CHECK(summary.find("total_cycles")->as_double() == std::round(r.cycles));
  CHECK(summary.find("latency_s")->as_double() == doctest::Approx(r.latency_s).epsilon(1e-6));
  CHECK(summary.find("arch")->as_string() == "vitality");
  for (const Json& op : j.find("ops")->items()) {
    CHECK(op.find("cycles")->is_number());
    CHECK(op.find("array")->is_string());
  }
  const Json& first = j.find("layers")->items()[0];
  CHECK(first.find("cycles")->is_number());
  // the CSV carries the same fields as the JSON
  const std::string header = ops.substr(0, ops.find('\n'));
  size_t fields = 1;
  for (char ch : header) fields += ch == ',';
  CHECK(fields == j.find("ops")->items()[0].size());
  CHECK(text.find("blocks.0.attn.core.4a") != std::string::npos);
  CHECK(text.find("sa_diag") != std::string::npos);
}

TEST_CASE(
    "ops that share a physical array never overlap: SANGER's PE array runs its linear layers and its sparse products") {
  const Workload w = tiny("sparse");
  const Report r = evaluate(w.ops, load_arch_config("sanger"), energy45());
  double on_array = 0;
  for (size_t i = 0; i < r.ops.size(); ++i) {
    if (r.ops[i].unit == Unit::kSparse) CHECK(r.arrays[i] == "sa_general");
    if (r.arrays[i] == "sa_general") on_array += double(r.costs[i].cycles);
  }
  CHECK(r.cycles >= on_array);
  // and within every pipeline segment
  for (const Segment& s : r.segments) {
    std::map<std::string, double> busy;
    for (int i : s.ops)
      if (r.ops[static_cast<size_t>(i)].unit != Unit::kNone)
        busy[r.arrays[static_cast<size_t>(i)]] += double(r.costs[static_cast<size_t>(i)].cycles);
    for (const auto& [array, cycles] : busy) {
      CAPTURE(array);
      CHECK(s.cycles >= cycles - 1e-6);
    }
  }
  // Given a sparse engine of its own, the same ops overlap the linear layers: faster than one array
  // can be, which is what SANGER's design does not allow.
  const Report two = evaluate(w.ops, arch_with("sanger", {{"sparse_engine_array", "own"}}), energy45());
  CHECK(two.cycles < on_array);
}

TEST_CASE("changing only the attention kind changes only the attention ops' costs") {
  // The same model, weights and accelerator (softmax-baseline has every unit both kinds use):
  // every op outside the attention core costs exactly the same.
  const ArchConfig arch = load_arch_config("softmax-baseline");
  const Report soft = evaluate(tiny("softmax").ops, arch, energy45()),
               tay = evaluate(tiny("taylor").ops, arch, energy45());
  std::vector<size_t> a_ops, b_ops;  // the ops outside the attention core, in order
  for (size_t i = 0; i < soft.ops.size(); ++i)
    if (!soft.ops[i].attention) a_ops.push_back(i);
  for (size_t i = 0; i < tay.ops.size(); ++i)
    if (!tay.ops[i].attention) b_ops.push_back(i);
  REQUIRE(a_ops.size() == b_ops.size());
  size_t compared = 0;
  for (size_t k = 0; k < a_ops.size(); ++k) {
    const OpCost &a = soft.costs[a_ops[k]], &b = tay.costs[b_ops[k]];
    CAPTURE(tay.ops[b_ops[k]].name);
    CHECK(soft.ops[a_ops[k]].name == tay.ops[b_ops[k]].name);
    CHECK(a.cycles == b.cycles);
    CHECK(a.energy_pj() == b.energy_pj());
    CHECK(a.dram_read_bytes + a.dram_write_bytes == b.dram_read_bytes + b.dram_write_bytes);
    ++compared;
  }
  CHECK(compared > 20);
}

TEST_CASE("ops of one pipeline segment share the DRAM channel: together they take at least their bytes / bandwidth") {
  // Two memory-bound GEMMs in one layer on different arrays (SA-General and SA-Diag), each
  // streaming a 16 MiB operand from DRAM: alone each takes about its own bytes / bandwidth, and
  // the pipeline would overlap them completely; the one channel serves them one after the other.
  HwOp a;
  a.name = "a";
  a.layer = "L";
  a.kind = OpKind::kGemm;
  a.unit = Unit::kSaGeneral;
  a.M = 1, a.N = 4096, a.K = 2048, a.tokens = 1;  // W: 2048 x 4096 x 2 B = 16 MiB
  HwOp b = a;
  b.name = "b";
  b.unit = Unit::kSaDiag;
  b.M = 4096, b.N = 1, b.K = 2048, b.tokens = 4096;                              // A: 4096 x 2048 x 2 B = 16 MiB
  const ArchConfig arch = arch_with("vitality", {{"dram_bytes_per_s", "8e9"}});  // 8 B/cycle: both memory-bound
  const Report r = evaluate({a, b}, arch, energy45());
  for (int i = 0; i < 2; ++i) REQUIRE(r.costs[i].bound.rfind("dram", 0) == 0);
  REQUIRE(r.segments.size() == 1);
  const double bytes = r.costs[0].dram_read_bytes + r.costs[0].dram_write_bytes + r.costs[1].dram_read_bytes +
                       r.costs[1].dram_write_bytes;
  CHECK(bytes >= 2 * 16.0 * 1024 * 1024);
  CHECK(r.segments[0].cycles >= bytes / arch.dram_bytes_per_cycle());
  CHECK(r.segments[0].cycles >= 1.9 * double(std::min(r.costs[0].cycles, r.costs[1].cycles)));
  // with one port per operand the ops keep their own bandwidth
  ArchConfig ports = arch;
  ports.dram_shared_channel = false;
  const Report q = evaluate({a, b}, ports, energy45());
  CHECK(q.segments[0].cycles < 1.2 * double(std::max(q.costs[0].cycles, q.costs[1].cycles)));
}
