// The accelerator config and energy table parsers (hwmodel/config.h).
#include "fuzz_util.h"
#include "hwmodel/config.h"

VT_FUZZ_TARGET(hw_config) {
  const std::string text = vt::fuzz::text(data, size);
  try {
    vt::hw::parse_arch_config(text, "fuzz.cfg");
  } catch (const vt::Error&) {
  }
  try {
    vt::hw::parse_energy_table(text, "fuzz.cfg");
  } catch (const vt::Error&) {
  }
  return 0;
}
