// Data-parallel training under mpirun (built only with MPI): 2 ranks with batch 8 follow the
// same trajectory as 1 rank with batch 16; a rank that dies or disagrees ends the job with a
// message naming it, never a hang; resuming works with another number of ranks.
#include <doctest/doctest.h>

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "core/fileio.h"
#include "core/json.h"
#include "nn/safetensors.h"
#include "tests/apps/cli_util.h"
#include "tests/test_util.h"

using vt::Json;
using vt::testing::CliResult;
using vt::testing::TempDir;

namespace {

// mpirun as root, on however few cores this machine has; `timeout` turns a hang into a failure.
CliResult mpirun(int np, const std::string& args, int timeout_s = 120) {
  return vt::testing::run_command("timeout " + std::to_string(timeout_s) + " mpirun -np " + std::to_string(np) +
                                  " --oversubscribe --allow-run-as-root " + VITALITY_BINARY + " " + args + " 2>&1");
}

// A quick Fashion-MNIST run without stochastic depth (its masks depend on a sample's place in the
// batch, the only thing that differs between the two layouts); augmentation stays on: each
// sample's transform depends on its dataset index alone.
const std::string kFlags =
    "train --preset fmnist --attn softmax --epochs 1 --max-steps 5 --threads 1 --num_workers 1 "
    "--drop-path 0 --log-interval 1 ";

Json last_log_line(const std::string& dir) {
  const std::string text = vt::read_file(dir + "/log.txt");
  const size_t end = text.find_last_of('\n', text.size() - 2);
  return Json::parse(text.substr(end == std::string::npos ? 0 : end + 1));
}

}  // namespace

TEST_CASE("2 ranks x batch 8 = 1 rank x batch 16: the same losses and the same weights") {
  TempDir one, two;
  const CliResult a = vt::testing::run_cli(kFlags + "--batch-size 16 --output_dir " + one.path);
  REQUIRE_MESSAGE(a.exit_code == 0, a.out);
  const CliResult b = mpirun(2, kFlags + "--batch-size 8 --output_dir " + two.path);
  REQUIRE_MESSAGE(b.exit_code == 0, b.out);
  CHECK(b.out.find("distributed: 2 processes over MPI, batch 8 per process (16 in all)") != std::string::npos);
  const Json la = last_log_line(one.path), lb = last_log_line(two.path);
  // the time in the gradient allreduce is reported (to judge whether overlapping it would pay)
  CHECK(b.out.find("  allreduce: ") != std::string::npos);
  CHECK(a.out.find("  allreduce: ") == std::string::npos);
  REQUIRE(lb.find("allreduce_s"));
  CHECK(lb.find("allreduce_s")->as_double() >= 0);
  CHECK(lb.find("allreduce_s")->as_double() <= lb.find("epoch_time_s")->as_double());
  CHECK_FALSE(la.find("allreduce_s"));
  CHECK(lb.find("train_loss")->as_double() == doctest::Approx(la.find("train_loss")->as_double()).epsilon(1e-5));
  CHECK(lb.find("test_acc1")->as_double() == la.find("test_acc1")->as_double());  // every test image once
  CHECK(lb.find("test_loss")->as_double() == doctest::Approx(la.find("test_loss")->as_double()).epsilon(1e-5));
  const vt::nn::SafetensorsFile wa = vt::nn::load_safetensors(one.path + "/checkpoint.safetensors");
  const vt::nn::SafetensorsFile wb = vt::nn::load_safetensors(two.path + "/checkpoint.safetensors");
  REQUIRE(wa.tensors.size() == wb.tensors.size());
  // The key bias is the exception: its true gradient is zero (softmax ignores a shift shared by a
  // row's scores), so AdamW turns the rounding noise of a different summation order into steps
  // of up to lr. It is compared at 1e-4; every other weight at 1e-6.
  double worst = 0, worst_key_bias = 0;
  for (const auto& t : wa.tensors) {
    const vt::Tensor* o = wb.find(t.name);
    REQUIRE(o);
    const bool qkv_bias = t.name.find("attn.qkv.bias") != std::string::npos;
    const int64_t D = t.tensor.numel() / 3;
    for (int64_t i = 0; i < t.tensor.numel(); ++i) {
      const double diff = std::abs(t.tensor.data()[i] - o->data()[i]);
      double& w = (qkv_bias && i >= D && i < 2 * D) ? worst_key_bias : worst;
      w = std::max(w, diff);
    }
  }
  CHECK(worst <= 1e-6);
  CHECK(worst_key_bias <= 1e-4);
  // rank 0 alone wrote: one log line, one checkpoint pair
  const std::string log = vt::read_file(two.path + "/log.txt");
  CHECK(std::count(log.begin(), log.end(), '\n') == 1);

  SUBCASE("resume with another number of ranks") {
    const CliResult c = mpirun(2, kFlags + "--batch-size 8 --epochs 2 --resume " + one.path +
                                      "/checkpoint.safetensors --output_dir " + one.path);
    CHECK_MESSAGE(c.exit_code == 0, c.out);
    CHECK(c.out.find("Resumed from") != std::string::npos);
    CHECK(last_log_line(one.path).find("epoch")->as_int() == 1);
  }
}

