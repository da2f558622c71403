// Charts as standalone SVG, with no dependency: line charts (training curves, sweeps), stacked
// bars (hardware comparisons) and heatmaps (confusion matrices, attention maps). Axes carry
// round ticks (1, 2 or 5 x 10^k; whole numbers for counts such as epochs; decades on log axes),
// axis titles carry their units, and legends sit outside the plotting area so they never cover
// data. Each plotted series is a <polyline class="series" data-name="..."> and each bar a <rect
// class="bar">, so that tests (and other tools) can read back what was drawn.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace vt::apps {

// Round ticks covering [lo, hi]: the axis runs from the first to the last tick.
struct Axis {
  double min = 0, max = 1;
  std::vector<double> ticks;
  bool log = false;
};
// At most about `max_ticks` ticks at 1, 2 or 5 x 10^k (at least 1 apart with `integer`); on a
// log axis, powers of ten (and 2 and 5 times them when the range spans under two decades).
Axis nice_axis(double lo, double hi, int max_ticks, bool integer = false, bool log = false);
std::string tick_label(double v);  // "0.5", "2000", "1e-05": the shortest that reads exactly

struct Series {
  std::string name;
  std::string group;    // legend entry and colour (defaults to the name)
  bool dashed = false;  // drawn dashed, in the colour of its group
  std::vector<double> x, y;
  explicit Series(std::string name_, std::string group_ = "", bool dashed_ = false)
      : name(std::move(name_)), group(std::move(group_)), dashed(dashed_) {}
};
// A vertical line with a label (e.g. a break-even point).
struct Marker {
  double x = 0;
  std::string label;
};
struct Panel {
  std::string title, x_label, y_label;  // axis labels with their units: "latency (us)"
  std::vector<Series> series;
  bool log_x = false, log_y = false, integer_x = false;
  std::vector<Marker> markers;
  Panel(std::string title_, std::string x_label_, std::string y_label_)
      : title(std::move(title_)), x_label(std::move(x_label_)), y_label(std::move(y_label_)) {}
};
// Panels side by side in one SVG document, one legend below them; `note` under the legend.
std::string line_chart_svg(const std::vector<Panel>& panels, const std::string& title, const std::string& note = "");

// Horizontal bars, one per group (e.g. accelerators), made of stacked segments (e.g. op kinds).
struct BarGroup {
  std::string name;
  std::vector<double> values;  // one per segment
};
std::string stacked_bar_svg(const std::vector<BarGroup>& groups, const std::vector<std::string>& segments,
                            const std::string& title, const std::string& unit);

// A rows x cols grid of values shaded from white (the smallest) to dark blue (the largest), with
// row and column labels and the value printed in each cell when `annotate`.
struct Heatmap {
  std::string title, row_label, col_label;
  std::vector<std::string> rows, cols;
  std::vector<double> values;  // rows x cols, row-major
  bool annotate = true;
};
std::string heatmap_svg(const Heatmap& h);

// Square panels side by side, each an image (PNG bytes, embedded) under an optional grid of values
// (e.g. attention over an image's patches) drawn in the inferno colour scale, from the panel's
// smallest value (dark) to its largest (light), with that range printed under it. Each grid cell
// is a <rect class="cell" data-panel="..." data-value="...">, so tests can read the values back.
struct OverlayPanel {
  std::string title;           // above the panel
  std::string png;             // the image, stretched to the panel (pixels kept sharp); empty: none
  int rows = 0, cols = 0;      // the grid over the image
  std::vector<double> values;  // rows x cols, row-major; empty: the image alone
  double opacity = 0.65;       // of the grid over the image
  std::string caption;         // under the panel (after the value range)
};
std::string overlay_svg(const std::vector<OverlayPanel>& panels, const std::string& title,
                        const std::string& note = "");

// RFC 4648 base64 (for data: URIs).
std::string base64(const std::string& bytes);

std::string svg_escape(const std::string& s);

}  // namespace vt::apps
