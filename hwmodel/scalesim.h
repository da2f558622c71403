// SCALE-Sim v2's files, for people who use that tool: its .cfg in, its three reports out.
//
// The .cfg (INI): [general] run_name; [architecture_presets] ArrayHeight, ArrayWidth,
// IfmapSramSzkB, FilterSramSzkB, OfmapSramSzkB, IfmapOffset, FilterOffset, OfmapOffset,
// Bandwidth, Dataflow (os|ws|is), optionally MemoryBanks (read and ignored, as SCALE-Sim v2
// does); [run_presets] InterfaceBandwidth (CALC: SCALE-Sim sizes the DRAM interface so nothing
// stalls; USER: Bandwidth words per cycle on each operand's port); optionally [network_presets]
// TopologyCsvLoc. It becomes an accelerator with one systolic array (SA-General) of 1-byte words,
// no vector units, 1 GHz (SCALE-Sim has no clock: cycles are what it reports), the three SRAM
// buffers, and one DRAM port per operand. Topology files: lower.h, parse_gemm_workload.
//
// The reports (`vitality hw --mode scalesim-v2 --output DIR`): COMPUTE_REPORT.csv,
// BANDWIDTH_REPORT.csv and DETAILED_ACCESS_REPORT.csv with SCALE-Sim v2's headers, columns, row
// layout and number formatting (Python's str() of its ints and floats), one row per GEMM. The
// columns that come from SCALE-Sim's trace-driven memory simulation (stall cycles under USER
// bandwidth, SRAM and DRAM start and stop cycles, DRAM access counts and bandwidths) are our
// model's values, which differ; hwmodel/README.md lists them and why.
#pragma once

#include <string>
#include <vector>

#include "hwmodel/config.h"
#include "hwmodel/model.h"
#include "hwmodel/systolic.h"

namespace vt::hw {

// The text is a SCALE-Sim .cfg: its first line that is neither blank nor a comment opens an INI
// section ("[general]").
bool is_scalesim_config(const std::string& text);

struct ScaleSimConfig {
  std::string run_name;
  std::string topology;         // [network_presets] TopologyCsvLoc, "" when absent
  bool user_bandwidth = false;  // InterfaceBandwidth USER (else CALC)
  int64_t bandwidth_words = 0;  // USER: words per cycle per operand port
  ArchConfig arch;
};
// Errors name the file, the line or section and the key.
ScaleSimConfig parse_scalesim_config(const std::string& text, const std::string& path);

// What SCALE-Sim v2's compute model reports for a GEMM besides its cycles: the mean over folds of
// each fold's mapping efficiency (r'c' / RC) and compute utilisation (r'c'T / (RC x the fold's
// cycles)), summed in its fold order (column folds outer), so the reported digits agree.
struct ScaleSimFoldAverages {
  double mapping_efficiency = 0, compute_utilization = 0;
};
ScaleSimFoldAverages scalesim_fold_averages(const GemmShape& g, const ArrayConfig& array);

struct ScaleSimReports {
  std::string compute, bandwidth, detail;  // the three files' contents
};
// One row per GEMM op of `r` (a --workload run or a traced model's GEMMs), in order.
ScaleSimReports scalesim_reports(const Report& r, const ArchConfig& arch);

// Python's str() of a float: the shortest digits that read back exactly, "32003.0" for whole
// numbers, exponent notation below 1e-4 and from 1e16 ("1e-05", "1.5e+16").
std::string python_float(double v);

}  // namespace vt::hw
