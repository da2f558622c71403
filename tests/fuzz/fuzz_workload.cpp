// The GEMM workload table (SCALE-Sim's topology format); what parses is also timed, so the
// model's arithmetic sees the fuzzer's shapes too.
#include "fuzz_util.h"
#include "hwmodel/config.h"
#include "hwmodel/lower.h"
#include "hwmodel/model.h"
#include "hwmodel/shipped_configs.h"

VT_FUZZ_TARGET(workload) {
  try {
    std::vector<vt::hw::HwOp> ops = vt::hw::parse_gemm_workload(vt::fuzz::text(data, size), "fuzz.csv");
    if (ops.size() <= 4) {
      static const vt::hw::ArchConfig arch = vt::hw::load_arch_config("vitality");
      static const vt::hw::EnergyTable energy = vt::hw::load_energy_table("energy-45nm");
      for (auto& op : ops) {  // keep the arithmetic affordable: the model is O(1) per op anyway
        op.M = std::min<int64_t>(op.M, 1 << 20);
        op.batch = std::min<int64_t>(op.batch, 1 << 10);
      }
      vt::hw::evaluate(ops, arch, energy);
    }
  } catch (const vt::Error&) {
  }
  return 0;
}
