// `vitality train / eval / predict / plot` end to end on a tiny image folder: deit's outputs,
// checkpoints, exact resume (after an epoch and after Ctrl-C), non-finite losses, bad flags.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <sstream>

#include "core/fileio.h"
#include "core/json.h"
#include "core/threads.h"
#include "nn/safetensors.h"
#include "tests/apps/cli_util.h"
#include "tests/apps/tiny_folder.h"
#include "tests/svg_util.h"

using vt::Json;
using vt::testing::kPhotos;
using vt::testing::read_log;
using vt::testing::run_cli;
using vt::testing::TinyFolder;

namespace {

bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

// Runs `vitality train <flags>`, sends SIGINT once `marker` has been printed, and returns the
// output and exit code.
vt::testing::CliResult train_until_interrupted(const std::string& flags, const std::string& marker) {
  vt::testing::CliResult r;
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[0]);
    std::string cmd = std::string(VITALITY_BINARY) + " train " + flags;
    ::execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  ::close(fds[1]);
  char buf[256];
  ssize_t n;
  bool sent = false;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) {
    r.out.append(buf, n);
    if (!sent && r.out.find(marker) != std::string::npos) {
      ::kill(pid, SIGINT);
      sent = true;
    }
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(sent);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// The residual weights a run printed, in order ("residual_weight: 0.6545" on each progress line).
std::vector<std::string> printed_weights(const std::string& out) {
  std::vector<std::string> w;
  for (size_t at = out.find("residual_weight: "); at != std::string::npos; at = out.find("residual_weight: ", at + 1))
    w.push_back(out.substr(at + 17, 6));
  return w;
}
}  // namespace

TEST_CASE("train: deit's log lines, log.txt keys, checkpoints, Max accuracy; eval, predict, plot") {
  TinyFolder f;
  const std::string out = f.root + "/run";
  auto r = run_cli("train " + f.flags(out) + " --epochs 2");
  REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  CHECK(r.out.find("effective lr: 3.90625e-06 (lr 0.0005 x batch 4 x world 1 / 512)") != std::string::npos);
  CHECK(r.out.find("train: 12 images in 2 classes (6 to 6 per class)") != std::string::npos);
  CHECK(r.out.find("number of params: ") != std::string::npos);
  CHECK(r.out.find("Epoch: [1]  [0/3]  eta: ") != std::string::npos);
  CHECK(r.out.find("* Acc@1 ") != std::string::npos);
  CHECK(r.out.find("Accuracy of the network on the 4 test images: ") != std::string::npos);
  CHECK(r.out.find("Max accuracy: ") != std::string::npos);
  const std::vector<Json> log = read_log(out);
  REQUIRE(log.size() == 2);
  const char* deit_keys[] = {"train_lr", "train_loss", "test_loss", "test_acc1", "test_acc5", "epoch", "n_parameters"};
  for (int i = 0; i < 7; ++i) CHECK(log[0].members()[i].first == deit_keys[i]);
  CHECK(log[1].find("epoch")->as_int() == 1);
  CHECK(log[0].find("test_acc5")->as_double() == 100.0);  // top-5 clamped to 2 classes
  CHECK(exists(out + "/checkpoint.safetensors"));
  CHECK(exists(out + "/checkpoint.state.safetensors"));
  CHECK(exists(out + "/best_checkpoint.safetensors"));

  auto ev = run_cli("eval --checkpoint " + out + "/checkpoint.safetensors --data-path " + f.root +
                    " --threads 1 --results-file " + out + "/r.csv");
  REQUIRE_MESSAGE(ev.exit_code == 0, ev.out);
  CHECK(ev.out.find("* Acc@1 ") != std::string::npos);
  const std::string csv = vt::read_file(out + "/r.csv");
  CHECK(csv.rfind("model,top1,top1_err,top5,top5_err,param_count,img_size,crop_pct,interpolation", 0) == 0);
  auto ev2 = run_cli("train --eval --resume " + out + "/checkpoint.safetensors " + f.flags(out + "_eval"));
  CHECK(ev2.exit_code == 0);
  CHECK(ev2.out.find("Accuracy of the network on the 4 test images") != std::string::npos);

  auto pr = run_cli("predict --checkpoint " + out + "/checkpoint.safetensors --topk 5 " + kPhotos + "coffee.jpg");
  REQUIRE_MESSAGE(pr.exit_code == 0, pr.out);
  CHECK(pr.out.find("  > class") != std::string::npos);  // class names from the checkpoint
  CHECK(run_cli("predict --checkpoint " + out + "/checkpoint.safetensors /nonexistent.jpg").exit_code == 1);

  auto pl = run_cli("plot " + out);
  CHECK(pl.exit_code == 0);
  // the chart plots log.txt's numbers: read back through its axes
  const std::vector<vt::testing::SvgPanel> panels = vt::testing::svg_panels(vt::read_file(out + "/training.svg"));
  REQUIRE(panels.size() == 3);
  const std::pair<size_t, const char*> plotted[] = {
      {0, "train_loss"}, {0, "test_loss"}, {1, "test_acc1"}, {2, "train_lr"}};
  for (size_t k = 0; k < 4; ++k) {
    const auto [panel, key] = plotted[k];
    CAPTURE(key);
    const vt::testing::SvgSeries& s = panels[panel].series[k == 1 ? 1 : 0];
    REQUIRE(s.y.size() == 2);
    for (size_t e = 0; e < 2; ++e) {
      CHECK(s.x[e] == doctest::Approx(double(e)).epsilon(1e-3));
      CHECK(s.y[e] == doctest::Approx(log[e].find(key)->as_double()).epsilon(5e-3));
    }
  }
}

