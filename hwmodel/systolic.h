// A GEMM on an R x C systolic array, in closed form (SCALE-Sim's mapping; formulas in
// hwmodel/README.md, hand-worked cases in tests/hwmodel/test_systolic.cpp, and a register-level
// simulator in tests/hwmodel/systolic_sim.h that steps the PEs and agrees with every term).
//
//   dataflow  rows of the array  columns  streamed (T)  stationary in the PEs
//   OS        M                  N        K             the outputs
//   WS        K                  N        M             W
//   IS        K                  M        N             A
//
// Folds F = ceil(Sr/R) * ceil(Sc/C), column folds outer. A fold using r' rows and c' columns costs
//   OS: stream T + skew (r'-1)+(c'-1) + drain R (explicit) or 0 (overlapped)
//   WS, IS: preload r' + stream T + skew (R-1)+(c'-1)   (partial sums leave at the bottom edge)
// WS and IS cut the streamed dimension into passes when the T x C tile of partial sums would not
// fit in half the ofmap buffer (each pass reloads the stationary tile: preload and skew per pass).
// SCALE-Sim v2 mode pads every fold to the full array, has no OS drain, never cuts passes,
// reports F*tau - 1 and counts F*(R+C) extra OS output writes; it exists to check our numbers
// against that tool.
#pragma once

#include <cstdint>

#include "hwmodel/config.h"

namespace vt::hw {

struct GemmShape {
  int64_t M = 0, N = 0, K = 0, batch = 1;
  double macs() const { return double(M) * N * K * batch; }
};

// Widths and locations of the operands: DRAM traffic is counted only for operands that live in
// DRAM (the model keeps activations on chip when they fit in half a buffer).
struct GemmOperands {
  int64_t a_bits = 16, w_bits = 16, out_bits = 16, psum_bits = 32;
  bool a_in_dram = true, w_in_dram = true, out_to_dram = true;
};

struct FoldTerms {
  int64_t preload = 0, stream = 0, skew = 0, drain = 0;  // summed over all folds (and the batch)
  int64_t total() const { return preload + stream + skew + drain; }
};

struct GemmTiming {
  int64_t folds = 0;  // per batch entry
  int64_t row_folds = 0, col_folds = 0;
  int64_t passes = 1;              // WS/IS: the streamed dimension cut so partial sums fit on chip
  FoldTerms terms;                 // whole op
  int64_t compute_cycles = 0;      // terms.total(), minus 1 per GEMM in SCALE-Sim v2 mode
  double mapping_efficiency = 0;   // mean over folds of r'c' / (RC)
  double compute_utilization = 0;  // MACs / (RC * compute_cycles)
  // SRAM accesses in elements (SCALE-Sim's counters) and in bytes
  double sram_a_reads = 0, sram_w_reads = 0, sram_out_writes = 0, sram_psum_reads = 0;
  double sram_read_bytes = 0, sram_write_bytes = 0;
  // the busiest buffer port: bytes it moves (the op cannot finish faster than bytes / port width)
  double sram_port_bytes = 0;
  // DRAM traffic in bytes, from tiling against half of each buffer
  double dram_a_bytes = 0, dram_w_bytes = 0, dram_out_bytes = 0, dram_psum_read_bytes = 0, dram_psum_write_bytes = 0;
  // every operand fits in half its buffer (read once, no partial-sum spill): SCALE-Sim v2 then
  // loads everything before cycle 0 and never stalls
  bool resident = false;
  double dram_read_bytes() const { return dram_a_bytes + dram_w_bytes + dram_psum_read_bytes; }
  double dram_write_bytes() const { return dram_out_bytes + dram_psum_write_bytes; }
};

// Throws vt::Error naming the shape when a dimension is not positive.
GemmTiming systolic_gemm(const GemmShape& g, const ArrayConfig& array, const GemmOperands& ops, const ArchConfig& arch,
                         TimingMode mode = TimingMode::kDefault);

int64_t ceil_div(int64_t a, int64_t b);  // a >= 0, b > 0

}  // namespace vt::hw
