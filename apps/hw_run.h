// Internal to `vitality hw`: the settings, the model a run traces, and the traced workloads that
// hw.cpp (single runs, workload files) and hw_compare.cpp (comparisons, sweeps) share.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apps/checkpointing.h"
#include "hwmodel/area.h"
#include "hwmodel/config.h"
#include "hwmodel/density.h"
#include "hwmodel/model.h"
#include "vit/deit.h"

namespace vt::apps::hwrun {

struct HwArgs {
  std::string model = "deit_tiny_patch16_224", attn = "taylor", arch, energy = "energy-45nm", area = "area-45nm";
  std::string checkpoint, image, workload, format = "text", output, mode = "default", iso = "pe";
  int input_size = 0, seed = 0, threads = 0;
  std::optional<double> sparse_threshold;  // default: the checkpoint's, else 0.002
  std::optional<double> density;           // synthetic masks of this mean density
  double density_spread = 0.5;
  bool ops = false, compare = false, sweep_tokens = false, sweep_density = false;
  std::vector<std::string> sweeps;  // --sweep KEY=V1,V2,... (hw_sweep.cpp)
};

// Where the masks of a sparse kind come from, said in every comparison.
struct DensityChoice {
  std::optional<hw::DensitySpec> synthetic;  // none: the traced model's own masks
  std::string source;                        // one sentence
};
// --density, else (without --checkpoint) the comparison's sourced default, else the model's masks.
DensityChoice density_choice(const HwArgs& a, bool comparing);

// The model a run traces: the registry's (weights from --seed) or a checkpoint's, at any size.
class ModelSource {
 public:
  explicit ModelSource(const HwArgs& a);
  int64_t native_size() const { return base_.img_size; }
  int64_t patch() const { return base_.patch; }
  std::string name() const;
  double threshold() const;
  // `keep_masks_cheap`: the masks will be replaced by synthetic ones, so the traced kernel keeps
  // only each row's largest score (the predictor still runs in full).
  std::unique_ptr<vit::Deit> build(int64_t size, const std::string& kind, bool keep_masks_cheap = false) const;
  Tensor input(int64_t size) const;  // --image through the eval transform, else N(0, 1)

 private:
  const HwArgs& a_;
  LoadedModel loaded_;
  vit::DeitConfig base_;
};

// A traced forward pass lowered to accelerator ops, with what it came from.
struct Workload {
  std::string kind;  // the attention kind traced
  std::vector<hw::HwOp> ops;
  double traced_density = NAN;  // of the model's own masks (sparse kinds)
  std::string description;      // "deit_tiny_patch16_224 at 224 px, taylor attention"
};
Workload trace_workload(const ModelSource& src, int64_t size, const std::string& kind, bool synthetic_masks);

// The workload on `arch`, with synthetic masks of `density` when given.
hw::Report evaluate_on(const Workload& w, const hw::ArchConfig& arch, const hw::EnergyTable& energy,
                       hw::TimingMode mode, const std::optional<hw::DensitySpec>& density);

// Latency and dynamic energy of the attention core (the kernel's steps), the attention layer as
// SANGER's evaluation counts it (qkv, core, output projection), and the whole model.
struct Breakdown {
  double attention_us = 0, attention_uj = 0, layer_us = 0, layer_uj = 0, total_us = 0, total_uj = 0;
};
Breakdown breakdown(const hw::Report& r);

void write_report_files(const std::string& dir, const std::string& stem, const hw::Report& r);
// --sweep: the grid of every combination of the swept keys' values (hw_sweep.cpp).
int run_sweep(const HwArgs& a, const hw::EnergyTable& energy, hw::TimingMode mode);
// SCALE-Sim v2's COMPUTE_REPORT.csv, BANDWIDTH_REPORT.csv and DETAILED_ACCESS_REPORT.csv in `dir`.
void write_scalesim_reports(const std::string& dir, const hw::Report& r, const hw::ArchConfig& arch);
std::string format_number(double v, int decimals);  // fixed decimals, "-" for NaN

int run_compare(const ModelSource& src, const HwArgs& a, int64_t size, const hw::EnergyTable& energy,
                hw::TimingMode mode);
int run_sweep_tokens(const ModelSource& src, const HwArgs& a, const hw::EnergyTable& energy, hw::TimingMode mode);
int run_sweep_density(const ModelSource& src, const HwArgs& a, int64_t size, const hw::EnergyTable& energy,
                      hw::TimingMode mode);

}  // namespace vt::apps::hwrun
