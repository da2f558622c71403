// `vitality hw`: the analytical accelerator model on a real forward pass. Traces DeiT at batch 1
// (random or checkpoint weights), lowers the trace to accelerator ops and prints per-op and
// per-layer tables and totals; --compare sets ViTALiTy (Taylor) beside the softmax baseline and
// SANGER (sparse); --sweep-tokens grows the image from 224 to 896 pixels; --workload times a
// SCALE-Sim-style GEMM table instead of a model.
#include <cmath>
#include <cstdio>
#include <optional>

#include "apps/args.h"
#include "apps/checkpointing.h"
#include "apps/commands.h"
#include "apps/hw.h"
#include "apps/plot.h"
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

namespace {

struct HwArgs {
  std::string model = "deit_tiny_patch16_224", attn = "taylor", arch, energy = "energy-45nm";
  std::string checkpoint, image, workload, format = "text", output, mode = "default";
  int input_size = 0, seed = 0, threads = 0;
  std::optional<double> sparse_threshold;  // default: the checkpoint's, else 0.002
  bool ops = false, compare = false, sweep = false;
};

// Builds the model (registry weights initialised from --seed, or a checkpoint) at an image size.
class ModelSource {
 public:
  explicit ModelSource(const HwArgs& a) : a_(a) {
    if (!a.checkpoint.empty()) {
      loaded_ = load_model(a.checkpoint, a.model, "");
      base_ = loaded_.model->cfg;
    } else {
      base_ = vit::deit_config(a.model);
    }
  }
  int64_t native_size() const { return base_.img_size; }
  int64_t patch() const { return base_.patch; }
  double threshold() const { return a_.sparse_threshold ? *a_.sparse_threshold : base_.mask.threshold; }

  std::unique_ptr<vit::Deit> build(int64_t size, const std::string& kind) const {
    vit::DeitConfig cfg = base_;
    cfg.img_size = size;
    cfg.attn = kind;
    if (a_.sparse_threshold) cfg.mask.threshold = static_cast<float>(*a_.sparse_threshold);
    auto m = std::make_unique<vit::Deit>(cfg);
    if (a_.checkpoint.empty()) {
      Generator gen(static_cast<uint64_t>(a_.seed));
      m->init(gen);
    } else {
      vit::load_pretrained(*m, nn::load_safetensors(a_.checkpoint));  // resizes pos_embed
    }
    return m;
  }

