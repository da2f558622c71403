// The cost of one HwOp on its unit, standing alone: work (MACs and element operations), unit
// cycles split into terms, SRAM and DRAM traffic, the op's time with its DRAM transfers
// double-buffered against compute, the binding constraint, utilisation and energy.
//
// Unit cycles (formulas and their sources in hwmodel/README.md):
//   systolic arrays       systolic.h (folds x preload/stream/skew/drain)
//   vector units          passes * batch * rows * ceil(cols / lanes) * ii + latency
//                         (+ ceil(log2 lanes) for the row reductions of softmax and layernorm)
//   SANGER sparse engine  waves * (d + pe_cols - 1) for SDDMM and SpMM, where each row's kept
//                         entries are packed into sub-rows of at most pe_cols and a wave runs
//                         pe_rows sub-rows at once
// Op time, n equal tiles of compute C, DRAM loads L and stores S (double-buffered):
//   L + max(C, L) + (n-2) * max(C, L + S) + max(C, S) + S     (one shared DRAM channel)
// with max(C, L, S) in the middle for one port per operand, L + C + S without double buffering,
// plus the DRAM latency once when the op touches DRAM.
#pragma once

#include <cmath>
#include <string>

#include "hwmodel/config.h"
#include "hwmodel/ir.h"
#include "hwmodel/systolic.h"

namespace vt::hw {

// The SRAM buffers: A operands and vector inputs, W operands, results and partial sums.
enum Buffer { kIfmap, kFilter, kOfmap, kBuffers };
const char* buffer_name(Buffer b);
double buffer_kib(Buffer b, const ArchConfig& arch);

struct OpCost {
  // work
  double macs = 0, low_precision_macs = 0, adds = 0, muls = 0, divs = 0, exps = 0;
  // time on the unit
  int64_t folds = 0;
  FoldTerms terms;             // systolic ops; vector and sparse ops put their cycles in `stream`
  int64_t compute_cycles = 0;  // the unit busy, memory ignored
  double sram_port_cycles = 0, load_cycles = 0, store_cycles = 0;
  int64_t tiles = 1;
  int64_t cycles = 0;        // the op alone, with its DRAM transfers
  int64_t stall_cycles = 0;  // cycles - compute_cycles
  std::string bound;         // compute | sram_port | dram | dram_read | dram_write
  // utilisation of the unit (NaN for layout ops): spatial, over compute cycles, over all cycles
  double mapping_efficiency = NAN, compute_utilization = NAN, overall_utilization = NAN;
  double load_balance = NAN;  // sparse ops: kept entries / (pe_cols * sub-rows)
  // traffic in bytes: SRAM per buffer (reads and writes, by the counting rule of hwmodel/README.md)
  // and in total, and DRAM
  double sram_reads[kBuffers] = {0, 0, 0}, sram_writes[kBuffers] = {0, 0, 0};
  double sram_read_bytes = 0, sram_write_bytes = 0, dram_read_bytes = 0, dram_write_bytes = 0;
  // energy in pJ (leakage is charged on the whole run, not per op)
  double compute_pj = 0, sram_pj = 0, dram_pj = 0;
  double energy_pj() const { return compute_pj + sram_pj + dram_pj; }
};

// Throws vt::Error naming the op when its unit is absent from `arch` (e.g. softmax attention on
// an accelerator without a softmax unit) or its shape is invalid.
OpCost cost_op(const HwOp& op, const ArchConfig& arch, const EnergyTable& energy, TimingMode mode);

// The op time of `tiles` equal tiles, compute overlapped with DRAM loads and stores.
double overlapped_cycles(double compute, double load, double store, int64_t tiles, bool double_buffered,
                         bool shared_channel);

// PEs or lanes of a unit (the denominator of its utilisation); 0 when absent.
int64_t unit_width(Unit u, const ArchConfig& arch);

}  // namespace vt::hw
