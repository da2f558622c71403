// ArgParser: flag registration, parsing and --help text.
#include "apps/args.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <sstream>

namespace vt::apps {

std::string canonical_flag(std::string name) {
  while (!name.empty() && name[0] == '-') name.erase(0, 1);
  std::replace(name.begin(), name.end(), '_', '-');
  return name;
}

double parse_double(const std::string& flag, const std::string& text) {
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(v))
    throw UsageError(str_cat(flag, ": '", text, "' is not a finite number"));
  return v;
}

int64_t parse_int(const std::string& flag, const std::string& text) {
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE)
    throw UsageError(str_cat(flag, ": '", text, "' is not an integer"));
  return v;
}

namespace {
template <class T>
std::string to_text(const T& v) {
  std::ostringstream os;
  os << v;
  return os.str();
}
}  // namespace

ArgParser::ArgParser(std::string command, std::string summary)
    : command_(std::move(command)), summary_(std::move(summary)) {}

void ArgParser::push(Option opt) {
  opt.name = canonical_flag(opt.name);
  VT_ASSERT(!find(opt.name));
  opt.group = group_;
  options_.push_back(std::move(opt));
}

void ArgParser::group(const std::string& title) {
  group_ = title;
  if (std::find(groups_.begin(), groups_.end(), title) == groups_.end()) groups_.push_back(title);
}

void ArgParser::default_text(const std::string& name, const std::string& text) {
  Option* o = find(canonical_flag(name));
  VT_ASSERT(o);
  o->default_text = text;
}

void ArgParser::value_hint(const std::string& name, const std::string& hint) {
  Option* o = find(canonical_flag(name));
  VT_ASSERT(o);
  o->value_hint = hint;
}

void ArgParser::epilogue(const std::string& text) {
  if (epilogue_.find(text) == std::string::npos) epilogue_ += "\n" + text;
}

std::string ArgParser::spelled(const std::string& name) const { return (name.size() == 1 ? "-" : "--") + name; }

void ArgParser::add(const std::string& name, std::string* target, const std::string& help) {
  push({name, help, "TEXT", target->empty() ? "" : *target, 1,
        [target](const std::string&, const std::vector<std::string>& v) { *target = v[0]; }});
}

void ArgParser::add(const std::string& name, int* target, const std::string& help) {
  push({name, help, "N", to_text(*target), 1, [target](const std::string& flag, const std::vector<std::string>& v) {
          const int64_t x = parse_int(flag, v[0]);
          if (x < INT32_MIN || x > INT32_MAX) throw UsageError(str_cat(flag, ": ", x, " is out of range"));
          *target = static_cast<int>(x);
        }});
}

void ArgParser::add(const std::string& name, int64_t* target, const std::string& help) {
  push({name, help, "N", to_text(*target), 1,
        [target](const std::string& flag, const std::vector<std::string>& v) { *target = parse_int(flag, v[0]); }});
}

void ArgParser::add(const std::string& name, double* target, const std::string& help) {
  push({name, help, "X", to_text(*target), 1,
        [target](const std::string& flag, const std::vector<std::string>& v) { *target = parse_double(flag, v[0]); }});
}

void ArgParser::add(const std::string& name, float* target, const std::string& help) {
  push({name, help, "X", to_text(*target), 1, [target](const std::string& flag, const std::vector<std::string>& v) {
          *target = static_cast<float>(parse_double(flag, v[0]));
        }});
}

void ArgParser::add(const std::string& name, std::optional<double>* target, const std::string& help) {
  push({name, help, "X", *target ? to_text(**target) : "none", 1,
        [target](const std::string& flag, const std::vector<std::string>& v) {
          if (v[0] == "none" || v[0] == "None") target->reset();
          else *target = parse_double(flag, v[0]);
        }});
}

