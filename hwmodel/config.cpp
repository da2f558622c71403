// Parsing and validation of the architecture config and the energy table (see config.h).
#include "hwmodel/config.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/fileio.h"
#include "hwmodel/ir.h"
#include "hwmodel/scalesim.h"
#include "hwmodel/shipped_configs.h"

namespace vt::hw {

const char* dataflow_name(Dataflow d) {
  switch (d) {
    case Dataflow::kOS: return "os";
    case Dataflow::kWS: return "ws";
    case Dataflow::kIS: return "is";
  }
  return "?";
}

namespace {

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

struct Entry {
  std::string value, comment;
  int line = 0;
  bool used = false;
};

// `key = value  # comment` lines; blank lines and lines starting with '#' are skipped.
class KeyValues {
 public:
  KeyValues(const std::string& text, std::string path) : path_(std::move(path)) {
    std::istringstream in(text);
    std::string raw;
    int line = 0;
    while (std::getline(in, raw)) {
      ++line;
      std::string body = raw, comment;
      if (const size_t hash = raw.find('#'); hash != std::string::npos) {
        body = raw.substr(0, hash);
        comment = trim(raw.substr(hash + 1));
      }
      body = trim(body);
      if (body.empty()) continue;
      const size_t eq = body.find('=');
      if (eq == std::string::npos) throw Error(str_cat(path_, ":", line, ": expected 'key = value', got '", body, "'"));
      const std::string key = trim(body.substr(0, eq)), value = trim(body.substr(eq + 1));
      if (key.empty() || value.empty()) throw Error(str_cat(path_, ":", line, ": empty key or value in '", body, "'"));
      if (entries_.count(key))
        throw Error(str_cat(path_, ":", line, ": key '", key, "' repeats line ", entries_[key].line));
      entries_[key] = Entry{value, comment, line, false};
    }
  }

  const Entry& get(const std::string& key) {
    auto it = entries_.find(key);
    if (it == entries_.end()) throw Error(str_cat(path_, ": missing key '", key, "'"));
    it->second.used = true;
    return it->second;
  }
  std::string where(const std::string& key) const { return str_cat(path_, ":", entries_.at(key).line, ": ", key); }

  std::string text(const std::string& key) { return get(key).value; }

  double number(const std::string& key, double min, double max, bool min_inclusive = true) {
    const Entry& e = get(key);
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(e.value.c_str(), &end);
    if (end == e.value.c_str() || *end != '\0' || errno == ERANGE || !std::isfinite(v))
      throw Error(str_cat(where(key), " = '", e.value, "' is not a number"));
    if (v < min || (!min_inclusive && v == min) || v > max)
      throw Error(str_cat(where(key), " = ", e.value, " must lie in ", min_inclusive ? "[" : "(", min, ", ", max, "]"));
    return v;
  }

  int64_t integer(const std::string& key, int64_t min, int64_t max) {
    const double v = number(key, static_cast<double>(min), static_cast<double>(max));
    if (v != std::floor(v)) throw Error(str_cat(where(key), " = ", get(key).value, " must be a whole number"));
    return static_cast<int64_t>(v);
  }

  std::string choice(const std::string& key, const std::vector<std::string>& allowed) {
    const std::string v = text(key);
    for (const std::string& a : allowed)
      if (v == a) return v;
    std::string list;
    for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
    throw Error(str_cat(where(key), " = '", v, "': expected one of ", list));
  }

  bool boolean(const std::string& key) { return choice(key, {"true", "false"}) == "true"; }

  // "8:5.3 32:14.9 ...": at least two (KiB, pJ) points, sizes increasing, energies positive.
  SizeCurve size_curve(const std::string& key) {
    SizeCurve c;
    std::istringstream in(text(key));
    std::string item;
    while (in >> item) {
      const size_t colon = item.find(':');
      char* end1 = nullptr;
      char* end2 = nullptr;
      const double kib = colon == std::string::npos ? NAN : std::strtod(item.c_str(), &end1);
      const double pj = colon == std::string::npos ? NAN : std::strtod(item.c_str() + colon + 1, &end2);
      if (colon == std::string::npos || end1 != item.c_str() + colon || *end2 != '\0' || !(kib > 0) || !(pj > 0) ||
          !std::isfinite(kib) || !std::isfinite(pj))
        throw Error(str_cat(where(key), ": '", item, "' is not KiB:pJ with both positive"));
      if (!c.points.empty() && kib <= c.points.back().first)
        throw Error(str_cat(where(key), ": sizes must increase (", kib, " KiB after ", c.points.back().first, ")"));
      c.points.push_back({kib, pj});
    }
    if (c.points.size() < 2) throw Error(str_cat(where(key), ": needs at least two KiB:pJ points"));
    return c;
  }

