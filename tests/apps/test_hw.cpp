// `vitality hw` end to end: the report of a traced DeiT-Tiny, the three-accelerator comparison
// with its files, the token sweep's growth (Taylor linear, softmax quadratic), GEMM tables, and
// one-line errors for what cannot run.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "core/fileio.h"
#include "core/json.h"
#include "tests/apps/cli_util.h"
#include "tests/svg_util.h"
#include "tests/test_util.h"

using vt::testing::run_cli;
using vt::testing::TempDir;

TEST_CASE("vitality hw: a DeiT-Tiny forward pass on the ViTALiTy accelerator") {
  TempDir dir("hw");
  auto r = run_cli("hw --threads 2 --ops --output " + dir.path);
  REQUIRE(r.exit_code == 0);
  CHECK(
      r.out.find("accelerator vitality (timing default), workload deit_tiny_patch16_224 at 224 px, taylor attention") !=
      std::string::npos);
  CHECK(r.out.find("blocks.11.attn.core.6 ") != std::string::npos);
  CHECK(r.out.find("MACs         1133.40 M") != std::string::npos);  // 12 x (87.15 + 4.88) + stem 28.9 + head
  for (const char* f : {"ops.csv", "layers.csv", "summary.csv", "report.json"})
    CHECK(vt::file_size(dir.path + "/" + f) > 0);
  const vt::Json j = vt::Json::parse(vt::read_file(dir.path + "/report.json"));
  CHECK(j.find("summary")->find("arch")->as_string() == "vitality");
  auto csv = run_cli("hw --threads 2 --attn softmax --format csv");
  REQUIRE(csv.exit_code == 0);
  CHECK(csv.out.rfind("arch,workload,timing_mode,clock_hz,total_cycles", 0) == 0);
  CHECK(csv.out.find("softmax-baseline") != std::string::npos);
}

