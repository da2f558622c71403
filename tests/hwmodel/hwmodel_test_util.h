// Shared helpers of the hwmodel tests: the shipped configs, and an architecture edited key by key
// (tests build their own variants in memory and never touch the tracked files).
#pragma once

#include <string>

#include "core/error.h"
#include "hwmodel/config.h"
#include "hwmodel/shipped_configs.h"

namespace vt::hw::test {

inline std::string shipped(const std::string& name) {
  const char* text = shipped_config_text(name);
  if (!text) throw Error("no shipped config " + name);
  return text;
}

// The text of a shipped config with `key`'s value replaced (the key must be present).
inline std::string with_key(std::string text, const std::string& key, const std::string& value) {
  const size_t at = text.find("\n" + key + " ");
  if (at == std::string::npos) throw Error("no key " + key);
  const size_t eq = text.find('=', at), end = text.find_first_of("#\n", eq);
  return text.substr(0, eq + 1) + " " + value + " " + text.substr(end);
}

inline ArchConfig arch_with(const std::string& base, std::initializer_list<std::pair<std::string, std::string>> keys) {
  std::string text = shipped(base);
  for (const auto& [k, v] : keys) text = with_key(text, k, v);
  return parse_arch_config(text, base + "-edited.cfg");
}

inline EnergyTable energy45() { return parse_energy_table(shipped("energy-45nm"), "energy-45nm.cfg"); }

}  // namespace vt::hw::test
