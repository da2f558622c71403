// SCALE-Sim v2's .cfg and reports (scalesim.h).
#include "hwmodel/scalesim.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>

#include "core/error.h"

namespace vt::hw {

namespace {

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r"), e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The keys SCALE-Sim v2 reads, per section (configparser lowercases key names).
const std::map<std::string, std::vector<std::string>> kKeys = {
    {"general", {"run_name"}},
    {"architecture_presets",
     {"arrayheight", "arraywidth", "ifmapsramszkb", "filtersramszkb", "ofmapsramszkb", "ifmapoffset", "filteroffset",
      "ofmapoffset", "bandwidth", "dataflow", "memorybanks"}},
    {"run_presets", {"interfacebandwidth"}},
    {"network_presets", {"topologycsvloc"}},
};

}  // namespace

bool is_scalesim_config(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    return t[0] == '[';
  }
  return false;
}

ScaleSimConfig parse_scalesim_config(const std::string& text, const std::string& path) {
  std::map<std::string, std::pair<std::string, int>> values;  // "section.key" -> (value, line)
  std::istringstream in(text);
  std::string line, section;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t[0] == '[') {
      if (t.back() != ']') throw Error(str_cat(path, ":", line_no, ": malformed section header '", t, "'"));
      section = lower(trim(t.substr(1, t.size() - 2)));
      if (!kKeys.count(section))
        throw Error(str_cat(path, ":", line_no, ": unknown section [", section,
                            "] (SCALE-Sim v2 reads general, architecture_presets, run_presets, network_presets)"));
      continue;
    }
    const size_t sep = t.find_first_of(":=");
    if (sep == std::string::npos)
      throw Error(str_cat(path, ":", line_no, ": expected 'key: value' or 'key = value', got '", t, "'"));
    if (section.empty()) throw Error(str_cat(path, ":", line_no, ": '", t, "' before any [section]"));
    const std::string key = lower(trim(t.substr(0, sep))), value = trim(t.substr(sep + 1));
    const std::vector<std::string>& known = kKeys.at(section);
    if (std::find(known.begin(), known.end(), key) == known.end())
      throw Error(str_cat(path, ":", line_no, ": unknown key '", trim(t.substr(0, sep)), "' in [", section, "]"));
    if (values.count(section + "." + key))
      throw Error(str_cat(path, ":", line_no, ": '", key, "' given twice in [", section, "]"));
    values[section + "." + key] = {value, line_no};
  }
  auto get = [&](const std::string& section_key) -> const std::pair<std::string, int>& {
    auto it = values.find(section_key);
    if (it == values.end()) {
      const size_t dot = section_key.find('.');
      throw Error(str_cat(path, ": missing '", section_key.substr(dot + 1), "' in [", section_key.substr(0, dot), "]"));
    }
    return it->second;
  };
  auto integer = [&](const std::string& section_key, int64_t lo, int64_t hi) {
    const auto& [v, at] = get(section_key);
    char* end = nullptr;
    errno = 0;
    const long long x = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || errno == ERANGE || x < lo || x > hi)
      throw Error(str_cat(path, ":", at, ": ", section_key.substr(section_key.find('.') + 1), " = '", v,
                          "' must be a whole number in [", lo, ", ", hi, "]"));
    return static_cast<int64_t>(x);
  };
  ScaleSimConfig c;
  c.run_name = get("general.run_name").first;
  const auto& [mode, mode_line] = get("run_presets.interfacebandwidth");
  if (mode != "USER" && mode != "CALC")
    throw Error(str_cat(path, ":", mode_line, ": InterfaceBandwidth = '", mode, "' must be USER or CALC"));
  c.user_bandwidth = mode == "USER";
  if (c.user_bandwidth) {  // SCALE-Sim reads a list and uses its first value for every port
    const auto& [bw, bw_line] = get("architecture_presets.bandwidth");
    char* end = nullptr;
    const long long x = std::strtoll(bw.c_str(), &end, 10);
    if (bw.empty() || (*end != '\0' && *end != ',') || x < 1)
      throw Error(
          str_cat(path, ":", bw_line, ": Bandwidth = '", bw, "' must be a positive whole number of words per cycle"));
    c.bandwidth_words = x;
  }
  if (auto it = values.find("network_presets.topologycsvloc"); it != values.end()) {
    std::string loc = it->second.first;
    if (loc.size() >= 2 && loc.front() == '"' && loc.back() == '"') loc = loc.substr(1, loc.size() - 2);
    c.topology = loc;
  }
  const auto& [df, df_line] = get("architecture_presets.dataflow");
  ArchConfig& a = c.arch;
  a.name = c.run_name;
  a.path = path;
  a.clock_hz = 1e9;                  // SCALE-Sim counts cycles only; latency is printed at 1 GHz
  a.operand_bits = a.psum_bits = 8;  // SCALE-Sim's word is one byte for every operand and result
  a.sa_general.rows = integer("architecture_presets.arrayheight", 1, 1 << 16);
  a.sa_general.cols = integer("architecture_presets.arraywidth", 1, 1 << 16);
  if (df == "os") a.sa_general.dataflow = Dataflow::kOS;
  else if (df == "ws") a.sa_general.dataflow = Dataflow::kWS;
  else if (df == "is") a.sa_general.dataflow = Dataflow::kIS;
  else throw Error(str_cat(path, ":", df_line, ": Dataflow = '", df, "' must be os, ws or is"));
  a.sa_general.os_drain_explicit = false;  // SCALE-Sim v2 overlaps the drain with the next fold
  a.sa_general.operand_bits = 8;
  a.sram_kib_ifmap = static_cast<double>(integer("architecture_presets.ifmapsramszkb", 1, 1 << 24));
  a.sram_kib_filter = static_cast<double>(integer("architecture_presets.filtersramszkb", 1, 1 << 24));
  a.sram_kib_ofmap = static_cast<double>(integer("architecture_presets.ofmapsramszkb", 1, 1 << 24));
  for (const char* k :
       {"architecture_presets.ifmapoffset", "architecture_presets.filteroffset", "architecture_presets.ofmapoffset"})
    integer(k, 0, int64_t{1} << 40);   // addresses of the traces: checked, not used by the model
  a.sram_port_bytes_per_cycle = 1e12;  // SCALE-Sim's buffers serve an array edge every cycle
  // CALC: SCALE-Sim sizes the interface so that nothing stalls; USER: words (bytes) per cycle per port
  a.dram_bytes_per_s =
      c.user_bandwidth ? double(c.bandwidth_words) * a.clock_hz : 1e30;  // CALC: transfers take no time
  a.dram_shared_channel = false;                                         // one port per operand
  a.dram_latency_cycles = 0;
  a.double_buffered = true;
  a.pipeline_chunk_tokens = 0;  // layers one after another
  a.sources["sa_general_rows"] = "SCALE-Sim ArrayHeight";
  a.sources["dram_bytes_per_s"] =
      c.user_bandwidth ? "SCALE-Sim InterfaceBandwidth USER" : "SCALE-Sim InterfaceBandwidth CALC (no stalls)";
  return c;
}

