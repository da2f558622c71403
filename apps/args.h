// Command-line flags for the vitality subcommands, argparse-style: `--name value` or
// `--name=value`, hyphen and underscore spellings of a name are the same flag (deit writes
// --output_dir and --batch-size), booleans take --name / --no-name, unknown flags and bad values
// are errors that say what is allowed. Each flag writes straight into a settings struct field.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace vt::apps {

// A usage error: the message is printed with a pointer to --help, exit code 2.
class UsageError : public Error {
 public:
  using Error::Error;
};

class ArgParser {
 public:
  ArgParser(std::string command, std::string summary);

  void add(const std::string& name, std::string* target, const std::string& help);
  void add(const std::string& name, int* target, const std::string& help);
  void add(const std::string& name, int64_t* target, const std::string& help);
  void add(const std::string& name, double* target, const std::string& help);
  void add(const std::string& name, float* target, const std::string& help);
  void add(const std::string& name, std::optional<double>* target, const std::string& help);
  void add(const std::string& name, std::vector<double>* target, int count, const std::string& help);
  void add_choice(const std::string& name, std::string* target, std::vector<std::string> choices,
                  const std::string& help);
  void add_flag(const std::string& name, bool* target, const std::string& help);  // --x / --no-x
  // A flag that sets something else when present (e.g. --vitality sets --attn vitality).
  void add_action(const std::string& name, std::function<void()> action, const std::string& help);
  void add_alias(const std::string& alias, const std::string& name);  // --crop-pct -> --eval-crop-ratio
  void positional(const std::string& name, std::vector<std::string>* target, const std::string& help);

  // Parses argv[first..argc). Throws UsageError; returns false when --help was printed.
  bool parse(int argc, char** argv, int first);
  std::string help() const;
  bool was_set(const std::string& name) const;  // given on the command line

 private:
  struct Option {
    std::string name;  // canonical, as shown in --help
    std::string help;
    std::string value_hint;  // "" for flags without a value
    std::string default_text;
    int nargs = 1;
    std::function<void(const std::vector<std::string>&)> set;
    bool is_bool = false;
    bool* bool_target = nullptr;
    bool seen = false;
  };
  Option* find(const std::string& name);
  const Option* find(const std::string& name) const;
  void push(Option opt);

  std::string command_, summary_;
  std::vector<Option> options_;
  std::vector<std::pair<std::string, std::string>> aliases_;
  std::string positional_name_, positional_help_;
  std::vector<std::string>* positional_ = nullptr;
};

// "--output_dir" and "--output-dir" name the same flag.
std::string canonical_flag(std::string name);

// Parses a number, with the flag's name in the error.
double parse_double(const std::string& flag, const std::string& text);
int64_t parse_int(const std::string& flag, const std::string& text);

}  // namespace vt::apps