void ArgParser::add(const std::string& name, std::vector<double>* target, int count, const std::string& help) {
  std::string def;
  for (double d : *target) def += (def.empty() ? "" : " ") + to_text(d);
  push({name, help, "X", def.empty() ? "none" : def, count,
        [target](const std::string& flag, const std::vector<std::string>& v) {
          target->clear();
          for (const std::string& s : v) target->push_back(parse_double(flag, s));
        }});
}

void ArgParser::add_choice(const std::string& name, std::string* target, std::vector<std::string> choices,
                           const std::string& help) {
  std::string hint;
  for (const std::string& c : choices) hint += (hint.empty() ? "" : "|") + c;
  push({name, help, hint, *target, 1,
        [target, choices, hint](const std::string& flag, const std::vector<std::string>& v) {
          if (std::find(choices.begin(), choices.end(), v[0]) == choices.end())
            throw UsageError(str_cat(flag, ": '", v[0], "' is not one of ", hint));
          *target = v[0];
        }});
}

void ArgParser::add_flag(const std::string& name, bool* target, const std::string& help) {
  Option opt{name, help, "", *target ? "on" : "off", 0, nullptr};
  opt.is_bool = true;
  opt.bool_target = target;
  push(std::move(opt));
}

void ArgParser::add_repeated(const std::string& name, std::vector<std::string>* target, const std::string& help) {
  push({name, help + " (repeatable)", "TEXT", "", 1,
        [target](const std::string&, const std::vector<std::string>& v) { target->push_back(v[0]); }});
}

void ArgParser::add_action(const std::string& name, std::function<void()> action, const std::string& help) {
  push({name, help, "", "", 0, [action](const std::string&, const std::vector<std::string>&) { action(); }});
}

void ArgParser::add_alias(const std::string& alias, const std::string& name) {
  VT_ASSERT(find(canonical_flag(name)));
  aliases_.emplace_back(canonical_flag(alias), canonical_flag(name));
}

void ArgParser::positional(const std::string& name, std::vector<std::string>* target, const std::string& help) {
  positional_name_ = name;
  positional_help_ = help;
  positional_ = target;
}

ArgParser::Option* ArgParser::find(const std::string& name) {
  for (auto& [alias, real] : aliases_)
    if (alias == name) return find(real);
  for (Option& o : options_)
    if (o.name == name) return &o;
  return nullptr;
}

const ArgParser::Option* ArgParser::find(const std::string& name) const {
  return const_cast<ArgParser*>(this)->find(name);
}

bool ArgParser::was_set(const std::string& name) const {
  const Option* o = find(canonical_flag(name));
  return o && o->seen;
}

bool ArgParser::parse(int argc, char** argv, int first) {
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    // one-letter short flags (timm's -b) are spelled "-b" and registered as aliases ("b")
    if (arg.size() == 2 && arg[0] == '-' && std::isalpha(static_cast<unsigned char>(arg[1])) && arg != "-h")
      arg = "-" + arg;
    if (arg == "-h" || arg == "--help") {
      std::cout << help();
      return false;
    }
    if (arg.rfind("--", 0) != 0 || arg.size() == 2) {
      if (positional_ && !(arg.size() > 1 && arg[0] == '-')) {
        positional_->push_back(arg);
        continue;
      }
      throw UsageError(str_cat("unexpected argument '", arg, "'"));
    }
    std::string name = arg.substr(2), inline_value;
    const std::string typed = argv[i][0] == '-' && argv[i][1] != '-'
                                  ? arg.substr(1)
                                  : std::string(argv[i]).substr(0, std::string(argv[i]).find('='));  // as written
    const size_t eq = name.find('=');
    const bool has_inline = eq != std::string::npos;
    if (has_inline) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    name = canonical_flag(name);
    Option* opt = find(name);
    bool negated = false;
    if (!opt && name.rfind("no-", 0) == 0) {
      opt = find(name.substr(3));
      negated = opt && opt->is_bool;
      if (!negated) opt = nullptr;
    }
    if (!opt) throw UsageError(str_cat("unknown flag ", spelled(name), " (see vitality ", command_, " --help)"));
    opt->seen = true;
    if (opt->is_bool) {
      if (has_inline)
        throw UsageError(str_cat("--", opt->name, " takes no value (use --no-", opt->name, " to turn it off)"));
      *opt->bool_target = !negated;
      continue;
    }
    std::vector<std::string> values;
    if (has_inline) values.push_back(inline_value);
    while (static_cast<int>(values.size()) < opt->nargs) {
      if (i + 1 >= argc)
        throw UsageError(str_cat(typed, " needs ", opt->nargs == 1 ? "a value" : str_cat(opt->nargs, " values")));
      const std::string next = argv[i + 1];
      // "--epochs", "-b": a flag, not a value (negative numbers such as -1 or -.5 stay values)
      const bool looks_like_flag =
          next.size() >= 2 && next[0] == '-' && (next[1] == '-' || std::isalpha(static_cast<unsigned char>(next[1])));
      if (looks_like_flag)
        throw UsageError(str_cat(typed, " needs a value, but the next argument is the flag ", next, " (write ", typed,
                                 "=", next, " if that is the value)"));
      values.push_back(argv[++i]);
    }
    opt->set(typed, values);  // errors name the flag as it was typed (-b, --num_workers)
  }
  return true;
}

