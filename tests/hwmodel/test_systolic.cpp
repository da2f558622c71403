// Closed-form systolic GEMM timing and traffic, on cases worked by hand (below each case) and on
// SCALE-Sim v2's reported numbers. Add a case: work out folds and per-fold terms on paper first.
#include <doctest/doctest.h>

#include "hwmodel/systolic.h"
#include "hwmodel_test_util.h"

using namespace vt;
using namespace vt::hw;
using namespace vt::hw::test;

namespace {

ArrayConfig array(int64_t R, int64_t C, Dataflow d, bool drain_explicit = true) {
  ArrayConfig a;
  a.rows = R;
  a.cols = C;
  a.dataflow = d;
  a.os_drain_explicit = drain_explicit;
  return a;
}

GemmTiming run(int64_t M, int64_t N, int64_t K, const ArrayConfig& a, TimingMode mode = TimingMode::kDefault) {
  static const ArchConfig arch = load_arch_config("vitality");  // buffers far larger than these GEMMs
  return systolic_gemm({M, N, K, 1}, a, GemmOperands{}, arch, mode);
}

}  // namespace

TEST_CASE("4x4x4 GEMM on a 4x4 array, each dataflow") {
  // One fold (r' = c' = 4), T = 4 for every dataflow.
  // OS: stream T = 4, skew (4-1)+(4-1) = 6, drain R = 4 -> 14 (the paper's 2R+C+T-2);
  //     overlapped drain -> 10 (SCALE-Sim's RTL point, its code's T+R+C-2); v2 reports 10-1 = 9.
  const GemmTiming os = run(4, 4, 4, array(4, 4, Dataflow::kOS));
  CHECK(os.folds == 1);
  CHECK(os.terms.preload == 0);
  CHECK(os.terms.stream == 4);
  CHECK(os.terms.skew == 6);
  CHECK(os.terms.drain == 4);
  CHECK(os.compute_cycles == 14);
  CHECK(run(4, 4, 4, array(4, 4, Dataflow::kOS, false)).compute_cycles == 10);
  CHECK(run(4, 4, 4, array(4, 4, Dataflow::kOS), TimingMode::kScaleSimV2).compute_cycles == 9);
  // WS and IS: preload r' = 4, stream 4, skew (R-1)+(c'-1) = 6 -> 14 = 2R+C+T-2; v2 reports 13.
  for (Dataflow d : {Dataflow::kWS, Dataflow::kIS}) {
    const GemmTiming t = run(4, 4, 4, array(4, 4, d));
    CHECK(t.terms.preload == 4);
    CHECK(t.terms.stream == 4);
    CHECK(t.terms.skew == 6);
    CHECK(t.terms.drain == 0);
    CHECK(t.compute_cycles == 14);
    CHECK(run(4, 4, 4, array(4, 4, d), TimingMode::kScaleSimV2).compute_cycles == 13);
  }
  // SRAM counters (elements): every operand once, one fold. OS in v2 mode adds F*(R+C) = 8 writes.
  CHECK(os.sram_a_reads == 16);
  CHECK(os.sram_w_reads == 16);
  CHECK(os.sram_out_writes == 16);
  CHECK(run(4, 4, 4, array(4, 4, Dataflow::kOS), TimingMode::kScaleSimV2).sram_out_writes == 24);
  CHECK(os.mapping_efficiency == 1.0);
  CHECK(os.compute_utilization == doctest::Approx(64.0 / (16 * 14)));
}

TEST_CASE("edge folds: a 5x3x7 GEMM (M=5, N=3, K=7) on a 4x4 array") {
  // OS: rows M=5 -> folds of 4 and 1, columns N=3 -> one fold of 3, T = K = 7.
  //   fold (4,3): 7 + (3+2) + 4 = 16;  fold (1,3): 7 + (0+2) + 4 = 13;  total 29.
  //   overlapped drain: 12 + 9 = 21.  v2 pads both folds to 7+4+4-2 = 13: 26 - 1 = 25.
  const GemmTiming os = run(5, 3, 7, array(4, 4, Dataflow::kOS));
  CHECK(os.folds == 2);
  CHECK(os.compute_cycles == 29);
  CHECK(run(5, 3, 7, array(4, 4, Dataflow::kOS, false)).compute_cycles == 21);
  CHECK(run(5, 3, 7, array(4, 4, Dataflow::kOS), TimingMode::kScaleSimV2).compute_cycles == 25);
  CHECK(os.mapping_efficiency == doctest::Approx((4 * 3 + 1 * 3) / 32.0));
  // WS: rows K=7 -> 4 and 3, columns N=3 -> 3, T = M = 5.
  //   fold (4,3): 4 + 5 + 3 + 2 = 14;  fold (3,3): 3 + 5 + 3 + 2 = 13;  total 27.
  //   v2: 2*4+4+5-2 = 15 per fold: 30 - 1 = 29.
  const GemmTiming ws = run(5, 3, 7, array(4, 4, Dataflow::kWS));
  CHECK(ws.terms.preload == 7);
  CHECK(ws.terms.stream == 10);
  CHECK(ws.terms.skew == 10);
  CHECK(ws.compute_cycles == 27);
  CHECK(run(5, 3, 7, array(4, 4, Dataflow::kWS), TimingMode::kScaleSimV2).compute_cycles == 29);
  // two K folds: 15 psums written per fold, 15 read back once (read-modify-write)
  CHECK(ws.sram_out_writes == 30);
  CHECK(ws.sram_psum_reads == 15);
  // IS: rows K=7 -> 4 and 3, columns M=5 -> 4 and 1, T = N = 3.
  //   (4,4): 4+3+3+3 = 13; (4,1): 4+3+3+0 = 10; (3,4): 3+3+3+3 = 12; (3,1): 3+3+3+0 = 9; total 44.
  //   v2: 8+4+3-2 = 13 per fold: 52 - 1 = 51.
  CHECK(run(5, 3, 7, array(4, 4, Dataflow::kIS)).compute_cycles == 44);
  CHECK(run(5, 3, 7, array(4, 4, Dataflow::kIS), TimingMode::kScaleSimV2).compute_cycles == 51);
}