ScaleSimFoldAverages scalesim_fold_averages(const GemmShape& g, const ArrayConfig& array) {
  int64_t Sr = 0, Sc = 0, T = 0;
  switch (array.dataflow) {
    case Dataflow::kOS: Sr = g.M, Sc = g.N, T = g.K; break;
    case Dataflow::kWS: Sr = g.K, Sc = g.N, T = g.M; break;
    case Dataflow::kIS: Sr = g.K, Sc = g.M, T = g.N; break;
  }
  const int64_t R = array.rows, C = array.cols, RC = R * C;
  // cycles of one fold as SCALE-Sim counts them for the utilisation (its demand matrix's rows
  // plus columns minus one): OS T + R + C - 2; WS and IS 2R + 2C + T - 3
  const int64_t fold_cycles = array.dataflow == Dataflow::kOS ? T + R + C - 2 : 2 * R + 2 * C + T - 3;
  double mapping = 0, compute = 0;
  int64_t folds = 0;
  for (int64_t fc = 0; fc < ceil_div(Sc, C); ++fc)
    for (int64_t fr = 0; fr < ceil_div(Sr, R); ++fr) {
      const int64_t used = std::min(R, Sr - fr * R) * std::min(C, Sc - fc * C);
      mapping += double(used) / double(RC);
      compute += double(used * T) / double(RC * fold_cycles);
      ++folds;
    }
  return {mapping / double(folds), compute / double(folds)};
}