TEST_CASE("vitality hw --compare: resources, density, shares, bounds and ratios as JSON numbers; charts of the same") {
  TempDir dir("hw");
  auto r = run_cli("hw --compare --threads 2 --format json --output " + dir.path);
  REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  const vt::Json j = vt::Json::parse(r.out);  // stdout is the JSON document alone
  const auto& archs = j.find("architectures")->items();
  REQUIRE(archs.size() == 3);
  CHECK(archs[0].find("name")->as_string() == "vitality");
  CHECK(archs[1].find("name")->as_string() == "softmax-baseline");
  CHECK(archs[2].find("name")->as_string() == "sanger");
  const std::vector<std::string> svg_bars = {};
  for (const vt::Json& a : archs) {
    CAPTURE(a.find("name")->as_string());
    const vt::Json& res = *a.find("resources");
    for (const char* k : {"pe", "predictor_pe", "sram_kib", "dram_gbps", "clock_hz", "area_mm2"})
      CHECK(res.find(k)->is_number());
    for (const char* k : {"density", "attention_share_latency", "attention_share_energy", "amdahl_bound"})
      CHECK(a.find(k)->is_number());
    for (const char* k : {"attention_latency", "attention_energy", "end_to_end_latency", "end_to_end_energy"})
      CHECK(a.find("ratio_to_vitality")->find(k)->is_number());
    const double share = a.find("attention_share_latency")->as_double();
    CHECK(share > 0);
    CHECK(share < 1);
    CHECK(a.find("amdahl_bound")->as_double() == doctest::Approx(1 / (1 - share)));
    const vt::Json& lat = *a.find("latency_us");
    CHECK(lat.find("attention")->as_double() < lat.find("attention_layer")->as_double());
    CHECK(lat.find("attention_layer")->as_double() < lat.find("end_to_end")->as_double());
  }
  // equal PEs and SRAM as shipped; SANGER also has its predictor, and more area
  CHECK(archs[0].find("resources")->find("sram_kib")->as_double() ==
        archs[2].find("resources")->find("sram_kib")->as_double());
  CHECK(archs[2].find("resources")->find("predictor_pe")->as_double() == 4096);
  CHECK(archs[0].find("ratio_to_vitality")->find("end_to_end_latency")->as_double() == 1.0);
  // SANGER at the sourced default density, and saying where it comes from
  CHECK(archs[2].find("density")->as_double() == doctest::Approx(0.1).epsilon(1e-3));
  CHECK(archs[2].find("density_source")->as_string().find("ViTCoD") != std::string::npos);
  CHECK(archs[0].find("density")->as_double() == 1.0);
  // the bar chart draws the same totals as the JSON holds
  const auto bars = vt::testing::svg_elements(vt::read_file(dir.path + "/compare_latency.svg"), "bar");
  REQUIRE(bars.size() == 9);
  for (size_t g = 0; g < 3; ++g) {
    double total = 0;
    for (size_t k = 0; k < 3; ++k) total += std::stod(bars[g * 3 + k].at("data-value"));
    CHECK(total == doctest::Approx(archs[g].find("latency_us")->find("end_to_end")->as_double()).epsilon(1e-6));
    CHECK(std::stod(bars[g * 3 + 1].at("data-value")) ==
          doctest::Approx(archs[g].find("latency_us")->find("attention")->as_double()).epsilon(1e-6));
  }
  const std::string csv = vt::read_file(dir.path + "/compare.csv");
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 4);
  CHECK(vt::Json::parse(vt::read_file(dir.path + "/compare.json")).find("architectures")->size() == 3);
  CHECK(vt::file_size(dir.path + "/sanger_ops.csv") > 0);
  // every op in the per-op JSON names the physical array it runs on: SANGER's sparse steps run on SA-General
  auto ops = vt::Json::parse(run_cli("hw --attn sparse --density 0.2 --threads 2 --format json").out);
  bool sparse_on_sa = false;
  for (const vt::Json& op : ops.find("ops")->items())
    sparse_on_sa |= op.find("unit")->as_string() == "sparse_engine" && op.find("array")->as_string() == "sa_general";
  CHECK(sparse_on_sa);
}

TEST_CASE(
    "vitality hw: --density synthesises masks, --iso area scales the baselines, --sweep-density finds the break-even") {
  TempDir dir("hw");
  const vt::Json d = vt::Json::parse(run_cli("hw --compare --density 0.3 --threads 2 --format json").out);
  CHECK(d.find("architectures")->items()[2].find("density")->as_double() == doctest::Approx(0.3).epsilon(1e-3));
  const auto sparse = run_cli("hw --attn sparse --density 0.05 --threads 2");
  REQUIRE(sparse.exit_code == 0);
  CHECK(sparse.out.find("masks keep 5.0% of the attention scores") != std::string::npos);
  CHECK(run_cli("hw --attn taylor --density 0.1").exit_code == 2);  // no mask to synthesise
  CHECK(run_cli("hw --attn sparse --density 1.5").exit_code == 2);
  // iso-area: every baseline within ViTALiTy's area, as large as fits
  const vt::Json iso = vt::Json::parse(run_cli("hw --compare --iso area --threads 2 --format json").out);
  const double area = iso.find("architectures")->items()[0].find("resources")->find("area_mm2")->as_double();
  for (const vt::Json& a : iso.find("architectures")->items())
    CHECK(a.find("resources")->find("area_mm2")->as_double() <= area + 1e-9);
  CHECK(iso.find("architectures")->items()[2].find("resources")->find("pe")->as_double() < 1024);
  // the sweep: every density for each predictor size, and the break-even density between the two
  // sweep points where SANGER's attention energy crosses ViTALiTy's
  auto r = run_cli("hw --sweep-density --threads 2 --output " + dir.path);
  REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  const std::string csv = vt::read_file(dir.path + "/sweep_density.csv");
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 1 + 3 * 8);
  const auto panels = vt::testing::svg_panels(vt::read_file(dir.path + "/sweep_density.svg"));
  REQUIRE(panels.size() == 2);
  REQUIRE(panels[1].markers.size() == 1);
  const double even = panels[1].markers[0];
  const auto& vit = panels[1].series[0];
  const auto& sanger = panels[1].series[1];
  size_t k = 0;
  while (k + 1 < sanger.x.size() && sanger.x[k + 1] < even) ++k;
  CHECK(sanger.y[k] <= vit.y[k] * 1.01);          // cheaper just below the break-even density
  CHECK(sanger.y[k + 1] >= vit.y[k + 1] * 0.99);  // dearer just above it
}

