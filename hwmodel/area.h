// What an accelerator is made of, and its area: every array's PEs (with their width), the
// predictor's PEs, the vector units' lanes, SRAM per buffer, DRAM bandwidth and clock, priced
// with an AreaTable (configs/area-45nm.cfg). The basis of side-by-side comparisons, iso-PE by
// default and iso-area on request (scale_to_area).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hwmodel/config.h"

namespace vt::hw {

struct Resources {
  struct Part {
    std::string name;  // "sa_general", "predictor", "divider", "sram ifmap", ...
    std::string what;  // "32 x 32 16-bit MAC PEs", "640 KiB", ...
    double count = 0;  // PEs, lanes or KiB
    double area_mm2 = 0;
  };
  std::vector<Part> parts;
  int64_t pe = 0;            // 16-bit MAC PEs of every array (SANGER's sparse engine counted once with SA-General)
  int64_t predictor_pe = 0;  // low-precision predictor PEs
  int64_t predictor_bits = 0;
  double sram_kib_ifmap = 0, sram_kib_filter = 0, sram_kib_ofmap = 0;
  double dram_gbps = 0, clock_hz = 0;
  double logic_mm2 = 0, sram_mm2 = 0, area_mm2 = 0;
};

Resources resources(const ArchConfig& arch, const AreaTable& area);

// `arch` with its main array grown or shrunk to the largest size whose total area is at most
// `target_mm2`: a square SA-General (P x P, SA-Diag and the vector lanes following P), or, for
// an accelerator whose sparse engine is SA-General (SANGER), more or fewer PE rows of the same
// width. Throws when even a 1-wide array does not fit.
ArchConfig scale_to_area(const ArchConfig& arch, const AreaTable& area, double target_mm2);

}  // namespace vt::hw
