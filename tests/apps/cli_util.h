// Runs the vitality binary with arguments and captures its exit code and output.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "core/fileio.h"
#include "core/json.h"

namespace vt::testing {

struct CliResult {
  int exit_code = -1;
  std::string out;  // stdout and stderr together
};

// Runs a shell command line and captures its exit code and output (the caller redirects stderr).
inline CliResult run_command(const std::string& cmd) {
  CliResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// `vitality <args>`, stdout and stderr together.
inline CliResult run_cli(const std::string& args) {
  return run_command(std::string(VITALITY_BINARY) + " " + args + " 2>&1");
}

// The JSON lines of a run's log.txt in `dir`, in order.
inline std::vector<Json> read_log(const std::string& dir) {
  std::vector<Json> lines;
  std::istringstream in(read_file(dir + "/log.txt"));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(Json::parse(line));
  return lines;
}

// A shell script (for ulimit); it must not contain single quotes.
inline CliResult run_cli_shell(const std::string& script) { return run_command("sh -c '" + script + "' 2>&1"); }

}  // namespace vt::testing
