// `vitality plot`: loss, accuracy and learning rate per epoch from runs' log.txt files, one
// colour per run (the chart primitives are in chart.h).
#pragma once

#include <string>
#include <vector>

#include "apps/chart.h"
#include "core/json.h"

namespace vt::apps {

struct RunLog {
  std::string name;
  std::vector<Json> epochs;  // one parsed log.txt line each
};

// Reads <dir>/log.txt; throws naming the file and line for malformed lines.
RunLog read_run_log(const std::string& dir);

// Three panels (train/test loss, test top-1, learning rate) against the epoch.
std::string training_chart_svg(const std::vector<RunLog>& runs, const std::string& title);

}  // namespace vt::apps
