// Charts as standalone SVG (no dependency): `vitality plot` draws loss, accuracy and learning rate
// per epoch from runs' log.txt files, one colour per run; the hardware reports reuse the bar chart.
#pragma once

#include <string>
#include <vector>

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

struct Series {
  std::string name;
  std::vector<double> x, y;
};
struct Panel {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  bool log_y = false;
};
// Panels side by side in one SVG document.
std::string line_chart_svg(const std::vector<Panel>& panels, const std::string& title);

// Grouped horizontal bars: groups (e.g. accelerators) x segments (e.g. op kinds), values stacked.
struct BarGroup {
  std::string name;
  std::vector<double> values;  // one per segment
};
std::string stacked_bar_svg(const std::vector<BarGroup>& groups, const std::vector<std::string>& segments,
                            const std::string& title, const std::string& unit);

}  // namespace vt::apps
