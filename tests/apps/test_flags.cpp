// The command line as deit and timm users type it: values that look like flags, short flags,
// --device, an empty --output_dir, exit codes by kind of failure, paths checked before any work,
// grouped help without placeholder defaults, and predict/eval on a card-less timm file.
#include <doctest/doctest.h>

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "core/fileio.h"
#include "nn/safetensors.h"
#include "tests/apps/cli_util.h"
#include "tests/apps/tiny_folder.h"
#include "vit/deit.h"

using vt::testing::run_cli;
using vt::testing::run_command;
using vt::testing::TempDir;
using vt::testing::TinyFolder;

namespace {
const char* kCommands[] = {"train",   "eval", "predict", "plot",      "demo",
                           "inspect", "hw",   "bench",   "bench-ops", "bench-loader"};

// The entries of a directory (names, without . and ..).
std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d))
      if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") out.push_back(e->d_name);
    ::closedir(d);
  }
  return out;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
}  // namespace

TEST_CASE("a value that looks like a flag is an error naming the flag that wanted a value") {
  const auto r = run_cli("train --output_dir --epochs 3");
  CHECK(r.exit_code == 2);
  CHECK(r.out ==
        "vitality train: --output_dir needs a value, but the next argument is the flag --epochs "
        "(write --output_dir=--epochs if that is the value)\n");
  // the = form takes it literally (here a run folder called "--epochs" is allowed and is
  // refused only for the data path that does not exist)
  const auto literal = run_cli("train --output_dir=--epochs --data-path /nonexistent/x");
  CHECK(literal.out == "vitality train: error: --data-path /nonexistent/x: No such file or directory\n");
}

TEST_CASE("-b is --batch-size, named as typed in errors; the command is named once") {
  TinyFolder f;
  const auto r = run_cli("train " + f.flags(f.root + "/b") + " --epochs 1 --max-steps 1 -b 2");
  REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  CHECK(has(r.out, "| batch_size             | 2 "));
  CHECK(run_cli("train -b x").out == "vitality train: -b: 'x' is not an integer\n");
  CHECK(run_cli("train -b").out == "vitality train: -b needs a value\n");
  for (const char* c : {"train", "eval", "bench"}) CHECK(has(run_cli(std::string(c) + " --help").out, "-b N"));
  for (const std::string c : kCommands) {
    CAPTURE(c);
    const auto u = run_cli(c + " --no-such-flag 1");
    CHECK(u.exit_code == 2);
    CHECK(u.out == "vitality " + c + ": unknown flag --no-such-flag (see vitality " + c + " --help)\n");
  }
}

TEST_CASE("--device cpu is accepted everywhere deit takes it; other devices are refused with a sentence") {
  TinyFolder f;
  const auto ok = run_cli("train " + f.flags(f.root + "/d") + " --epochs 1 --max-steps 1 --device cpu");
  CHECK_MESSAGE(ok.exit_code == 0, ok.out);
  for (const std::string c : {"train", "eval", "predict", "bench"}) {
    CAPTURE(c);
    const auto r = run_cli(c + " --device cuda");
    CHECK(r.exit_code == 2);
    CHECK(r.out == "vitality " + c +
                       ": --device cuda: vitality runs on CPUs only (OpenBLAS and OpenMP); use --device cpu or "
                       "leave it out\n");
  }
}

TEST_CASE("--output_dir= (empty) saves nothing, as in deit") {
  TinyFolder f;
  TempDir cwd("cwd");
  const auto r = run_command("cd " + cwd.path + " && " VITALITY_BINARY " train " + f.flags("''") +
                             " --epochs 1 --max-steps 1 --output_dir= 2>&1");
  REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  CHECK(entries(cwd.path).empty());
  CHECK(entries(f.root).size() == 2);  // train and val, nothing added
  CHECK_FALSE(has(r.out, "checkpoint"));
}

TEST_CASE("the main job with --output_dir= trains, estimates and writes nothing") {
  if (::access("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", R_OK) != 0) {
    MESSAGE("Fashion-MNIST is not installed (dataset-fashion-mnist); skipped");
    return;
  }
  TempDir cwd("cwd");
  const auto r = run_command("cd " + cwd.path +
                             " && " VITALITY_BINARY " train --epochs 1 --max-steps 2 --threads 2 --output_dir= 2>&1");
  REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  CHECK(has(r.out, "==== taylor attention -> (nothing saved) ===="));
  CHECK(has(r.out, "| vitality | "));
  CHECK(has(r.out, "nothing written (--output_dir is empty)"));
  CHECK(entries(cwd.path).empty());
}

