// Checks of the paths a command was given, made before any work starts (scanning a dataset,
// building a model): a missing checkpoint or an unwritable output folder is reported at once,
// naming the flag and the path, not after minutes of preparation.
#pragma once

#include <string>

namespace vt::apps {

// `path` names a readable regular file; throws vt::Error "--flag path: <why>" otherwise.
void require_file(const std::string& flag, const std::string& path);
// `path` names a readable directory.
void require_dir(const std::string& flag, const std::string& path);
// `path` is (or can be made into) a directory where a file can be written: created if missing,
// then a probe file is written and removed.
void require_writable_dir(const std::string& flag, const std::string& path);

}  // namespace vt::apps
