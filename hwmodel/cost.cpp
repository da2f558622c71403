// One op's cost on its unit (see cost.h for the formulas).
#include "hwmodel/cost.h"

#include <algorithm>

#include "core/error.h"
#include "hwmodel/sparse_engine.h"

namespace vt::hw {

const char* unit_name(Unit u) {
  switch (u) {
    case Unit::kSaGeneral: return "sa_general";
    case Unit::kSaDiag: return "sa_diag";
    case Unit::kAccumulator: return "accumulator";
    case Unit::kDivider: return "divider";
    case Unit::kAdder: return "adder";
    case Unit::kSoftmax: return "softmax";
    case Unit::kLayerNorm: return "layernorm";
    case Unit::kGelu: return "gelu";
    case Unit::kSparse: return "sparse_engine";
    case Unit::kPredictor: return "predictor";
    case Unit::kNone: return "none";
  }
  return "?";
}

const char* op_kind_name(OpKind k) {
  switch (k) {
    case OpKind::kGemm: return "gemm";
    case OpKind::kColumnSum: return "column_sum";
    case OpKind::kElementwise: return "elementwise";
    case OpKind::kDivideSingle: return "divide_single";
    case OpKind::kDivideMulti: return "divide_multi";
    case OpKind::kSoftmax: return "softmax";
    case OpKind::kLayerNorm: return "layernorm";
    case OpKind::kGelu: return "gelu";
    case OpKind::kPredict: return "predict";
    case OpKind::kSddmm: return "sddmm";
    case OpKind::kSparseSoftmax: return "sparse_softmax";
    case OpKind::kSpmm: return "spmm";
    case OpKind::kLayout: return "layout";
  }
  return "?";
}

const char* buffer_name(Buffer b) {
  switch (b) {
    case kIfmap: return "ifmap";
    case kFilter: return "filter";
    case kOfmap: return "ofmap";
    case kBuffers: break;
  }
  return "?";
}

double buffer_kib(Buffer b, const ArchConfig& a) {
  return b == kIfmap ? a.sram_kib_ifmap : b == kFilter ? a.sram_kib_filter : a.sram_kib_ofmap;
}

int64_t unit_width(Unit u, const ArchConfig& a) {
  switch (u) {
    case Unit::kSaGeneral: return a.sa_general.rows * a.sa_general.cols;
    case Unit::kSaDiag:
      return a.sa_diag.present() ? a.sa_diag.rows * a.sa_diag.cols : a.sa_general.rows * a.sa_general.cols;
    case Unit::kAccumulator: return a.accumulator.lanes;
    case Unit::kDivider: return a.divider.lanes;
    case Unit::kAdder: return a.adder.lanes;
    case Unit::kSoftmax: return a.softmax.lanes;
    case Unit::kLayerNorm: return a.layernorm.lanes;
    case Unit::kGelu: return a.gelu.lanes;
    case Unit::kSparse: return a.sparse_pe_rows * a.sparse_pe_cols;
    case Unit::kPredictor: return a.predictor.rows * a.predictor.cols;
    case Unit::kNone: return 0;
  }
  return 0;
}

double overlapped_cycles(double C, double L, double S, int64_t n, bool double_buffered, bool shared) {
  if (!double_buffered || n <= 1) return L + C + S;
  const double t = static_cast<double>(n);
  C /= t;
  L /= t;
  S /= t;
  // tile i computes while tile i+1 loads and tile i-1 stores; the first load and the last store
  // stand alone (prologue and epilogue)
  const double middle = shared ? std::max(C, L + S) : std::max({C, L, S});
  return L + std::max(C, L) + (t - 2) * middle + std::max(C, S) + S;
}

namespace {

int64_t ceil_log2(int64_t x) {
  int64_t r = 0;
  while ((int64_t{1} << r) < x) ++r;
  return r;
}

// passes * batch * rows * ceil(cols / lanes) * ii + latency
void vector_cycles(const HwOp& op, const VectorUnitConfig& u, int64_t passes, bool row_reduction, OpCost& c) {
  const int64_t lane_steps = ceil_div(op.cols, u.lanes);
  c.terms.stream = passes * op.batch * op.rows * lane_steps * u.ii_cycles;
  c.terms.drain = u.latency_cycles + (row_reduction ? ceil_log2(u.lanes) : 0);
  c.compute_cycles = c.terms.total();
  c.mapping_efficiency = double(op.cols) / double(lane_steps * u.lanes);
  const double element_steps = double(passes) * op.batch * op.rows * op.cols;
  c.compute_utilization = element_steps / (double(u.lanes) * std::max<int64_t>(c.compute_cycles, 1));
  c.tiles = std::max<int64_t>(1, op.batch * op.rows);
}

void require(bool present, const HwOp& op, const ArchConfig& a, const char* what) {
  if (!present)
    throw Error(str_cat(op.name, " (", op.trace_kind, ") needs ", what, ", which accelerator '", a.name, "' (", a.path,
                        ") does not have"));
}

// Per-operand DRAM loads, for accelerators with one DRAM port per operand.
struct Loads {
  double a = 0, w = 0;
  bool resident = false;  // SCALE-Sim v2 mode: everything preloaded before cycle 0
};

// A GEMM on SA-General or SA-Diag (systolic.h).
Loads cost_gemm(const HwOp& op, const ArchConfig& a, TimingMode mode, OpCost& c) {
  // a matrix-vector product runs on SA-Diag, or on SA-General where there is no SA-Diag
  const ArrayConfig& arr = op.unit == Unit::kSaDiag && a.sa_diag.present() ? a.sa_diag : a.sa_general;
  require(arr.present(), op, a, "SA-General");
  GemmOperands o;
  o.a_bits = o.w_bits = o.out_bits = a.operand_bits;
  o.psum_bits = a.psum_bits;
  o.a_in_dram = op.a_in_dram;
  o.w_in_dram = op.w_in_dram;
  o.out_to_dram = op.out_to_dram;
  const GemmTiming t = systolic_gemm({op.M, op.N, op.K, op.batch}, arr, o, a, mode);
  c.macs = double(op.M) * op.N * op.K * op.batch;
  c.adds = double(op.bias_elements);
  c.folds = t.folds * op.batch;
  c.terms = t.terms;
  c.compute_cycles = t.compute_cycles;
  c.mapping_efficiency = t.mapping_efficiency;
  c.compute_utilization = t.compute_utilization;
  const double ab = o.a_bits / 8.0, wb = o.w_bits / 8.0, pb = o.psum_bits / 8.0;
  c.sram_reads[kIfmap] = t.sram_a_reads * ab;
  c.sram_reads[kFilter] = t.sram_w_reads * wb;
  c.sram_reads[kOfmap] = t.sram_psum_reads * pb;
  c.sram_writes[kOfmap] = t.sram_write_bytes;
  c.sram_port_cycles = t.sram_port_bytes / a.sram_port_bytes_per_cycle;
  c.dram_read_bytes = t.dram_read_bytes();
  c.dram_write_bytes = t.dram_write_bytes();
  c.tiles = c.folds;
  return {t.dram_a_bytes, t.dram_w_bytes + t.dram_psum_read_bytes, t.resident};
}

// The element-wise units: the work of each op kind, and its cycles on the unit's lanes.
void cost_vector(const HwOp& op, const ArchConfig& a, OpCost& c) {
  const double elements = double(op.batch) * op.rows * op.cols;
  switch (op.kind) {
    case OpKind::kColumnSum:
      require(a.accumulator.present(), op, a, "an accumulator array (accumulator_lanes)");
      vector_cycles(op, a.accumulator, op.sums, false, c);
      c.adds = double(op.sums) * op.batch * (op.rows - 1) * op.cols;
      break;
    case OpKind::kElementwise:
      require(a.adder.present(), op, a, "an adder array (adder_lanes)");
      vector_cycles(op, a.adder, 1, false, c);
      c.adds = elements;
      break;
    case OpKind::kDivideSingle:
    case OpKind::kDivideMulti:
      require(a.divider.present(), op, a, "a divider array (divider_lanes)");
      vector_cycles(op, a.divider, 1, false, c);
      c.divs = elements;
      break;
    case OpKind::kSoftmax:
      require(a.softmax.present(), op, a, "a softmax unit (softmax_lanes; use --arch softmax-baseline)");
      vector_cycles(op, a.softmax, a.softmax_passes, true, c);
      c.adds = 3.0 * elements;  // max compare, subtract, sum
      c.exps = c.divs = elements;
      break;
    case OpKind::kLayerNorm:
      require(a.layernorm.present(), op, a, "a layernorm post-processor (layernorm_lanes)");
      vector_cycles(op, a.layernorm, a.layernorm_passes, true, c);
      c.adds = 4.0 * elements;            // sum, subtract mean, sum of squares, + beta
      c.muls = 3.0 * elements;            // square, normalise, * gamma
      c.divs = 2.0 * op.batch * op.rows;  // the mean and the reciprocal square root
      break;
    case OpKind::kGelu:
      require(a.gelu.present(), op, a, "a GELU post-processor (gelu_lanes)");
      vector_cycles(op, a.gelu, 1, false, c);
      c.exps = elements;  // erf by table lookup, counted as one exp
      c.muls = 2.0 * elements;
      c.adds = elements;
      break;
    default: VT_ASSERT(false);
  }
}

// SANGER's predictor: a low-precision OS array for Q K^T, then two passes of exp and threshold.
Loads cost_predict(const HwOp& op, const ArchConfig& a, TimingMode mode, OpCost& c) {
  require(a.predictor.present(), op, a, "a mask predictor (predictor_rows)");
  GemmOperands o;
  o.a_bits = o.w_bits = a.predictor.operand_bits;
  o.out_bits = 8;  // predicted scores before the exp pass (they never leave the predictor)
  o.psum_bits = a.psum_bits;
  o.a_in_dram = op.a_in_dram;
  o.w_in_dram = op.w_in_dram;
  o.out_to_dram = false;
  const GemmTiming t = systolic_gemm({op.M, op.N, op.K, op.batch}, a.predictor, o, a, mode);
  c.low_precision_macs = double(op.M) * op.N * op.K * op.batch;
  c.folds = t.folds * op.batch;
  c.terms = t.terms;
  // two passes over the predicted scores with one exp unit per predictor row: exp and row
  // sums, then the comparison against theta * sum
  c.terms.drain += 2 * op.batch * op.M * ceil_div(op.N, a.predictor.rows);
  c.compute_cycles = c.terms.total();
  c.exps = c.adds = double(op.batch) * op.M * op.N;
  c.mapping_efficiency = t.mapping_efficiency;
  c.compute_utilization = c.low_precision_macs / (double(unit_width(op.unit, a)) * c.compute_cycles);
  c.sram_reads[kIfmap] = t.sram_a_reads * o.a_bits / 8.0;  // 4-bit codes of Q and K
  c.sram_reads[kFilter] = t.sram_w_reads * o.w_bits / 8.0;
  c.sram_port_cycles = std::max(c.sram_reads[kIfmap], c.sram_reads[kFilter]) / a.sram_port_bytes_per_cycle;
  c.dram_read_bytes = t.dram_read_bytes();
  c.tiles = c.folds;
  return {t.dram_a_bytes, t.dram_w_bytes, false};
}

// SANGER's sparse engine (sparse_engine.h): SDDMM, the exps and row sums in the PEs, SpMM, on the
// blocks of the mask's pack & split. Traffic by the same rule as a systolic GEMM: an operand is
// read each time it enters the array, a partial result written each time it leaves and read back
// before each further accumulation.
void cost_sparse(const HwOp& op, const ArchConfig& a, OpCost& c) {
  require(a.has_sparse_engine(), op, a, "a sparse engine (sparse_pe_rows; use --arch sanger)");
  VT_CHECK(op.mask, op.name, ": a sparse op needs its mask (trace a sparse model)");
  VT_CHECK(op.mask->heads == op.batch && op.mask->rows == op.rows && op.mask->cols == op.cols, op.name, ": a mask of ",
           op.mask->heads, " x ", op.mask->rows, " x ", op.mask->cols, " for an op of ", op.batch, " x ", op.rows,
           " x ", op.cols);
  const SangerPack p = sanger_pack(*op.mask, a.sparse_pe_rows, a.sparse_pe_cols);
  const int64_t d = op.K, R = a.sparse_pe_rows, C = a.sparse_pe_cols;
  const double b = a.operand_bits / 8.0, pb = a.psum_bits / 8.0;
  if (op.kind == OpKind::kSparseSoftmax) {
    // exp in place, then the row sums shift along the row
    c.terms.stream = p.blocks * C;
    c.terms.drain = a.sparse_exp_latency_cycles;
    c.exps = c.adds = p.nnz;
  } else {
    c.terms.stream = p.blocks * d;                  // d operand pairs stream past each PE
    c.terms.skew = p.blocks * ((R - 1) + (C - 1));  // along the rows and down the columns
    c.macs = p.nnz * double(d);
  }
  if (op.kind == OpKind::kSddmm) {
    c.sram_reads[kIfmap] = p.row_loads * double(d) * b;   // q_i for each row of a block
    c.sram_reads[kFilter] = p.col_loads * double(d) * b;  // k_j for each column of a block
  } else if (op.kind == OpKind::kSpmm) {
    const double partial = (p.row_loads - p.rows_kept) * double(d);  // results accumulated over blocks
    c.sram_reads[kFilter] = p.col_loads * double(d) * b;             // v_j for each column of a block
    c.sram_writes[kOfmap] = partial * pb + p.rows_kept * double(d) * b;
    c.sram_reads[kOfmap] = partial * pb;
    c.adds = partial;  // each accumulation of a partial row
  }
  c.compute_cycles = c.terms.total();
  c.folds = p.blocks;
  c.load_balance = c.mapping_efficiency = p.occupancy();
  const double pe = double(R * C);
  c.compute_utilization = op.kind == OpKind::kSparseSoftmax ? p.nnz / (pe * std::max<int64_t>(c.compute_cycles, 1))
                                                            : c.macs / (pe * std::max<int64_t>(c.compute_cycles, 1));
  c.tiles = std::max<int64_t>(1, p.blocks);
  c.sram_port_cycles =
      std::max({c.sram_reads[kIfmap], c.sram_reads[kFilter], c.sram_reads[kOfmap] + c.sram_writes[kOfmap]}) /
      a.sram_port_bytes_per_cycle;
}

// DRAM traffic of a vector or sparse op: its input read when it lives in DRAM, its output written
// when a later segment reads it from there.
Loads dram_traffic(const HwOp& op, OpCost& c) {
  Loads l;
  if (op.a_in_dram) l.a = c.dram_read_bytes = op.in_bytes;
  if (op.out_to_dram) c.dram_write_bytes = op.out_bytes;
  return l;
}

// Vector ops read their inputs from the ifmap buffer and write their outputs to the ofmap buffer,
// once each. DRAM: the input when it lives there, the output when a later segment reads it from there.
Loads vector_traffic(const HwOp& op, const ArchConfig& a, OpCost& c) {
  c.sram_reads[kIfmap] = op.in_bytes;
  c.sram_writes[kOfmap] = op.out_bytes;
  c.sram_port_cycles = std::max(op.in_bytes, op.out_bytes) / a.sram_port_bytes_per_cycle;
  return dram_traffic(op, c);
}

// The op's time: the unit, limited by the SRAM port, overlapped with DRAM loads and stores; and
// the binding constraint, the largest of the steady-state totals.
void time_with_memory(const ArchConfig& a, TimingMode mode, const Loads& loads, OpCost& c) {
  const double bpc = a.dram_bytes_per_cycle();
  const double busy = std::max<double>(double(c.compute_cycles), c.sram_port_cycles);
  c.store_cycles = c.dram_write_bytes / bpc;
  c.load_cycles = (a.dram_shared_channel ? c.dram_read_bytes : std::max(loads.a, loads.w)) / bpc;
  const bool touches_dram = c.dram_read_bytes + c.dram_write_bytes > 0;
  double total;
  if (mode == TimingMode::kScaleSimV2) {
    // SCALE-Sim v2 fills the first buffer half before cycle 0 (free cold start) and has no DRAM
    // latency: with everything resident the time is the compute time at any bandwidth. Otherwise
    // its trace-driven stalls are approximated by our overlap without the first load.
    total = loads.resident ? busy
                           : std::max(busy, overlapped_cycles(busy, c.load_cycles, c.store_cycles, c.tiles,
                                                              a.double_buffered, a.dram_shared_channel) -
                                                c.load_cycles / std::max<double>(1, double(c.tiles)));
  } else {
    total = overlapped_cycles(busy, c.load_cycles, c.store_cycles, c.tiles, a.double_buffered, a.dram_shared_channel) +
            (touches_dram ? double(a.dram_latency_cycles) : 0);
  }
  c.cycles = static_cast<int64_t>(std::ceil(total - 1e-9));
  c.stall_cycles = c.cycles - c.compute_cycles;
  const double dram = a.dram_shared_channel ? c.load_cycles + c.store_cycles : std::max(c.load_cycles, c.store_cycles);
  c.bound = "compute";
  double best = double(c.compute_cycles);
  if (c.sram_port_cycles > best) {
    best = c.sram_port_cycles;
    c.bound = "sram_port";
  }
  if (dram > best)
    c.bound = a.dram_shared_channel ? "dram" : (c.load_cycles >= c.store_cycles ? "dram_read" : "dram_write");
}

// Energy: actions times the table (leakage is charged on the whole run).
void energy_of(const ArchConfig& a, const EnergyTable& e, OpCost& c) {
  c.compute_pj = c.macs * e.mac_pj + c.low_precision_macs * e.predictor_mac_pj + c.adds * e.add_pj + c.muls * e.mul_pj +
                 c.divs * e.div_pj + c.exps * e.exp_pj;
  c.sram_pj = 0;
  for (int buf = 0; buf < kBuffers; ++buf) {
    const double kib = buffer_kib(static_cast<Buffer>(buf), a);
    c.sram_pj += c.sram_reads[buf] * e.sram_read.pj_per_byte(kib) + c.sram_writes[buf] * e.sram_write.pj_per_byte(kib);
  }
  c.dram_pj = (c.dram_read_bytes + c.dram_write_bytes) * e.dram_pj_per_byte;
}

}  // namespace

OpCost cost_op(const HwOp& op, const ArchConfig& a, const EnergyTable& e, TimingMode mode) {
  OpCost c;
  Loads loads;
  switch (op.kind) {
    case OpKind::kLayout: c.bound = "none"; return c;  // addressing only: no work, no traffic
    case OpKind::kGemm: loads = cost_gemm(op, a, mode, c); break;
    case OpKind::kPredict: loads = cost_predict(op, a, mode, c); break;
    case OpKind::kSddmm:
    case OpKind::kSparseSoftmax:
    case OpKind::kSpmm:
      cost_sparse(op, a, c);
      loads = dram_traffic(op, c);
      break;
    default: cost_vector(op, a, c); loads = vector_traffic(op, a, c);
  }
  time_with_memory(a, mode, loads, c);
  const bool array_op = op.kind == OpKind::kGemm || op.kind == OpKind::kPredict || op.kind == OpKind::kSddmm ||
                        op.kind == OpKind::kSpmm || op.kind == OpKind::kSparseSoftmax;
  if (array_op) {
    const double work = op.kind == OpKind::kSparseSoftmax ? c.exps : (c.macs + c.low_precision_macs);
    c.overall_utilization = work / (double(unit_width(op.unit, a)) * std::max<int64_t>(c.cycles, 1));
  } else {
    c.overall_utilization = c.compute_utilization * double(c.compute_cycles) / std::max<int64_t>(c.cycles, 1);
  }
  for (int buf = 0; buf < kBuffers; ++buf) {
    c.sram_read_bytes += c.sram_reads[buf];
    c.sram_write_bytes += c.sram_writes[buf];
  }
  energy_of(a, e, c);
  return c;
}

}  // namespace vt::hw
