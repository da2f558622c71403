// `vitality hw --compare`, `--sweep-density` and `--sweep-tokens`: ViTALiTy's accelerator beside
// its baselines, each running the attention kind it was built for, on the same model and input.
// Every comparison states its resources (PEs, SRAM, bandwidth, clock, area), where SANGER's masks
// come from, attention's share of each design's latency and energy, and the end-to-end bound
// that attention alone allows (hwmodel/README.md, "How to read a comparison").
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "apps/chart.h"
#include "apps/hw_run.h"
#include "core/fileio.h"
#include "core/json.h"
#include "hwmodel/report.h"
#include "vit/attention_registry.h"

namespace vt::apps::hwrun {

namespace {

// The compared designs: ViTALiTy's deployed kind on its accelerator first (the reference), then
// every other kind that deploys as itself, each on its own accelerator.
std::vector<const vit::AttentionKindSpec*> compared_kinds() {
  const vit::AttentionKindSpec& ref = vit::attention_kind("vitality").deployed();
  std::vector<const vit::AttentionKindSpec*> out = {&ref};
  for (const vit::AttentionKindSpec& k : vit::attention_kinds())
    if (!k.inference_kind && &k != &ref) out.push_back(&k);
  return out;
}

struct Entry {
  const vit::AttentionKindSpec* kind = nullptr;
  hw::ArchConfig arch;
  hw::Resources res;
  hw::Report report;
  Breakdown b;
  double density = 1;  // dense kinds compute every pair
  std::string density_source = "every pair (dense attention)";
};

double share(double part, double whole) { return whole > 0 ? part / whole : NAN; }

// Attention's share of the end-to-end latency, and the largest end-to-end speedup over this
// design that any attention, however fast, could give (attention's time taken to zero).
double amdahl_bound(const Entry& e) { return 1.0 / (1.0 - share(e.b.attention_us, e.b.total_us)); }

// The density at which SANGER's attention costs what ViTALiTy's does (latency or energy), by
// bisection over synthetic masks; NaN when SANGER is cheaper (or dearer) at every density.
double break_even(const Workload& w, const hw::ArchConfig& arch, const hw::EnergyTable& energy, hw::TimingMode mode,
                  hw::DensitySpec spec, int64_t n, double target, bool energy_axis) {
  auto cost = [&](double d) {
    spec.density = d;
    const Breakdown b = breakdown(evaluate_on(w, arch, energy, mode, spec));
    return energy_axis ? b.attention_uj : b.attention_us;
  };
  double lo = 1.0 / double(n), hi = 1.0;
  if (cost(lo) >= target || cost(hi) <= target) return NAN;
  for (int i = 0; i < 30 && hi - lo > 1e-4; ++i) {
    const double mid = std::sqrt(lo * hi);  // densities span decades: bisect in log space
    (cost(mid) < target ? lo : hi) = mid;
  }
  return std::sqrt(lo * hi);
}

Json resources_json(const hw::Resources& r) {
  Json j = Json::object();
  j.set("pe", r.pe);
  j.set("predictor_pe", r.predictor_pe);
  j.set("predictor_bits", r.predictor_bits);
  j.set("sram_kib", r.sram_kib_ifmap + r.sram_kib_filter + r.sram_kib_ofmap);
  Json per = Json::object();
  per.set("ifmap", r.sram_kib_ifmap);
  per.set("filter", r.sram_kib_filter);
  per.set("ofmap", r.sram_kib_ofmap);
  j.set("sram_kib_per_buffer", per);
  j.set("dram_gbps", r.dram_gbps);
  j.set("clock_hz", r.clock_hz);
  j.set("area_mm2", r.area_mm2);
  j.set("logic_mm2", r.logic_mm2);
  j.set("sram_mm2", r.sram_mm2);
  Json parts = Json::array();
  for (const hw::Resources::Part& p : r.parts) {
    Json o = Json::object();
    o.set("name", p.name);
    o.set("what", p.what);
    o.set("count", p.count);
    o.set("area_mm2", p.area_mm2);
    parts.push(o);
  }
  j.set("parts", parts);
  return j;
}

// Width of the first column: the longest label.
int label_width(const std::vector<Entry>& entries, bool with_kind) {
  size_t w = 24;
  for (const Entry& e : entries)
    w = std::max(w, e.arch.name.size() + (with_kind ? std::string(e.kind->name).size() + 3 : 0));
  return static_cast<int>(w);
}

std::string resources_text(const std::vector<Entry>& entries) {
  const int w = label_width(entries, false);
  std::string out = str_printf("%-*s %8s %14s %10s %9s %9s %9s\n", w, "accelerator", "MAC PEs", "predictor PEs",
                               "SRAM KiB", "DRAM GB/s", "clock GHz", "area mm2");
  for (const Entry& e : entries) {
    const hw::Resources& r = e.res;
    const std::string pred = r.predictor_pe ? str_cat(r.predictor_pe, " x ", r.predictor_bits, "-bit") : "-";
    out +=
        str_printf("%-*s %8lld %14s %10.0f %9.0f %9.2f %9.2f\n", w, e.arch.name.c_str(), static_cast<long long>(r.pe),
                   pred.c_str(), r.sram_kib_ifmap + r.sram_kib_filter + r.sram_kib_ofmap, r.dram_gbps, r.clock_hz / 1e9,
                   r.area_mm2);
  }
  for (const Entry& e : entries) {
    std::string parts;
    for (const hw::Resources::Part& p : e.res.parts)
      parts += str_cat(parts.empty() ? "" : ", ", p.name, " ", p.what, " ", format_number(p.area_mm2, 3), " mm2");
    out += str_cat("  ", e.arch.name, ": ", parts, "\n");
  }
  return out;
}

// Latency and energy of each design split into linear layers, attention core and the rest.
std::vector<BarGroup> bars(const std::vector<Entry>& entries, bool energy) {
  std::vector<BarGroup> out;
  for (const Entry& e : entries) {
    const hw::Report& r = e.report;
    auto part = [&](auto pick) {
      const hw::PartTotals t = hw::part_totals(r, pick);
      return energy ? t.energy_pj * 1e-6 : t.cycles / r.clock_hz * 1e6;
    };
    const double linear = part([](const hw::HwOp& op) { return op.kind == hw::OpKind::kGemm && !op.attention; });
    const double attention = part([](const hw::HwOp& op) { return op.attention; });
    const double rest = part([](const hw::HwOp& op) { return op.kind != hw::OpKind::kGemm && !op.attention; });
    out.push_back({str_cat(e.arch.name, " (", e.kind->name, ")"), {linear, attention, rest}});
  }
  return out;
}

Json entry_json(const Entry& e, const Entry& v) {
  Json j = Json::object();
  j.set("name", e.arch.name);
  j.set("attention", e.kind->name);
  j.set("resources", resources_json(e.res));
  j.set("density", e.density);
  j.set("density_source", e.density_source);
  Json lat = Json::object(), en = Json::object(), ratio = Json::object();
  lat.set("attention", e.b.attention_us);
  lat.set("attention_layer", e.b.layer_us);
  lat.set("end_to_end", e.b.total_us);
  en.set("attention", e.b.attention_uj);
  en.set("attention_layer", e.b.layer_uj);
  en.set("end_to_end", e.b.total_uj);
  j.set("latency_us", lat);
  j.set("energy_uj", en);
  j.set("attention_share_latency", share(e.b.attention_us, e.b.total_us));
  j.set("attention_share_energy", share(e.b.attention_uj, e.b.total_uj));
  j.set("amdahl_bound", amdahl_bound(e));
  ratio.set("attention_latency", e.b.attention_us / v.b.attention_us);
  ratio.set("attention_energy", e.b.attention_uj / v.b.attention_uj);
  ratio.set("attention_layer_latency", e.b.layer_us / v.b.layer_us);
  ratio.set("attention_layer_energy", e.b.layer_uj / v.b.layer_uj);
  ratio.set("end_to_end_latency", e.b.total_us / v.b.total_us);
  ratio.set("end_to_end_energy", e.b.total_uj / v.b.total_uj);
  j.set("ratio_to_vitality", ratio);
  return j;
}

const char* kCompareCsvHeader =
    "accelerator,attention,density,pe,predictor_pe,sram_kib,dram_gbps,clock_hz,area_mm2,attention_us,attention_uj,"
    "attention_layer_us,attention_layer_uj,total_us,total_uj,attention_share_latency,attention_share_energy,amdahl_"
    "bound,"
    "attention_latency_ratio,attention_energy_ratio,attention_layer_latency_ratio,attention_layer_energy_ratio,"
    "e2e_latency_ratio,e2e_energy_ratio\n";

std::string entry_csv(const Entry& e, const Entry& v) {
  const hw::Resources& r = e.res;
  return str_cat(e.arch.name, ",", e.kind->name, ",", e.density, ",", r.pe, ",", r.predictor_pe, ",",
                 r.sram_kib_ifmap + r.sram_kib_filter + r.sram_kib_ofmap, ",", r.dram_gbps, ",", r.clock_hz, ",",
                 r.area_mm2, ",", e.b.attention_us, ",", e.b.attention_uj, ",", e.b.layer_us, ",", e.b.layer_uj, ",",
                 e.b.total_us, ",", e.b.total_uj, ",", share(e.b.attention_us, e.b.total_us), ",",
                 share(e.b.attention_uj, e.b.total_uj), ",", amdahl_bound(e), ",", e.b.attention_us / v.b.attention_us,
                 ",", e.b.attention_uj / v.b.attention_uj, ",", e.b.layer_us / v.b.layer_us, ",",
                 e.b.layer_uj / v.b.layer_uj, ",", e.b.total_us / v.b.total_us, ",", e.b.total_uj / v.b.total_uj, "\n");
}

std::string compare_text(const std::vector<Entry>& entries, const std::string& heading) {
  const int w = label_width(entries, true);
  std::string out = heading + "\n" + resources_text(entries);
  out += str_printf("\n%-*s %9s %9s %9s %9s %9s %9s %7s %7s %7s\n", w, "accelerator (attention)", "attn us", "attn uJ",
                    "layer us", "layer uJ", "total us", "total uJ", "attn %t", "attn %E", "bound");
  for (const Entry& e : entries)
    out +=
        str_printf("%-*s %9.2f %9.3f %9.2f %9.3f %9.2f %9.3f %6.1f%% %6.1f%% %6.2fx\n", w,
                   str_cat(e.arch.name, " (", e.kind->name, ")").c_str(), e.b.attention_us, e.b.attention_uj,
                   e.b.layer_us, e.b.layer_uj, e.b.total_us, e.b.total_uj, 100 * share(e.b.attention_us, e.b.total_us),
                   100 * share(e.b.attention_uj, e.b.total_uj), amdahl_bound(e));
  const Entry& v = entries[0];
  out += "\nViTALiTy's gain over each (time ratio / energy ratio; above 1: ViTALiTy faster or more frugal):\n";
  out += str_printf("%-*s %20s %20s %20s\n", w, "", "attention only", "attention layer", "end to end");
  for (size_t i = 1; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    out += str_printf("%-*s %10.2fx / %6.2fx %10.2fx / %6.2fx %10.2fx / %6.2fx\n", w,
                      str_cat(e.arch.name, " (", e.kind->name, ")").c_str(), e.b.attention_us / v.b.attention_us,
                      e.b.attention_uj / v.b.attention_uj, e.b.layer_us / v.b.layer_us, e.b.layer_uj / v.b.layer_uj,
                      e.b.total_us / v.b.total_us, e.b.total_uj / v.b.total_uj);
  }
  out +=
      "(attention layer: qkv, attention and output projection, as SANGER's evaluation counts it; end to end: the whole "
      "model. attn %t / %E: attention's share of the design's latency / energy; bound: the end-to-end speedup over "
      "that design if its attention took no time at all)\n";
  return out;
}

}  // namespace

int run_compare(const ModelSource& src, const HwArgs& a, int64_t size, const hw::EnergyTable& energy,
                hw::TimingMode mode) {
  const hw::AreaTable area = hw::load_area_table(a.area);
  const DensityChoice dens = density_choice(a, /*comparing=*/true);
  std::vector<Entry> entries;
  std::vector<Workload> workloads;
  for (const vit::AttentionKindSpec* k : compared_kinds()) {
    Entry e;
    e.kind = k;
    e.arch = hw::load_arch_config(k->accelerator);
    workloads.push_back(trace_workload(src, size, k->name, dens.synthetic.has_value()));
    entries.push_back(e);
  }
  const double ref_area = hw::resources(entries[0].arch, area).area_mm2;
  for (size_t i = 0; i < entries.size(); ++i) {
    Entry& e = entries[i];
    if (a.iso == "area" && i > 0) e.arch = hw::scale_to_area(e.arch, area, ref_area);
    e.res = hw::resources(e.arch, area);
    const bool sparse = !std::isnan(workloads[i].traced_density);
    e.report = evaluate_on(workloads[i], e.arch, energy, mode, sparse ? dens.synthetic : std::nullopt);
    e.b = breakdown(e.report);
    if (sparse) {
      e.density = hw::mean_mask_density(e.report.ops);
      e.density_source = dens.source;
    }
  }
  const Entry& v = entries[0];
  const int64_t tokens = (size / src.patch()) * (size / src.patch()) + 1;
  std::string text =
      compare_text(entries, str_printf("compare: %s at %lld px (%lld tokens), batch 1, energy %s, area %s, %s\n",
                                       src.name().c_str(), static_cast<long long>(size), static_cast<long long>(tokens),
                                       energy.path.c_str(), area.path.c_str(),
                                       a.iso == "area" ? "baselines scaled to ViTALiTy's area (--iso area)"
                                                       : "the shipped configs (--iso pe)"));
  // SANGER's masks, and the density at which its attention costs what ViTALiTy's does
  Json even = Json::object();
  for (size_t i = 0; i < entries.size(); ++i) {
    if (std::isnan(workloads[i].traced_density)) continue;
    const Entry& e = entries[i];
    const hw::DensitySpec spec{0.1, a.density_spread, static_cast<uint64_t>(a.seed)};
    const double lat = break_even(workloads[i], e.arch, energy, mode, spec, tokens, v.b.attention_us, false);
    const double en = break_even(workloads[i], e.arch, energy, mode, spec, tokens, v.b.attention_uj, true);
    text += str_printf("\n%s's masks keep %.1f%% of the scores: %s\n", e.arch.name.c_str(), 100 * e.density,
                       e.density_source.c_str());
    text += str_printf(
        "its attention costs ViTALiTy's latency at density %s and ViTALiTy's energy at density %s (synthetic "
        "masks, row spread %g): below those densities SANGER's attention is the cheaper\n",
        std::isnan(lat) ? "(none in [1/n, 1])" : format_number(lat, 3).c_str(),
        std::isnan(en) ? "(none in [1/n, 1])" : format_number(en, 3).c_str(), a.density_spread);
    even.set("latency", std::isnan(lat) ? Json() : Json(lat));
    even.set("energy", std::isnan(en) ? Json() : Json(en));
  }
  Json root = Json::object();
  root.set("model", src.name());
  root.set("input_size", size);
  root.set("tokens", tokens);
  root.set("iso", a.iso);
  root.set("energy_table", energy.path);
  root.set("area_table", area.path);
  Json archs = Json::array();
  std::string csv = kCompareCsvHeader;
  for (const Entry& e : entries) {
    archs.push(entry_json(e, v));
    csv += entry_csv(e, v);
  }
  root.set("architectures", archs);
  root.set("break_even_density", even);
  if (a.format == "json") std::printf("%s\n", root.dump().c_str());
  else if (a.format == "csv") std::printf("%s", csv.c_str());
  else std::printf("%s", text.c_str());
  if (!a.output.empty()) {
    const std::vector<std::string> cats = {"linear layers", "attention core", "norms, GELU, residuals"};
    write_file_atomic(a.output + "/compare.csv", csv);
    write_file_atomic(a.output + "/compare.json", root.dump() + "\n");
    write_file_atomic(a.output + "/compare_latency.svg",
                      stacked_bar_svg(bars(entries, false), cats, "Latency per image (batch 1)", "latency (us)"));
    write_file_atomic(a.output + "/compare_energy.svg",
                      stacked_bar_svg(bars(entries, true), cats, "Energy per image (batch 1)", "energy (uJ)"));
    for (const Entry& e : entries) write_report_files(a.output, str_cat(e.arch.name, "_"), e.report);
    if (a.format == "text")
      std::printf(
          "wrote %s/compare.csv, compare.json, compare_latency.svg, compare_energy.svg and per-accelerator reports\n",
          a.output.c_str());
  }
  return 0;
}

int run_sweep_density(const ModelSource& src, const HwArgs& a, int64_t size, const hw::EnergyTable& energy,
                      hw::TimingMode mode) {
  // ViTALiTy's deployed kind and each sparse kind that deploys as itself, on their accelerators
  const vit::AttentionKindSpec& ref = vit::attention_kind("vitality").deployed();
  const Workload vw = trace_workload(src, size, ref.name, false);
  const Breakdown vb = breakdown(evaluate_on(vw, hw::load_arch_config(ref.accelerator), energy, mode, std::nullopt));
  const std::vector<double> densities = {0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0};
  const int64_t tokens = (size / src.patch()) * (size / src.patch()) + 1;
  std::string csv =
      "design,attention,predictor,density,attention_us,attention_uj,total_us,total_uj,"
      "attention_latency_ratio,attention_energy_ratio\n";
  Panel lat("Attention latency", "mask density (kept fraction, log scale)", "attention latency per image (us)"),
      en("Attention energy", "mask density (kept fraction, log scale)", "attention energy per image (uJ)");
  lat.log_x = en.log_x = true;
  Series vl(str_cat("vitality (", ref.name, ")")), ve(vl.name);
  for (double d : densities) {
    vl.x.push_back(d);
    vl.y.push_back(vb.attention_us);
    ve.x.push_back(d);
    ve.y.push_back(vb.attention_uj);
  }
  lat.series.push_back(vl);
  en.series.push_back(ve);
  std::string text = str_printf(
      "SANGER against ViTALiTy over mask density: %s at %lld px (%lld tokens), synthetic masks "
      "(row spread %g); the predictor's size is an assumption, so three are shown\n\n",
      src.name().c_str(), static_cast<long long>(size), static_cast<long long>(tokens), a.density_spread);
  text += str_printf("vitality (%s): attention %.2f us, %.3f uJ; end to end %.2f us, %.3f uJ\n\n", ref.name,
                     vb.attention_us, vb.attention_uj, vb.total_us, vb.total_uj);
  text += str_printf("%-28s %8s %10s %10s %10s %10s %12s\n", "design", "density", "attn us", "attn uJ", "total us",
                     "total uJ", "time / energy vs ViTALiTy");
  for (const vit::AttentionKindSpec& k : vit::attention_kinds()) {
    if (!k.uses_mask || k.inference_kind) continue;
    const Workload w = trace_workload(src, size, k.name, true);
    const hw::ArchConfig base = hw::load_arch_config(k.accelerator);
    for (int64_t side : {base.predictor.rows, base.predictor.rows / 2, base.predictor.rows * 2}) {
      hw::ArchConfig arch = base;
      arch.predictor.rows = arch.predictor.cols = side;
      const std::string predictor = str_cat(side, "x", side);
      const std::string name = str_cat(arch.name, " (", k.name, ", predictor ", predictor, ")");
      Series sl(name), se(name);
      for (double d : densities) {
        const Breakdown b =
            breakdown(evaluate_on(w, arch, energy, mode, hw::DensitySpec{d, a.density_spread, uint64_t(a.seed)}));
        sl.x.push_back(d);
        sl.y.push_back(b.attention_us);
        se.x.push_back(d);
        se.y.push_back(b.attention_uj);
        text += str_printf("%-28s %8.2f %10.2f %10.3f %10.2f %10.3f %6.2fx / %.2fx\n",
                           str_cat(arch.name, " p", predictor).c_str(), d, b.attention_us, b.attention_uj, b.total_us,
                           b.total_uj, b.attention_us / vb.attention_us, b.attention_uj / vb.attention_uj);
        csv += str_cat(arch.name, ",", k.name, ",", predictor, ",", d, ",", b.attention_us, ",", b.attention_uj, ",",
                       b.total_us, ",", b.total_uj, ",", b.attention_us / vb.attention_us, ",",
                       b.attention_uj / vb.attention_uj, "\n");
      }
      lat.series.push_back(sl);
      en.series.push_back(se);
      if (side != base.predictor.rows) continue;  // break-even points of the shipped configuration
      const hw::DensitySpec spec{0.1, a.density_spread, static_cast<uint64_t>(a.seed)};
      const double bl = break_even(w, arch, energy, mode, spec, tokens, vb.attention_us, false);
      const double be = break_even(w, arch, energy, mode, spec, tokens, vb.attention_uj, true);
      if (!std::isnan(bl)) lat.markers.push_back({bl, str_cat("break-even ", format_number(bl, 3))});
      if (!std::isnan(be)) en.markers.push_back({be, str_cat("break-even ", format_number(be, 3))});
      text += str_printf("break-even density (%s, predictor %s): latency %s, energy %s\n", arch.name.c_str(),
                         predictor.c_str(), std::isnan(bl) ? "none in [1/n, 1]" : format_number(bl, 3).c_str(),
                         std::isnan(be) ? "none in [1/n, 1]" : format_number(be, 3).c_str());
    }
  }
  std::printf("%s", a.format == "csv" ? csv.c_str() : text.c_str());
  if (!a.output.empty()) {
    write_file_atomic(a.output + "/sweep_density.csv", csv);
    write_file_atomic(
        a.output + "/sweep_density.svg",
        line_chart_svg({lat, en}, str_cat("SANGER vs ViTALiTy over mask density, ", src.name(), " at ", size, " px"),
                       "dotted lines: the density at which SANGER's attention costs what ViTALiTy's does"));
    std::printf("wrote %s/sweep_density.csv and sweep_density.svg\n", a.output.c_str());
  }
  return 0;
}

int run_sweep_tokens(const ModelSource& src, const HwArgs& a, const hw::EnergyTable& energy, hw::TimingMode mode) {
  const DensityChoice dens = density_choice(a, /*comparing=*/true);
  const std::vector<const vit::AttentionKindSpec*> kinds = compared_kinds();
  std::string csv =
      "pixels,tokens,accelerator,attention,attention_us,attention_uj,total_us,total_uj,attention_latency_ratio,"
      "e2e_latency_ratio,attention_energy_ratio,e2e_energy_ratio\n";
  Panel lat("Attention latency", "tokens (log scale)", "attention latency per image (us, log scale)"),
      en("Attention energy", "tokens (log scale)", "attention energy per image (uJ, log scale)");
  lat.log_x = lat.log_y = en.log_x = en.log_y = true;
  std::vector<Series> sl, se;
  for (const auto* k : kinds) {
    const std::string name = str_cat(k->name, " (", k->accelerator, ")");
    sl.emplace_back(name);
    se.emplace_back(name);
  }
  std::string text =
      str_printf("%s from 224 to 896 px, batch 1; SANGER's masks: %s\n\n", src.name().c_str(), dens.source.c_str());
  text +=
      str_printf("%7s %7s  %-26s %11s %11s %11s %11s  %s\n", "pixels", "tokens", "accelerator (attention)", "attn us",
                 "attn uJ", "total us", "total uJ", "ViTALiTy's gain: attention, end to end (time; energy)");
  std::vector<double> prev(kinds.size(), 0), now(kinds.size(), 0);
  double prev_n = 0;
  std::string growth;
  for (int64_t px : {224, 448, 672, 896}) {
    const int64_t n = (px / src.patch()) * (px / src.patch()) + 1;
    Breakdown ref;
    for (size_t i = 0; i < kinds.size(); ++i) {
      const Workload w = trace_workload(src, px, kinds[i]->name, dens.synthetic.has_value());
      const bool sparse = !std::isnan(w.traced_density);
      const Breakdown b = breakdown(evaluate_on(w, hw::load_arch_config(kinds[i]->accelerator), energy, mode,
                                                sparse ? dens.synthetic : std::nullopt));
      if (i == 0) ref = b;
      now[i] = b.attention_us;
      text += str_printf("%7lld %7lld  %-26s %11.2f %11.3f %11.2f %11.3f  %.2fx, %.2fx; %.2fx, %.2fx\n",
                         static_cast<long long>(px), static_cast<long long>(n),
                         str_cat(kinds[i]->accelerator, " (", kinds[i]->name, ")").c_str(), b.attention_us,
                         b.attention_uj, b.total_us, b.total_uj, b.attention_us / ref.attention_us,
                         b.total_us / ref.total_us, b.attention_uj / ref.attention_uj, b.total_uj / ref.total_uj);
      csv += str_cat(px, ",", n, ",", kinds[i]->accelerator, ",", kinds[i]->name, ",", b.attention_us, ",",
                     b.attention_uj, ",", b.total_us, ",", b.total_uj, ",", b.attention_us / ref.attention_us, ",",
                     b.total_us / ref.total_us, ",", b.attention_uj / ref.attention_uj, ",", b.total_uj / ref.total_uj,
                     "\n");
      sl[i].x.push_back(double(n));
      sl[i].y.push_back(b.attention_us);
      se[i].x.push_back(double(n));
      se[i].y.push_back(b.attention_uj);
    }
    if (prev_n > 0) {
      growth += str_printf("  %.0f -> %lld tokens:", prev_n, static_cast<long long>(n));
      for (size_t i = 0; i < kinds.size(); ++i)
        growth +=
            str_printf(" %s x%.2f (exponent %.2f)%s", kinds[i]->name, now[i] / prev[i],
                       std::log(now[i] / prev[i]) / std::log(double(n) / prev_n), i + 1 < kinds.size() ? "," : "");
      growth += "\n";
    }
    prev = now;
    prev_n = double(n);
  }
  text += "\nattention latency growth (exponent 1 = linear in tokens, 2 = quadratic):\n" + growth;
  std::printf("%s", a.format == "csv" ? csv.c_str() : text.c_str());
  if (!a.output.empty()) {
    lat.series = sl;
    en.series = se;
    write_file_atomic(a.output + "/sweep.csv", csv);
    write_file_atomic(a.output + "/sweep.svg",
                      line_chart_svg({lat, en}, str_cat("Attention as the image grows: ", src.name())));
    std::printf("wrote %s/sweep.csv and sweep.svg\n", a.output.c_str());
  }
  return 0;
}

}  // namespace vt::apps::hwrun
