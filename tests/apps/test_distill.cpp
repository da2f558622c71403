// DeiT's distillation from the command line: a distilled student learns from a teacher checkpoint
// (a vitality one with its card, or a timm-named one with --teacher-model, at another input size),
// logs deit's fields and the teacher's time, resumes exactly (the state file carries the
// distillation), and refuses inconsistent flags before any work. The teacher's bilinear resize
// against PyTorch's F.interpolate.
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>

#include "apps/teacher.h"
#include "core/fileio.h"
#include "core/json.h"
#include "core/rng.h"
#include "nn/safetensors.h"
#include "tests/apps/cli_util.h"
#include "tests/apps/tiny_folder.h"
#include "vit/deit.h"

using vt::Json;
using vt::testing::read_log;
using vt::testing::run_cli;
using vt::testing::TinyFolder;

namespace {
bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
}  // namespace

TEST_CASE("resize_bilinear matches F.interpolate(bilinear, align_corners=False) up and down") {
  const vt::nn::SafetensorsFile f =
      vt::nn::load_safetensors(VITALITY_TEST_DATA "/vit/fixtures/distill_input.safetensors");
  for (const auto& [key, size] : {std::pair<const char*, int>{"resize.up9", 9}, {"resize.down3", 3}}) {
    CAPTURE(key);
    const vt::Tensor got = vt::apps::resize_bilinear(*f.find("resize.in"), size), &want = *f.find(key);
    REQUIRE(got.shape() == want.shape());
    for (int64_t i = 0; i < got.numel(); ++i) CHECK(got.data()[i] == doctest::Approx(want.data()[i]).epsilon(1e-5));
  }
}

TEST_CASE("a distilled student learns from a teacher checkpoint, logs teacher_s, and resumes exactly") {
  TinyFolder f;
  REQUIRE(run_cli("train " + f.flags(f.root + "/teacher") + " --epochs 1").exit_code == 0);
  const std::string teacher = f.root + "/teacher/checkpoint.safetensors";
  // the student at 16 px (the teacher was trained at 32: its input is resized), hard distillation
  const std::string student =
      " --model custom --distilled --input-size 16 --patch-size 8 --embed-dim 16 --depth 1 "
      "--num-heads 2 --batch-size 2 --threads 1 --num_workers 1 --warmup-epochs 1 --aa none "
      "--reprob 0 --mixup 0 --cutmix 0 --drop-path 0 --no-model-ema --log-interval 1 "
      "--distillation-type hard --teacher-path " +
      teacher + " --data-path " + f.root;
  const auto full = run_cli("train" + student + " --epochs 2 --output_dir " + f.root + "/full");
  REQUIRE_MESSAGE(full.exit_code == 0, full.out);
  CHECK(has(full.out, "distillation: hard, alpha 0.5, through the distillation head; teacher " + teacher +
                          ": custom, softmax attention (runs as softmax), 32 px, 2 classes"));
  CHECK(has(full.out, "  teacher: "));  // per step, beside data
  const std::vector<Json> log = read_log(f.root + "/full");
  REQUIRE(log.size() == 2);
  for (const char* key : {"train_lr", "train_loss", "test_loss", "test_acc1", "test_acc5", "epoch", "n_parameters"})
    CHECK(log[0].find(key));
  REQUIRE(log[0].find("teacher_s"));
  CHECK(log[0].find("teacher_s")->as_double() > 0);
  CHECK(log[0].find("teacher_s")->as_double() < log[0].find("epoch_time_s")->as_double());
  const vt::nn::SafetensorsFile w = vt::nn::load_safetensors(f.root + "/full/checkpoint.safetensors");
  CHECK(w.find("dist_token"));
  CHECK(w.find("head_dist.weight"));
  CHECK(w.find("pos_embed")->size(1) == 2 + 4);  // cls, dist and 2 x 2 patches

  // one epoch, then resume without repeating the distillation flags: the state file carries them
  std::string without = student.substr(0, student.find(" --distillation-type")) + " --data-path " + f.root;
  REQUIRE(run_cli("train" + student + " --epochs 1 --output_dir " + f.root + "/part").exit_code == 0);
  const auto resumed = run_cli("train" + without + " --epochs 2 --output_dir " + f.root + "/part --resume " + f.root +
                               "/part/checkpoint.safetensors");
  REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.out);
  CHECK(has(resumed.out, "Continuing the checkpoint's distillation: --distillation-type hard"));
  const std::vector<Json> part = read_log(f.root + "/part");
  REQUIRE(part.size() == 2);
  for (int e = 0; e < 2; ++e) {
    CHECK(part[e].find("train_loss")->as_double() == log[e].find("train_loss")->as_double());
    CHECK(part[e].find("test_loss")->as_double() == log[e].find("test_loss")->as_double());
  }
  // a distilled model without distillation learns from the labels through its class head alone
  // (deit's DistillationLoss with 'none'): another trajectory
  const auto plain = run_cli("train" + without + " --epochs 1 --output_dir " + f.root + "/plain");
  REQUIRE(plain.exit_code == 0);
  CHECK(read_log(f.root + "/plain")[0].find("train_loss")->as_double() != log[0].find("train_loss")->as_double());
  CHECK_FALSE(read_log(f.root + "/plain")[0].find("teacher_s"));
}

