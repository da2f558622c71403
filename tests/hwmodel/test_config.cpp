// The architecture config and energy table parsers: shipped files load, and every kind of bad
// input is an error naming the file, line and key. Add a case by editing one key with with_key().
#include <doctest/doctest.h>

#include "hwmodel/config.h"
#include "hwmodel_test_util.h"

using namespace vt;
using namespace vt::hw;
using namespace vt::hw::test;

namespace {
std::string error_of(const std::string& text) {
  try {
    parse_arch_config(text, "x.cfg");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("the shipped configs load with their documented values") {
  const ArchConfig v = load_arch_config("vitality");
  CHECK(v.name == "vitality");
  CHECK(v.clock_hz == 1e9);
  CHECK(v.sa_general.rows == 32);
  CHECK(v.sa_general.cols == 32);
  CHECK(v.sa_general.dataflow == Dataflow::kWS);
  CHECK(v.sa_diag.rows == 32);
  CHECK(v.sa_diag.cols == 1);
  CHECK(v.dram_bytes_per_cycle() == doctest::Approx(128.0));
  CHECK(!v.softmax.present());
  CHECK(!v.has_sparse_engine());
  CHECK(v.sources.at("clock_hz").find("SANGER") != std::string::npos);  // the source is kept
  const ArchConfig s = load_arch_config("softmax-baseline");
  CHECK(s.softmax.lanes == 32);
  CHECK(s.sa_general.rows == v.sa_general.rows);
  const ArchConfig g = load_arch_config("sanger");
  CHECK(g.has_sparse_engine());
  CHECK(g.sa_general.rows * g.sa_general.cols == v.sa_general.rows * v.sa_general.cols);  // equal PE counts
  const EnergyTable e = load_energy_table("energy-45nm");
  CHECK(e.source.find("Horowitz") != std::string::npos);
  CHECK(e.mac_pj > e.add_pj);
}

TEST_CASE("bad configs are errors naming the file, line and key") {
  const std::string base = shipped("vitality");
  SUBCASE("unknown key") {
    const std::string msg = error_of(base + "sa_general_rowz = 4\n");
    CHECK(msg.find("x.cfg:") != std::string::npos);
    CHECK(msg.find("unknown key 'sa_general_rowz'") != std::string::npos);
  }
  SUBCASE("missing key") {
    std::string text = base;
    text.erase(text.find("\nclock_hz"), text.find('\n', text.find("\nclock_hz") + 1) - text.find("\nclock_hz"));
    CHECK(error_of(text).find("missing key 'clock_hz'") != std::string::npos);
  }
  SUBCASE("impossible values") {
    CHECK(error_of(with_key(base, "sa_general_rows", "0")).find("sa_general_rows = 0 must lie in") !=
          std::string::npos);
    CHECK(error_of(with_key(base, "clock_hz", "-1e9")).find("clock_hz") != std::string::npos);
    CHECK(error_of(with_key(base, "clock_hz", "fast")).find("'fast' is not a number") != std::string::npos);
    CHECK(error_of(with_key(base, "sa_general_rows", "3.5")).find("whole number") != std::string::npos);
    CHECK(error_of(with_key(base, "sa_general_dataflow", "rs")).find("expected one of os, ws, is") !=
          std::string::npos);
    CHECK(error_of(with_key(base, "psum_bits", "8")).find("narrower than operand_bits") != std::string::npos);
    CHECK(error_of(with_key(base, "sram_kib_ofmap", "0.1")).find("cannot hold one array edge") != std::string::npos);
    CHECK(error_of(with_key(base, "sparse_pe_rows", "4")).find("sparse_pe_rows") != std::string::npos);
  }
  SUBCASE("repeated key and malformed line") {
    CHECK(error_of(base + "clock_hz = 2e9\n").find("repeats line") != std::string::npos);
    CHECK(error_of(base + "just words\n").find("expected 'key = value'") != std::string::npos);
  }
}

TEST_CASE("energy tables need every action and a source") {
  const std::string base = shipped("energy-45nm");
  CHECK_THROWS_WITH_AS(parse_energy_table(with_key(base, "dram_pj_per_byte", "-1"), "e.cfg"),
                       doctest::Contains("dram_pj_per_byte"), Error);
  std::string no_source = base;
  no_source.erase(no_source.find("\nsource"),
                  no_source.find('\n', no_source.find("\nsource") + 1) - no_source.find("\nsource"));
  CHECK_THROWS_WITH_AS(parse_energy_table(no_source, "e.cfg"), doctest::Contains("missing key 'source'"), Error);
}

TEST_CASE("configs load by shipped name or by path; other names list the shipped ones") {
  CHECK_THROWS_WITH_AS(load_arch_config("tpu"), doctest::Contains("vitality, softmax-baseline, sanger"), Error);
  CHECK_THROWS_WITH_AS(load_arch_config("/nonexistent/x.cfg"), doctest::Contains("/nonexistent/x.cfg"), Error);
}
