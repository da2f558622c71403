// Checkpoint pairs: ordering of the two atomic writes and the consistency check.
#include "nn/checkpoint.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <vector>

#include "core/fileio.h"
#include "core/rng.h"

namespace vt::nn {

namespace {

// "<dir>/", "<file name>.tmp." of a target path.
std::pair<std::string, std::string> temp_prefix(const std::string& target) {
  const size_t slash = target.rfind('/');
  if (slash == std::string::npos) return {"", target + ".tmp."};
  return {target.substr(0, slash + 1), target.substr(slash + 1) + ".tmp."};
}

std::vector<std::string> temporaries_of(const std::string& target) {
  const auto [dir, prefix] = temp_prefix(target);
  std::vector<std::string> paths;
  if (DIR* d = ::opendir(dir.empty() ? "." : dir.c_str())) {
    while (dirent* e = ::readdir(d))
      if (std::string(e->d_name).compare(0, prefix.size(), prefix) == 0) paths.push_back(dir + e->d_name);
    ::closedir(d);
  }
  return paths;
}

}  // namespace

void remove_stale_temporaries(const std::string& target) {
  const auto [dir, prefix] = temp_prefix(target);
  for (const std::string& tmp : temporaries_of(target)) {
    // AtomicFile names its temporary "<target>.tmp.<pid>"; only a writer that no longer exists
    // left it behind (a live one may still be writing, and this process has renamed its own).
    const std::string pid_text = tmp.substr(dir.size() + prefix.size());
    if (pid_text.empty() || pid_text.size() > 9 || pid_text.find_first_not_of("0123456789") != std::string::npos)
      continue;
    const long pid = std::stol(pid_text);
    if (pid <= 0 || pid == ::getpid()) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    ::unlink(tmp.c_str());
  }
}

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
  // a crash while writing leaves the previous pair; a crash between the two renames leaves the
  // whole new weights in their temporary, which load_checkpoint renames into place. (Saving them
  // one after the other left a new state beside old weights for the whole weights write.)
  AtomicFile state_file(state_path_for(weights_path));
  state_file.write(serialize_safetensors(state, state_meta));
  state_file.sync();
  AtomicFile weights_file(weights_path);
  weights_file.write(serialize_safetensors(weights, weights_meta));
  weights_file.sync();
  state_file.commit();
  weights_file.commit();
  remove_stale_temporaries(weights_path);
  remove_stale_temporaries(state_path_for(weights_path));
}

namespace {

std::string id_of(const SafetensorsFile& f) {
  auto it = f.metadata.find("checkpoint_id");
  return it == f.metadata.end() ? std::string() : it->second;
}

// Looks for "<target>.tmp.*" holding a whole safetensors file with checkpoint_id `id` (the half
// of a save that was written and fsynced but not yet renamed when the process died) and renames
// it over `target`. Temporaries of saves killed while writing fail to load and are skipped.
std::optional<SafetensorsFile> roll_forward(const std::string& target, const std::string& id) {
  if (id.empty()) return std::nullopt;
  const std::string parent = temp_prefix(target).first, dir = parent.empty() ? "." : parent;
  for (const std::string& tmp : temporaries_of(target)) {
    try {
      SafetensorsFile f = load_safetensors(tmp);
      if (id_of(f) != id) continue;
      if (::rename(tmp.c_str(), target.c_str()) != 0) continue;
      if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
        ::fsync(dfd);  // make the rename durable, as AtomicFile::commit does
        ::close(dfd);
      }
      return f;
    } catch (const Error&) {
      // a temporary cut short by the crash: not the one we look for
    }
  }
  return std::nullopt;
}

}  // namespace

LoadedCheckpoint load_checkpoint(const std::string& weights_path) {
  LoadedCheckpoint c{load_safetensors(weights_path), std::nullopt, {}};
  const std::string sp = state_path_for(weights_path);
  struct stat st;
  if (::stat(sp.c_str(), &st) != 0) return c;
  c.state = load_safetensors(sp);
  const std::string wid = id_of(c.weights), sid = id_of(*c.state);
  if (!wid.empty() && wid == sid) return c;
  // save_checkpoint renames the state first: new state + old weights + the new weights' temporary.
  if (auto w = roll_forward(weights_path, sid)) {
    c.weights = std::move(*w);
    c.recovered =
        str_cat("completed an interrupted save: renamed the whole temporary weights file over ", weights_path);
    return c;
  }
  if (auto s = roll_forward(sp, wid)) {
    c.state = std::move(*s);
    c.recovered = str_cat("completed an interrupted save: renamed the whole temporary state file over ", sp);
    return c;
  }
  // Another process (an MPI rank) may have completed the same save between our reads.
  c.weights = load_safetensors(weights_path);
  c.state = load_safetensors(sp);
  if (!id_of(c.weights).empty() && id_of(c.weights) == id_of(*c.state)) return c;
  throw Error(str_cat(weights_path, " and ", sp,
                      " come from different saves (a run was interrupted between "
                      "writing the two); move the .state file away to load the weights alone"));
}

}  // namespace vt::nn