TEST_CASE("deit_tiny_distilled_patch16_224 by name: hard distillation from a checkpoint, resumed, deit's fields") {
  TinyFolder f;
  REQUIRE(run_cli("train " + f.flags(f.root + "/teacher") + " --epochs 1").exit_code == 0);
  const std::string flags =
      " --model deit_tiny_distilled_patch16_224 --input-size 32 --batch-size 2 --threads 2 "
      "--num_workers 1 --warmup-epochs 1 --aa none --reprob 0 --mixup 0 --cutmix 0 --drop-path 0 "
      "--no-model-ema --max-steps 2 --distillation-type hard --teacher-path " +
      f.root + "/teacher/checkpoint.safetensors --data-path " + f.root;
  const auto full = run_cli("train" + flags + " --epochs 2 --output_dir " + f.root + "/full");
  REQUIRE_MESSAGE(full.exit_code == 0, full.out);
  CHECK(has(full.out, "| model                  | deit_tiny_distilled_patch16_224"));
  CHECK(has(full.out, "through the distillation head"));
  REQUIRE(run_cli("train" + flags + " --epochs 1 --output_dir " + f.root + "/part").exit_code == 0);
  const auto resumed = run_cli("train" + flags + " --epochs 2 --output_dir " + f.root + "/part --resume " + f.root +
                               "/part/checkpoint.safetensors");
  REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.out);
  const std::vector<Json> a = read_log(f.root + "/full"), b = read_log(f.root + "/part");
  REQUIRE(a.size() == 2);
  REQUIRE(b.size() == 2);
  for (const char* key :
       {"train_lr", "train_loss", "test_loss", "test_acc1", "test_acc5", "epoch", "n_parameters", "teacher_s"})
    CHECK(a[1].find(key));
  CHECK(a[1].find("train_loss")->as_double() == b[1].find("train_loss")->as_double());  // exact resume
  // timm's 5,910,800 with two heads of 2 classes instead of 1000 and 2 x 2 + 2 positions instead of 198
  CHECK(a[1].find("n_parameters")->as_int() == 5910800 - 2 * 998 * (192 + 1) - (198 - 6) * 192);
}

TEST_CASE("soft distillation into a model without a distillation token, from a card-less timm-named teacher") {
  TinyFolder f;
  vt::vit::DeitConfig c = vt::vit::deit_config("deit_tiny_patch16_224");
  c.num_classes = 2;
  vt::vit::Deit t(c);
  vt::Generator gen(3);
  t.init(gen);
  const std::string path = f.root + "/deit_tiny_patch16_224.safetensors";
  vt::nn::save_safetensors(path, t.parameters());  // timm's names, no model card
  const std::string flags = "train " + f.flags(f.root + "/soft") +
                            " --epochs 1 --max-steps 2 --distillation-type soft "
                            "--distillation-tau 2 --teacher-path " +
                            path;
  const auto nocard = run_cli(flags);
  CHECK(nocard.exit_code == 1);
  CHECK(has(nocard.out, "no model card in the file; name the architecture with --model"));
  const auto r = run_cli(flags + " --teacher-model deit_tiny_patch16_224");
  REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  CHECK(has(r.out,
            "distillation: soft, alpha 0.5, tau 2, through the class head (the model has no distillation "
            "token); teacher " +
                path + ": deit_tiny_patch16_224, softmax attention (runs as softmax), 224 px"));
}

TEST_CASE("distillation flags that do not fit are refused before any work") {
  TinyFolder f;
  const std::string base = "train " + f.flags(f.root + "/x");
  const auto notype = run_cli(base + " --teacher-path " + f.root + "/t.safetensors");
  CHECK(notype.exit_code == 2);
  CHECK(has(notype.out, "--teacher-path and --teacher-model need --distillation-type soft or hard"));
  const auto nopath = run_cli(base + " --distillation-type hard");
  CHECK(nopath.exit_code == 2);
  CHECK(has(nopath.out, "--distillation-type hard needs --teacher-path FILE"));
  const auto missing = run_cli(base + " --distillation-type soft --teacher-path /nonexistent.safetensors");
  CHECK(missing.exit_code == 1);
  CHECK(missing.out == "vitality train: error: --teacher-path /nonexistent.safetensors: No such file or directory\n");
  CHECK(run_cli(base + " --distillation-type soft --teacher-path x --distillation-alpha 2").exit_code == 2);
  const auto distilled = run_cli("train --data-path " + f.root + " --distilled");  // deit_tiny: a named model
  CHECK(distilled.exit_code == 2);
  CHECK(has(distilled.out, "--distilled applies to --model custom"));
  CHECK(run_cli("train --data-path " + f.root + " --distill-from-softmax").exit_code == 2);
  // a teacher trained on another number of classes
  vt::vit::DeitConfig c = vt::vit::deit_config("deit_tiny_patch16_224");
  c.num_classes = 5;
  vt::vit::Deit t(c);
  vt::nn::save_safetensors(f.root + "/five.safetensors", t.parameters());
  const auto classes = run_cli(base + " --distillation-type hard --teacher-path " + f.root +
                               "/five.safetensors --teacher-model deit_tiny_patch16_224");
  CHECK(classes.exit_code == 1);
  CHECK(has(classes.out, "has 5 classes, the dataset 2"));
}
