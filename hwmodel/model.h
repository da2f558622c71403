// The whole-model evaluation: where each tensor lives, each op's cost, the intra-layer pipeline,
// and per-layer and end-to-end totals (batch 1: one image at a time).
//
//   std::vector<HwOp> ops = lower_trace(trace.records);
//   Report r = evaluate(ops, load_arch_config("vitality"), load_energy_table("energy-45nm"));
//
// Placement rules (hwmodel/README.md): weights and the image come from DRAM, the logits go to
// DRAM. An activation passed inside a pipeline segment moves chunk by chunk on chip; one read
// by a later segment stays on chip if the operand fits in half a buffer, and otherwise makes a
// DRAM round trip (the producer writes it, the consumer reads it).
//
// Segments: ops are grouped in order; a new segment starts at a new layer, at a unit already
// used in the segment, or at a barrier on an op of the segment (a reduction over all tokens).
// Without a pipeline (pipeline_chunk_tokens = 0) every op is its own segment.
#pragma once

#include <string>
#include <vector>

#include "hwmodel/config.h"
#include "hwmodel/cost.h"
#include "hwmodel/ir.h"

namespace vt::hw {

struct Segment {
  std::vector<int> ops;
  std::string layer;
  int64_t chunks = 1;
  double cycles = 0;             // pipelined, and at least dram_bound_cycles
  double dram_bound_cycles = 0;  // the segment's DRAM bytes over one shared channel's bandwidth
  double serial_cycles = 0;      // the same ops one after another
  double attention_cycles = 0;   // the attention ops' share of `cycles` (by their standalone cycles)
};

struct LayerTotals {
  std::string name;
  double cycles = 0, serial_cycles = 0, attention_cycles = 0;
  double macs = 0, energy_pj = 0, dram_bytes = 0, sram_bytes = 0;
  int64_t ops = 0;
};

struct Report {
  std::string arch_name, workload;
  TimingMode mode = TimingMode::kDefault;
  double clock_hz = 0;
  std::vector<HwOp> ops;
  std::vector<OpCost> costs;
  std::vector<int> segment_of;      // per op
  std::vector<std::string> arrays;  // per op: the physical array it runs on ("none" for layout ops)
  // per op: its segment's pipelined cycles shared by standalone cycles (they sum to `cycles`)
  std::vector<double> attributed_cycles;
  std::vector<Segment> segments;
  std::vector<LayerTotals> layers;
  // totals
  double cycles = 0, serial_cycles = 0;  // pipelined, and every op one after another
  double latency_s = 0, images_per_s = 0;
  double macs = 0, dynamic_energy_pj = 0, leakage_energy_pj = 0;
  double compute_pj = 0, sram_pj = 0, dram_pj = 0;
  double dram_bytes = 0, sram_bytes = 0;
  double attention_cycles = 0, attention_energy_pj = 0, attention_macs = 0;
  double sa_general_utilization = 0;  // SA-General MACs / (R C cycles)
  double energy_pj() const { return dynamic_energy_pj + leakage_energy_pj; }
};

Report evaluate(std::vector<HwOp> ops, const ArchConfig& arch, const EnergyTable& energy,
                TimingMode mode = TimingMode::kDefault);

// The part of a report's latency and dynamic energy that the ops selected by `pick` account for
// (latency: their share of their segments' pipelined cycles, as `attributed_cycles`).
struct PartTotals {
  double cycles = 0, energy_pj = 0;
};
template <class Pick>
PartTotals part_totals(const Report& r, Pick pick) {
  PartTotals t;
  for (size_t i = 0; i < r.ops.size(); ++i)
    if (pick(r.ops[i])) {
      t.cycles += r.attributed_cycles[i];
      t.energy_pj += r.costs[i].energy_pj();
    }
  return t;
}

}  // namespace vt::hw
