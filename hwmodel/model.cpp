// Placement, costs, pipeline segments and totals (see model.h).
#include "hwmodel/model.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/error.h"
#include "hwmodel/pipeline.h"

namespace vt::hw {

namespace {

// Bytes of the operand a GEMM reads as A or W, or a vector op's input (vector_traffic first).
double operand_bytes(const HwOp& op, bool w, double bytes_per_element) {
  if (op.kind == OpKind::kGemm || op.kind == OpKind::kPredict)
    return (w ? double(op.K) * op.N : double(op.M) * op.K) * op.batch * bytes_per_element;
  return op.in_bytes;
}

// Bytes a vector or sparse op reads and writes (its main input and its result).
void vector_traffic(HwOp& op, double b) {
  const double elems = double(op.batch) * op.rows * op.cols;
  switch (op.kind) {
    case OpKind::kColumnSum:
      op.in_bytes = elems * op.sums * b;
      op.out_bytes = double(op.batch) * op.cols * op.sums * b;
      break;
    case OpKind::kSddmm:  // reads Q and K; the scores stay in the PEs
      op.in_bytes = 2.0 * op.batch * op.rows * op.K * b;
      op.out_bytes = 0;
      break;
    case OpKind::kSparseSoftmax:  // in place in the PEs
      op.in_bytes = op.out_bytes = 0;
      break;
    case OpKind::kSpmm:  // reads V, writes the un-normalised rows
      op.in_bytes = op.out_bytes = double(op.batch) * op.rows * op.K * b;
      break;
    case OpKind::kLayout: op.in_bytes = op.out_bytes = 0; break;
    default: op.in_bytes = op.out_bytes = elems * b;
  }
}

bool is_vector_unit(Unit u) {
  return u == Unit::kAccumulator || u == Unit::kDivider || u == Unit::kAdder || u == Unit::kSoftmax ||
         u == Unit::kLayerNorm || u == Unit::kGelu;
}

std::vector<int> make_segments(const std::vector<HwOp>& ops, const ArchConfig& arch) {
  const bool pipelined = arch.pipeline_chunk_tokens > 0;
  std::vector<int> seg(ops.size());
  int cur = -1;
  std::string layer;
  std::set<std::string> arrays;  // the physical arrays the segment uses
  for (size_t i = 0; i < ops.size(); ++i) {
    const HwOp& op = ops[i];
    // a physical array (a systolic array, the sparse engine, or both when they are one) serves
    // one op of a segment, unless the op consumes its producer's output in the producer's own pass
    // (interleave); vector units take turns chunk by chunk
    const std::string array = physical_array(op.unit, arch);
    bool fresh = cur < 0 || !pipelined || op.layer != layer ||
                 (op.unit != Unit::kNone && arrays.count(array) && !op.interleave && !is_vector_unit(op.unit));
    for (const Dep& d : op.deps)
      if (d.kind == EdgeKind::kBarrier && seg[static_cast<size_t>(d.op)] == cur) fresh = true;
    if (fresh) {
      ++cur;
      arrays.clear();
      layer = op.layer;
    }
    if (op.unit != Unit::kNone) arrays.insert(array);
    seg[i] = cur;
  }
  return seg;
}

}  // namespace

Report evaluate(std::vector<HwOp> ops, const ArchConfig& arch, const EnergyTable& energy, TimingMode mode) {
  VT_CHECK(!ops.empty(), "hwmodel: no ops to evaluate");
  for (size_t i = 0; i < ops.size(); ++i)
    for (const Dep& d : ops[i].deps)
      VT_CHECK(d.op >= 0 && static_cast<size_t>(d.op) < i, "hwmodel: op ", ops[i].name, " depends on op ", d.op,
               ", which is not an earlier op");
  Report r;
  r.arch_name = arch.name;
  r.mode = mode;
  r.clock_hz = arch.clock_hz;
  const bool pipelined = arch.pipeline_chunk_tokens > 0;
  r.segment_of = make_segments(ops, arch);

  // Placement: on chip when streamed within a segment or when the operand fits in half a buffer.
  const double b = arch.operand_bits / 8.0;
  // A operands and vector inputs wait in the ifmap buffer, W operands in the filter buffer.
  const double half_ifmap = arch.sram_kib_ifmap * 512, half_filter = arch.sram_kib_filter * 512;
  for (size_t i = 0; i < ops.size(); ++i) {
    HwOp& op = ops[i];
    vector_traffic(op, b);
    auto in_dram = [&](int src, bool w) {
      if (src == HwOp::kExternal) return true;                                                   // weights, the image
      if (pipelined && r.segment_of[static_cast<size_t>(src)] == r.segment_of[i]) return false;  // streamed
      const bool spill = operand_bytes(op, w, b) > (w ? half_filter : half_ifmap);
      if (spill) ops[static_cast<size_t>(src)].out_to_dram = true;
      return spill;
    };
    if (op.kind == OpKind::kLayout) continue;
    op.a_in_dram = in_dram(op.a_src, false);
    if (op.kind == OpKind::kGemm || op.kind == OpKind::kPredict) op.w_in_dram = in_dram(op.w_src, true);
  }
  for (size_t i = ops.size(); i-- > 0;)
    if (ops[i].kind != OpKind::kLayout) {
      ops[i].out_to_dram = true;  // the logits leave the chip
      break;
    }

  for (const HwOp& op : ops) r.arrays.push_back(physical_array(op.unit, arch));
  r.costs.reserve(ops.size());
  for (const HwOp& op : ops) r.costs.push_back(cost_op(op, arch, energy, mode));

  // Segments: the pipeline closed form over the ops of each.
  const int num_segments = r.segment_of.back() + 1;
  r.segments.resize(static_cast<size_t>(num_segments));
  for (size_t i = 0; i < ops.size(); ++i)
    r.segments[static_cast<size_t>(r.segment_of[i])].ops.push_back(static_cast<int>(i));
  for (Segment& s : r.segments) {
    s.layer = ops[static_cast<size_t>(s.ops.front())].layer;
    int64_t tokens = 0;
    std::vector<PipelineStage> stages;
    std::map<int, int> stage_of;
    std::map<std::string, int> array_id;
    double attention = 0;
    for (int i : s.ops) {
      const HwOp& op = ops[static_cast<size_t>(i)];
      tokens = std::max(tokens, op.tokens);
      PipelineStage st;
      st.cycles = double(r.costs[static_cast<size_t>(i)].cycles);
      // stages on one physical array share it: the pipeline never overlaps them
      const std::string array = physical_array(op.unit, arch);
      if (!array_id.count(array)) array_id[array] = static_cast<int>(array_id.size());
      st.unit = op.unit == Unit::kNone ? -1 : array_id[array];
      for (const Dep& d : op.deps)
        if (stage_of.count(d.op)) st.inputs.push_back(stage_of[d.op]);
      stage_of[i] = static_cast<int>(stages.size());
      stages.push_back(st);
      s.serial_cycles += st.cycles;
      if (op.attention) attention += st.cycles;
    }
    s.chunks = pipelined && tokens > 0 ? std::max<int64_t>(1, ceil_div(tokens, arch.pipeline_chunk_tokens)) : 1;
    s.cycles = pipeline_cycles(stages, s.chunks);
    // The segment's ops run at the same time, and each was timed with the whole DRAM channel to
    // itself: on one shared channel they take at least all their bytes at its bandwidth.
    if (arch.dram_shared_channel && s.ops.size() > 1) {
      double bytes = 0;
      for (int i : s.ops) bytes += r.costs[size_t(i)].dram_read_bytes + r.costs[size_t(i)].dram_write_bytes;
      s.dram_bound_cycles = bytes / arch.dram_bytes_per_cycle();
      s.cycles = std::max(s.cycles, s.dram_bound_cycles);
    }
    s.attention_cycles = s.serial_cycles > 0 ? s.cycles * attention / s.serial_cycles : 0;
  }
  r.attributed_cycles.assign(ops.size(), 0);
  for (const Segment& s : r.segments)
    for (int i : s.ops)
      if (s.serial_cycles > 0)
        r.attributed_cycles[static_cast<size_t>(i)] =
            s.cycles * double(r.costs[static_cast<size_t>(i)].cycles) / s.serial_cycles;

  // Totals per layer (in order of appearance) and end to end.
  std::map<std::string, size_t> layer_index;
  for (const Segment& s : r.segments) {
    if (!layer_index.count(s.layer)) {
      layer_index[s.layer] = r.layers.size();
      r.layers.push_back(LayerTotals{s.layer});
    }
    LayerTotals& l = r.layers[layer_index[s.layer]];
    l.cycles += s.cycles;
    l.serial_cycles += s.serial_cycles;
    l.attention_cycles += s.attention_cycles;
    r.cycles += s.cycles;
    r.serial_cycles += s.serial_cycles;
    r.attention_cycles += s.attention_cycles;
  }
  double sa_macs = 0;
  for (size_t i = 0; i < ops.size(); ++i) {
    const HwOp& op = ops[i];
    const OpCost& c = r.costs[i];
    LayerTotals& l = r.layers[layer_index[op.layer]];
    l.macs += c.macs;
    l.energy_pj += c.energy_pj();
    l.dram_bytes += c.dram_read_bytes + c.dram_write_bytes;
    l.sram_bytes += c.sram_read_bytes + c.sram_write_bytes;
    l.ops += op.kind != OpKind::kLayout;
    r.macs += c.macs;
    r.compute_pj += c.compute_pj;
    r.sram_pj += c.sram_pj;
    r.dram_pj += c.dram_pj;
    r.dram_bytes += c.dram_read_bytes + c.dram_write_bytes;
    r.sram_bytes += c.sram_read_bytes + c.sram_write_bytes;
    if (op.attention) {
      r.attention_energy_pj += c.energy_pj();
      r.attention_macs += c.macs + c.low_precision_macs;
    }
    if (op.unit == Unit::kSaGeneral) sa_macs += c.macs;
  }
  r.dynamic_energy_pj = r.compute_pj + r.sram_pj + r.dram_pj;
  r.latency_s = r.cycles / arch.clock_hz;
  r.images_per_s = r.latency_s > 0 ? 1.0 / r.latency_s : 0;
  r.leakage_energy_pj = energy.leakage_mw * 1e-3 * r.latency_s * 1e12;
  r.sa_general_utilization = sa_macs / (double(unit_width(Unit::kSaGeneral, arch)) * std::max(r.cycles, 1.0));
  r.ops = std::move(ops);
  return r;
}

}  // namespace vt::hw