TEST_CASE("resume after an epoch repeats the uninterrupted run exactly") {
  TinyFolder f;
  REQUIRE(run_cli("train " + f.flags(f.root + "/full") + " --epochs 3").exit_code == 0);
  REQUIRE(run_cli("train " + f.flags(f.root + "/part") + " --epochs 1").exit_code == 0);
  auto r =
      run_cli("train " + f.flags(f.root + "/part") + " --epochs 3 --resume " + f.root + "/part/checkpoint.safetensors");
  REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  CHECK(r.out.find("Resumed from") != std::string::npos);
  const std::vector<Json> full = read_log(f.root + "/full"), part = read_log(f.root + "/part");
  REQUIRE(full.size() == 3);
  REQUIRE(part.size() == 3);
  for (int e = 0; e < 3; ++e) {
    CAPTURE(e);
    CHECK(std::abs(full[e].find("train_loss")->as_double() - part[e].find("train_loss")->as_double()) <= 1e-6);
    CHECK(full[e].find("test_acc1")->as_double() == part[e].find("test_acc1")->as_double());
  }
}

TEST_CASE("Ctrl-C saves a checkpoint mid-epoch, and resuming from it finishes like an uninterrupted run") {
  TinyFolder f;
  const std::string flags = f.flags(f.root + "/int") + " --epochs 2 --batch-size 2";
  const auto stopped = train_until_interrupted(flags, "Epoch: [0]  [1/6]");
  CHECK(stopped.exit_code == 130);
  CHECK(stopped.out.find("Interrupted at epoch 0 step ") != std::string::npos);
  auto resumed = run_cli("train " + flags + " --resume " + f.root + "/int/checkpoint.safetensors");
  REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.out);
  REQUIRE(run_cli("train " + f.flags(f.root + "/ref") + " --epochs 2 --batch-size 2").exit_code == 0);
  const std::vector<Json> a = read_log(f.root + "/int"), b = read_log(f.root + "/ref");
  REQUIRE(a.size() == 2);
  REQUIRE(b.size() == 2);
  for (int e = 0; e < 2; ++e)
    CHECK(std::abs(a[e].find("train_loss")->as_double() - b[e].find("train_loss")->as_double()) <= 1e-6);
}