TEST_CASE("missing files and unwritable folders fail at once, before the dataset is scanned") {
  TinyFolder f;
  const std::string base = "train " + f.flags(f.root + "/out");
  const std::string file = f.root + "/train/class0/0.jpg";
  struct Case {
    std::string args, message;
  } cases[] = {
      {" --resume /nonexistent.safetensors", "--resume /nonexistent.safetensors: No such file or directory"},
      {" --finetune /nonexistent.safetensors", "--finetune /nonexistent.safetensors: No such file or directory"},
      {" --class-map /nonexistent.txt", "--class-map /nonexistent.txt: No such file or directory"},
      {" --resume " + f.root, "--resume " + f.root + ": is a directory, expected a file"},
      {" --output_dir " + file + "/run", "--output_dir " + file + "/run: "},
  };
  for (const Case& c : cases) {
    CAPTURE(c.args);
    const auto r = run_cli(base + c.args);
    CHECK(r.exit_code == 1);
    CHECK(has(r.out, c.message));
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);  // the one error line: no scan, no model
  }
  const auto ev = run_cli("eval --checkpoint /nonexistent.safetensors --data-path " + f.root);
  CHECK(ev.exit_code == 1);
  CHECK(ev.out == "vitality eval: error: --checkpoint /nonexistent.safetensors: No such file or directory\n");
  const auto pr = run_cli("predict --checkpoint /nonexistent.safetensors " + vt::testing::kPhotos + "chelsea.jpg");
  CHECK(pr.exit_code == 1);
  CHECK(pr.out == "vitality predict: error: --checkpoint /nonexistent.safetensors: No such file or directory\n");
  const auto hw = run_cli("hw --checkpoint /nonexistent.safetensors");
  CHECK(hw.exit_code == 1);
  CHECK(hw.out == "vitality hw: error: --checkpoint /nonexistent.safetensors: No such file or directory\n");
}

TEST_CASE("--help: grouped by topic, one line a flag where it fits, defaults that are real values") {
  const auto train = run_cli("train --help").out;
  size_t at = 0;
  for (const char* g : {"\nmodel:\n", "\nattention:\n", "\noptimizer:\n", "\nschedule:\n", "\naugmentation:\n",
                        "\ndata:\n", "\nrun:\n", "\nattention kinds:\n"}) {
    CAPTURE(g);
    const size_t next = train.find(g, at);
    CHECK(next != std::string::npos);  // present, and in this order
    if (next != std::string::npos) at = next;
  }
  CHECK(has(train, "\n  --lr X                        learning rate at batch 512"));  // one line: flag, then help
  for (const std::string c : kCommands) {
    CAPTURE(c);
    const auto h = run_cli(c + " --help");
    CHECK(h.exit_code == 0);
    std::istringstream lines(h.out);
    for (std::string line; std::getline(lines, line);) {
      CAPTURE(line);
      CHECK(line.size() <= 110);
      CHECK_FALSE(has(line, "(default: )"));
      if (has(line, "--threads N")) CHECK(has(line, "(default: all cores)"));  // not "0"
      if (has(line, "--max-steps N")) CHECK(has(line, "(default: no limit)"));
    }
  }
}

TEST_CASE("predict and eval on a timm-named file without a model card: --model, --attn, --eval-crop-ratio") {
  TempDir dir("timm");
  vt::vit::DeitConfig c = vt::vit::deit_config("deit_tiny_patch16_224");
  c.num_classes = 3;
  vt::vit::Deit model(c);
  const std::string weights = dir.path + "/W.safetensors";
  vt::nn::save_safetensors(weights, model.parameters());  // timm's names, no metadata
  const std::string image = vt::testing::kPhotos + "chelsea.jpg";
  const auto r = run_cli("predict -m deit_tiny_patch16_224 --checkpoint " + weights +
                         " --attn taylor --eval-crop-ratio 1.0 --results-file " + dir.path + "/out.csv " + image);
  REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  CHECK(has(r.out, weights + ": taylor attention (evaluated as taylor), 224 px, resize 224 px then center crop "
                             "(ratio 1, bicubic)"));
  const std::string csv = vt::read_file(dir.path + "/out.csv");
  CHECK(csv.rfind("filename,rank,index,label,prob\n", 0) == 0);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 4);  // header + 3 classes (top 5 of 3)
  // the checkpoint's own kind and ImageNet's 0.875 when not overridden
  const auto plain = run_cli("predict -m deit_tiny_patch16_224 --checkpoint " + weights + " " + image);
  REQUIRE_MESSAGE(plain.exit_code == 0, plain.out);
  CHECK(has(plain.out,
            ": softmax attention (evaluated as softmax), 224 px, resize 256 px then center crop "
            "(ratio 0.875, bicubic)"));
  const auto nomodel = run_cli("predict --checkpoint " + weights + " " + image);
  CHECK(nomodel.exit_code == 1);
  CHECK(has(nomodel.out, "no model card in the file; name the architecture with --model"));
  CHECK(run_cli("predict -m deit_tiny_patch16_224 --checkpoint " + weights + " --eval-crop-ratio 1.5 " + image)
            .exit_code == 2);
  CHECK(run_cli("eval --checkpoint " + weights + " --eval-crop-ratio 0").exit_code == 2);
}
