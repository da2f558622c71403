// Checkpoint pairs: weights + .state sibling, matching ids, atomic writes that keep the old file.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "core/fileio.h"
#include "core/ops.h"
#include "nn/checkpoint.h"

using namespace vt;

TEST_CASE("a checkpoint is a weights file and a .state sibling with one id") {
  const std::string dir = "/tmp/vitality_ckpt_" + std::to_string(::getpid());
  ::mkdir(dir.c_str(), 0755);
  const std::string path = dir + "/checkpoint.safetensors";
  CHECK(nn::state_path_for(path) == dir + "/checkpoint.state.safetensors");
  nn::save_checkpoint(path, {{"w", from_data({1, 2}, {2})}}, {{"optimizer.exp_avg.w", from_data({3, 4}, {2})}},
                      {{"arch", "x"}}, {{"epoch", "4"}});
  nn::LoadedCheckpoint c = nn::load_checkpoint(path);
  CHECK(c.weights.tensors.size() == 1);  // weights only: timm loads it strictly
  REQUIRE(c.state.has_value());
  CHECK(c.state->metadata.at("epoch") == "4");
  CHECK(c.state->find("optimizer.exp_avg.w")->to_vector() == std::vector<float>{3, 4});
  // The state of another save next to these weights is refused.
  const std::string saved_state = read_file(nn::state_path_for(path));
  nn::save_checkpoint(path, {{"w", from_data({5, 6}, {2})}}, {}, {}, {});
  write_file_atomic(nn::state_path_for(path), saved_state);
  CHECK_THROWS_WITH_AS(nn::load_checkpoint(path),
                       (path + " and " + nn::state_path_for(path) +
                        " come from different saves (a run was interrupted between writing the two); move the .state "
                        "file away to load the weights alone")
                           .c_str(),
                       Error);
  // Without a state file the weights load alone.
  std::remove(nn::state_path_for(path).c_str());
  CHECK_FALSE(nn::load_checkpoint(path).state.has_value());
  // A write that fails (the target is a directory) reports it and leaves no temporary behind.
  CHECK_THROWS_WITH_AS(nn::save_safetensors(dir, {}, {}), (dir + ": is a directory, cannot write a file there").c_str(),
                       Error);
  std::remove(path.c_str());
  CHECK(::rmdir(dir.c_str()) == 0);  // empty: no stray temporary files
}

TEST_CASE("a save killed between its two renames is completed from the whole temporary on load") {
  const std::string dir = "/tmp/vitality_ckpt_torn_" + std::to_string(::getpid());
  ::mkdir(dir.c_str(), 0755);
  const std::string path = dir + "/checkpoint.safetensors", sp = nn::state_path_for(path);
  nn::save_checkpoint(path, {{"w", from_data({1, 2}, {2})}}, {{"s", from_data({3}, {1})}}, {}, {{"epoch", "1"}});
  const std::string old_weights = read_file(path);
  nn::save_checkpoint(path, {{"w", from_data({5, 6}, {2})}}, {{"s", from_data({7}, {1})}}, {}, {{"epoch", "2"}});
  // What SIGKILL between the renames leaves: new state, old weights, new weights as a temporary,
  // and the cut-short temporary of an earlier killed save (which must be ignored).
  const std::string new_weights = read_file(path);
  write_file_atomic(path + ".tmp.111", new_weights.substr(0, new_weights.size() - 3));
  write_file_atomic(path + ".tmp.222", new_weights);
  write_file_atomic(path, old_weights);
  nn::LoadedCheckpoint c = nn::load_checkpoint(path);
  CHECK(c.recovered.find("completed an interrupted save") != std::string::npos);
  CHECK(c.weights.find("w")->to_vector() == std::vector<float>{5, 6});
  CHECK(c.state->metadata.at("epoch") == "2");
  CHECK(read_file(path) == new_weights);  // renamed into place: the next load needs no repair
  CHECK(nn::load_checkpoint(path).recovered.empty());
  std::remove((path + ".tmp.111").c_str());
  struct stat st;
  CHECK(::stat((path + ".tmp.222").c_str(), &st) != 0);
  // Old weights with a state whose partner is nowhere: still refused.
  write_file_atomic(path, old_weights);
  CHECK_THROWS_AS(nn::load_checkpoint(path), Error);
  std::remove(path.c_str());
  std::remove(sp.c_str());
  CHECK(::rmdir(dir.c_str()) == 0);
}

TEST_CASE("a save removes the temporaries that killed writers left behind, and only those") {
  const std::string dir = "/tmp/vitality_ckpt_stale_" + std::to_string(::getpid());
  ::mkdir(dir.c_str(), 0755);
  const std::string path = dir + "/checkpoint.safetensors", sp = nn::state_path_for(path);
  // pid 999999999 is above Linux's pid_max: no such process; pid 1 (init) always runs.
  const std::string dead_w = path + ".tmp.999999999", dead_s = sp + ".tmp.999999999";
  const std::string live = path + ".tmp.1", not_ours = path + ".tmp.notapid",
                    other = dir + "/other.safetensors.tmp.999999999";
  for (const std::string& f : {dead_w, dead_s, live, not_ours, other}) write_file_atomic(f, "half a file");
  nn::save_checkpoint(path, {{"w", from_data({1, 2}, {2})}}, {{"s", from_data({3}, {1})}}, {}, {});
  struct stat st;
  CHECK(::stat(dead_w.c_str(), &st) != 0);
  CHECK(::stat(dead_s.c_str(), &st) != 0);
  CHECK(::stat(live.c_str(), &st) == 0);      // a live writer may still rename it
  CHECK(::stat(not_ours.c_str(), &st) == 0);  // not AtomicFile's name
  CHECK(::stat(other.c_str(), &st) == 0);     // another file's temporary
  CHECK(nn::load_checkpoint(path).weights.find("w")->to_vector() == std::vector<float>{1, 2});
  for (const std::string& f : {live, not_ours, other, path, sp}) CHECK(std::remove(f.c_str()) == 0);
  CHECK(::rmdir(dir.c_str()) == 0);
}