std::string ArgParser::help() const {
  constexpr size_t kWidth = 110, kColumn = 32;  // the help text starts at kColumn
  // words of `text` wrapped to lines of at most kWidth - kColumn characters
  auto wrap = [&](const std::string& text) {
    std::vector<std::string> lines(1);
    std::istringstream words(text);
    std::string w;
    while (words >> w) {
      if (!lines.back().empty() && lines.back().size() + 1 + w.size() > kWidth - kColumn) lines.emplace_back();
      lines.back() += (lines.back().empty() ? "" : " ") + w;
    }
    return lines;
  };
  std::ostringstream os;
  os << "usage: vitality " << command_ << " [flags]" << (positional_ ? " " + positional_name_ + "..." : "") << "\n\n";
  {  // the summary, wrapped at kWidth
    std::istringstream words(summary_);
    std::string w, line;
    while (words >> w) {
      if (!line.empty() && line.size() + 1 + w.size() > kWidth) {
        os << line << "\n";
        line.clear();
      }
      line += (line.empty() ? "" : " ") + w;
    }
    os << line << "\n";
  }
  if (positional_)
    os << "\n  " << positional_name_
       << std::string(kColumn > positional_name_.size() + 2 ? kColumn - positional_name_.size() - 2 : 1, ' ')
       << positional_help_ << "\n";
  std::vector<std::string> groups = groups_;
  if (groups.empty() || std::any_of(options_.begin(), options_.end(), [](const Option& o) { return o.group.empty(); }))
    groups.insert(groups.begin(), "");
  for (const std::string& g : groups) {
    os << "\n" << (g.empty() ? "flags" : g) << ":\n";
    for (const Option& o : options_) {
      if (o.group != g) continue;
      std::string head = "  --" + o.name;
      for (const auto& [alias, real] : aliases_)
        if (real == o.name) head += ", " + spelled(alias);
      if (o.is_bool) head += " / --no-" + o.name;
      else if (!o.value_hint.empty()) head += " " + o.value_hint;
      std::string text = o.help;
      if (!o.default_text.empty()) text += " (default: " + o.default_text + ")";
      const std::vector<std::string> lines = wrap(text);
      if (head.size() + 2 <= kColumn) {
        os << head << std::string(kColumn - head.size(), ' ') << lines[0] << "\n";
      } else {
        os << head << "\n" << std::string(kColumn, ' ') << lines[0] << "\n";
      }
      for (size_t k = 1; k < lines.size(); ++k) os << std::string(kColumn, ' ') << lines[k] << "\n";
    }
  }
  os << epilogue_;
  os << "\nHyphens and underscores in flag names are interchangeable (--output_dir = --output-dir).\n";
  return os.str();
}

}  // namespace vt::apps
