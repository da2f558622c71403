// The attention-kind registry (vit/attention_registry.h) is the only list of kinds: every command
// line choice, help text, default accelerator, comparison and fixture is derived from it. This
// test walks the registry and fails when a registered kind is missing from any of them.
#include <doctest/doctest.h>

#include "core/fileio.h"
#include "core/json.h"
#include "tests/apps/cli_util.h"
#include "tests/apps/tiny_folder.h"
#include "vit/attention_registry.h"

using vt::Json;
using vt::testing::run_cli;

TEST_CASE("every registered attention kind is in every list derived from the registry") {
  const std::string choices = "--attn " + vt::vit::attention_kind_list("|");
  for (const char* command : {"train", "eval", "predict", "bench", "hw"}) {
    CAPTURE(command);
    const auto help = run_cli(std::string(command) + " --help");
    REQUIRE(help.exit_code == 0);
    CHECK(help.out.find(choices) != std::string::npos);
    const size_t kinds = help.out.find("\nattention kinds:\n");
    REQUIRE(kinds != std::string::npos);
    for (const vt::vit::AttentionKindSpec& k : vt::vit::attention_kinds()) {
      const size_t line = help.out.find("\n  " + std::string(k.name) + " ", kinds);
      REQUIRE_MESSAGE(line != std::string::npos, k.name);
      CHECK(help.out.substr(line, help.out.find('\n', line + 1) - line).find(k.summary) != std::string::npos);
    }
  }
  // hw: each kind on its own accelerator, and every kind that deploys as itself in --compare
  const Json compare = Json::parse(run_cli("hw --compare --input-size 64 --threads 2 --format json").out);
  std::string compared;
  for (const Json& a : compare.find("architectures")->items()) compared += a.find("attention")->as_string() + " ";
  for (const vt::vit::AttentionKindSpec& k : vt::vit::attention_kinds()) {
    CAPTURE(k.name);
    const auto r = run_cli(std::string("hw --attn ") + k.name + " --input-size 64 --threads 2 --format json");
    REQUIRE_MESSAGE(r.exit_code == 0, r.out);
    CHECK(Json::parse(r.out).find("summary")->find("arch")->as_string() == k.accelerator);
    if (!k.inference_kind) CHECK(compared.find(std::string(k.name) + " ") != std::string::npos);
  }
}

TEST_CASE("every registered attention kind trains, checkpoints and evaluates") {
  vt::testing::TinyFolder f;
  for (const vt::vit::AttentionKindSpec& k : vt::vit::attention_kinds()) {
    CAPTURE(k.name);
    const std::string out = f.root + "/" + k.name;
    const auto r = run_cli("train " + f.flags(out) + " --epochs 1 --max-steps 2 --attn " + k.name);
    REQUIRE_MESSAGE(r.exit_code == 0, r.out);
    const Json line = Json::parse(vt::read_file(out + "/log.txt"));
    CHECK(line.find("attn")->as_string() == k.name);
    CHECK((line.find("density") != nullptr) == k.uses_mask);  // the kinds with a mask report its density
    const auto ev =
        run_cli("eval --checkpoint " + out + "/checkpoint.safetensors --data-path " + f.root + " --threads 1");
    CHECK_MESSAGE(ev.exit_code == 0, ev.out);
  }
}
