// Rendering a Report: the per-op table (unit, shape, MACs, cycles split into terms, SRAM and DRAM
// bytes, binding constraint, utilisation, energy), the per-layer table and the totals, as aligned
// text, CSV (one file per table, SCALE-Sim-like column names) or JSON (all three).
#pragma once

#include <string>

#include "hwmodel/model.h"

namespace vt::hw {

std::string op_shape(const HwOp& op);  // "M=197 N=576 K=192", "3 x 197 x 64", ...

std::string ops_csv(const Report& r);
std::string layers_csv(const Report& r);
std::string summary_csv(const Report& r);
std::string report_json(const Report& r);
// Aligned text: the totals, the per-layer table, and the per-op table when `ops` is set.
std::string report_text(const Report& r, bool ops);

}  // namespace vt::hw