  // The input: --image through the checkpoint's (or ImageNet's) eval transform, else N(0, 1).
  Tensor input(int64_t size) const {
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

 private:
  const HwArgs& a_;
  LoadedModel loaded_;
  vit::DeitConfig base_;
};

struct Run {
  std::string label;
  std::string kind = "taylor";
  hw::Report report;
  double density = NAN;  // sparse kinds: kept fraction of the scores
};

Run run_model(const ModelSource& src, const HwArgs& a, int64_t size, const std::string& kind,
              const std::string& arch_name, const hw::EnergyTable& energy, hw::TimingMode mode) {
  std::unique_ptr<vit::Deit> m = src.build(size, kind);
  Run run;
  run.report = estimate_on_accelerator(*m, src.input(size), hw::load_arch_config(arch_name), energy, mode);
  run.report.workload =
      str_cat(a.checkpoint.empty() ? a.model : a.checkpoint, " at ", size, " px, ", kind, " attention");
  run.label = str_cat(run.report.arch_name, " (", kind, ")");
  run.kind = kind;
  const auto dens = m->densities();
  double s = 0;
  int64_t k = 0;
  for (const auto& layer : dens)
    for (double v : layer) {
      s += v;
      ++k;
    }
  if (k) run.density = s / k;
  return run;
}

void write_outputs(const std::string& dir, const std::string& stem, const hw::Report& r) {
  write_file_atomic(dir + "/" + stem + "ops.csv", hw::ops_csv(r));
  write_file_atomic(dir + "/" + stem + "layers.csv", hw::layers_csv(r));
  write_file_atomic(dir + "/" + stem + "summary.csv", hw::summary_csv(r));
  write_file_atomic(dir + "/" + stem + "report.json", hw::report_json(r));
}

void print_report(const hw::Report& r, const HwArgs& a) {
  if (a.format == "csv")
    std::printf("%s\n%s\n%s", hw::summary_csv(r).c_str(), hw::layers_csv(r).c_str(), hw::ops_csv(r).c_str());
  else if (a.format == "json") std::printf("%s", hw::report_json(r).c_str());
  else std::printf("%s", hw::report_text(r, a.ops).c_str());
}

// Latency and energy split into linear layers, attention core and the rest (norms, GELU, residuals).
std::vector<double> breakdown(const hw::Report& r, bool energy) {
  std::vector<double> v(3, 0);
  for (size_t i = 0; i < r.ops.size(); ++i) {
    const hw::HwOp& op = r.ops[i];
    const int cat = op.attention ? 1 : (op.kind == hw::OpKind::kGemm ? 0 : 2);
    v[static_cast<size_t>(cat)] += energy ? r.costs[i].energy_pj() * 1e-6 : r.attributed_cycles[i] / r.clock_hz * 1e6;
  }
  return v;
}

int run_compare(const ModelSource& src, const HwArgs& a, int64_t size, const hw::EnergyTable& energy,
                hw::TimingMode mode) {
  std::vector<Run> runs;
  // ViTALiTy's deployed kind first (the reference), then every other kind that deploys as itself,
  // each on its accelerator
  const vit::AttentionKindSpec& ref = vit::attention_kind("vitality").deployed();
  runs.push_back(run_model(src, a, size, ref.name, ref.accelerator, energy, mode));
  for (const vit::AttentionKindSpec& k : vit::attention_kinds())
    if (!k.inference_kind && &k != &ref) runs.push_back(run_model(src, a, size, k.name, k.accelerator, energy, mode));
  const hw::Report& v = runs[0].report;
  std::printf("compare: %s at %lld px, batch 1, energy table %s\n\n",
              a.checkpoint.empty() ? a.model.c_str() : a.checkpoint.c_str(), static_cast<long long>(size),
              energy.path.c_str());
  std::printf("%-27s %9s %9s %10s %10s   %s\n", "accelerator (attention)", "attn us", "attn uJ", "total us", "total uJ",
              "time and energy / ViTALiTy's: attention, end to end");
  std::string csv =
      "accelerator,attention,attention_us,attention_uj,total_us,total_uj,attention_time_ratio,"
      "e2e_time_ratio,attention_energy_ratio,e2e_energy_ratio,density\n";
  for (const Run& run : runs) {
    const hw::Report& r = run.report;
    const double att_us = r.attention_cycles / r.clock_hz * 1e6, tot_us = r.latency_s * 1e6;
    const double att_uj = r.attention_energy_pj * 1e-6, tot_uj = r.energy_pj() * 1e-6;
    const double t_att = r.attention_cycles / v.attention_cycles, t_e2e = r.cycles / v.cycles;
    const double e_att = r.attention_energy_pj / v.attention_energy_pj, e_e2e = r.energy_pj() / v.energy_pj();
    std::printf("%-27s %9.2f %9.3f %10.2f %10.3f   time %5.2fx %5.2fx   energy %5.2fx %5.2fx\n", run.label.c_str(),
                att_us, att_uj, tot_us, tot_uj, t_att, t_e2e, e_att, e_e2e);
    csv +=
        str_cat(r.arch_name, ",", run.kind, ",", att_us, ",", att_uj, ",", tot_us, ",", tot_uj, ",", t_att, ",", t_e2e,
                ",", e_att, ",", e_e2e, ",", std::isnan(run.density) ? std::string() : str_cat(run.density), "\n");
  }
  std::printf("\n(a ratio above 1 means ViTALiTy is that many times faster or more frugal)\n");
  if (!std::isnan(runs[2].density))
    std::printf("SANGER's masks keep %.1f%% of the scores (threshold %g%s)\n", 100 * runs[2].density, src.threshold(),
                a.checkpoint.empty() ? "; untrained weights: pass --checkpoint for the masks of a trained model" : "");
  if (!a.output.empty()) {
    const std::vector<std::string> cats = {"linear layers", "attention core", "norms, GELU, residuals"};
    std::vector<BarGroup> lat, en;
    for (const Run& run : runs) {
      lat.push_back({run.label, breakdown(run.report, false)});
      en.push_back({run.label, breakdown(run.report, true)});
    }
    write_file_atomic(a.output + "/compare.csv", csv);
    write_file_atomic(a.output + "/compare_latency.svg",
                      stacked_bar_svg(lat, cats, "Latency per image (batch 1)", "latency (us)"));
    write_file_atomic(a.output + "/compare_energy.svg",
                      stacked_bar_svg(en, cats, "Energy per image (batch 1)", "energy (uJ)"));
    for (size_t i = 0; i < runs.size(); ++i)
      write_outputs(a.output, str_cat(runs[i].report.arch_name, "_"), runs[i].report);
    std::printf("wrote %s/compare.csv, compare_latency.svg, compare_energy.svg and per-accelerator reports\n",
                a.output.c_str());
  }
  return 0;
}

int run_sweep(const ModelSource& src, const HwArgs& a, const hw::EnergyTable& energy, hw::TimingMode mode) {
  std::printf("%8s %8s %16s %16s %16s %16s %10s\n", "pixels", "tokens", "softmax attn us", "taylor attn us",
              "softmax attn uJ", "taylor attn uJ", "speedup");
  std::string csv =
      "pixels,tokens,softmax_attention_us,taylor_attention_us,softmax_attention_uj,taylor_attention_uj,speedup\n";
  Series s_lat("softmax (softmax-baseline)"), t_lat("taylor (vitality)");
  Series s_en = s_lat, t_en = t_lat;
  double prev_n = 0, prev_s = 0, prev_t = 0;
  std::string growth;
  for (int64_t px : {224, 448, 672, 896}) {
    const Run s = run_model(src, a, px, "softmax", vit::attention_kind("softmax").accelerator, energy, mode);
    const Run t = run_model(src, a, px, "taylor", vit::attention_kind("taylor").accelerator, energy, mode);
    const double n = double((px / src.patch()) * (px / src.patch()) + 1);
    const double su = s.report.attention_cycles / s.report.clock_hz * 1e6,
                 tu = t.report.attention_cycles / t.report.clock_hz * 1e6;
    const double se = s.report.attention_energy_pj * 1e-6, te = t.report.attention_energy_pj * 1e-6;
    std::printf("%8lld %8.0f %16.2f %16.2f %16.3f %16.3f %9.2fx\n", static_cast<long long>(px), n, su, tu, se, te,
                su / tu);
    csv += str_cat(px, ",", n, ",", su, ",", tu, ",", se, ",", te, ",", su / tu, "\n");
    for (auto [series, y] : {std::pair{&s_lat, su}, {&t_lat, tu}, {&s_en, se}, {&t_en, te}}) {
      series->x.push_back(n);
      series->y.push_back(y);
    }
    if (prev_n > 0)
      growth += str_cat("  ", prev_n, " -> ", n, " tokens: softmax x", std::lround(100 * su / prev_s) / 100.0,
                        " (exponent ", std::lround(100 * std::log(su / prev_s) / std::log(n / prev_n)) / 100.0,
                        "), taylor x", std::lround(100 * tu / prev_t) / 100.0, " (exponent ",
                        std::lround(100 * std::log(tu / prev_t) / std::log(n / prev_n)) / 100.0, ")\n");
    prev_n = n;
    prev_s = su;
    prev_t = tu;
  }
  std::printf("\nattention latency growth (exponent 1 = linear in tokens, 2 = quadratic):\n%s", growth.c_str());
  if (!a.output.empty()) {
    write_file_atomic(a.output + "/sweep.csv", csv);
    Panel lat("Attention latency", "tokens", "attention latency per image (us)"),
        en("Attention energy", "tokens", "attention energy per image (uJ)");
    lat.series = {s_lat, t_lat};
    en.series = {s_en, t_en};
    lat.log_x = lat.log_y = en.log_x = en.log_y = true;
    const std::vector<Panel> panels = {lat, en};
    write_file_atomic(a.output + "/sweep.svg",
                      line_chart_svg(panels, "Softmax vs Taylor attention as the image grows"));
    std::printf("wrote %s/sweep.csv and sweep.svg\n", a.output.c_str());
  }
  return 0;
}

}  // namespace

int run_hw(int argc, char** argv) {
  HwArgs a;
  ArgParser p(
      "hw",
      "Cycles, latency, traffic and energy of a DeiT forward pass on the ViTALiTy accelerator and its baselines.");
  p.add("model", &a.model, "registry model (deit_tiny_patch16_224, deit_small_patch16_224, deit_base_patch16_224)");
  add_attention_flag(p, &a.attn, "attention kind to trace");
  p.add("arch", &a.arch,
        "accelerator: vitality, softmax-baseline, sanger or a .cfg file (default: the one for --attn)");
  p.add("energy", &a.energy, "energy table: energy-45nm or a .cfg file");
  p.add("input-size", &a.input_size, "image size in pixels (default: the model's)");
  p.add("checkpoint", &a.checkpoint, "weights to trace (real sparse masks need trained weights)");
  p.add("image", &a.image, "an image to trace (default: a random N(0,1) input)");
  p.add("workload", &a.workload, "a GEMM table (name,M,N,K[,batch]) instead of a model");
  p.add_choice("format", &a.format, {"text", "csv", "json"}, "output format on stdout");
  p.add("output", &a.output, "directory for ops.csv, layers.csv, summary.csv, report.json (and charts)");
  p.add_choice("mode", &a.mode, {"default", "scalesim-v2"},
               "systolic timing: ours, or SCALE-Sim v2's reported numbers");
  p.add("sparse-threshold", &a.sparse_threshold, "sparse kinds: keep scores whose predicted probability exceeds this");
  p.add("seed", &a.seed, "seed of the random weights and input");
  p.add("threads", &a.threads, "threads for tracing the forward pass (0 = all cores)");
  p.add_flag("ops", &a.ops, "text format: also print the per-op table");
  p.add_flag("compare", &a.compare, "ViTALiTy (taylor) vs softmax baseline vs SANGER (sparse), with SVG bar charts");
  p.add_flag("sweep-tokens", &a.sweep, "softmax vs taylor attention from 224 to 896 pixels, with an SVG chart");
  if (!p.parse(argc, argv, 2)) return 0;
  if (a.compare && a.sweep) throw UsageError("--compare and --sweep-tokens are separate runs");
  if (a.sparse_threshold && !(*a.sparse_threshold >= 0 && *a.sparse_threshold < 1))
    throw UsageError("--sparse-threshold must lie in [0, 1)");
  if (a.input_size < 0) throw UsageError("--input-size must be positive");
  set_num_threads(a.threads > 0 ? a.threads : hardware_threads());
  const hw::TimingMode mode = a.mode == "scalesim-v2" ? hw::TimingMode::kScaleSimV2 : hw::TimingMode::kDefault;
  const hw::EnergyTable energy = hw::load_energy_table(a.energy);
  if (!a.output.empty()) make_directories(a.output);

  if (!a.workload.empty()) {
    hw::Report r = hw::evaluate(hw::load_gemm_workload(a.workload),
                                hw::load_arch_config(a.arch.empty() ? "vitality" : a.arch), energy, mode);
    r.workload = a.workload;
    print_report(r, a);
    if (!a.output.empty()) write_outputs(a.output, "", r);
    return 0;
  }
  const ModelSource src(a);
  const int64_t size = a.input_size > 0 ? a.input_size : src.native_size();
  if (a.compare) return run_compare(src, a, size, energy, mode);
  if (a.sweep) return run_sweep(src, a, energy, mode);
  const Run run =
      run_model(src, a, size, a.attn, a.arch.empty() ? vit::attention_kind(a.attn).accelerator : a.arch, energy, mode);
  print_report(run.report, a);
  if (!std::isnan(run.density) && a.format == "text")
    std::printf("\nmasks keep %.1f%% of the attention scores (threshold %g)\n", 100 * run.density, src.threshold());
  if (!a.output.empty()) {
    write_outputs(a.output, "", run.report);
    std::printf("wrote %s/ops.csv, layers.csv, summary.csv, report.json\n", a.output.c_str());
  }
  return 0;
}

}  // namespace vt::apps