  // Every key must have been read: a typo is an error, not a silently ignored setting.
  void check_all_used() const {
    for (const auto& [key, e] : entries_)
      if (!e.used) throw Error(str_cat(path_, ":", e.line, ": unknown key '", key, "'"));
  }
  std::map<std::string, std::string> comments() const {
    std::map<std::string, std::string> out;
    for (const auto& [key, e] : entries_) out[key] = e.comment;
    return out;
  }

 private:
  std::string path_;
  std::map<std::string, Entry> entries_;
};

constexpr int64_t kMaxDim = 1 << 16;  // PEs or lanes per side: beyond any real array
constexpr int64_t kMaxCycles = 1 << 20;

VectorUnitConfig vector_unit(KeyValues& kv, const std::string& unit) {
  VectorUnitConfig u;
  u.lanes = kv.integer(unit + "_lanes", 0, kMaxDim);
  u.ii_cycles = kv.integer(unit + "_ii_cycles", 1, kMaxCycles);
  u.latency_cycles = kv.integer(unit + "_latency_cycles", 0, kMaxCycles);
  return u;
}

Dataflow dataflow(KeyValues& kv, const std::string& key) {
  const std::string d = kv.choice(key, {"os", "ws", "is"});
  return d == "os" ? Dataflow::kOS : d == "ws" ? Dataflow::kWS : Dataflow::kIS;
}

}  // namespace

ArchConfig parse_arch_config(const std::string& text, const std::string& path) {
  KeyValues kv(text, path);
  ArchConfig a;
  a.path = path;
  a.name = kv.text("name");
  a.clock_hz = kv.number("clock_hz", 0, 1e12, /*min_inclusive=*/false);
  a.operand_bits = kv.integer("operand_bits", 1, 64);
  a.psum_bits = kv.integer("psum_bits", 1, 128);
  if (a.psum_bits < a.operand_bits)
    throw Error(
        str_cat(kv.where("psum_bits"), " = ", a.psum_bits, " is narrower than operand_bits = ", a.operand_bits));

  a.sa_general.rows = kv.integer("sa_general_rows", 1, kMaxDim);
  a.sa_general.cols = kv.integer("sa_general_cols", 1, kMaxDim);
  a.sa_general.dataflow = dataflow(kv, "sa_general_dataflow");
  a.sa_general.os_drain_explicit = kv.choice("os_drain", {"explicit", "overlapped"}) == "explicit";
  a.sa_general.operand_bits = a.operand_bits;
  a.sa_diag.rows = kv.integer("sa_diag_rows", 0, kMaxDim);
  a.sa_diag.cols = a.sa_diag.rows > 0 ? 1 : 0;
  a.sa_diag.dataflow = Dataflow::kOS;  // one column: each PE owns one output row (Q k_sum^T)
  a.sa_diag.os_drain_explicit = a.sa_general.os_drain_explicit;
  a.sa_diag.operand_bits = a.operand_bits;

  a.sram_kib_ifmap = kv.number("sram_kib_ifmap", 0, 1 << 24, false);
  a.sram_kib_filter = kv.number("sram_kib_filter", 0, 1 << 24, false);
  a.sram_kib_ofmap = kv.number("sram_kib_ofmap", 0, 1 << 24, false);
  a.sram_port_bytes_per_cycle = kv.number("sram_port_bytes_per_cycle", 0, 1 << 20, false);
  a.dram_bytes_per_s = kv.number("dram_bytes_per_s", 0, 1e15, false);
  a.dram_shared_channel = kv.choice("dram_channel", {"shared", "per_operand"}) == "shared";
  a.dram_latency_cycles = kv.integer("dram_latency_cycles", 0, kMaxCycles);
  a.double_buffered = kv.boolean("double_buffered");

  a.accumulator = vector_unit(kv, "accumulator");
  a.divider = vector_unit(kv, "divider");
  a.adder = vector_unit(kv, "adder");
  a.softmax = vector_unit(kv, "softmax");
  a.layernorm = vector_unit(kv, "layernorm");
  a.gelu = vector_unit(kv, "gelu");
  a.softmax_passes = kv.integer("softmax_passes", 1, 8);
  a.layernorm_passes = kv.integer("layernorm_passes", 1, 8);

  a.sparse_pe_rows = kv.integer("sparse_pe_rows", 0, kMaxDim);
  a.sparse_pe_cols = kv.integer("sparse_pe_cols", 0, kMaxDim);
  a.sparse_exp_latency_cycles = kv.integer("sparse_exp_latency_cycles", 0, kMaxCycles);
  a.predictor.rows = kv.integer("predictor_rows", 0, kMaxDim);
  a.predictor.cols = kv.integer("predictor_cols", 0, kMaxDim);
  a.predictor.operand_bits = kv.integer("predictor_bits", 1, 64);
  a.predictor.dataflow = Dataflow::kOS;
  a.predictor.os_drain_explicit = a.sa_general.os_drain_explicit;
  if ((a.sparse_pe_rows > 0) != (a.predictor.rows > 0 && a.predictor.cols > 0))
    throw Error(str_cat(
        path,
        ": sparse_pe_rows and predictor_rows/predictor_cols must be all zero (no sparse engine) or all positive"));
  if ((a.sparse_pe_rows > 0) != (a.sparse_pe_cols > 0))
    throw Error(str_cat(path, ": sparse_pe_rows and sparse_pe_cols must both be zero or both positive"));
  a.sparse_on_sa_general = kv.choice("sparse_engine_array", {"own", "sa_general"}) == "sa_general";
  if (a.sparse_on_sa_general && (a.sparse_pe_rows != a.sa_general.rows || a.sparse_pe_cols != a.sa_general.cols))
    throw Error(str_cat(kv.where("sparse_engine_array"), " = sa_general: the sparse engine (", a.sparse_pe_rows, " x ",
                        a.sparse_pe_cols, ") must be SA-General's own PEs (", a.sa_general.rows, " x ",
                        a.sa_general.cols, ")"));
  a.pipeline_chunk_tokens = kv.integer("pipeline_chunk_tokens", 0, 1 << 20);

  // The GEMM array needs room for one column of each operand tile in half of each buffer.
  const double operand_bytes = a.operand_bits / 8.0;
  for (auto [key, kib, need] : {std::tuple{"sram_kib_ifmap", a.sram_kib_ifmap, a.sa_general.rows * operand_bytes},
                                std::tuple{"sram_kib_filter", a.sram_kib_filter, a.sa_general.cols * operand_bytes},
                                std::tuple{"sram_kib_ofmap", a.sram_kib_ofmap, a.sa_general.cols * a.psum_bits / 8.0}})
    if (kib * 1024 / 2 < need)
      throw Error(str_cat(kv.where(key), " = ", kib, " KiB: half of it cannot hold one array edge (", need, " bytes)"));
  kv.check_all_used();
  a.sources = kv.comments();
  return a;
}

EnergyTable parse_energy_table(const std::string& text, const std::string& path) {
  KeyValues kv(text, path);
  EnergyTable e;
  e.path = path;
  e.source = kv.text("source");
  e.operand_bits = kv.integer("operand_bits", 1, 64);
  const double big = 1e9;
  e.mac_pj = kv.number("mac_pj", 0, big);
  e.predictor_mac_pj = kv.number("predictor_mac_pj", 0, big);
  e.mul_pj = kv.number("mul_pj", 0, big);
  e.add_pj = kv.number("add_pj", 0, big);
  e.div_pj = kv.number("div_pj", 0, big);
  e.exp_pj = kv.number("exp_pj", 0, big);
  e.sram_read = kv.size_curve("sram_read_pj_per_64b");
  e.sram_write = kv.size_curve("sram_write_pj_per_64b");
  e.dram_pj_per_byte = kv.number("dram_pj_per_byte", 0, big);
  e.leakage_mw = kv.number("leakage_mw", 0, big);
  kv.check_all_used();
  return e;
}

double SizeCurve::at(double kib) const {
  VT_CHECK(points.size() >= 2 && kib > 0, "SRAM size curve: ", points.size(), " points, buffer ", kib, " KiB");
  size_t i = 1;  // the segment [i-1, i] that holds kib, or the end segment beyond the table
  while (i + 1 < points.size() && kib > points[i].first) ++i;
  const auto [x0, y0] = points[i - 1];
  const auto [x1, y1] = points[i];
  const double t = (std::log(kib) - std::log(x0)) / (std::log(x1) - std::log(x0));
  return std::exp(std::log(y0) + t * (std::log(y1) - std::log(y0)));
}

std::string physical_array(Unit u, const ArchConfig& a) {
  if (u == Unit::kSparse && a.sparse_on_sa_general) return unit_name(Unit::kSaGeneral);
  if (u == Unit::kSaDiag && !a.sa_diag.present()) return unit_name(Unit::kSaGeneral);
  return unit_name(u);
}

AreaTable parse_area_table(const std::string& text, const std::string& path) {
  KeyValues kv(text, path);
  AreaTable t;
  t.path = path;
  t.source = kv.text("source");
  const double big = 1e9;
  t.mac16_um2 = kv.number("mac16_um2", 0, big, false);
  t.mac4_um2 = kv.number("mac4_um2", 0, big, false);
  t.sparse_pe_extra_um2 = kv.number("sparse_pe_extra_um2", 0, big);
  t.adder_lane_um2 = kv.number("adder_lane_um2", 0, big, false);
  t.divider_lane_um2 = kv.number("divider_lane_um2", 0, big, false);
  t.exp_lane_um2 = kv.number("exp_lane_um2", 0, big, false);
  t.softmax_lane_um2 = kv.number("softmax_lane_um2", 0, big, false);
  t.layernorm_lane_um2 = kv.number("layernorm_lane_um2", 0, big, false);
  t.gelu_lane_um2 = kv.number("gelu_lane_um2", 0, big, false);
  t.sram_um2_per_kib = kv.size_curve("sram_um2_per_kib");
  kv.check_all_used();
  return t;
}

namespace {
// (text, name for errors) of a shipped config or a file.
std::pair<std::string, std::string> config_source(const std::string& name_or_path) {
  if (name_or_path.find_first_of("/.") != std::string::npos) return {read_file(name_or_path), name_or_path};
  if (const char* text = shipped_config_text(name_or_path))
    return {text, str_cat("hwmodel/configs/", name_or_path, ".cfg")};
  std::string names;
  for (const std::string& n : shipped_config_names()) names += (names.empty() ? "" : ", ") + n;
  throw Error(str_cat("'", name_or_path, "' is neither a shipped config (", names, ") nor a path"));
}
}  // namespace

ArchConfig load_arch_config(const std::string& name_or_path) {
  const auto [text, name] = config_source(name_or_path);
  if (is_scalesim_config(text)) return parse_scalesim_config(text, name).arch;  // a SCALE-Sim v2 .cfg
  return parse_arch_config(text, name);
}

ArchConfig load_arch_config(const std::string& name_or_path,
                            const std::vector<std::pair<std::string, std::string>>& set) {
  auto [text, name] = config_source(name_or_path);
  if (set.empty()) return load_arch_config(name_or_path);
  VT_CHECK(!is_scalesim_config(text), name, ": a SCALE-Sim .cfg; sweep keys apply to vitality's config format");
  for (const auto& [key, value] : set) {
    std::istringstream in(text);
    std::string out, line;
    bool found = false;
    while (std::getline(in, line)) {
      const size_t b = line.find_first_not_of(" \t");
      const size_t eq = line.find('=');
      if (b != std::string::npos && line[b] != '#' && eq != std::string::npos) {
        std::string k = line.substr(b, eq - b);
        k.erase(k.find_last_not_of(" \t") + 1);
        if (k == key) {
          const size_t comment = line.find('#', eq);
          line = line.substr(0, eq + 1) + " " + value +
                 (comment == std::string::npos ? "" : "  # swept (was: " + line.substr(eq + 1, comment - eq - 1) + ")");
          found = true;
        }
      }
      out += line + "\n";
    }
    VT_CHECK(found, name, ": no key '", key, "' to set (the keys are those of hwmodel/configs/vitality.cfg)");
    text = out;
  }
  return parse_arch_config(text, str_cat(name, " (", set.size(), " keys set)"));
}

EnergyTable load_energy_table(const std::string& name_or_path) {
  const auto [text, name] = config_source(name_or_path);
  return parse_energy_table(text, name);
}

AreaTable load_area_table(const std::string& name_or_path) {
  const auto [text, name] = config_source(name_or_path);
  return parse_area_table(text, name);
}

}  // namespace vt::hw