std::string python_float(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[40];
  int p = 1;
  for (; p <= 17; ++p) {  // the shortest digits that read back as v
    std::snprintf(buf, sizeof buf, "%.*e", p - 1, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  const std::string s = buf;
  const size_t e = s.find('e');
  std::string digits = s.substr(0, e);
  const int exp10 = std::atoi(s.c_str() + e + 1);
  const bool negative = digits[0] == '-';
  if (negative) digits.erase(0, 1);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  std::string out;
  if (exp10 >= -4 && exp10 < 16) {  // fixed notation, at least one digit after the point
    if (exp10 >= 0) {
      if (int(digits.size()) <= exp10 + 1) {
        out = digits + std::string(exp10 + 1 - digits.size(), '0') + ".0";
      } else {
        out = digits.substr(0, exp10 + 1) + "." + digits.substr(exp10 + 1);
      }
    } else {
      out = "0." + std::string(-exp10 - 1, '0') + digits;
    }
  } else {
    out = digits.substr(0, 1) + (digits.size() > 1 ? "." + digits.substr(1) : "");
    char ex[16];
    std::snprintf(ex, sizeof ex, "e%c%02d", exp10 < 0 ? '-' : '+', std::abs(exp10));
    out += ex;
  }
  return (negative ? "-" : "") + out;
}

ScaleSimReports scalesim_reports(const Report& r, const ArchConfig& arch) {
  ScaleSimReports out;
  out.compute = "LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute Util %,\n";
  out.bandwidth =
      "LayerID, Avg IFMAP SRAM BW, Avg FILTER SRAM BW, Avg OFMAP SRAM BW, Avg IFMAP DRAM BW, Avg FILTER DRAM BW, "
      "Avg OFMAP DRAM BW,\n";
  out.detail =
      "LayerID, SRAM IFMAP Start Cycle, SRAM IFMAP Stop Cycle, SRAM IFMAP Reads, SRAM Filter Start Cycle, SRAM Filter "
      "Stop Cycle, SRAM Filter Reads, SRAM OFMAP Start Cycle, SRAM OFMAP Stop Cycle, SRAM OFMAP Writes, DRAM IFMAP "
      "Start Cycle, DRAM IFMAP Stop Cycle, DRAM IFMAP Reads, DRAM Filter Start Cycle, DRAM Filter Stop Cycle, DRAM "
      "Filter Reads, DRAM OFMAP Start Cycle, DRAM OFMAP Stop Cycle, DRAM OFMAP Writes,\n";
  const double word = arch.operand_bits / 8.0;
  int layer = 0;
  for (size_t i = 0; i < r.ops.size(); ++i) {
    const HwOp& op = r.ops[i];
    if (op.kind != OpKind::kGemm || op.unit != Unit::kSaGeneral) continue;
    const OpCost& c = r.costs[i];
    const GemmShape g{op.M, op.N, op.K, op.batch};
    GemmOperands operands;
    operands.a_bits = operands.w_bits = operands.out_bits = operands.psum_bits = arch.operand_bits;
    const GemmTiming t = systolic_gemm(g, arch.sa_general, operands, arch, r.mode);
    const ScaleSimFoldAverages avg = scalesim_fold_averages(g, arch.sa_general);
    const int64_t total = c.cycles, stall = c.cycles - c.compute_cycles;
    const int64_t macs = op.M * op.N * op.K * op.batch, pes = arch.sa_general.rows * arch.sa_general.cols;
    const auto ifmap_reads = static_cast<int64_t>(t.sram_a_reads), filter_reads = static_cast<int64_t>(t.sram_w_reads),
               ofmap_writes = static_cast<int64_t>(t.sram_out_writes);
    const auto dram_i = static_cast<int64_t>(std::llround(t.dram_a_bytes / word)),
               dram_f = static_cast<int64_t>(std::llround(t.dram_w_bytes / word)),
               dram_o = static_cast<int64_t>(std::llround(t.dram_out_bytes / word));
    const double cycles = static_cast<double>(total);
    out.compute +=
        str_cat(layer, ", ", total, ", ", stall, ", ", python_float(double(macs * 100) / double(total * pes)), ", ",
                python_float(avg.mapping_efficiency * 100), ", ", python_float(avg.compute_utilization * 100), ",\n");
    // SRAM bandwidths: accesses per cycle of the layer; DRAM: our traffic over the layer's cycles
    out.bandwidth += str_cat(
        layer, ", ", python_float(double(ifmap_reads) / cycles), ", ", python_float(double(filter_reads) / cycles),
        ", ", python_float(double(ofmap_writes) / cycles), ", ", python_float(double(dram_i) / cycles), ", ",
        python_float(double(dram_f) / cycles), ", ", python_float(double(dram_o) / cycles), ",\n");
    // start and stop cycles: the layer's first and last (SCALE-Sim's come from its traces)
    const std::string first = python_float(0.0), last = python_float(cycles - 1);
    out.detail += str_cat(layer, ", ", first, ", ", last, ", ", ifmap_reads, ", ", first, ", ", last, ", ",
                          filter_reads, ", ", first, ", ", last, ", ", ofmap_writes, ", ", first, ", ", last, ", ",
                          dram_i, ", ", first, ", ", last, ", ", dram_f, ", ", first, ", ", last, ", ", dram_o, ",\n");
    ++layer;
  }
  return out;
}

}  // namespace vt::hw
