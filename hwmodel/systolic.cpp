// Systolic GEMM timing and traffic in closed form (see systolic.h for the fold terms).
#include "hwmodel/systolic.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace vt::hw {

int64_t ceil_div(int64_t a, int64_t b) {
  VT_CHECK(a >= 0 && b > 0, "ceil_div(", a, ", ", b, ")");
  return (a + b - 1) / b;
}

namespace {

// The spatial and temporal dimensions of each dataflow (SCALE-Sim's calc_spatio_temporal_params).
struct Mapping {
  int64_t Sr, Sc, T;
};
Mapping map_gemm(const GemmShape& g, Dataflow d) {
  switch (d) {
    case Dataflow::kOS: return {g.M, g.N, g.K};
    case Dataflow::kWS: return {g.K, g.N, g.M};
    case Dataflow::kIS: return {g.K, g.M, g.N};
  }
  return {0, 0, 0};
}

// The two sizes a dimension S splits into over R-wide folds: `full` folds of R and one last fold
// of `last` (= R when R divides S).
struct Split {
  int64_t folds, full, last;
};
Split split(int64_t S, int64_t R) {
  const int64_t f = ceil_div(S, R);
  return {f, f - 1, S - (f - 1) * R};
}

}  // namespace

GemmTiming systolic_gemm(const GemmShape& g, const ArrayConfig& a, const GemmOperands& op, const ArchConfig& arch,
                         TimingMode mode) {
  VT_CHECK(g.M > 0 && g.N > 0 && g.K > 0 && g.batch > 0, "GEMM (M ", g.M, ", N ", g.N, ", K ", g.K, ", batch ", g.batch,
           "): every dimension must be positive");
  VT_CHECK(a.present(), "GEMM on an absent array (", a.rows, " x ", a.cols, ")");
  const bool v2 = mode == TimingMode::kScaleSimV2;
  const bool os = a.dataflow == Dataflow::kOS;
  const int64_t R = a.rows, C = a.cols;
  const Mapping m = map_gemm(g, a.dataflow);
  const Split rs = split(m.Sr, R), cs = split(m.Sc, C);
  GemmTiming t;
  t.row_folds = rs.folds;
  t.col_folds = cs.folds;
  t.folds = rs.folds * cs.folds;
  const double M = g.M, N = g.N, K = g.K, B = g.batch;
  const double ab = op.a_bits / 8.0, wb = op.w_bits / 8.0, ob = op.out_bits / 8.0, pb = op.psum_bits / 8.0;
  const double half_i = arch.sram_kib_ifmap * 512, half_f = arch.sram_kib_filter * 512,
               half_o = arch.sram_kib_ofmap * 512;

  // WS and IS accumulate a (T x C) tile of partial sums over the K folds. When that tile does not
  // fit in half the ofmap buffer, the streamed dimension T is cut into passes whose tiles fit (the
  // stationary tile is then loaded once per pass) instead of spilling partial sums to DRAM.
  // SCALE-Sim v2 never does this.
  const double k_folds = os ? 1 : double(rs.folds);  // partial-sum passes through the array
  int64_t passes = 1;
  if (!os && !v2 && k_folds > 1 && double(m.T) * std::min(C, m.Sc) * pb > half_o)
    passes = ceil_div(m.T, std::max<int64_t>(1, static_cast<int64_t>(half_o / (double(C) * pb))));
  t.passes = passes;

  // Per-fold terms, summed over the fold grid: r' takes the value R (rs.full times) or rs.last,
  // c' likewise; every term is additive in r' and c'. SCALE-Sim v2 pads edge folds to R x C.
  const int64_t F = t.folds;
  const double sum_r = v2 ? double(F) * R : double(cs.folds) * (rs.full * R + rs.last);  // sum over folds of r'
  const double sum_c = v2 ? double(F) * C : double(rs.folds) * (cs.full * C + cs.last);  // sum over folds of c'
  FoldTerms f;
  f.stream = F * m.T;  // the passes split T: the streamed total is unchanged
  if (os) {
    f.skew = static_cast<int64_t>(sum_r + sum_c) - 2 * F;  // (r'-1) + (c'-1)
    f.drain = (a.os_drain_explicit && !v2) ? F * R : 0;    // results shift out down the columns
  } else {
    f.preload = passes * static_cast<int64_t>(sum_r);                   // r' rows of the stationary tile
    f.skew = passes * (F * (R - 1) + static_cast<int64_t>(sum_c) - F);  // psums cross all R rows, c'-1 columns
  }
  f.preload *= g.batch;
  f.stream *= g.batch;
  f.skew *= g.batch;
  f.drain *= g.batch;
  t.terms = f;
  t.compute_cycles = f.total() - (v2 ? g.batch : 0);  // v2 reports the 0-based index of its last cycle

  const double used = (double(rs.full) * R + rs.last) * (double(cs.full) * C + cs.last);  // sum of r'c'
  t.mapping_efficiency = used / (double(F) * R * C);
  t.compute_utilization = g.macs() / (double(R) * C * std::max<int64_t>(t.compute_cycles, 1));

  // SRAM traffic per GEMM, in elements (SCALE-Sim's counters, plus the partial-sum reads of the
  // read-modify-write that it leaves out), then bytes at each operand's width.
  switch (a.dataflow) {
    case Dataflow::kOS:
      t.sram_a_reads = M * K * cs.folds;
      t.sram_w_reads = K * N * rs.folds;
      t.sram_out_writes = M * N + (v2 ? double(F) * (R + C) : 0);  // v2: a stray second increment per fold
      break;
    case Dataflow::kWS:
      t.sram_a_reads = M * K * cs.folds;
      t.sram_w_reads = K * N * passes;
      t.sram_out_writes = M * N * k_folds;
      t.sram_psum_reads = v2 ? 0 : M * N * (k_folds - 1);
      break;
    case Dataflow::kIS:
      t.sram_a_reads = M * K * passes;
      t.sram_w_reads = K * N * cs.folds;
      t.sram_out_writes = M * N * k_folds;
      t.sram_psum_reads = v2 ? 0 : M * N * (k_folds - 1);
      break;
  }
  t.sram_a_reads *= B;
  t.sram_w_reads *= B;
  t.sram_out_writes *= B;
  t.sram_psum_reads *= B;
  const double final_writes = M * N * B, psum_writes = t.sram_out_writes - final_writes;
  t.sram_read_bytes = t.sram_a_reads * ab + t.sram_w_reads * wb + t.sram_psum_reads * pb;
  t.sram_write_bytes = final_writes * ob + psum_writes * pb;
  t.sram_port_bytes = std::max({t.sram_a_reads * ab, t.sram_w_reads * wb, t.sram_write_bytes + t.sram_psum_reads * pb});

  // DRAM traffic from tiling: an operand read from DRAM is fetched once when the part that a loop
  // reuses fits in half its buffer (the other half prefetches), else once per pass of that loop.
  double a_fetches = 1, w_fetches = 1;
  const double t_tile = std::ceil(double(m.T) / double(passes));  // streamed rows per pass
  switch (a.dataflow) {
    case Dataflow::kOS: {
      // Two fold orders, the same cycles: column folds outer (a K x C tile of W serves every row
      // fold; A is re-read per column fold unless it all fits) or row folds outer (an R x K tile
      // of A serves every column fold; W is re-read per row fold unless it all fits). The model
      // takes the order that moves fewer DRAM bytes (SCALE-Sim v2 always takes the first).
      const double a_cols_outer = (M * K * ab <= half_i) ? 1 : cs.folds,
                   w_cols_outer = (K * C * wb <= half_f) ? 1 : rs.folds;
      const double a_rows_outer = (R * K * ab <= half_i) ? 1 : cs.folds,
                   w_rows_outer = (K * N * wb <= half_f) ? 1 : rs.folds;
      const double bytes_cols =
          (op.a_in_dram ? M * K * ab * a_cols_outer : 0) + (op.w_in_dram ? K * N * wb * w_cols_outer : 0);
      const double bytes_rows =
          (op.a_in_dram ? M * K * ab * a_rows_outer : 0) + (op.w_in_dram ? K * N * wb * w_rows_outer : 0);
      const bool rows_outer = !v2 && bytes_rows < bytes_cols;
      a_fetches = rows_outer ? a_rows_outer : a_cols_outer;
      w_fetches = rows_outer ? w_rows_outer : w_cols_outer;
      break;
    }
    case Dataflow::kWS:                                        // per pass: column folds (N) outer, row folds (K) inner
      a_fetches = (t_tile * K * ab <= half_i) ? 1 : cs.folds;  // the pass's rows of A serve every column fold
      w_fetches = (passes == 1 || K * N * wb <= half_f) ? 1 : passes;
      break;
    case Dataflow::kIS:  // per pass: column folds (M) outer, row folds (K) inner
      w_fetches = (K * t_tile * wb <= half_f) ? 1 : cs.folds;
      a_fetches = (passes == 1 || M * K * ab <= half_i) ? 1 : passes;
      break;
  }
  t.resident = M * K * ab * B <= half_i && K * N * wb * B <= half_f && M * N * ob * B <= half_o;
  if (op.a_in_dram) t.dram_a_bytes = M * K * ab * a_fetches * B;
  if (op.w_in_dram) t.dram_w_bytes = K * N * wb * w_fetches * B;
  if (op.out_to_dram) t.dram_out_bytes = M * N * ob * B;
  if (k_folds > 1 && t_tile * std::min(C, m.Sc) * pb > half_o) {  // partial sums spill (v2 mode only)
    t.dram_psum_write_bytes = M * N * (k_folds - 1) * pb * B;
    t.dram_psum_read_bytes = t.dram_psum_write_bytes;
  }
  return t;
}

}  // namespace vt::hw
