// The vitality binary end to end: exit codes and messages for good and bad input.
#include <doctest/doctest.h>

#include "tests/apps/cli_util.h"

using vt::testing::run_cli;

TEST_CASE("vitality without a command prints usage and fails; unknown commands fail") {
  CHECK(run_cli("").exit_code == 2);
  auto r = run_cli("frobnicate");
  CHECK(r.exit_code == 2);
  CHECK(r.out.find("unknown command 'frobnicate'") != std::string::npos);
  CHECK(run_cli("--help").exit_code == 0);
}

TEST_CASE("vitality demo trains and its loss falls") {
  auto r = run_cli("demo --steps 100 --threads 1");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("step    0  loss 1.07") != std::string::npos);
  CHECK(r.out.find("step  100  loss 0.2") != std::string::npos);
  CHECK(run_cli("demo --steps -1").exit_code == 2);
  CHECK(run_cli("demo --stepz 3").exit_code == 2);
}

TEST_CASE("vitality inspect: files, models, and one-line errors") {
  auto r = run_cli("inspect " VITALITY_TEST_DATA "/vit/fixtures/small_weights.safetensors");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("blocks.1.mlp.fc2.weight    F32    (24,96)             2304") != std::string::npos);
  CHECK(r.out.find("32 tensors, 16229 parameters") != std::string::npos);
  CHECK(r.out.find("format = pt") != std::string::npos);
  auto m = run_cli("inspect --model deit_tiny_patch16_224");
  CHECK(m.out.find("152 tensors, 5717416 parameters") != std::string::npos);
  auto bad_model = run_cli("inspect --model vit_huge");
  CHECK(bad_model.exit_code == 1);
  CHECK(bad_model.out.find("unknown model 'vit_huge'") != std::string::npos);
  auto bad_file = run_cli("inspect " VITALITY_TEST_DATA "/README.md");
  CHECK(bad_file.exit_code == 1);
  CHECK(bad_file.out.find("not a valid safetensors file") != std::string::npos);
  auto missing = run_cli("inspect /nonexistent.safetensors");
  CHECK(missing.exit_code == 1);
  CHECK(missing.out == "vitality inspect: error: /nonexistent.safetensors: No such file or directory\n");
}
