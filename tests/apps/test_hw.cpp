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

TEST_CASE("vitality hw --compare: three accelerators, ratios and bar charts") {
  TempDir dir("hw");
  auto r = run_cli("hw --compare --threads 2 --output " + dir.path);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("vitality (taylor)") != std::string::npos);
  CHECK(r.out.find("softmax-baseline (softmax)") != std::string::npos);
  CHECK(r.out.find("sanger (sparse)") != std::string::npos);
  const std::string csv = vt::read_file(dir.path + "/compare.csv");
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 4);
  for (const char* f : {"compare_latency.svg", "compare_energy.svg"}) {
    const std::string svg = vt::read_file(dir.path + "/" + f);
    CHECK(svg.rfind("<svg", 0) == 0);
    CHECK(svg.find("attention core") != std::string::npos);
  }
  CHECK(vt::file_size(dir.path + "/sanger_ops.csv") > 0);
}

TEST_CASE("vitality hw --sweep-tokens: Taylor attention grows linearly, softmax quadratically") {
  auto r = run_cli("hw --sweep-tokens --threads 2");
  REQUIRE(r.exit_code == 0);
  // lines like "  785 -> 1765 tokens: softmax x4.9 (exponent 1.96), taylor x2.22 (exponent 0.99)"
  std::istringstream in(r.out);
  std::string line;
  int intervals = 0;
  while (std::getline(in, line)) {
    const size_t s = line.find("(exponent "), t = line.rfind("(exponent ");
    if (s == std::string::npos || s == t) continue;
    const double soft = std::atof(line.c_str() + s + 10), tay = std::atof(line.c_str() + t + 10);
    CAPTURE(line);
    if (line.find("197 ->") == std::string::npos) {  // beyond 448 px, where fixed costs no longer hide the trend
      CHECK(soft >= 1.85);
      CHECK(soft <= 2.3);
      CHECK(tay >= 0.9);
      CHECK(tay <= 1.1);
    }
    ++intervals;
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