TEST_CASE("vitality hw --sweep-tokens: Taylor attention grows linearly, softmax and SANGER's quadratically") {
  auto r = run_cli("hw --sweep-tokens --threads 2");
  REQUIRE(r.exit_code == 0);
  // lines like "  785 -> 1765 tokens: taylor x2.23 (exponent 0.99), softmax x4.97 (exponent 1.98), sparse x4.60
  // (exponent 1.88)"
  auto exponent = [](const std::string& line, const std::string& kind) {
    const size_t at = line.find(" " + kind + " x");
    REQUIRE(at != std::string::npos);
    return std::atof(line.c_str() + line.find("(exponent ", at) + 10);
  };
  std::istringstream in(r.out);
  std::string line;
  int intervals = 0;
  while (std::getline(in, line)) {
    if (line.find(" tokens: ") == std::string::npos) continue;
    CAPTURE(line);
    ++intervals;
    if (line.find("197 ->") != std::string::npos) continue;  // fixed costs still hide the trend below 448 px
    CHECK(exponent(line, "taylor") >= 0.9);
    CHECK(exponent(line, "taylor") <= 1.1);
    CHECK(exponent(line, "softmax") >= 1.85);
    CHECK(exponent(line, "softmax") <= 2.3);
    CHECK(exponent(line, "sparse") >= 1.5);  // the dense 4-bit predictor keeps SANGER quadratic
  }
  CHECK(intervals == 3);
}

TEST_CASE("vitality hw --workload: a SCALE-Sim GEMM table, with SCALE-Sim v2's numbers in its mode") {
  TempDir dir("hw");
  vt::write_file_atomic(dir.path + "/w.csv", "Layer,M,N,K,\nqkv,197,64,192,\n");
  auto r = run_cli("hw --workload " + dir.path + "/w.csv --mode scalesim-v2 --format csv");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find(",3491,") != std::string::npos);  // SCALE-Sim v2's reported total for WS
  vt::write_file_atomic(dir.path + "/bad.csv", "Layer,M,N,K\nqkv,197,x,192\n");
  auto bad = run_cli("hw --workload " + dir.path + "/bad.csv");
  CHECK(bad.exit_code == 1);
  CHECK(bad.out.find("bad.csv:2: N = 'x'") != std::string::npos);
}

TEST_CASE("vitality hw: one-line errors") {
  auto no_softmax = run_cli("hw --attn softmax --arch vitality --threads 1");
  CHECK(no_softmax.exit_code == 1);
  CHECK(no_softmax.out.find("needs a softmax unit") != std::string::npos);
  auto no_arch = run_cli("hw --arch tpu");
  CHECK(no_arch.exit_code == 1);
  CHECK(no_arch.out.find("neither a shipped config") != std::string::npos);
  CHECK(run_cli("hw --attn linear").exit_code == 2);
  CHECK(run_cli("hw --compare --sweep-tokens").exit_code == 2);
}

