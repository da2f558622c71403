// Resources and area of an accelerator (see area.h).
#include "hwmodel/area.h"

#include <cmath>

#include "core/error.h"

namespace vt::hw {

namespace {
std::string pe_text(int64_t rows, int64_t cols, int64_t bits, const char* what) {
  return str_cat(rows, " x ", cols, " ", bits, "-bit ", what);
}
}  // namespace

Resources resources(const ArchConfig& a, const AreaTable& t) {
  Resources r;
  auto part = [&](const std::string& name, const std::string& what, double count, double um2_each) {
    if (count <= 0) return;
    r.parts.push_back({name, what, count, count * um2_each * 1e-6});
    r.logic_mm2 += count * um2_each * 1e-6;
  };
  const int64_t sa = a.sa_general.rows * a.sa_general.cols;
  // SANGER's PEs are SA-General's, each with an exp unit and its muxes on top of the MAC
  const double sa_pe_um2 = t.mac16_um2 + (a.sparse_on_sa_general ? t.sparse_pe_extra_um2 : 0);
  part("sa_general",
       pe_text(a.sa_general.rows, a.sa_general.cols, a.operand_bits,
               a.sparse_on_sa_general ? "MAC PEs, also the sparse engine" : "MAC PEs"),
       double(sa), sa_pe_um2);
  part("sa_diag", pe_text(a.sa_diag.rows, a.sa_diag.cols, a.operand_bits, "MAC PEs"),
       double(a.sa_diag.rows * a.sa_diag.cols), t.mac16_um2);
  if (a.has_sparse_engine() && !a.sparse_on_sa_general)
    part("sparse_engine", pe_text(a.sparse_pe_rows, a.sparse_pe_cols, a.operand_bits, "sparse PEs"),
         double(a.sparse_pe_rows * a.sparse_pe_cols), t.mac16_um2 + t.sparse_pe_extra_um2);
  part("predictor", pe_text(a.predictor.rows, a.predictor.cols, a.predictor.operand_bits, "MAC PEs"),
       double(a.predictor.rows * a.predictor.cols), t.mac4_um2 * std::pow(a.predictor.operand_bits / 4.0, 2));
  for (auto [name, unit, um2] : {std::tuple{"accumulator", &a.accumulator, t.adder_lane_um2},
                                 {"divider", &a.divider, t.divider_lane_um2},
                                 {"adder", &a.adder, t.adder_lane_um2},
                                 {"softmax", &a.softmax, t.softmax_lane_um2},
                                 {"layernorm", &a.layernorm, t.layernorm_lane_um2},
                                 {"gelu", &a.gelu, t.gelu_lane_um2}})
    part(name, str_cat(unit->lanes, " lanes"), double(unit->lanes), um2);
  for (auto [name, kib] : {std::pair{"sram ifmap", a.sram_kib_ifmap},
                           {"sram filter", a.sram_kib_filter},
                           {"sram ofmap", a.sram_kib_ofmap}}) {
    const double mm2 = kib * t.sram_um2_per_kib.at(kib) * 1e-6;
    r.parts.push_back({name, str_cat(kib, " KiB"), kib, mm2});
    r.sram_mm2 += mm2;
  }
  r.pe = sa + a.sa_diag.rows * a.sa_diag.cols +
         (a.has_sparse_engine() && !a.sparse_on_sa_general ? a.sparse_pe_rows * a.sparse_pe_cols : 0);
  r.predictor_pe = a.predictor.rows * a.predictor.cols;
  r.predictor_bits = r.predictor_pe > 0 ? a.predictor.operand_bits : 0;
  r.sram_kib_ifmap = a.sram_kib_ifmap;
  r.sram_kib_filter = a.sram_kib_filter;
  r.sram_kib_ofmap = a.sram_kib_ofmap;
  r.dram_gbps = a.dram_bytes_per_s / 1e9;
  r.clock_hz = a.clock_hz;
  r.area_mm2 = r.logic_mm2 + r.sram_mm2;
  return r;
}

ArchConfig scale_to_area(const ArchConfig& a, const AreaTable& t, double target_mm2) {
  auto resized = [&](int64_t k) {
    ArchConfig b = a;
    if (a.sparse_on_sa_general) {  // more or fewer PE rows, each still sparse_pe_cols wide
      b.sa_general.rows = b.sparse_pe_rows = k;
    } else {  // a square SA-General; SA-Diag and the vector lanes follow its side
      b.sa_general.rows = b.sa_general.cols = k;
      if (b.sa_diag.present()) b.sa_diag.rows = k;
      for (VectorUnitConfig* u : {&b.accumulator, &b.divider, &b.adder, &b.softmax, &b.layernorm, &b.gelu})
        if (u->present()) u->lanes = k;
      if (b.has_sparse_engine()) {
        b.sparse_pe_rows = k;
      }
    }
    b.name = str_cat(a.name, " (iso-area: ", b.sa_general.rows, " x ", b.sa_general.cols, ")");
    return b;
  };
  int64_t best = 0;
  for (int64_t k = 1; k <= 4096; ++k) {
    if (resources(resized(k), t).area_mm2 > target_mm2) break;
    best = k;
  }
  VT_CHECK(best > 0, "iso-area: ", a.name, " does not fit in ", target_mm2, " mm^2 even with a 1-wide array");
  return resized(best);
}

}  // namespace vt::hw
