// `vitality hw --sweep KEY=V1,V2,... [--sweep KEY2=...]`: a design-space grid. Keys are config
// keys (any key of hwmodel/configs/vitality.cfg: sa_general_rows, sram_kib_ifmap,
// dram_bytes_per_s, clock_hz, predictor_rows, ...) or model inputs (input_size, model, attn,
// density). Every combination is one point; the model is traced once per combination of model
// inputs (the config keys only re-time the same ops), so a 100-point sweep of DeiT-Tiny takes
// seconds. Output: a table (text or CSV, one row per point: the keys' values, cycles, latency,
// energy, utilisation, area) and with --output DIR sweep.csv and sweep.svg (latency and energy
// against the first numeric key, one line per value of the others).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <map>

#include "apps/chart.h"
#include "apps/hw_run.h"
#include "core/fileio.h"
#include "hwmodel/area.h"
#include "vit/attention_registry.h"

namespace vt::apps::hwrun {

namespace {

struct Axis {
  std::string key;
  std::vector<std::string> values;
  bool numeric = true;
};

std::vector<Axis> parse_sweeps(const std::vector<std::string>& specs) {
  std::vector<Axis> axes;
  for (const std::string& spec : specs) {
    const size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
      throw UsageError(str_cat("--sweep '", spec, "': expected KEY=V1,V2,... (e.g. sa_general_rows=16,32,64)"));
    Axis ax;
    ax.key = spec.substr(0, eq);
    for (const Axis& other : axes)
      if (other.key == ax.key) throw UsageError(str_cat("--sweep ", ax.key, " is given twice"));
    std::string rest = spec.substr(eq + 1);
    for (size_t at = 0; at <= rest.size();) {
      const size_t comma = std::min(rest.find(',', at), rest.size());
      const std::string v = rest.substr(at, comma - at);
      if (v.empty()) throw UsageError(str_cat("--sweep ", ax.key, ": an empty value in '", rest, "'"));
      ax.values.push_back(v);
      char* end = nullptr;
      std::strtod(v.c_str(), &end);
      ax.numeric = ax.numeric && *end == '\0';
      at = comma + 1;
    }
    if (ax.key == "attn")
      for (const std::string& v : ax.values) vit::attention_kind(v);  // throws naming the kinds
    if ((ax.key == "input_size" || ax.key == "density") && !ax.numeric)
      throw UsageError(str_cat("--sweep ", ax.key, ": the values must be numbers"));
    if (ax.key == "density")
      for (const std::string& v : ax.values)
        if (!(std::stod(v) > 0 && std::stod(v) <= 1))
          throw UsageError(str_cat("--sweep density: ", v, " must lie in (0, 1]"));
    axes.push_back(std::move(ax));
  }
  return axes;
}

}  // namespace

int run_sweep(const HwArgs& a, const hw::EnergyTable& energy, hw::TimingMode mode) {
  const std::vector<Axis> axes = parse_sweeps(a.sweeps);
  const hw::AreaTable area = hw::load_area_table(a.area);
  int64_t points = 1;
  for (const Axis& ax : axes) points *= static_cast<int64_t>(ax.values.size());
  if (points > 100000) throw UsageError(str_cat("--sweep: ", points, " points; at most 100000"));
  std::deque<HwArgs> model_args;  // the ModelSources below keep references to these
  std::map<std::string, std::unique_ptr<ModelSource>> sources;
  std::map<std::string, Workload> traces;
  struct Point {
    std::vector<std::string> values;  // one per swept key
    std::string arch, attn;
    double cycles = 0, utilization = 0, area_mm2 = 0;
    Breakdown b;
  };
  std::vector<Point> grid;
  std::vector<size_t> idx(axes.size(), 0);
  for (int64_t p = 0; p < points; ++p) {
    HwArgs pa = a;
    std::vector<std::pair<std::string, std::string>> set;
    std::optional<double> density = a.density;
    Point pt;
    for (size_t k = 0; k < axes.size(); ++k) {
      const std::string& v = axes[k].values[idx[k]];
      pt.values.push_back(v);
      if (axes[k].key == "input_size") pa.input_size = static_cast<int>(std::stol(v));
      else if (axes[k].key == "model") pa.model = v;
      else if (axes[k].key == "attn") pa.attn = v;
      else if (axes[k].key == "density") density = std::stod(v);
      else set.emplace_back(axes[k].key, v);
    }
    // the model, traced once per (model, size, kind)
    if (!sources.count(pa.model)) {
      model_args.push_back(pa);
      sources[pa.model] = std::make_unique<ModelSource>(model_args.back());
    }
    const ModelSource& src = *sources[pa.model];
    const int64_t size = pa.input_size > 0 ? pa.input_size : src.native_size();
    const vit::AttentionKindSpec& kind = vit::attention_kind(pa.attn);
    const bool synthetic = density && kind.deployed().uses_mask;
    const std::string trace_key = str_cat(pa.model, "|", size, "|", pa.attn, "|", synthetic);
    if (!traces.count(trace_key)) traces[trace_key] = trace_workload(src, size, pa.attn, synthetic);
    pt.arch = a.arch.empty() ? kind.accelerator : a.arch;
    pt.attn = pa.attn;
    const hw::ArchConfig arch = hw::load_arch_config(pt.arch, set);
    std::optional<hw::DensitySpec> spec;
    if (synthetic) spec = hw::DensitySpec{*density, a.density_spread, static_cast<uint64_t>(a.seed)};
    const hw::Report r = evaluate_on(traces[trace_key], arch, energy, mode, spec);
    pt.b = breakdown(r);
    pt.cycles = r.cycles;
    pt.utilization = r.sa_general_utilization;
    pt.area_mm2 = hw::resources(arch, area).area_mm2;
    grid.push_back(std::move(pt));
    for (size_t k = axes.size(); k-- > 0;) {  // the last key varies fastest
      if (++idx[k] < axes[k].values.size()) break;
      idx[k] = 0;
    }
  }
  std::string csv;
  for (const Axis& ax : axes) csv += ax.key + ",";
  csv +=
      "accelerator,attention,cycles,latency_us,energy_uj,attention_us,attention_uj,sa_general_utilization,area_mm2\n";
  for (const Point& pt : grid) {
    for (const std::string& v : pt.values) csv += v + ",";
    csv += str_cat(pt.arch, ",", pt.attn, ",", static_cast<int64_t>(pt.cycles), ",", pt.b.total_us, ",", pt.b.total_uj,
                   ",", pt.b.attention_us, ",", pt.b.attention_uj, ",", pt.utilization, ",", pt.area_mm2, "\n");
  }
  if (a.format == "csv") {
    std::printf("%s", csv.c_str());
  } else {
    std::printf("%lld points (%zu traced workloads); model %s, accelerator %s\n", static_cast<long long>(points),
                traces.size(), a.model.c_str(), a.arch.empty() ? "each kind's own" : a.arch.c_str());
    for (const Axis& ax : axes) std::printf("%14s ", ax.key.c_str());
    std::printf("%12s %12s %12s %12s %8s %9s\n", "cycles", "latency us", "energy uJ", "attn us", "SA util", "area mm2");
    for (const Point& pt : grid) {
      for (const std::string& v : pt.values) std::printf("%14s ", v.c_str());
      std::printf("%12lld %12.2f %12.3f %12.2f %8.3f %9.2f\n", static_cast<long long>(pt.cycles), pt.b.total_us,
                  pt.b.total_uj, pt.b.attention_us, pt.utilization, pt.area_mm2);
    }
  }
  if (!a.output.empty()) {
    write_file_atomic(a.output + "/sweep.csv", csv);
    // x: the first numeric key; one line per combination of the other keys
    size_t xk = axes.size();
    for (size_t k = 0; k < axes.size() && xk == axes.size(); ++k)
      if (axes[k].numeric) xk = k;
    std::string svg;
    if (xk < axes.size()) {
      Panel lat("Latency", axes[xk].key, "latency per image (us)"), en("Energy", axes[xk].key, "energy per image (uJ)");
      double lo = 1e300, hi = 0;
      for (const std::string& v : axes[xk].values) lo = std::min(lo, std::stod(v)), hi = std::max(hi, std::stod(v));
      lat.log_x = en.log_x = lo > 0 && hi / lo >= 8;
      if (lat.log_x) lat.x_label = en.x_label = axes[xk].key + " (log scale)";
      std::map<std::string, size_t> series_of;
      for (const Point& pt : grid) {
        std::string label;
        for (size_t k = 0; k < axes.size(); ++k)
          if (k != xk) label += (label.empty() ? "" : ", ") + axes[k].key + "=" + pt.values[k];
        if (label.empty()) label = "latency";
        if (!series_of.count(label)) {
          series_of[label] = lat.series.size();
          lat.series.emplace_back(label);
          en.series.emplace_back(label);
        }
        const size_t s = series_of[label];
        lat.series[s].x.push_back(std::stod(pt.values[xk]));
        lat.series[s].y.push_back(pt.b.total_us);
        en.series[s].x.push_back(std::stod(pt.values[xk]));
        en.series[s].y.push_back(pt.b.total_uj);
      }
      svg = line_chart_svg({lat, en}, str_cat("vitality hw --sweep: ", a.model, ", batch 1"),
                           str_cat("accelerator: ", a.arch.empty() ? "each attention kind's own" : a.arch));
    } else {  // only names (model, attn): one bar per point
      std::vector<BarGroup> groups;
      for (const Point& pt : grid) {
        std::string label;
        for (size_t k = 0; k < axes.size(); ++k) label += (k ? ", " : "") + pt.values[k];
        groups.push_back({label, {pt.b.total_us}});
      }
      svg = stacked_bar_svg(groups, {"latency"}, "vitality hw --sweep", "us");
    }
    write_file_atomic(a.output + "/sweep.svg", svg);
    std::printf("wrote %s/sweep.csv and sweep.svg\n", a.output.c_str());
  }
  return 0;
}

}  // namespace vt::apps::hwrun
