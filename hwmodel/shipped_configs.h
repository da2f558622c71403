// The files of hwmodel/configs/, compiled into the program by CMake (shipped_configs.cpp is
// generated from them), so that `vitality hw --arch sanger` works from any directory.
#pragma once

#include <string>
#include <vector>

namespace vt::hw {

const char* shipped_config_text(const std::string& name);  // null when there is none of that name
std::vector<std::string> shipped_config_names();

}  // namespace vt::hw
