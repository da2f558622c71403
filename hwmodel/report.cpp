// Text, CSV and JSON renderings of a Report (see report.h). Numbers are printed with fixed
// formats so that the output is reproducible byte for byte.
#include "hwmodel/report.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "core/error.h"
#include "core/json.h"

namespace vt::hw {

namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// One value of a table: text, or a number with the printf format it is shown with. CSV and text
// print the formatted number ("" for NaN); JSON writes a JSON number (null for NaN).
struct Field {
  std::string text;
  double number = NAN;
  const char* format = nullptr;  // null: a text field
  std::string str() const { return format ? (std::isnan(number) ? "" : fmt(format, number)) : text; }
  Json json() const {
    if (!format) return Json(text);
    if (std::isnan(number)) return Json();
    const std::string shown = fmt(format, number);  // the value as the CSV shows it
    if (shown.find_first_of(".eE") == std::string::npos) return Json(static_cast<int64_t>(std::llround(number)));
    return Json(std::strtod(shown.c_str(), nullptr));
  }
};
Field text(std::string s) { return Field{std::move(s)}; }
Field count(double v) { return Field{"", v, "%.0f"}; }
Field ratio(double v) { return Field{"", v, "%.4f"}; }
Field pj(double v) { return Field{"", v, "%.1f"}; }

struct Column {
  const char* name;
  Field (*get)(const Report&, size_t);
};

const Column kOpColumns[] = {
    {"layer", [](const Report& r, size_t i) { return text(r.ops[i].layer); }},
    {"op", [](const Report& r, size_t i) { return text(r.ops[i].name); }},
    {"step", [](const Report& r, size_t i) { return text(r.ops[i].step_name); }},
    {"kind", [](const Report& r, size_t i) { return text(op_kind_name(r.ops[i].kind)); }},
    {"unit", [](const Report& r, size_t i) { return text(unit_name(r.ops[i].unit)); }},
    {"array", [](const Report& r, size_t i) { return text(r.arrays[i]); }},
    {"shape", [](const Report& r, size_t i) { return text(op_shape(r.ops[i])); }},
    {"segment", [](const Report& r, size_t i) { return count(r.segment_of[i]); }},
    {"macs", [](const Report& r, size_t i) { return count(r.costs[i].macs + r.costs[i].low_precision_macs); }},
    {"cycles", [](const Report& r, size_t i) { return count(double(r.costs[i].cycles)); }},
    {"compute_cycles", [](const Report& r, size_t i) { return count(double(r.costs[i].compute_cycles)); }},
    {"preload", [](const Report& r, size_t i) { return count(double(r.costs[i].terms.preload)); }},
    {"stream", [](const Report& r, size_t i) { return count(double(r.costs[i].terms.stream)); }},
    {"skew", [](const Report& r, size_t i) { return count(double(r.costs[i].terms.skew)); }},
    {"drain", [](const Report& r, size_t i) { return count(double(r.costs[i].terms.drain)); }},
    {"stall_cycles", [](const Report& r, size_t i) { return count(double(r.costs[i].stall_cycles)); }},
    {"folds", [](const Report& r, size_t i) { return count(double(r.costs[i].folds)); }},
    {"sram_ifmap_read_bytes", [](const Report& r, size_t i) { return count(r.costs[i].sram_reads[kIfmap]); }},
    {"sram_filter_read_bytes", [](const Report& r, size_t i) { return count(r.costs[i].sram_reads[kFilter]); }},
    {"sram_ofmap_read_bytes", [](const Report& r, size_t i) { return count(r.costs[i].sram_reads[kOfmap]); }},
    {"sram_ofmap_write_bytes", [](const Report& r, size_t i) { return count(r.costs[i].sram_writes[kOfmap]); }},
    {"sram_read_bytes", [](const Report& r, size_t i) { return count(r.costs[i].sram_read_bytes); }},
    {"sram_write_bytes", [](const Report& r, size_t i) { return count(r.costs[i].sram_write_bytes); }},
    {"dram_read_bytes", [](const Report& r, size_t i) { return count(r.costs[i].dram_read_bytes); }},
    {"dram_write_bytes", [](const Report& r, size_t i) { return count(r.costs[i].dram_write_bytes); }},
    {"bound", [](const Report& r, size_t i) { return text(r.costs[i].bound); }},
    {"mapping_efficiency", [](const Report& r, size_t i) { return ratio(r.costs[i].mapping_efficiency); }},
    {"compute_util", [](const Report& r, size_t i) { return ratio(r.costs[i].compute_utilization); }},
    {"overall_util", [](const Report& r, size_t i) { return ratio(r.costs[i].overall_utilization); }},
    {"load_balance", [](const Report& r, size_t i) { return ratio(r.costs[i].load_balance); }},
    {"energy_pj", [](const Report& r, size_t i) { return pj(r.costs[i].energy_pj()); }},
    {"compute_pj", [](const Report& r, size_t i) { return pj(r.costs[i].compute_pj); }},
    {"sram_pj", [](const Report& r, size_t i) { return pj(r.costs[i].sram_pj); }},
    {"dram_pj", [](const Report& r, size_t i) { return pj(r.costs[i].dram_pj); }},
};

const char* mode_name(TimingMode m) { return m == TimingMode::kScaleSimV2 ? "scalesim-v2" : "default"; }

// Aligned columns: text left-aligned, numbers right-aligned.
std::string align(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size(); ++c) {
      if (width.size() <= c) width.push_back(0);
      width[c] = std::max(width[c], row[c].size());
    }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      const std::string& v = row[c];
      const bool numeric = !v.empty() && (std::isdigit(static_cast<unsigned char>(v[0])) || v[0] == '-');
      const std::string pad(width[c] - v.size(), ' ');
      line += (c ? "  " : "") + (numeric ? pad + v : v + pad);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::vector<Field> layer_row(const LayerTotals& l) {
  return {text(l.name),    count(l.cycles),     count(l.serial_cycles), count(l.attention_cycles), count(l.macs),
          pj(l.energy_pj), count(l.dram_bytes), count(l.sram_bytes),    count(double(l.ops))};
}
const std::vector<std::string> kLayerHeader = {
    "layer", "cycles", "serial_cycles", "attention_cycles", "macs", "energy_pj", "dram_bytes", "sram_bytes", "ops"};

std::vector<std::pair<std::string, Field>> summary_pairs(const Report& r) {
  return {{"arch", text(r.arch_name)},
          {"workload", text(r.workload)},
          {"timing_mode", text(mode_name(r.mode))},
          {"clock_hz", count(r.clock_hz)},
          {"total_cycles", count(r.cycles)},
          {"serial_cycles", count(r.serial_cycles)},
          {"latency_s", Field{"", r.latency_s, "%.6e"}},
          {"images_per_s", Field{"", r.images_per_s, "%.2f"}},
          {"macs", count(r.macs)},
          {"energy_pj", pj(r.energy_pj())},
          {"compute_pj", pj(r.compute_pj)},
          {"sram_pj", pj(r.sram_pj)},
          {"dram_pj", pj(r.dram_pj)},
          {"leakage_pj", pj(r.leakage_energy_pj)},
          {"dram_bytes", count(r.dram_bytes)},
          {"sram_bytes", count(r.sram_bytes)},
          {"attention_cycles", count(r.attention_cycles)},
          {"attention_macs", count(r.attention_macs)},
          {"attention_energy_pj", pj(r.attention_energy_pj)},
          {"sa_general_utilization", ratio(r.sa_general_utilization)}};
}

std::vector<std::string> strings(const std::vector<Field>& row) {
  std::vector<std::string> out;
  for (const Field& f : row) out.push_back(f.str());
  return out;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

std::string op_shape(const HwOp& op) {
  switch (op.kind) {
    case OpKind::kGemm:
    case OpKind::kPredict:
      return str_cat(op.batch > 1 ? str_cat(op.batch, "x ") : "", "M=", op.M, " N=", op.N, " K=", op.K);
    case OpKind::kSddmm:
    case OpKind::kSparseSoftmax:
    case OpKind::kSpmm:
      return str_cat(op.batch, "x ", op.rows, "x", op.cols, " d=", op.K, " kept=", op.mask ? op.mask->nnz() : 0);
    case OpKind::kLayout: return "";
    default:
      return str_cat(op.batch > 1 ? str_cat(op.batch, "x ") : "", op.rows, "x", op.cols,
                     op.sums > 1 ? str_cat(" (", op.sums, " sums)") : "");
  }
}

std::string ops_csv(const Report& r) {
  std::string out;
  for (const Column& c : kOpColumns) out += std::string(&c == kOpColumns ? "" : ",") + c.name;
  out += "\n";
  for (size_t i = 0; i < r.ops.size(); ++i) {
    for (const Column& c : kOpColumns) out += std::string(&c == kOpColumns ? "" : ",") + csv_field(c.get(r, i).str());
    out += "\n";
  }
  return out;
}

std::string layers_csv(const Report& r) {
  std::string out;
  for (size_t c = 0; c < kLayerHeader.size(); ++c) out += (c ? "," : "") + kLayerHeader[c];
  out += "\n";
  for (const LayerTotals& l : r.layers) {
    const auto row = layer_row(l);
    for (size_t c = 0; c < row.size(); ++c) out += (c ? "," : "") + csv_field(row[c].str());
    out += "\n";
  }
  return out;
}

std::string summary_csv(const Report& r) {
  std::string head, vals;
  for (const auto& [k, v] : summary_pairs(r)) {
    head += (head.empty() ? "" : ",") + k;
    vals += (vals.empty() ? "" : ",") + csv_field(v.str());
  }
  return head + "\n" + vals + "\n";
}

std::string report_json(const Report& r) {
  Json root = Json::object();
  Json summary = Json::object();
  for (const auto& [k, v] : summary_pairs(r)) summary.set(k, v.json());
  root.set("summary", summary);
  Json layers = Json::array();
  for (const LayerTotals& l : r.layers) {
    Json o = Json::object();
    const auto row = layer_row(l);
    for (size_t c = 0; c < row.size(); ++c) o.set(kLayerHeader[c], row[c].json());
    layers.push(o);
  }
  root.set("layers", layers);
  Json ops = Json::array();
  for (size_t i = 0; i < r.ops.size(); ++i) {
    Json o = Json::object();
    for (const Column& c : kOpColumns) o.set(c.name, c.get(r, i).json());
    ops.push(o);
  }
  root.set("ops", ops);
  return root.dump() + "\n";
}

std::string report_text(const Report& r, bool with_ops) {
  std::string out =
      str_cat("accelerator ", r.arch_name, " (timing ", mode_name(r.mode), "), workload ", r.workload, "\n");
  out += fmt("  latency      %.1f us", r.latency_s * 1e6) + str_cat("  (", count(r.cycles).str(), " cycles pipelined; ",
                                                                    count(r.serial_cycles).str(),
                                                                    " if every op ran alone)\n");
  out += fmt("  throughput   %.1f images/s (batch 1)\n", r.images_per_s);
  out += fmt("  energy       %.2f uJ", r.energy_pj() * 1e-6) + fmt(" = compute %.2f", r.compute_pj * 1e-6) +
         fmt(" + SRAM %.2f", r.sram_pj * 1e-6) + fmt(" + DRAM %.2f", r.dram_pj * 1e-6) +
         fmt(" + leakage %.2f uJ\n", r.leakage_energy_pj * 1e-6);
  out += fmt("  MACs         %.2f M", r.macs * 1e-6) +
         fmt(", SA-General utilisation %.1f%%\n", 100 * r.sa_general_utilization);
  out += fmt("  attention    %.1f us", r.attention_cycles / r.clock_hz * 1e6) +
         fmt(", %.2f uJ", r.attention_energy_pj * 1e-6) + fmt(", %.2f M MACs\n", r.attention_macs * 1e-6);
  out += fmt("  DRAM         %.1f KB", r.dram_bytes / 1e3) + fmt(", SRAM %.1f KB\n\n", r.sram_bytes / 1e3);
  std::vector<std::vector<std::string>> rows{kLayerHeader};
  for (const LayerTotals& l : r.layers) rows.push_back(strings(layer_row(l)));
  out += align(rows);
  if (with_ops) {
    const std::vector<std::string> names = {"op",     "unit",         "shape",           "macs",
                                            "cycles", "preload",      "stream",          "skew",
                                            "drain",  "stall_cycles", "dram_read_bytes", "dram_write_bytes",
                                            "bound",  "overall_util", "energy_pj"};
    std::vector<std::vector<std::string>> t{names};
    for (size_t i = 0; i < r.ops.size(); ++i) {
      if (r.ops[i].kind == OpKind::kLayout) continue;
      std::vector<std::string> row;
      for (const std::string& n : names)
        for (const Column& c : kOpColumns)
          if (n == c.name) row.push_back(c.get(r, i).str());
      t.push_back(row);
    }
    out += "\n" + align(t);
  }
  return out;
}

}  // namespace vt::hw
