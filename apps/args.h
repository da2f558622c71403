// Command-line flags for the vitality subcommands, argparse-style: `--name value` or
// `--name=value`, hyphen and underscore spellings of a name are the same flag (deit writes
// --output_dir and --batch-size), one-letter aliases are written `-b`, booleans take --name /
// --no-name, unknown flags and bad values are errors that say what is allowed. A value that looks
// like a flag (`--output_dir --epochs 3`) is refused, naming the flag that wanted a value; write
// `--output_dir=--epochs` if that is really the value. Each flag writes straight into a settings
// struct field. --help lists the flags by group (deit's parser groups them), one line each.
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
  // A flag that may be given several times; each value is appended (--sweep a=1,2 --sweep b=3).
  void add_repeated(const std::string& name, std::vector<std::string>* target, const std::string& help);
  // A flag that sets something else when present (e.g. --vitality sets --attn vitality).
  void add_action(const std::string& name, std::function<void()> action, const std::string& help);
  // --crop-pct -> --eval-crop-ratio; a one-letter alias is spelled -b on the command line.
  void add_alias(const std::string& alias, const std::string& name);
  // The flags added from now on belong to this --help group ("model", "optimizer", ...).
  void group(const std::string& title);
  // What --help shows as the default of `name` when the raw value would mislead ("all cores").
  void default_text(const std::string& name, const std::string& text);
  // The placeholder --help shows for `name`'s value ("FILE", "DIR"; the default is TEXT, N or X).
  void value_hint(const std::string& name, const std::string& hint);
  // Text printed after the flags in --help (added once: a repeated text is kept once).
  void epilogue(const std::string& text);
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
    // stores the values; `typed` is the flag as written on the command line, for error messages
    std::function<void(const std::string& typed, const std::vector<std::string>&)> set;
    bool is_bool = false;
    bool* bool_target = nullptr;
    bool seen = false;
    std::string group{};  // the --help section (set by push from the current group)
  };
  std::string spelled(const std::string& name) const;  // "--batch-size", or "-b" for a one-letter alias
  Option* find(const std::string& name);
  const Option* find(const std::string& name) const;
  void push(Option opt);

  std::string command_, summary_;
  std::vector<Option> options_;
  std::vector<std::pair<std::string, std::string>> aliases_;
  std::string positional_name_, positional_help_, group_, epilogue_;
  std::vector<std::string> groups_;
  std::vector<std::string>* positional_ = nullptr;
};

// "--output_dir" and "--output-dir" name the same flag.
std::string canonical_flag(std::string name);

// Parses a number; `flag` is the flag as typed ("--lr", "-b"), for the error.
double parse_double(const std::string& flag, const std::string& text);
int64_t parse_int(const std::string& flag, const std::string& text);

}  // namespace vt::apps
