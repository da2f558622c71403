// Checkpoint pairs: ordering of the two atomic writes and the consistency check.
#include "nn/checkpoint.h"

#include <sys/stat.h>

#include <chrono>

#include "core/fileio.h"
#include "core/rng.h"

namespace vt::nn {

std::string state_path_for(const std::string& weights_path) {
  const std::string ext = ".safetensors";
  if (weights_path.size() > ext.size() && weights_path.compare(weights_path.size() - ext.size(), ext.size(), ext) == 0)
    return weights_path.substr(0, weights_path.size() - ext.size()) + ".state" + ext;
  return weights_path + ".state";
}

void save_checkpoint(const std::string& weights_path, const Parameters& weights, const Parameters& state,
                     std::map<std::string, std::string> weights_meta, std::map<std::string, std::string> state_meta) {
  // A fresh id per save: time and a counter, hashed.
  static uint64_t counter = 0;
  const uint64_t t = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  char id[17];
  std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(mix64(t ^ mix64(++counter))));
  weights_meta["checkpoint_id"] = id;
  state_meta["checkpoint_id"] = id;
  weights_meta["format"] = "pt";  // what safetensors.torch writes; timm ignores it
  // Both files are written and fsynced as temporaries before either replaces its predecessor, so
  // a crash while writing leaves the previous pair; only the two back-to-back renames (about a
  // millisecond) can still tear it, which load_checkpoint detects. (Saving them one after the
  // other left a new state beside old weights for the whole weights write.)
  AtomicFile state_file(state_path_for(weights_path));
  state_file.write(serialize_safetensors(state, state_meta));
  state_file.sync();
  AtomicFile weights_file(weights_path);
  weights_file.write(serialize_safetensors(weights, weights_meta));
  weights_file.sync();
  state_file.commit();
  weights_file.commit();
}

LoadedCheckpoint load_checkpoint(const std::string& weights_path) {
  LoadedCheckpoint c{load_safetensors(weights_path), std::nullopt};
  const std::string sp = state_path_for(weights_path);
  struct stat st;
  if (::stat(sp.c_str(), &st) != 0) return c;
  c.state = load_safetensors(sp);
  auto wid = c.weights.metadata.find("checkpoint_id"), sid = c.state->metadata.find("checkpoint_id");
  if (wid == c.weights.metadata.end() || sid == c.state->metadata.end() || wid->second != sid->second)
    throw Error(str_cat(weights_path, " and ", sp, " come from different saves (a run was interrupted between "
                        "writing the two); move the .state file away to load the weights alone"));
  return c;
}

}  // namespace vt::nn
