// One op's cost: vector-unit cycles, the SANGER engine's waves, the double-buffered overlap of
// compute with DRAM (hand-worked), the binding constraint and energy as actions x table.
#include <doctest/doctest.h>

#include "hwmodel/cost.h"
#include "hwmodel_test_util.h"

using namespace vt;
using namespace vt::hw;
using namespace vt::hw::test;

namespace {
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
  sd.row_nnz = {1, 1, 1, 1};
  CHECK_THROWS_WITH_AS(cost_op(sd, v, energy45(), TimingMode::kDefault), doctest::Contains("sparse engine"), Error);
}

TEST_CASE("SANGER's engine: work proportional to the kept entries, load balance from the rows") {
  const ArchConfig s = load_arch_config("sanger");  // 64 rows of 16 PEs
  const EnergyTable e = energy45();
  HwOp op = vector_op(OpKind::kSddmm, Unit::kSparse, 1, 256, 256);
  op.K = 64;
  // every row keeps 32 entries: 2 sub-rows each, 512 sub-rows = 8 waves of 64 + (16 - 1) skew
  op.row_nnz.assign(256, 32);
  const OpCost full = cost_op(op, s, e, TimingMode::kDefault);
  CHECK(full.compute_cycles == 8 * (64 + 15));
  CHECK(full.macs == 256.0 * 32 * 64);
  CHECK(full.load_balance == 1.0);
  // half the kept entries: half the waves, half the MACs
  op.row_nnz.assign(256, 16);
  const OpCost half = cost_op(op, s, e, TimingMode::kDefault);
  CHECK(half.compute_cycles * 2 == full.compute_cycles);
  CHECK(half.macs * 2 == full.macs);
  // 17 kept entries need two sub-rows, the second holding one: load balance 17 / 32
  op.row_nnz.assign(256, 17);
  CHECK(cost_op(op, s, e, TimingMode::kDefault).load_balance == doctest::Approx(17.0 / 32));
  op.row_nnz.assign(10, 1);
  CHECK_THROWS_WITH_AS(cost_op(op, s, e, TimingMode::kDefault), doctest::Contains("row counts"), Error);
}
