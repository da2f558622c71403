// The vitality binary end to end: exit codes and messages for good and bad input.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "tests/apps/cli_util.h"

using vt::testing::run_cli;

TEST_CASE("vitality without a command prints usage and fails; unknown commands fail") {
  CHECK(run_cli("").exit_code == 2);
  auto r = run_cli("frobnicate");
  CHECK(r.exit_code == 2);
  CHECK(r.out.find("unknown command 'frobnicate'") != std::string::npos);
  CHECK(run_cli("--help").exit_code == 0);
}

TEST_CASE("vitality demo trains: its loss starts at ln 3 and falls, and it learns the spirals") {
  auto r = run_cli("demo --steps 300 --threads 1");
  REQUIRE(r.exit_code == 0);
  // the printed (step, loss, accuracy) lines, every 50 steps
  std::vector<double> losses, accuracies;
  for (size_t at = r.out.find("step "); at != std::string::npos; at = r.out.find("step ", at + 1)) {
    int step = 0;
    double loss = 0, acc = 0;
    REQUIRE(std::sscanf(r.out.c_str() + at, "step %d  loss %lf  accuracy %lf%%", &step, &loss, &acc) == 3);
    CHECK(step == 50 * static_cast<int>(losses.size()));
    losses.push_back(loss);
    accuracies.push_back(acc);
  }
  REQUIRE(losses.size() == 7);
  // PyTorch-style initialisation gives logits near 0: three nearly equal probabilities
  CHECK(std::abs(losses[0] - std::log(3.0)) < 0.1);
  for (size_t i = 1; i < losses.size(); ++i) CHECK(losses[i] < losses[i - 1]);
  CHECK(losses.back() < 0.5 * losses[0]);
  CHECK(accuracies.back() > 80.0);  // chance is 33%
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
