// The walkthrough's chapters (apps/walkthrough/): each runs, exits 0, writes the pictures it names,
// prints every line its page quotes in an ```output block (so the text cannot drift from the code),
// and states the facts its page explains. One ctest entry per chapter (walkthrough/chapter-N).
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <sstream>

#include "core/fileio.h"
#include "tests/apps/cli_util.h"
#include "tests/test_util.h"

using vt::testing::run_cli;
using vt::testing::TempDir;

namespace {

const char* kPages[] = {"01-tensors",
                        "02-autograd",
                        "03-an-op",
                        "04-training",
                        "05-softmax-attention",
                        "06-taylor-attention",
                        "07-sparse-and-vitality",
                        "08-vision-transformer",
                        "09-accelerator"};

struct Run {
  std::string out;
  std::map<std::string, std::string> facts;  // "fact: name = value"
};

// Runs chapter n and checks what every chapter promises; returns its facts.
Run run_chapter(int n) {
  TempDir dir("walkthrough");
  const auto r = run_cli(vt::str_cat("walkthrough ", n, " --threads 2 --out ", dir.path));
  REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  Run run;
  run.out = r.out;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("fact: ", 0) == 0) {
      const size_t eq = line.find(" = ");
      run.facts[line.substr(6, eq - 6)] = line.substr(eq + 3);
    }
    if (line.rfind("picture: ", 0) == 0) {  // "picture: DIR/file.svg (what)"
      const std::string path = line.substr(9, line.find(" (") - 9);
      CAPTURE(path);
      REQUIRE(::access(path.c_str(), R_OK) == 0);
      CHECK(vt::read_file(path).rfind("<svg ", 0) == 0);
    }
  }
  // every line the page quotes as output is printed
  const std::string page =
      vt::read_file(std::string(VITALITY_TEST_DATA) + "/../apps/walkthrough/" + kPages[n - 1] + ".md");
  std::istringstream text(page);
  bool in_output = false;
  int quoted = 0;
  for (std::string line; std::getline(text, line);) {
    if (line == "```output") {
      in_output = true;
      continue;
    }
    if (in_output && line == "```") {
      in_output = false;
      continue;
    }
    if (in_output && !line.empty()) {
      CAPTURE(line);
      CHECK(r.out.find(line) != std::string::npos);
      ++quoted;
    }
  }
  CHECK(quoted >= 3);  // each page shows its numbers
  return run;
}

double number(const std::string& text) { return std::stod(text); }

}  // namespace

TEST_CASE("walkthrough chapter 1: tensors") {
  const Run r = run_chapter(1);
  CHECK(r.facts.at("offset of x[1][2]").rfind("5 ", 0) == 0);
  CHECK(r.facts.at("x.reshape({3, 2}) shares x's memory") == "yes (a view)");
  CHECK(r.facts.at("transpose(x, 0, 1) shares x's memory") == "no (a copy)");
  CHECK(r.facts.at("max |matmul(a, b, false, true) - matmul(a, transpose(b))|") == "0");
  CHECK(r.facts.at("gradient of sum(x + bias) with respect to bias") == "2 2 2");
}

TEST_CASE("walkthrough chapter 2: autograd") {
  const Run r = run_chapter(2);
  CHECK(r.facts.at("by the tape") == "L = 81, dL/da = 54, dL/db = -54");
  CHECK(r.facts.at("tape equals hand") == "yes");
}

TEST_CASE("walkthrough chapter 3: an op") {
  const Run r = run_chapter(3);
  CHECK(r.facts.at("gradcheck(gelu)").rfind("passes", 0) == 0);
  CHECK(r.facts.at("gradcheck(silu)").rfind("passes", 0) == 0);
  CHECK(r.facts.at("gradcheck(silu with a term dropped)") == "FAILS");
}

TEST_CASE("walkthrough chapter 4: training") {
  const Run r = run_chapter(4);
  CHECK(std::fabs(number(r.facts.at("first loss")) - std::log(3.0)) < 0.1);
  CHECK(number(r.facts.at("SGD (momentum 0.9, lr 0.5): training accuracy")) >= 95);
  CHECK(number(r.facts.at("AdamW (lr 0.01): training accuracy")) >= 95);
}

TEST_CASE("walkthrough chapter 5: softmax attention") {
  const Run r = run_chapter(5);
  CHECK(number(r.facts.at("largest |row sum of P - 1|")) < 1e-6);
  CHECK(number(r.facts.at("max |Z by hand - vit::attention_softmax|")) < 1e-6);
}

TEST_CASE("walkthrough chapter 6: Taylor attention") {
  const Run r = run_chapter(6);
  CHECK(number(r.facts.at("max |steps by hand - vit::attention_taylor|")) < 1e-6);
  CHECK(number(r.facts.at("max |steps - the quadratic form diag(A 1)^-1 A V|")) < 1e-6);
  const double ratio = number(r.facts.at("error ratio from scale 0.03 to 0.1"));
  CHECK(ratio > 8);  // second order: (0.1 / 0.03)^2 = 11.1
  CHECK(ratio < 12);
}

TEST_CASE("walkthrough chapter 7: sparse attention and ViTALiTy") {
  const Run r = run_chapter(7);
  CHECK(number(r.facts.at("negative control, a keep-all mask: max |sparse - softmax|")) < 1e-5);
  CHECK(number(r.facts.at("lambda 1, every pair kept: max |vitality - softmax|")) < 1e-5);
  CHECK(number(r.facts.at("negative control, an empty mask: max |vitality - taylor|")) < 1e-5);
  CHECK(r.facts.at("the kind that evaluation and the accelerator run") == "taylor");
}

TEST_CASE("walkthrough chapter 8: a vision transformer") {
  if (::access("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", R_OK) != 0) {
    MESSAGE("Fashion-MNIST is not installed (dataset-fashion-mnist): chapter 8 skipped");
    return;
  }
  if (std::getenv("VITALITY_TEST_QUICK")) {  // the sanitized suite: an epoch of training there takes minutes
    MESSAGE("VITALITY_TEST_QUICK: chapter 8 runs in the main suite only");
    return;
  }
  const Run r = run_chapter(8);
  CHECK(number(r.facts.at("test accuracy after one epoch")) > 80);
  CHECK(r.facts.at("the rollout's cls row sums to") == "1.0000");
}

TEST_CASE("walkthrough chapter 9: the accelerator") {
  const Run r = run_chapter(9);
  CHECK(r.facts.at("cycles by hand") == "46");
  CHECK(r.facts.at("cycles from hwmodel (systolic_gemm)") == "46 in 4 folds");
  const double share = number(r.facts.at("attention's share of the latency")) / 100;
  CHECK(number(r.facts.at("the bound 1 / (1 - share)")) == doctest::Approx(1 / (1 - share)).epsilon(0.01));
}

TEST_CASE("walkthrough: the list, and one-line errors") {
  const auto list = run_cli("walkthrough");
  CHECK(list.exit_code == 0);
  for (const char* page : kPages) CHECK(list.out.find(page) != std::string::npos);
  CHECK(run_cli("walkthrough 10").exit_code == 2);
  CHECK(run_cli("walkthrough 1 2").exit_code == 2);
}
