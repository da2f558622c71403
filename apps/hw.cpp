// `vitality hw`: the analytical accelerator model on a real forward pass. Traces DeiT at batch 1
// (random or checkpoint weights), lowers the trace to accelerator ops and prints per-op and
// per-layer tables and totals; --workload times a SCALE-Sim-style GEMM table instead of a model.
// Comparisons and sweeps are in hw_compare.cpp.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <optional>

#include "apps/args.h"
#include "apps/checkpointing.h"
#include "apps/commands.h"
#include "apps/hw.h"
#include "apps/hw_run.h"
#include "apps/preflight.h"
#include "apps/train_args.h"
#include "core/autograd.h"
#include "core/fileio.h"
#include "core/ops.h"
#include "core/rng.h"
#include "core/threads.h"
#include "core/trace.h"
#include "data/image.h"
#include "data/transforms.h"
#include "hwmodel/lower.h"
#include "hwmodel/model.h"
#include "hwmodel/report.h"
#include "hwmodel/scalesim.h"
#include "vit/pretrained.h"

namespace vt::apps {

hw::Report estimate_on_accelerator(vit::Deit& model, const Tensor& image, const hw::ArchConfig& arch,
                                   const hw::EnergyTable& energy, hw::TimingMode mode) {
  VT_CHECK(image.dim() == 4 && image.size(0) == 1, "estimate_on_accelerator: one image (1, C, S, S), got ", image.dim(),
           " dims");
  Trace trace;
  {
    NoGradGuard no_grad;
    TraceSession on(trace);
    model.forward(image, nn::Context{});
  }
  return hw::evaluate(hw::lower_trace(trace.records), arch, energy, mode);
}

namespace hwrun {

// The density a comparison uses when neither --density nor --checkpoint says otherwise, with its
// source: ViT attention maps keep about 10% of their pairs at <= 1.5% accuracy loss, as ViTCoD
// (the same lab as ViTALiTy) reports; NLP models under SANGER's dynamic prediction keep more.
constexpr double kDefaultDensity = 0.1;

DensityChoice density_choice(const HwArgs& a, bool comparing) {
  DensityChoice c;
  if (a.density) {
    c.synthetic = hw::DensitySpec{*a.density, a.density_spread, static_cast<uint64_t>(a.seed)};
    c.source = str_cat("synthetic masks of density ", *a.density, " (--density), row spread ", a.density_spread);
  } else if (comparing && a.checkpoint.empty()) {
    c.synthetic = hw::DensitySpec{kDefaultDensity, a.density_spread, static_cast<uint64_t>(a.seed)};
    c.source = str_cat("synthetic masks of density ", kDefaultDensity,
                       ": ViTCoD (Dass et al., HPCA 2023) prunes ViT attention maps to 10% of their pairs at <= 1.5% "
                       "accuracy loss, a density favourable to SANGER (row spread ",
                       a.density_spread, "; --density, --checkpoint or --sweep-density for others)");
  } else {
    c.source = a.checkpoint.empty()
                   ? "the masks SANGER's predictor keeps on the random-weight model (--density for others)"
                   : str_cat("the masks SANGER's predictor keeps on ", a.checkpoint);
  }
  return c;
}

ModelSource::ModelSource(const HwArgs& a) : a_(a) {
  if (!a.checkpoint.empty()) {
    loaded_ = load_model(a.checkpoint, a.model, "");
    base_ = loaded_.model->cfg;
  } else {
    base_ = vit::deit_config(a.model);
  }
}

std::string ModelSource::name() const { return a_.checkpoint.empty() ? a_.model : a_.checkpoint; }

double ModelSource::threshold() const { return a_.sparse_threshold ? *a_.sparse_threshold : base_.mask.threshold; }

std::unique_ptr<vit::Deit> ModelSource::build(int64_t size, const std::string& kind, bool keep_masks_cheap) const {
  vit::DeitConfig cfg = base_;
  cfg.img_size = size;
  cfg.attn = kind;
  if (a_.sparse_threshold) cfg.mask.threshold = static_cast<float>(*a_.sparse_threshold);
  if (keep_masks_cheap) cfg.mask.threshold = 1.f;  // each row's largest score only
  auto m = std::make_unique<vit::Deit>(cfg);
  if (a_.checkpoint.empty()) {
    Generator gen(static_cast<uint64_t>(a_.seed));
    m->init(gen);
  } else {
    vit::load_pretrained(*m, nn::load_safetensors(a_.checkpoint));  // resizes pos_embed
  }
  return m;
}

Tensor ModelSource::input(int64_t size) const {
  const int64_t C = base_.in_chans;
  if (a_.image.empty()) {
    Generator gen(static_cast<uint64_t>(a_.seed) + 1);
    return randn({1, C, size, size}, &gen);
  }
  data::DecodeResult r = data::decode_image(read_file(a_.image, uint64_t{1} << 30));
  if (!r.image) throw Error(str_cat(a_.image, ": ", r.error));
  data::TransformConfig t = a_.checkpoint.empty() ? data::TransformConfig{} : loaded_.transform;
  t.input_size = static_cast<int>(size);
  t.in_chans = static_cast<int>(C);
  Tensor x = empty({1, C, size, size});
  data::eval_transform(*r.image, t, x.data());
  return x;
}

Workload trace_workload(const ModelSource& src, int64_t size, const std::string& kind, bool synthetic_masks) {
  std::unique_ptr<vit::Deit> m = src.build(size, kind, synthetic_masks && vit::attention_kind(kind).uses_mask);
  Trace trace;
  {
    NoGradGuard no_grad;
    TraceSession on(trace);
    m->forward(src.input(size), nn::Context{});
  }
  Workload w;
  w.kind = kind;
  w.ops = hw::lower_trace(trace.records);
  w.traced_density = hw::mean_mask_density(w.ops);
  w.description = str_cat(src.name(), " at ", size, " px, ", kind, " attention");
  return w;
}

hw::Report evaluate_on(const Workload& w, const hw::ArchConfig& arch, const hw::EnergyTable& energy,
                       hw::TimingMode mode, const std::optional<hw::DensitySpec>& density) {
  std::vector<hw::HwOp> ops = w.ops;
  if (density) hw::synthesize_masks(ops, *density);
  hw::Report r = hw::evaluate(std::move(ops), arch, energy, mode);
  r.workload = w.description;
  return r;
}

Breakdown breakdown(const hw::Report& r) {
  const double us = 1e6 / r.clock_hz, uj = 1e-6;
  const hw::PartTotals core = hw::part_totals(r, [](const hw::HwOp& op) { return op.attention; });
  const hw::PartTotals layer =
      hw::part_totals(r, [](const hw::HwOp& op) { return op.name.find(".attn.") != std::string::npos; });
  return {core.cycles * us,     core.energy_pj * uj, layer.cycles * us,
          layer.energy_pj * uj, r.latency_s * 1e6,   r.energy_pj() * uj};
}

void write_report_files(const std::string& dir, const std::string& stem, const hw::Report& r) {
  write_file_atomic(dir + "/" + stem + "ops.csv", hw::ops_csv(r));
  write_file_atomic(dir + "/" + stem + "layers.csv", hw::layers_csv(r));
  write_file_atomic(dir + "/" + stem + "summary.csv", hw::summary_csv(r));
  write_file_atomic(dir + "/" + stem + "report.json", hw::report_json(r));
}

// SCALE-Sim v2's three reports (hwmodel/scalesim.h), for --mode scalesim-v2 --output DIR.
void write_scalesim_reports(const std::string& dir, const hw::Report& r, const hw::ArchConfig& arch) {
  const hw::ScaleSimReports s = hw::scalesim_reports(r, arch);
  write_file_atomic(dir + "/COMPUTE_REPORT.csv", s.compute);
  write_file_atomic(dir + "/BANDWIDTH_REPORT.csv", s.bandwidth);
  write_file_atomic(dir + "/DETAILED_ACCESS_REPORT.csv", s.detail);
  std::printf("wrote %s/COMPUTE_REPORT.csv, BANDWIDTH_REPORT.csv, DETAILED_ACCESS_REPORT.csv (SCALE-Sim v2's)\n",
              dir.c_str());
}

std::string format_number(double v, int decimals) {
  if (std::isnan(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

namespace {

void print_report(const hw::Report& r, const HwArgs& a) {
  if (a.format == "csv")
    std::printf("%s\n%s\n%s", hw::summary_csv(r).c_str(), hw::layers_csv(r).c_str(), hw::ops_csv(r).c_str());
  else if (a.format == "json") std::printf("%s", hw::report_json(r).c_str());
  else std::printf("%s", hw::report_text(r, a.ops).c_str());
}

// One model, one attention kind, one accelerator (--arch, else the kind's own).
int run_single(const ModelSource& src, const HwArgs& a, int64_t size, const hw::EnergyTable& energy,
               hw::TimingMode mode) {
  const vit::AttentionKindSpec& kind = vit::attention_kind(a.attn);
  const DensityChoice dens = density_choice(a, /*comparing=*/false);
  const Workload w = trace_workload(src, size, a.attn, dens.synthetic.has_value());
  if (dens.synthetic && std::isnan(w.traced_density))
    throw UsageError(
        str_cat("--density: ", a.attn, " attention is estimated as ", kind.deployed().name, ", which uses no mask"));
  const hw::Report r =
      evaluate_on(w, hw::load_arch_config(a.arch.empty() ? kind.accelerator : a.arch), energy, mode, dens.synthetic);
  print_report(r, a);
  const double density = hw::mean_mask_density(r.ops);
  if (!std::isnan(density) && a.format == "text")
    std::printf("\nmasks keep %.1f%% of the attention scores: %s\n", 100 * density, dens.source.c_str());
  if (!a.output.empty()) {
    write_report_files(a.output, "", r);
    std::printf("wrote %s/ops.csv, layers.csv, summary.csv, report.json\n", a.output.c_str());
    if (mode == hw::TimingMode::kScaleSimV2)  // the model's GEMMs, one report row each
      write_scalesim_reports(a.output, r, hw::load_arch_config(a.arch.empty() ? kind.accelerator : a.arch));
  }
  return 0;
}

}  // namespace
}  // namespace hwrun

int run_hw(int argc, char** argv) {
  hwrun::HwArgs a;
  ArgParser p(
      "hw",
      "Cycles, latency, traffic and energy of a DeiT forward pass on the ViTALiTy accelerator and its baselines.");
  p.group("workload");
  p.add("model", &a.model, "registry model (deit_tiny_patch16_224, deit_small_patch16_224, deit_base_patch16_224)");
  p.value_hint("model", "NAME");
  add_attention_flag(p, &a.attn, "attention kind to trace");
  p.group("accelerator");
  p.add("arch", &a.arch, "accelerator: vitality, softmax-baseline, sanger, or a .cfg file (ours or SCALE-Sim v2's)");
  p.value_hint("arch", "NAME|FILE");
  p.default_text("arch", "the attention kind's own");
  p.add("energy", &a.energy, "energy table: energy-45nm or a .cfg file");
  p.value_hint("energy", "NAME|FILE");
  p.add("area", &a.area, "area table: area-45nm or a .cfg file (resources and --iso area)");
  p.value_hint("area", "NAME|FILE");
  p.group("workload");
  p.add("input-size", &a.input_size, "image size in pixels");
  p.default_text("input-size", "the model's");
  p.add("checkpoint", &a.checkpoint, "weights to trace (trained masks for the sparse kinds)");
  p.value_hint("checkpoint", "FILE");
  p.add("image", &a.image, "an image to trace");
  p.default_text("image", "a random N(0,1) input");
  p.value_hint("image", "FILE");
  p.add("workload", &a.workload, "a SCALE-Sim topology file (GEMMs or convolutions) instead of a model");
  p.value_hint("workload", "FILE");
  p.group("output");
  p.add_choice("format", &a.format, {"text", "csv", "json"}, "output format on stdout");
  p.add("output", &a.output, "directory for ops.csv, layers.csv, summary.csv, report.json (and charts)");
  p.value_hint("output", "DIR");
  p.group("accelerator");
  p.add_choice("mode", &a.mode, {"default", "scalesim-v2"},
               "systolic timing: ours, or SCALE-Sim v2's reported numbers");
  p.group("masks (sparse kinds)");
  p.add("sparse-threshold", &a.sparse_threshold, "masked kinds: keep scores whose predicted probability exceeds this");
  p.default_text("sparse-threshold", "the checkpoint's, else 0.002");
  p.add("density", &a.density, "masked kinds: synthetic masks of this mean density in (0, 1]");
  p.default_text("density", "the traced masks; --compare: 0.1");
  p.add("density-spread", &a.density_spread, "sigma of the synthetic masks' log-normal spread of kept entries per row");
  p.add("seed", &a.seed, "seed of the random weights, input and synthetic masks");
  p.group("run");
  p.add("threads", &a.threads, "threads for tracing the forward pass");
  p.default_text("threads", "all cores");
  p.group("output");
  p.add_flag("ops", &a.ops, "text format: also print the per-op table");
  p.group("comparisons");
  p.add_flag("compare", &a.compare,
             "ViTALiTy (taylor) vs softmax baseline vs SANGER (sparse): resources, shares, ratios");
  p.add_choice("iso", &a.iso, {"pe", "area"},
               "--compare: the shipped configs (equal PEs and SRAM), or baselines scaled to ViTALiTy's area");
  p.add_flag("sweep-tokens", &a.sweep_tokens, "the compared accelerators from 224 to 896 pixels, with an SVG chart");
  p.add_repeated("sweep", &a.sweeps,
                 "a design-space grid: KEY=V1,V2,... over a config key (sa_general_rows, sram_kib_ifmap, "
                 "dram_bytes_per_s, clock_hz, predictor_rows, ...) or input_size, model, attn, density");
  p.value_hint("sweep", "KEY=V1,V2");
  p.add_flag("sweep-density", &a.sweep_density,
             "SANGER against ViTALiTy over mask densities 0.02 to 1, with the break-even point");
  if (!p.parse(argc, argv, 2)) return 0;
  if (int(a.compare) + int(a.sweep_tokens) + int(a.sweep_density) + int(!a.sweeps.empty()) > 1)
    throw UsageError("--compare, --sweep, --sweep-tokens and --sweep-density are separate runs");
  if (a.sparse_threshold && !(*a.sparse_threshold >= 0 && *a.sparse_threshold < 1))
    throw UsageError("--sparse-threshold must lie in [0, 1)");
  if (a.density && !(*a.density > 0 && *a.density <= 1))
    throw UsageError(str_cat("--density ", *a.density, " must lie in (0, 1]"));
  if (!(a.density_spread >= 0)) throw UsageError("--density-spread must not be negative");
  if (a.input_size < 0) throw UsageError("--input-size must be positive");
  if (p.was_set("iso") && !a.compare) throw UsageError("--iso applies to --compare");
  if (a.sweep_density && a.density) throw UsageError("--sweep-density chooses the densities itself; drop --density");
  if (!a.checkpoint.empty()) require_file("checkpoint", a.checkpoint);
  if (!a.image.empty()) require_file("image", a.image);
  if (!a.workload.empty()) require_file("workload", a.workload);
  if (!a.output.empty()) require_writable_dir("output", a.output);
  set_num_threads(a.threads > 0 ? a.threads : hardware_threads());
  const hw::TimingMode mode = a.mode == "scalesim-v2" ? hw::TimingMode::kScaleSimV2 : hw::TimingMode::kDefault;
  const hw::EnergyTable energy = hw::load_energy_table(a.energy);
  if (!a.output.empty()) make_directories(a.output);

  // A SCALE-Sim .cfg may name its topology file ([network_presets] TopologyCsvLoc): without
  // --workload it is the workload, found as SCALE-Sim finds it (from the current directory) or
  // next to the .cfg.
  std::string workload = a.workload;
  if (workload.empty() && !a.arch.empty() && a.arch.find_first_of("/.") != std::string::npos) {
    const std::string text = read_file(a.arch);
    const std::string topo = hw::is_scalesim_config(text) ? hw::parse_scalesim_config(text, a.arch).topology : "";
    if (!topo.empty()) {
      const std::string beside = a.arch.substr(0, a.arch.find_last_of('/') + 1) + topo;
      workload = ::access(topo.c_str(), R_OK) == 0 || topo[0] == '/' ? topo : beside;
      require_file("arch's TopologyCsvLoc", workload);
    }
  }
  if (!workload.empty()) {
    const hw::ArchConfig arch = hw::load_arch_config(a.arch.empty() ? "vitality" : a.arch);
    hw::Report r = hw::evaluate(hw::load_gemm_workload(workload), arch, energy, mode);
    r.workload = workload;
    hwrun::print_report(r, a);
    if (!a.output.empty()) {
      hwrun::write_report_files(a.output, "", r);
      if (mode == hw::TimingMode::kScaleSimV2) hwrun::write_scalesim_reports(a.output, r, arch);
    }
    return 0;
  }
  if (!a.sweeps.empty()) return hwrun::run_sweep(a, energy, mode);  // builds a model source per swept model
  const hwrun::ModelSource src(a);
  const int64_t size = a.input_size > 0 ? a.input_size : src.native_size();
  if (a.compare) return hwrun::run_compare(src, a, size, energy, mode);
  if (a.sweep_tokens) return hwrun::run_sweep_tokens(src, a, energy, mode);
  if (a.sweep_density) return hwrun::run_sweep_density(src, a, size, energy, mode);
  return hwrun::run_single(src, a, size, energy, mode);
}

}  // namespace vt::apps
