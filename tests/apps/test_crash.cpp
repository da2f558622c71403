// Crash safety of checkpoints: a training process killed (SIGKILL) while it writes leaves the
// previous checkpoint pair loadable and resumable; a write that fails (a file-size limit standing
// in for a full disk) is reported and leaves it intact. Also the resource errors users meet:
// --threads above the core count, a batch that cannot fit in memory, paths that are not files.
#include <doctest/doctest.h>

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "core/fileio.h"
#include "nn/checkpoint.h"
#include "tests/apps/cli_util.h"
#include "tests/apps/tiny_folder.h"

using vt::testing::run_cli;
using vt::testing::TinyFolder;

namespace {

// A wider model than TinyFolder's default, so that each epoch is mostly checkpoint writing
// (about 3 M parameters: 12 MB of weights and 25 MB of optimizer state, written and fsynced).
std::string wide_flags(const TinyFolder& f, const std::string& out) {
  return f.flags(out) + " --embed-dim 256 --depth 4 --num-heads 4";
}

std::string checkpoint_id(const std::string& path) {
  const vt::nn::LoadedCheckpoint c = vt::nn::load_checkpoint(path);  // throws if the pair is torn
  REQUIRE(c.state);
  return c.weights.metadata.at("checkpoint_id");
}

int leftover_temporaries(const std::string& dir) {
  int n = 0;
  DIR* d = ::opendir(dir.c_str());
  while (dirent* e = ::readdir(d)) n += std::string(e->d_name).find(".tmp.") != std::string::npos;
  ::closedir(d);
  return n;
}

}  // namespace

TEST_CASE("SIGKILL while writing checkpoints: the previous pair still loads and resumes") {
  TinyFolder f;
  const std::string out = f.root + "/run", ckpt = out + "/checkpoint.safetensors";
  REQUIRE(run_cli("train " + wide_flags(f, out) + " --epochs 1").exit_code == 0);
  // Five kills: three the moment a temporary file of a checkpoint write appears (plus 0, 3 or
  // 10 ms, so at different points of the write), two at fixed times after the start (wherever
  // they land). Polling the directory instead of sleeping keeps this independent of how fast
  // the machine (or a sanitizer build) is.
  int torn_writes = 0;
  for (int trial = 0; trial < 5; ++trial) {
    CAPTURE(trial);
    const pid_t pid = ::fork();
    if (pid == 0) {  // the child becomes `vitality train --resume ...` for many more epochs
      const std::string cmd = std::string(VITALITY_BINARY) + " train " + wide_flags(f, out) +
                              " --epochs 500 --resume " + ckpt + " > /dev/null 2>&1";
      ::execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), static_cast<char*>(nullptr));
      std::_Exit(127);
    }
    if (trial < 3) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
      while (leftover_temporaries(out) == 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      std::this_thread::sleep_for(std::chrono::milliseconds(trial == 0 ? 0 : trial == 1 ? 3 : 10));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(trial == 3 ? 700 : 1900));
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status));
    torn_writes += leftover_temporaries(out) > 0;
    CHECK_NOTHROW(checkpoint_id(ckpt));  // a consistent pair, old or new
    std::system(("rm -f " + out + "/*.tmp.*").c_str());
  }
  MESSAGE(torn_writes << " of 5 kills landed inside a checkpoint write");
  CHECK(torn_writes >= 1);
  // and the run continues from it, for one more epoch
  const int64_t epoch = std::stoll(vt::nn::load_checkpoint(ckpt).state->metadata.at("epoch"));
  const auto resumed =
      run_cli("train " + wide_flags(f, out) + " --resume " + ckpt + " --epochs " + std::to_string(epoch + 1));
  CHECK(resumed.exit_code == 0);
  CHECK(resumed.out.find("Resumed from " + ckpt) != std::string::npos);
}

TEST_CASE("a failing write (file-size limit, as a full disk) is reported and the old pair kept") {
  TinyFolder f;
  const std::string out = f.root + "/run", ckpt = out + "/checkpoint.safetensors";
  REQUIRE(run_cli("train " + wide_flags(f, out) + " --epochs 1").exit_code == 0);
  const std::string before = checkpoint_id(ckpt);
  // 1 MB limit: the 12 MB weights file cannot be written (SIGXFSZ is ignored: write fails EFBIG)
  const auto r = vt::testing::run_cli_shell("ulimit -f 1024; exec " + std::string(VITALITY_BINARY) + " train " +
                                            wide_flags(f, out) + " --epochs 3 --resume " + ckpt);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("checkpoint") != std::string::npos);
  CHECK(r.out.find("File too large") != std::string::npos);
  CHECK(checkpoint_id(ckpt) == before);
  CHECK(leftover_temporaries(out) == 0);  // the failed temporary is removed
}

TEST_CASE("resource limits are clear errors") {
  auto threads = run_cli("bench --threads 4096");
  CHECK(threads.exit_code == 1);
  CHECK(threads.out.find("--threads 4096 is more than the") != std::string::npos);
  auto batch = run_cli("bench --batch-size 1000000 --threads 1");
  CHECK(batch.exit_code == 2);
  CHECK(batch.out.find("--batch-size 1000000: a training step needs about") != std::string::npos);
  auto dir = run_cli("train --data-path /dev/null --epochs 1");
  CHECK(dir.exit_code == 1);
  CHECK(dir.out.find("/dev/null") != std::string::npos);
  auto dev = run_cli("eval --checkpoint /dev/zero --data-path /tmp");
  CHECK(dev.exit_code == 1);
  CHECK(dev.out.find("/dev/zero: is not a regular file") != std::string::npos);
  auto out_file = run_cli("hw --output /etc/hostname/x --threads 1");
  CHECK(out_file.exit_code == 1);
  CHECK(out_file.out.find("not a directory") != std::string::npos);
}