TEST_CASE("vitality: the residual weight at every step and the mask density survive a resume") {
  // 12 images in batches of 4: 3 steps an epoch, 6 in all. The anneal ends half way (progress
  // 0.5 = step 2.5), so epoch 0's three steps use the mask (weights 1, 0.6545, 0.0955) and
  // epoch 1's none; with threshold 0 the mask keeps every pair (density 1).
  TinyFolder f;
  const std::string opts = " --attn vitality --epochs 2 --sparse-anneal-end 0.5 --sparse-threshold 0";
  auto full = run_cli("train " + f.flags(f.root + "/full") + opts);
  REQUIRE_MESSAGE(full.exit_code == 0, full.out);
  const std::vector<std::string> weights = printed_weights(full.out);
  CHECK(weights == std::vector<std::string>{"1.0000", "0.6545", "0.0955", "0.0000", "0.0000", "0.0000"});
  const std::vector<Json> log = read_log(f.root + "/full");
  REQUIRE(log.size() == 2);
  CHECK(log[0].find("density_steps")->as_int() == 3);
  CHECK(log[0].find("density")->items()[0].items()[0].as_double() == 1.0);
  CHECK(log[1].find("density") == nullptr);  // no step of epoch 1 used the mask: no stale value
  CHECK(log[1].find("residual_weight")->as_double() == 0.0);

  // Interrupted after its second step, then resumed: the same weights at every step, the same
  // losses, and epoch 0's density over its three masked steps (two before the interruption).
  const std::string flags = f.flags(f.root + "/int") + opts;
  const auto stopped = train_until_interrupted(flags, "Epoch: [0]  [1/3]");
  REQUIRE(stopped.exit_code == 130);
  auto resumed = run_cli("train " + flags + " --resume " + f.root + "/int/checkpoint.safetensors");
  REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.out);
  std::vector<std::string> both = printed_weights(stopped.out);
  for (const std::string& w : printed_weights(resumed.out)) both.push_back(w);
  CHECK(both == weights);
  const std::vector<Json> again = read_log(f.root + "/int");
  REQUIRE(again.size() == 2);
  for (int e = 0; e < 2; ++e)
    CHECK(std::abs(again[e].find("train_loss")->as_double() - log[e].find("train_loss")->as_double()) <= 1e-6);
  CHECK(again[0].find("density_steps")->as_int() == 3);

  // Resuming with another --epochs re-anneals over the new run, and says so with both weights.
  REQUIRE(run_cli("train " + f.flags(f.root + "/short") + " --attn vitality --epochs 1 --sparse-anneal-end 0.5")
              .exit_code == 0);
  auto longer =
      run_cli("train " + f.flags(f.root + "/short") + " --attn vitality --epochs 4 --sparse-anneal-end 0.5 --resume " +
              f.root + "/short/checkpoint.safetensors");
  REQUIRE_MESSAGE(longer.exit_code == 0, longer.out);
  // at epoch 1 step 0 of 4 x 3 steps: progress 3/11, 0.5 (1 + cos(pi (3/11) / 0.5)) = 0.4288
  CHECK(longer.out.find(
            "Resuming with --epochs 4 --sparse-anneal cosine --sparse-anneal-end 0.5 (the checkpoint's run: 1, "
            "cosine, 0.5): the vitality residual's weight is annealed over the new run from here on, 0.4288 at this "
            "step (it would have been 0.0000)") != std::string::npos);
}

TEST_CASE("a non-finite loss stops the run naming the step and the last checkpoint") {
  TinyFolder f;
  auto r =
      run_cli("train " + f.flags(f.root + "/nan") + " --epochs 3 --lr 1e30 --unscale-lr --warmup-epochs 0 --opt sgd");
  INFO(r.out);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("Loss is ") != std::string::npos);
  CHECK(r.out.find(" at epoch ") != std::string::npos);
  CHECK(r.out.find("stopping training; last good checkpoint: ") != std::string::npos);
}

