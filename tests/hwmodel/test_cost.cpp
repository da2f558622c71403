// One op's cost: vector-unit cycles, the SANGER engine's waves, the double-buffered overlap of
// compute with DRAM (hand-worked), the binding constraint and energy as actions x table.
#include <doctest/doctest.h>

#include <cmath>

#include "hwmodel/cost.h"
#include "hwmodel/sparse_engine.h"
#include "hwmodel_test_util.h"

using namespace vt;
using namespace vt::hw;
using namespace vt::hw::test;

namespace {
// A mask of one head from each row's kept columns.
TraceMask mask_of(int64_t n, const std::vector<std::vector<int32_t>>& rows) {
  TraceMask m;
  m.heads = 1;
  m.rows = static_cast<int64_t>(rows.size());
  m.cols = n;
  m.row_ptr.push_back(0);
  for (const auto& r : rows) {
    m.col.insert(m.col.end(), r.begin(), r.end());
    m.row_ptr.push_back(static_cast<int64_t>(m.col.size()));
  }
  return m;
}
// Every pair kept, for `heads` heads of n rows.
std::shared_ptr<const TraceMask> dense_mask(int64_t heads, int64_t n) {
  std::vector<std::vector<int32_t>> rows(static_cast<size_t>(heads * n));
  for (auto& r : rows)
    for (int32_t j = 0; j < n; ++j) r.push_back(j);
  TraceMask m = mask_of(n, rows);
  m.heads = heads;
  m.rows = n;
  return std::make_shared<TraceMask>(m);
}

HwOp vector_op(OpKind kind, Unit unit, int64_t batch, int64_t rows, int64_t cols) {
  HwOp o;
  o.name = "test";
  o.kind = kind;
  o.unit = unit;
  o.batch = batch;
  o.rows = rows;
  o.cols = cols;
  return o;
}
}  // namespace

TEST_CASE("double-buffered overlap, worked by hand") {
  // 4 tiles; totals C = 100, L = 400, S = 0 -> per tile 25, 100, 0.
  // L + max(C,L) + 2 max(C, L+S) + max(C, S) + S = 100 + 100 + 200 + 25 + 0 = 425
  // = all bytes over the bandwidth (400) + one tile of compute that cannot overlap (25).
  CHECK(overlapped_cycles(100, 400, 0, 4, true, true) == doctest::Approx(425));
  // compute-bound: L = 40, S = 40, C = 400 over 4 tiles: 10 + 100 + 2*100 + 100 + 10 = 420
  CHECK(overlapped_cycles(400, 40, 40, 4, true, true) == doctest::Approx(420));
  // one port per operand: the middle is max(C, L, S) instead of max(C, L + S)
  CHECK(overlapped_cycles(100, 200, 200, 4, true, true) == doctest::Approx(50 + 50 + 2 * 100 + 50 + 50));
  CHECK(overlapped_cycles(100, 200, 200, 4, true, false) == doctest::Approx(50 + 50 + 2 * 50 + 50 + 50));
  // no double buffering, or one tile: everything in sequence
  CHECK(overlapped_cycles(100, 200, 50, 4, false, true) == doctest::Approx(350));
  CHECK(overlapped_cycles(100, 200, 50, 1, true, true) == doctest::Approx(350));
}

TEST_CASE("a memory-bound op takes its bytes over the bandwidth") {
  // A 1 x 4096 x 4096 GEMM (a matrix-vector product) at 8 GB/s = 8 B/cycle: 32 MiB of weights and
  // 8 KiB of input take 4195328 cycles to load, while the 32x32 WS array needs 128 x 128 folds of
  // 32 + 1 + 31 + 31 = 95 cycles: 1556480. With 16384 tiles the op time is the load time plus a
  // tile of compute at the end, the 8 KiB store (1024 cycles spread over the tiles) and the DRAM
  // latency: within one tile of bytes / bandwidth.
  const ArchConfig a = arch_with("vitality", {{"dram_bytes_per_s", "8e9"}});
  HwOp g;
  g.name = "gemv";
  g.kind = OpKind::kGemm;
  g.unit = Unit::kSaGeneral;
  g.M = 1;
  g.N = g.K = 4096;
  g.a_in_dram = g.w_in_dram = g.out_to_dram = true;
  const OpCost c = cost_op(g, a, energy45(), TimingMode::kDefault);
  CHECK(c.compute_cycles == 128 * 128 * 95);
  CHECK(c.bound == "dram");
  const double load = (4096.0 * 4096 * 2 + 4096 * 2) / 8, store = 4096.0 * 2 / 8;
  CHECK(c.load_cycles == doctest::Approx(load));
  CHECK(double(c.cycles) >= load + store);
  CHECK(double(c.cycles) <= load + store + 2 * load / c.tiles + 100 + 1);
}