TEST_CASE("SCALE-Sim v2's reported totals for 197x64x192 on a 32x32 array") {
  // From SCALE-Sim v2 runs (scale-sim-v2 at 22f88b1, hwmodel/README.md "How it is validated"): compute-only
  // totals 3555 (OS), 3491 (WS), 6635 (IS). By hand: OS F = 7*2 = 14 folds of 192+62 = 254:
  // 3556 - 1; WS F = 6*2 = 12 folds of 64+32+197-2 = 291: 3492 - 1; IS F = 6*7 = 42 folds of
  // 64+32+64-2 = 158: 6636 - 1.
  CHECK(run(197, 64, 192, array(32, 32, Dataflow::kOS), TimingMode::kScaleSimV2).compute_cycles == 3555);
  CHECK(run(197, 64, 192, array(32, 32, Dataflow::kWS), TimingMode::kScaleSimV2).compute_cycles == 3491);
  CHECK(run(197, 64, 192, array(32, 32, Dataflow::kIS), TimingMode::kScaleSimV2).compute_cycles == 6635);
  // Our default: WS has only full folds, so it is v2 + 1 (no off-by-one): 3492. OS counts the
  // drain (R = 32) and its edge fold of 197 - 6*32 = 5 rows is shorter than v2's padded one:
  // 12 full folds of 192+62+32 = 286 and 2 edge folds of 192+(5-1)+(32-1)+32 = 259: 3950.
  CHECK(run(197, 64, 192, array(32, 32, Dataflow::kWS)).compute_cycles == 3492);
  CHECK(run(197, 64, 192, array(32, 32, Dataflow::kOS)).compute_cycles == 3950);
}

TEST_CASE("partial sums that do not fit split the streamed dimension into passes") {
  // WS with K = 64 on a 4x4 array: 16 K folds; a T x C tile of 32-bit psums is T*4*4 bytes.
  // With a 1 KiB ofmap buffer (half = 512 B) at most 32 rows fit: M = 100 -> 4 passes.
  const ArchConfig small = arch_with("vitality", {{"sa_general_rows", "4"},
                                                  {"sa_general_cols", "4"},
                                                  {"sram_kib_ofmap", "1"},
                                                  {"sram_port_bytes_per_cycle", "64"}});
  GemmOperands o;
  const GemmTiming t = systolic_gemm({100, 4, 64, 1}, small.sa_general, o, small);
  CHECK(t.passes == 4);
  CHECK(t.terms.stream == 16 * 100);     // unchanged: the passes split M
  CHECK(t.terms.preload == 4 * 16 * 4);  // the W tile reloads every pass
  CHECK(t.dram_psum_write_bytes == 0);   // nothing spills
  CHECK(t.sram_w_reads == 64 * 4 * 4);
  // SCALE-Sim v2 mode keeps one pass and spills the partial sums to DRAM instead
  const GemmTiming v2 = systolic_gemm({100, 4, 64, 1}, small.sa_general, o, small, TimingMode::kScaleSimV2);
  CHECK(v2.passes == 1);
  CHECK(v2.dram_psum_write_bytes == 100.0 * 4 * 15 * 4);
}

TEST_CASE("DRAM traffic from tiling: resident operands are read once, others once per reuse pass") {
  // WS, N = 256 on 32 columns: 8 column folds. A is M x K = 197 x 192 x 2 B = 75.6 KB.
  const ArchConfig big = load_arch_config("vitality");
  const ArchConfig tiny = arch_with("vitality", {{"sram_kib_ifmap", "16"}});  // half = 8 KiB < A
  GemmOperands o;
  const GemmTiming fits = systolic_gemm({197, 256, 192, 1}, big.sa_general, o, big);
  const GemmTiming refetch = systolic_gemm({197, 256, 192, 1}, tiny.sa_general, o, tiny);
  CHECK(fits.dram_a_bytes == 197.0 * 192 * 2);
  CHECK(refetch.dram_a_bytes == 197.0 * 192 * 2 * 8);
  CHECK(fits.dram_w_bytes == 192.0 * 256 * 2);  // each W tile once (stationary)
  CHECK(fits.dram_out_bytes == 197.0 * 256 * 2);
  o.a_in_dram = o.w_in_dram = o.out_to_dram = false;  // everything on chip: no DRAM at all
  CHECK(systolic_gemm({197, 256, 192, 1}, big.sa_general, o, big).dram_read_bytes() == 0);
}

TEST_CASE("bad GEMMs are errors naming the shape") {
  const ArchConfig a = load_arch_config("vitality");
  CHECK_THROWS_WITH_AS(systolic_gemm({0, 4, 4, 1}, a.sa_general, GemmOperands{}, a), doctest::Contains("M 0"), Error);
  CHECK_THROWS_AS(ceil_div(-1, 4), Error);
}
