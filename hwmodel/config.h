// The accelerator's architecture config and the energy table: flat `key = value  # source` text
// files in the spirit of SCALE-Sim's .cfg, with the unit in every key name. Every key is required
// (no silent defaults); an unknown key, a missing key or an impossible value is an error naming
// the file, the line and the key. A unit that an accelerator lacks has `<unit>_lanes = 0`.
//
//   ArchConfig arch = load_arch_config("hwmodel/configs/vitality.cfg");
//   EnergyTable e = load_energy_table("hwmodel/configs/energy-45nm.cfg");
//
// Shipped configs (hwmodel/configs/): vitality, softmax-baseline, sanger; energy-45nm.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace vt::hw {

enum class Dataflow { kOS, kWS, kIS };  // output-, weight-, input-stationary
const char* dataflow_name(Dataflow d);

// How the model times a systolic GEMM: our default, or SCALE-Sim v2's reported numbers (its total
// one cycle short, its output-stationary SRAM write count inflated by F*(R+C), its free cold start).
enum class TimingMode { kDefault, kScaleSimV2 };

// A systolic array: `rows` x `cols` PEs. Output-stationary results leave through the columns in
// `rows` cycles after the last MAC (os_drain_explicit) or in the shadow of the next fold (not).
struct ArrayConfig {
  int64_t rows = 0, cols = 0;
  Dataflow dataflow = Dataflow::kWS;
  bool os_drain_explicit = true;
  int64_t operand_bits = 16;
  bool present() const { return rows > 0 && cols > 0; }
};

// An array of `lanes` identical element-wise units (one element per lane every `ii_cycles`,
// results `latency_cycles` after the first input).
struct VectorUnitConfig {
  int64_t lanes = 0, ii_cycles = 1, latency_cycles = 0;
  bool present() const { return lanes > 0; }
};

struct ArchConfig {
  std::string name, path;
  double clock_hz = 0;
  int64_t operand_bits = 0, psum_bits = 0;
  ArrayConfig sa_general, sa_diag, predictor;  // sa_diag: rows x 1; predictor: SANGER's 4-bit array
  // SRAM buffers of the GEMM arrays (ifmap = A, filter = W, ofmap = O and partial sums), with the
  // width of each buffer's port.
  double sram_kib_ifmap = 0, sram_kib_filter = 0, sram_kib_ofmap = 0;
  double sram_port_bytes_per_cycle = 0;
  double dram_bytes_per_s = 0;
  bool dram_shared_channel = true;  // false: one port per operand, as SCALE-Sim v2
  int64_t dram_latency_cycles = 0;  // added once per op that touches DRAM (its prologue)
  bool double_buffered = true;
  VectorUnitConfig accumulator, divider, adder, softmax, layernorm, gelu;
  int64_t softmax_passes = 3, layernorm_passes = 2;
  // SANGER's sparse engine: pe_rows rows of pe_cols PEs, each PE row serving one query row with
  // up to pe_cols kept scores per block (sparse_engine.h); exp in the PEs. With
  // sparse_on_sa_general it is SA-General's PE array reconfigured (SANGER's design): the two
  // logical units are one physical array, and their ops never overlap in time.
  int64_t sparse_pe_rows = 0, sparse_pe_cols = 0, sparse_exp_latency_cycles = 0;
  bool sparse_on_sa_general = false;
  int64_t pipeline_chunk_tokens = 0;           // 0: no intra-layer pipeline (ops run one after another)
  std::map<std::string, std::string> sources;  // key -> the comment written next to it

  double dram_bytes_per_cycle() const { return dram_bytes_per_s / clock_hz; }
  bool has_sparse_engine() const { return sparse_pe_rows > 0 && sparse_pe_cols > 0; }
};

// A quantity that depends on an SRAM's size (access energy, area per KiB): points (KiB, value) of
// a table (CACTI's), interpolated linearly in log(size) and log(value) between points and
// extrapolated along the end segments.
struct SizeCurve {
  std::vector<std::pair<double, double>> points;  // increasing KiB, positive values
  double at(double kib) const;
  double pj_per_byte(double kib) const { return at(kib) / 8.0; }  // energy curves are per 64-bit access
};

// Per-action energies in pJ (Timeloop/Accelergy style: counts of actions times a table).
struct EnergyTable {
  std::string source, path;
  int64_t operand_bits = 0;  // the width the arithmetic rows were chosen for
  double mac_pj = 0, predictor_mac_pj = 0, mul_pj = 0, add_pj = 0, div_pj = 0, exp_pj = 0;
  SizeCurve sram_read, sram_write;  // pJ per 64-bit access; each buffer priced at its own size
  double dram_pj_per_byte = 0;
  double leakage_mw = 0;
};

// The physical array a unit's ops run on: a unit's own, except SANGER's sparse engine when it is
// SA-General reconfigured, and SA-Diag's matrix-vector products on an accelerator without SA-Diag
// (they then run on SA-General). Ops on one physical array never overlap in time.
enum class Unit;
std::string physical_array(Unit u, const ArchConfig& arch);

// Area per unit at one technology node (area-45nm.cfg), for resources and iso-area comparisons.
struct AreaTable {
  std::string source, path;
  double mac16_um2 = 0, mac4_um2 = 0, sparse_pe_extra_um2 = 0;
  double adder_lane_um2 = 0, divider_lane_um2 = 0, exp_lane_um2 = 0, softmax_lane_um2 = 0, layernorm_lane_um2 = 0,
         gelu_lane_um2 = 0;
  SizeCurve sram_um2_per_kib;
};

// `text` is the file's content and `path` names it in errors.
ArchConfig parse_arch_config(const std::string& text, const std::string& path);
EnergyTable parse_energy_table(const std::string& text, const std::string& path);
AreaTable parse_area_table(const std::string& text, const std::string& path);
// `name_or_path`: a shipped config's name (vitality, softmax-baseline, sanger, energy-45nm; the
// files of hwmodel/configs/ are compiled into the program) or a path (anything with '/' or '.').
ArchConfig load_arch_config(const std::string& name_or_path);
// The same with some keys set to other values ("sa_general_rows" = "64"), validated as if the file
// said so; a key the config does not have is an error naming it.
ArchConfig load_arch_config(const std::string& name_or_path,
                            const std::vector<std::pair<std::string, std::string>>& set);
EnergyTable load_energy_table(const std::string& name_or_path);
AreaTable load_area_table(const std::string& name_or_path);

}  // namespace vt::hw