TEST_CASE("vector units: passes x rows x ceil(cols / lanes) x ii + latency") {
  const ArchConfig a = load_arch_config("softmax-baseline");
  const EnergyTable e = energy45();
  // column sums of K and V for 3 heads of 197 x 64 on 32 lanes: 2 * 3 * 197 * 2 + 1 = 2365
  HwOp cs = vector_op(OpKind::kColumnSum, Unit::kAccumulator, 3, 197, 64);
  cs.sums = 2;
  OpCost c = cost_op(cs, a, e, TimingMode::kDefault);
  CHECK(c.compute_cycles == 2 * 3 * 197 * 2 + 1);
  CHECK(c.adds == 2.0 * 3 * 196 * 64);
  // the mean: 64 elements, one shared divisor: ceil(64/32) * 3 heads + 16 latency = 22
  CHECK(
      cost_op(vector_op(OpKind::kDivideSingle, Unit::kDivider, 3, 1, 64), a, e, TimingMode::kDefault).compute_cycles ==
      22);
  // softmax over 3 x 197 x 197: 3 passes * 3 * 197 * ceil(197/32) + 8 latency + log2(32) = 10651
  c = cost_op(vector_op(OpKind::kSoftmax, Unit::kSoftmax, 3, 197, 197), a, e, TimingMode::kDefault);
  CHECK(c.compute_cycles == 3 * 3 * 197 * 7 + 8 + 5);
  CHECK(c.exps == 3.0 * 197 * 197);
  CHECK(c.divs == 3.0 * 197 * 197);  // the paper's n^2 divisions per head
  CHECK(c.compute_utilization <= 1.0);
  CHECK(c.mapping_efficiency == doctest::Approx(197.0 / 224));
  // energy is actions times the table
  CHECK(c.compute_pj == doctest::Approx(c.adds * e.add_pj + c.exps * e.exp_pj + c.divs * e.div_pj));
}

TEST_CASE("absent units are errors naming the op and the accelerator") {
  const ArchConfig v = load_arch_config("vitality");
  HwOp sm = vector_op(OpKind::kSoftmax, Unit::kSoftmax, 3, 197, 197);
  CHECK_THROWS_WITH_AS(cost_op(sm, v, energy45(), TimingMode::kDefault), doctest::Contains("softmax-baseline"), Error);
  HwOp sd = vector_op(OpKind::kSddmm, Unit::kSparse, 1, 4, 4);
  sd.mask = dense_mask(1, 4);
  CHECK_THROWS_WITH_AS(cost_op(sd, v, energy45(), TimingMode::kDefault), doctest::Contains("sparse engine"), Error);
}

TEST_CASE("SANGER's pack & split, worked by hand") {
  // 4 rows on an engine of R = 2 PE rows of C = 2 PEs. Rows 0 and 1 (the first group):
  //   row 0 keeps columns 0 1 2, row 1 keeps 1 3.  Column scan: col 0 -> row 0 (1 used);
  //   col 1 -> rows 0, 1 (2, 1); col 2 -> row 0 is full: block 1 = cols {0, 1}, rows {0, 1};
  //   block 2 takes col 2 (row 0) and col 3 (row 1). Rows 2, 3: row 2 keeps 0, row 3 keeps
  //   nothing: one block of one column, one row.
  // blocks 3; column loads 2 + 2 + 1 = 5; row loads 2 + 2 + 1 = 5; rows with entries 3;
  // occupancy 6 kept / (3 blocks x 4 PEs) = 0.5
  const TraceMask m = mask_of(4, {{0, 1, 2}, {1, 3}, {0}, {}});
  const SangerPack p = sanger_pack(m, 2, 2);
  CHECK(p.blocks == 3);
  CHECK(p.col_loads == 5);
  CHECK(p.row_loads == 5);
  CHECK(p.rows_kept == 3);
  CHECK(p.nnz == 6);
  CHECK(p.occupancy() == doctest::Approx(0.5));
  // a dense mask packs into C-column blocks of every group: an R x C tiling
  const SangerPack dense = sanger_pack(*dense_mask(1, 64), 16, 4);
  CHECK(dense.blocks == 4 * 16);  // 4 row groups x 16 column blocks
  CHECK(dense.occupancy() == 1.0);
  // inconsistent masks are refused
  TraceMask bad = m;
  bad.col[0] = 9;
  CHECK_THROWS_WITH_AS(sanger_pack(bad, 2, 2), doctest::Contains("outside [0, 4)"), Error);
}