TEST_CASE("ranks that disagree end the job naming the rank and the setting") {
  TempDir d;
  // MPMD: rank 1 gets another learning rate
  const CliResult r = mpirun(1,
                             kFlags + "--batch-size 8 --lr 1e-3 --output_dir " + d.path + " : -np 1 --oversubscribe " +
                                 VITALITY_BINARY + " " + kFlags + "--batch-size 8 --lr 2e-3 --output_dir " + d.path,
                             60);
  CHECK(r.exit_code != 0);
  CHECK(r.exit_code != 124);  // not the timeout: no hang
  CHECK(r.out.find("rank 1: error: setting 'lr' is") != std::string::npos);
}

TEST_CASE("a rank that dies ends the job, never a hang") {
  TempDir d;
  // A long run in the background; kill rank 1 once it trains.
  const std::string log = d.path + "/out.txt";
  const std::string cmd = "timeout 120 mpirun -np 2 --oversubscribe --allow-run-as-root " +
                          std::string(VITALITY_BINARY) +
                          " train --preset fmnist --attn softmax --epochs 1 --threads 1 --num_workers 1 --output_dir " +
                          d.path + " > " + log + " 2>&1; echo $? > " + d.path + "/rc";
  std::thread runner([&] { std::system(cmd.c_str()); });
  // find the process whose environment says OMPI_COMM_WORLD_RANK=1
  pid_t victim = 0;
  for (int tries = 0; tries < 200 && !victim; ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (DIR* proc = ::opendir("/proc")) {
      while (dirent* e = ::readdir(proc)) {
        const pid_t pid = std::atoi(e->d_name);
        if (pid <= 0) continue;
        std::ifstream env("/proc/" + std::string(e->d_name) + "/environ", std::ios::binary);
        std::string all((std::istreambuf_iterator<char>(env)), std::istreambuf_iterator<char>());
        std::ifstream cmdline("/proc/" + std::string(e->d_name) + "/cmdline", std::ios::binary);
        std::string cl((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
        if (all.find(std::string("OMPI_COMM_WORLD_RANK=1") + '\0') != std::string::npos &&
            cl.rfind("timeout", 0) != 0 && cl.rfind("mpirun", 0) != 0 && cl.find(d.path) != std::string::npos)
          victim = pid;
      }
      ::closedir(proc);
    }
  }
  REQUIRE(victim > 0);
  std::this_thread::sleep_for(std::chrono::seconds(2));  // inside the training loop
  ::kill(victim, SIGKILL);
  const auto t0 = std::chrono::steady_clock::now();
  runner.join();
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string out = vt::read_file(log), rc = vt::read_file(d.path + "/rc");
  CHECK(std::atoi(rc.c_str()) != 0);
  CHECK(std::atoi(rc.c_str()) != 124);  // mpirun ended it, not the timeout
  CHECK(waited < 60);
  CHECK_MESSAGE(out.find("rank 1") != std::string::npos, out);
}

TEST_CASE("distillation under MPI: 2 ranks x batch 8 = 1 rank x batch 16 with the same teacher") {
  TempDir teacher, one, two;
  REQUIRE(vt::testing::run_cli(kFlags + "--batch-size 16 --output_dir " + teacher.path).exit_code == 0);
  const std::string distill =
      "--attn taylor --distilled --distillation-type soft --distillation-tau 2 --teacher-path " + teacher.path +
      "/checkpoint.safetensors ";
  const std::string flags =
      kFlags.substr(0, kFlags.find("--attn softmax")) + kFlags.substr(kFlags.find("--attn softmax") + 15) + distill;
  const CliResult a = vt::testing::run_cli(flags + "--batch-size 16 --output_dir " + one.path);
  REQUIRE_MESSAGE(a.exit_code == 0, a.out);
  const CliResult b = mpirun(2, flags + "--batch-size 8 --output_dir " + two.path);
  REQUIRE_MESSAGE(b.exit_code == 0, b.out);
  CHECK(b.out.find("distillation: soft, alpha 0.5, tau 2, through the distillation head") != std::string::npos);
  const Json la = last_log_line(one.path), lb = last_log_line(two.path);
  REQUIRE(lb.find("teacher_s"));
  CHECK(lb.find("train_loss")->as_double() == doctest::Approx(la.find("train_loss")->as_double()).epsilon(1e-5));
  CHECK(lb.find("test_loss")->as_double() == doctest::Approx(la.find("test_loss")->as_double()).epsilon(1e-5));
}
