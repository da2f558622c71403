// The flag parser: deit's spellings, hyphen/underscore equivalence, booleans, errors.
#include <doctest/doctest.h>

#include <optional>

#include "apps/args.h"

using namespace vt::apps;

namespace {
struct Argv {
  std::vector<std::string> s;
  std::vector<char*> p;
  explicit Argv(std::vector<std::string> a) : s(std::move(a)) {
    for (auto& x : s) p.push_back(x.data());
  }
  int argc() { return static_cast<int>(p.size()); }
  char** argv() { return p.data(); }
};
}  // namespace

TEST_CASE("flags: both spellings, = form, booleans, lists, choices") {
  std::string out_dir, attn = "softmax";
  int workers = 10;
  double lr = 5e-4;
  bool ema = true;
  std::optional<double> clip;
  std::vector<double> betas;
  ArgParser p("train", "test");
  p.add("output_dir", &out_dir, "");
  p.add("num-workers", &workers, "");
  p.add("lr", &lr, "");
  p.add_flag("model-ema", &ema, "");
  p.add("clip-grad", &clip, "");
  p.add("opt-betas", &betas, 2, "");
  p.add_choice("attn", &attn, {"softmax", "taylor"}, "");
  p.add_alias("crop-pct", "lr");
  Argv a({"vitality", "train", "--output-dir", "run", "--num_workers=3", "--lr", "1e-3", "--no-model-ema",
          "--clip-grad", "1.0", "--opt-betas", "0.9", "0.99", "--attn", "taylor"});
  CHECK(p.parse(a.argc(), a.argv(), 2));
  CHECK(out_dir == "run");
  CHECK(workers == 3);
  CHECK(lr == 1e-3);
  CHECK_FALSE(ema);
  CHECK(clip.value() == 1.0);
  CHECK(betas == std::vector<double>{0.9, 0.99});
  CHECK(attn == "taylor");
  CHECK(p.was_set("output-dir"));
  CHECK_FALSE(p.was_set("model-ema") == false);
}

TEST_CASE("flags: errors say what is allowed") {
  int n = 0;
  std::string kind = "a";
  ArgParser p("train", "test");
  p.add("epochs", &n, "");
  p.add_choice("attn", &kind, {"a", "b"}, "");
  auto err = [&](std::vector<std::string> args) {
    Argv a(args);
    try {
      p.parse(a.argc(), a.argv(), 2);
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(err({"v", "train", "--epochs", "x"}) == "--epochs: 'x' is not an integer");
  CHECK(err({"v", "train", "--attn", "c"}) == "--attn: 'c' is not one of a|b");
  // the command is named once, by main ("vitality train: <message>"), not again in the message
  CHECK(err({"v", "train", "--epoch", "3"}) == "unknown flag --epoch (see vitality train --help)");
  CHECK(err({"v", "train", "--epochs"}) == "--epochs needs a value");
  CHECK(err({"v", "train", "stray"}) == "unexpected argument 'stray'");
  // a value that looks like a flag is an error naming the flag that wanted it, spelled as typed
  CHECK(
      err({"v", "train", "--epochs", "--attn", "b"}) ==
      "--epochs needs a value, but the next argument is the flag --attn (write --epochs=--attn if that is the value)");
  CHECK(err({"v", "train", "--attn=b", "--epochs", "-b"}).find("but the next argument is the flag -b") !=
        std::string::npos);
  // negative numbers are values, not flags
  CHECK(err({"v", "train", "--epochs", "-3"}) == "no error");
  CHECK(n == -3);
}