TEST_CASE("SANGER's engine: cycles per block, work proportional to the kept entries") {
  const ArchConfig s = load_arch_config("sanger");  // 64 rows of 16 PEs
  const EnergyTable e = energy45();
  HwOp op = vector_op(OpKind::kSddmm, Unit::kSparse, 1, 256, 256);
  op.K = 64;
  // every row keeps its first 32 columns: per group of 64 rows, 2 blocks of 16 columns; 4 groups:
  // 8 blocks of d + (R - 1) + (C - 1) = 64 + 63 + 15 cycles
  std::vector<std::vector<int32_t>> rows(256);
  for (auto& r : rows)
    for (int32_t j = 0; j < 32; ++j) r.push_back(j);
  op.mask = std::make_shared<TraceMask>(mask_of(256, rows));
  const OpCost full = cost_op(op, s, e, TimingMode::kDefault);
  CHECK(full.compute_cycles == 8 * (64 + 63 + 15));
  CHECK(full.macs == 256.0 * 32 * 64);
  CHECK(full.load_balance == 1.0);
  // half the kept entries: half the blocks and MACs
  for (auto& r : rows) r.resize(16);
  op.mask = std::make_shared<TraceMask>(mask_of(256, rows));
  const OpCost half = cost_op(op, s, e, TimingMode::kDefault);
  CHECK(half.compute_cycles * 2 == full.compute_cycles);
  CHECK(half.macs * 2 == full.macs);
  // 17 kept entries per row: two blocks per group, the second holding one per row: 17 / 32
  for (auto& r : rows) r.push_back(16);
  op.mask = std::make_shared<TraceMask>(mask_of(256, rows));
  CHECK(cost_op(op, s, e, TimingMode::kDefault).load_balance == doctest::Approx(17.0 / 32));
  op.mask = dense_mask(1, 10);  // a mask of the wrong size
  CHECK_THROWS_WITH_AS(cost_op(op, s, e, TimingMode::kDefault), doctest::Contains("mask"), Error);
}

TEST_CASE("one counting rule: SANGER's SDDMM and SpMM on a dense mask move what the equivalent systolic GEMMs move") {
  // The rule: an operand is read from its buffer each time it enters the array; a result is
  // written each time it leaves; a partial result is read back before each further accumulation.
  // On a dense n x n mask with R x C = 64 x 16 PEs (SANGER's engine, 16-bit operands, 32-bit
  // partial sums):
  //   SDDMM = Q K^T as an output-stationary GEMM (M = n, N = n, K = d) on the same 64 x 16 array,
  //           minus its score writes (SANGER keeps the scores in the PEs);
  //   SpMM  = P V as an input-stationary GEMM (M = n, N = d, K = n) on the array turned 16 x 64
  //           (keys along the 16 PEs of a row, queries down the 64 rows), minus its reads of the
  //           stationary P (already in the PEs).
  const ArchConfig s = arch_with("sanger", {{"dram_latency_cycles", "0"}});
  const EnergyTable e = energy45();
  const int64_t n = 128, d = 64;
  HwOp sd = vector_op(OpKind::kSddmm, Unit::kSparse, 1, n, n), sp = vector_op(OpKind::kSpmm, Unit::kSparse, 1, n, n);
  sd.K = sp.K = d;
  sd.mask = sp.mask = dense_mask(1, n);
  const OpCost sddmm = cost_op(sd, s, e, TimingMode::kDefault), spmm = cost_op(sp, s, e, TimingMode::kDefault);
  GemmOperands o;
  o.a_in_dram = o.w_in_dram = o.out_to_dram = false;
  ArrayConfig os{64, 16, Dataflow::kOS, true, 16}, is{16, 64, Dataflow::kIS, true, 16};
  const GemmTiming qk = systolic_gemm({n, n, d, 1}, os, o, s), pv = systolic_gemm({n, d, n, 1}, is, o, s);
  CHECK(sddmm.sram_reads[kIfmap] == qk.sram_a_reads * 2);   // Q
  CHECK(sddmm.sram_reads[kFilter] == qk.sram_w_reads * 2);  // K
  CHECK(sddmm.sram_writes[kOfmap] == 0);                    // the scores stay in the PEs
  CHECK(sddmm.macs == double(n) * n * d);
  CHECK(spmm.sram_reads[kFilter] == pv.sram_w_reads * 2);    // V
  CHECK(spmm.sram_writes[kOfmap] == pv.sram_write_bytes);    // partial and final results
  CHECK(spmm.sram_reads[kOfmap] == pv.sram_psum_reads * 4);  // partial sums read back
  // and the energy of those bytes comes from the same buffers at the same sizes
  CHECK(sddmm.sram_pj == doctest::Approx(qk.sram_a_reads * 2 * e.sram_read.pj_per_byte(s.sram_kib_ifmap) +
                                         qk.sram_w_reads * 2 * e.sram_read.pj_per_byte(s.sram_kib_filter)));
}