TEST_CASE("bad flags and values: one line saying what is allowed, exit 2") {
  TinyFolder f;
  auto unknown = run_cli("train --data-path " + f.root + " --epoch 3");
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.out == "vitality train: unknown flag --epoch (see vitality train --help)\n");
  auto attn = run_cli("train --attn linear");
  CHECK(attn.exit_code == 2);
  CHECK(attn.out == "vitality train: --attn: 'linear' is not one of softmax|taylor|sparse|vitality\n");
  auto heads = run_cli("train --data-path " + f.root + " --model custom --embed-dim 30 --num-heads 4");
  CHECK(heads.exit_code == 2);
  CHECK(heads.out.find("--num-heads 4 does not divide --embed-dim 30") != std::string::npos);
  auto model = run_cli("train --data-path " + f.root + " --model vit_huge");
  CHECK(model.exit_code == 2);
  CHECK(model.out.find("unknown model 'vit_huge'") != std::string::npos);
  auto missing = run_cli("train --data-path /nonexistent/imagenet");
  CHECK(missing.exit_code == 1);
  CHECK(missing.out == "vitality train: error: --data-path /nonexistent/imagenet: No such file or directory\n");
  CHECK(run_cli("train --help").exit_code == 0);
  CHECK(run_cli("train --batch-size 3 --data-path " + f.root).exit_code == 2);  // odd with mixup
}

TEST_CASE("same machine, same threads, same bits: two runs write identical weights and logs") {
  TinyFolder f;
  const std::string flags =
      f.flags(f.root + "/a") + " --epochs 2 --threads 2 --num_workers 2 --aa rand-m9-mstd0.5-inc1";
  REQUIRE(run_cli("train " + flags).exit_code == 0);
  REQUIRE(
      run_cli("train " + f.flags(f.root + "/b") + " --epochs 2 --threads 2 --num_workers 2 --aa rand-m9-mstd0.5-inc1")
          .exit_code == 0);
  const vt::nn::SafetensorsFile a = vt::nn::load_safetensors(f.root + "/a/checkpoint.safetensors");
  const vt::nn::SafetensorsFile b = vt::nn::load_safetensors(f.root + "/b/checkpoint.safetensors");
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (const auto& [name, t] : a.tensors) {
    CAPTURE(name);
    const vt::Tensor* u = b.find(name);
    REQUIRE(u);
    REQUIRE(u->numel() == t.numel());
    CHECK(std::memcmp(u->data(), t.data(), sizeof(float) * size_t(t.numel())) == 0);
  }
  // the comparison can fail: another seed gives other bits
  REQUIRE(run_cli("train " + f.flags(f.root + "/c") +
                  " --epochs 2 --threads 2 --num_workers 2 --aa rand-m9-mstd0.5-inc1 --seed 1")
              .exit_code == 0);
  const vt::nn::SafetensorsFile c = vt::nn::load_safetensors(f.root + "/c/checkpoint.safetensors");
  CHECK(std::memcmp(c.find("head.weight")->data(), a.find("head.weight")->data(),
                    sizeof(float) * size_t(a.find("head.weight")->numel())) != 0);
  const std::vector<Json> la = read_log(f.root + "/a"), lb = read_log(f.root + "/b");
  REQUIRE(la.size() == 2);
  for (size_t e = 0; e < 2; ++e) {
    for (const char* key : {"train_loss", "test_loss", "test_acc1"})
      CHECK(la[e].find(key)->as_double() == lb[e].find(key)->as_double());  // exactly
    CHECK(la[e].find("kernels")->as_string() == vt::kernel_path());         // what the bits depend on, logged
    CHECK(la[e].find("blas")->as_string().rfind("OpenBLAS ", 0) == 0);
  }
}