TEST_CASE("vitality hw --sweep: every combination, traced once per model input, CSV and SVG") {
  TempDir dir("sweep");
  auto r = run_cli(
      "hw --threads 2 --sweep dram_bytes_per_s=64e9,128e9 --sweep input_size=64,96 --sweep "
      "attn=taylor,sparse --density 0.25 --output " +
      dir.path);
  REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  CHECK(r.out.find("8 points (4 traced workloads)") != std::string::npos);  // 2 sizes x 2 kinds, not 8
  const std::string csv = vt::read_file(dir.path + "/sweep.csv");
  std::istringstream lines(csv);
  std::string header, line;
  std::getline(lines, header);
  CHECK(header ==
        "dram_bytes_per_s,input_size,attn,accelerator,attention,cycles,latency_us,energy_uj,attention_us,attention_uj,"
        "sa_general_utilization,area_mm2");
  std::vector<std::vector<std::string>> rows;
  while (std::getline(lines, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
    rows.push_back(f);
  }
  REQUIRE(rows.size() == 8);
  // the last key varies fastest; each kind on its own accelerator
  CHECK(rows[0][0] == "64e9");
  CHECK(rows[0][1] == "64");
  CHECK(rows[0][2] == "taylor");
  CHECK(rows[1][3] == "sanger");
  CHECK(rows[7][0] == "128e9");
  // a point equals the single run with the same settings
  auto single = run_cli("hw --threads 2 --input-size 96 --attn sparse --density 0.25 --format json");
  REQUIRE(single.exit_code == 0);
  const vt::Json s = vt::Json::parse(single.out);
  REQUIRE(s.find("summary")->find("total_cycles"));
  CHECK(std::stod(rows[7][5]) == s.find("summary")->find("total_cycles")->as_double());
  // more bandwidth, fewer cycles
  CHECK(std::stod(rows[5][5]) < std::stod(rows[1][5]));
  const auto panels = vt::testing::svg_panels(vt::read_file(dir.path + "/sweep.svg"));
  REQUIRE(panels.size() == 2);
  CHECK(panels[0].series.size() == 4);  // one line per (input_size, attn)
  CHECK(panels[0].series[0].x == std::vector<double>{64e9, 128e9});
  auto bad = run_cli("hw --sweep sa_general_colz=8,16");
  CHECK(bad.exit_code == 1);
  CHECK(bad.out.find("no key 'sa_general_colz'") != std::string::npos);
  CHECK(run_cli("hw --sweep sa_general_rows").exit_code == 2);
  CHECK(run_cli("hw --sweep density=0,0.5").exit_code == 2);
  CHECK(run_cli("hw --sweep sa_general_rows=0,8").exit_code == 1);  // the config's own validation
}

TEST_CASE("a SCALE-Sim v2 run directory: its .cfg, its topology files, its three reports") {
  TempDir dir("scalesim");
  vt::write_file_atomic(dir.path + "/scale.cfg",
                        "[general]\nrun_name = tiny\n\n[architecture_presets]\nArrayHeight:    32\nArrayWidth:     32\n"
                        "IfmapSramSzkB:   64\nFilterSramSzkB:  64\nOfmapSramSzkB:   64\nIfmapOffset:    0\n"
                        "FilterOffset:   10000000\nOfmapOffset:    20000000\nBandwidth : 10\nDataflow : os\n"
                        "MemoryBanks:   1\n\n[run_presets]\nInterfaceBandwidth: CALC\n\n[network_presets]\n"
                        "TopologyCsvLoc = \"gemm.csv\"\n");
  vt::write_file_atomic(dir.path + "/gemm.csv", "Layer, M, N, K,\nqkv, 197, 576, 192,\ns, 197, 197, 64,\n");
  // the cfg names its topology: no --workload needed (found next to the cfg)
  auto r = run_cli("hw --arch " + dir.path + "/scale.cfg --mode scalesim-v2 --output " + dir.path + "/out");
  REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  // SCALE-Sim v2's own report for this cfg and topology, as it printed it
  CHECK(vt::read_file(dir.path + "/out/COMPUTE_REPORT.csv") ==
        "LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute Util %,\n"
        "0, 32003, 0, 66.48126738118302, 87.94642857142857, 66.47919010123728,\n"
        "1, 6173, 0, 39.29309087963713, 77.34574298469387, 39.28672659540003,\n");
  const std::string bw = vt::read_file(dir.path + "/out/BANDWIDTH_REPORT.csv");
  CHECK(bw.find("0, 21.274005561978566, 24.18973221260507, 3.79764397087773, ") != std::string::npos);
  const std::string detail = vt::read_file(dir.path + "/out/DETAILED_ACCESS_REPORT.csv");
  CHECK(detail.rfind("LayerID, SRAM IFMAP Start Cycle, SRAM IFMAP Stop Cycle, SRAM IFMAP Reads, ", 0) == 0);
  CHECK(detail.find(", 680832, ") != std::string::npos);
  // a conv topology, SCALE-Sim's form: M = ofmap pixels (ceil((31 - 3 + 2) / 2) = 15 per side)
  vt::write_file_atomic(dir.path + "/conv.csv",
                        "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
                        "Strides,\nc1, 31, 31, 3, 3, 16, 32, 2,\nDP_c2, 8, 8, 3, 3, 3, 4, 1,\n");
  auto c = run_cli("hw --arch " + dir.path + "/scale.cfg --workload " + dir.path +
                   "/conv.csv --mode scalesim-v2 "
                   "--format json");
  REQUIRE_MESSAGE(c.exit_code == 0, c.out);
  const vt::Json j = vt::Json::parse(c.out);
  const auto& ops = j.find("ops")->items();
  REQUIRE(ops.size() == 4);  // c1, and the depthwise layer split per channel
  CHECK(ops[0].find("shape")->as_string() == "M=225 N=32 K=144");
  CHECK(ops[3].find("op")->as_string() == "DP_c2Channel_2");
  CHECK(ops[3].find("shape")->as_string() == "M=36 N=4 K=9");
  // malformed files name the line
  vt::write_file_atomic(dir.path + "/bad.cfg", "[general]\nrun_name = x\n[architecture_presets]\nArrayHieght: 8\n");
  auto bad = run_cli("hw --arch " + dir.path + "/bad.cfg --workload " + dir.path + "/gemm.csv");
  CHECK(bad.exit_code == 1);
  CHECK(bad.out.find("bad.cfg:4: unknown key 'ArrayHieght' in [architecture_presets]") != std::string::npos);
}

TEST_CASE("--sweep-tokens is a case of --sweep: the same points") {
  const auto tokens = run_cli("hw --threads 2 --sweep-tokens --format csv");
  REQUIRE(tokens.exit_code == 0);
  const auto grid = run_cli(
      "hw --threads 2 --sweep input_size=448 --sweep attn=taylor,softmax,sparse --density 0.1 "
      "--format csv");
  REQUIRE(grid.exit_code == 0);
  // pixels,tokens,accelerator,attention,attention_us,attention_uj,total_us,total_uj,...  against
  // input_size,attn,accelerator,attention,cycles,latency_us,energy_uj,attention_us,attention_uj,...
  std::istringstream a(tokens.out), b(grid.out);
  std::vector<std::vector<std::string>> ta, gb;
  for (std::string l; std::getline(a, l);) {
    std::vector<std::string> f;
    std::stringstream ss(l);
    for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
    if (!f.empty() && f[0] == "448") ta.push_back(f);
  }
  for (std::string l; std::getline(b, l);) {
    std::vector<std::string> f;
    std::stringstream ss(l);
    for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
    if (!f.empty() && f[0] == "448") gb.push_back(f);
  }
  REQUIRE(ta.size() == 3);
  REQUIRE(gb.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(ta[i][3] == gb[i][1]);  // the kind
    CHECK(ta[i][4] == gb[i][7]);  // attention us
    CHECK(ta[i][6] == gb[i][5]);  // total us
    CHECK(ta[i][7] == gb[i][6]);  // total uJ
  }
}