TEST_CASE("partial sums and SRAM energy per buffer, worked by hand for each dataflow") {
  // An 8 x 8 x 8 GEMM (M = N = K = 8) on a 4 x 4 array, 16-bit operands, 32-bit partial sums,
  // operands on chip. Buffers sized at points of the CACTI table, so the prices are its entries:
  // ifmap 64 KiB (read 21.2 pJ / 8 B), filter 32 KiB (read 17.0 / 8), ofmap 8 KiB (read 6.05 / 8,
  // write 7.41 / 8).
  const ArchConfig a = arch_with("vitality", {{"sa_general_rows", "4"},
                                              {"sa_general_cols", "4"},
                                              {"sa_diag_rows", "4"},
                                              {"sram_kib_ifmap", "64"},
                                              {"sram_kib_filter", "32"},
                                              {"sram_kib_ofmap", "8"}});
  const EnergyTable e = energy45();
  HwOp g;
  g.name = "gemm";
  g.kind = OpKind::kGemm;
  g.unit = Unit::kSaGeneral;
  g.M = g.N = g.K = 8;
  struct Want {
    const char* dataflow;
    double a_reads, w_reads, writes_out, writes_psum, psum_reads;  // elements
  };
  // OS: A re-read per column fold (2), W per row fold (2); psums stay in the PE registers.
  // WS: A per column fold (2), W once; 2 K folds: each output written twice (once as a partial
  //     sum), the partial read back once.  IS: A once, W per column fold (2); outputs as WS.
  const Want wants[] = {{"os", 8 * 8 * 2, 8 * 8 * 2, 64, 0, 0},
                        {"ws", 8 * 8 * 2, 8 * 8, 64, 64, 64},
                        {"is", 8 * 8, 8 * 8 * 2, 64, 64, 64}};
  for (const Want& w : wants) {
    CAPTURE(w.dataflow);
    ArchConfig arch = a;
    arch.sa_general.dataflow = w.dataflow[0] == 'o'   ? Dataflow::kOS
                               : w.dataflow[0] == 'w' ? Dataflow::kWS
                                                      : Dataflow::kIS;
    const OpCost c = cost_op(g, arch, e, TimingMode::kDefault);
    CHECK(c.sram_reads[kIfmap] == w.a_reads * 2);
    CHECK(c.sram_reads[kFilter] == w.w_reads * 2);
    CHECK(c.sram_writes[kOfmap] == w.writes_out * 2 + w.writes_psum * 4);
    CHECK(c.sram_reads[kOfmap] == w.psum_reads * 4);
    const double pj = w.a_reads * 2 * 21.2 / 8 + w.w_reads * 2 * 17.0 / 8 + w.psum_reads * 4 * 6.05 / 8 +
                      (w.writes_out * 2 + w.writes_psum * 4) * 7.41 / 8;
    CHECK(c.sram_pj == doctest::Approx(pj));
  }
  // Between table points the price is interpolated log-log: at the geometric mean of 8 and 16 KiB
  // it is the geometric mean of their prices (6.05 and 8.91 pJ per 64 bits).
  CHECK(e.sram_read.pj_per_byte(16) == doctest::Approx(8.91 / 8));
  CHECK(e.sram_read.pj_per_byte(std::sqrt(8.0 * 16)) == doctest::Approx(std::sqrt(6.05 * 8.91) / 8));
  CHECK(e.sram_read.pj_per_byte(640) > e.sram_read.pj_per_byte(256));  // a bigger buffer costs more per access
}
