// The SVG charts: round axis ticks, and what a chart plots read back from the file (values through
// the tick labels, bars by their data, legend entries) against the numbers it was made from. To
// add a case: build the chart from known numbers, then compare svg_panels / svg_elements with them.
#include <doctest/doctest.h>

#include <cmath>

#include "apps/chart.h"
#include "tests/svg_util.h"

using namespace vt::apps;
using namespace vt::testing;

namespace {
// A tick step is 1, 2 or 5 times a power of ten.
bool round_step(double step) {
  const double mag = std::pow(10.0, std::floor(std::log10(step) + 1e-12));
  const double m = step / mag;
  return std::fabs(m - 1) < 1e-9 || std::fabs(m - 2) < 1e-9 || std::fabs(m - 5) < 1e-9;
}
}  // namespace

TEST_CASE("axes: round ticks (1, 2, 5 x 10^k) covering the data, whole numbers for counts, decades on log axes") {
  for (auto [lo, hi] :
       {std::pair{0.0, 1.0}, {0.6921, 0.6948}, {13.0, 871.0}, {-3.2, 7.9}, {0.0, 2500.0}, {1e-6, 3e-6}}) {
    CAPTURE(lo);
    CAPTURE(hi);
    const Axis a = nice_axis(lo, hi, 6);
    REQUIRE(a.ticks.size() >= 2);
    CHECK(a.ticks.size() <= 8);
    CHECK(a.min <= lo);
    CHECK(a.max >= hi);
    CHECK(a.min == a.ticks.front());
    CHECK(a.max == a.ticks.back());
    const double step = a.ticks[1] - a.ticks[0];
    CHECK(round_step(step));
    for (size_t i = 1; i < a.ticks.size(); ++i) CHECK(a.ticks[i] - a.ticks[i - 1] == doctest::Approx(step));
    CHECK(a.max - a.min <= (hi - lo) + 2 * step);  // no more than a step of slack at each end
  }
  const Axis epochs = nice_axis(0, 3, 6, /*integer=*/true);
  CHECK(epochs.ticks == std::vector<double>{0, 1, 2, 3});
  const Axis one = nice_axis(0, 0, 6, /*integer=*/true);
  CHECK(one.ticks.size() >= 2);
  const Axis log = nice_axis(3e-6, 4e-4, 6, false, /*log=*/true);
  CHECK(log.min == doctest::Approx(1e-6));
  CHECK(log.max == doctest::Approx(1e-3));
  CHECK(log.ticks == std::vector<double>{1e-6, 1e-5, 1e-4, 1e-3});
  CHECK(tick_label(0.30000000000000004) == "0.3");
  CHECK(tick_label(80) == "80");
  CHECK(tick_label(2500) == "2500");
  CHECK(tick_label(1e-6) == "1e-06");
}

TEST_CASE("line charts plot the given values: read back through the tick labels") {
  Panel p("loss", "epoch", "loss (nats)");
  p.integer_x = true;
  Series a("run a"), b("run b", "", /*dashed=*/true);
  a.x = b.x = {0, 1, 2, 3, 4};
  a.y = {2.3, 1.7, 1.2, 0.9, 0.8};
  b.y = {2.4, 2.0, 1.9, 1.85, 1.7};
  p.series = {a, b};
  p.markers = {{2.5, "break-even"}};
  Panel q("lr", "epoch", "learning rate");
  q.log_y = true;
  Series l("run a");
  l.x = {0, 1, 2};
  l.y = {1e-6, 3e-5, 5e-4};
  q.series = {l};
  const std::string svg = line_chart_svg({p, q}, "title", "a note");
  const std::vector<SvgPanel> panels = svg_panels(svg);
  REQUIRE(panels.size() == 2);
  CHECK(panels[0].title == "loss");
  REQUIRE(panels[0].series.size() == 2);
  for (size_t s = 0; s < 2; ++s) {
    const Series& want = p.series[s];
    const SvgSeries& got = panels[0].series[s];
    CHECK(got.name == want.name);
    REQUIRE(got.y.size() == want.y.size());
    for (size_t i = 0; i < want.y.size(); ++i) {
      CHECK(got.x[i] == doctest::Approx(want.x[i]).epsilon(1e-3));
      CHECK(got.y[i] == doctest::Approx(want.y[i]).epsilon(2e-3));  // pixels kept to 1/100
    }
  }
  CHECK(panels[0].markers == std::vector<double>{2.5});
  // the log axis: its decades equally far apart
  std::vector<double> decade_px;
  for (const auto& [value, pixel] : panels[1].yticks)
    if (std::fabs(std::log10(value) - std::round(std::log10(value))) < 1e-9) decade_px.push_back(pixel);
  REQUIRE(decade_px.size() == 4);  // 1e-6 ... 1e-3
  CHECK(decade_px[1] - decade_px[0] == doctest::Approx(decade_px[3] - decade_px[2]));
  REQUIRE(panels[1].series.size() == 1);
  for (size_t i = 0; i < 3; ++i) CHECK(panels[1].series[0].y[i] == doctest::Approx(l.y[i]).epsilon(2e-3));
  // one legend entry per run, below the panels (never inside a plotting area)
  CHECK(svg_texts(svg, "legend") == std::vector<std::string>{"run a", "run b"});
}

TEST_CASE("bar charts draw each segment's value, stacked, on a round axis") {
  const std::vector<BarGroup> groups = {{"vitality (taylor)", {1450.5, 139.0, 133.6}},
                                        {"sanger (sparse)", {1890.0, 243.0, 125.0}}};
  const std::string svg = stacked_bar_svg(groups, {"linear", "attention", "rest"}, "latency", "latency (us)");
  const auto bars = svg_elements(svg, "bar");
  REQUIRE(bars.size() == 6);
  double prev_end = 0;
  for (size_t i = 0; i < bars.size(); ++i) {
    CHECK(std::stod(bars[i].at("data-value")) == doctest::Approx(groups[i / 3].values[i % 3]));
    const double x = std::stod(bars[i].at("x")), w = std::stod(bars[i].at("width"));
    if (i % 3) CHECK(x == doctest::Approx(prev_end).epsilon(1e-4));  // segments stacked end to end
    prev_end = x + w;
  }
  // widths in proportion to the values: 1890 against 1450.5
  CHECK(std::stod(bars[3].at("width")) / std::stod(bars[0].at("width")) ==
        doctest::Approx(1890.0 / 1450.5).epsilon(1e-3));
  CHECK(svg_texts(svg, "xtick").back() == "2500");
}

TEST_CASE("heatmaps: one cell per value, the darkest the largest") {
  Heatmap h;
  h.rows = h.cols = {"a", "b"};
  h.values = {5, 1, 0, 7};
  const std::string svg = heatmap_svg(h);
  const auto cells = svg_elements(svg, "cell");
  REQUIRE(cells.size() == 4);
  CHECK(std::stod(cells[3].at("data-value")) == 7);
  CHECK(cells[2].at("fill") == "#ffffff");  // the smallest is white
  CHECK(cells[3].at("fill") == "#08306b");  // the largest the darkest
  CHECK(svg_texts(svg, "row") == std::vector<std::string>{"a", "b"});
}

TEST_CASE("base64: RFC 4648's test vectors") {
  CHECK(base64("") == "");
  CHECK(base64("f") == "Zg==");
  CHECK(base64("fo") == "Zm8=");
  CHECK(base64("foo") == "Zm9v");
  CHECK(base64("foob") == "Zm9vYg==");
  CHECK(base64("fooba") == "Zm9vYmE=");
  CHECK(base64("foobar") == "Zm9vYmFy");
  CHECK(base64(std::string("\xff\x00\x80", 3)) == "/wCA");
}

TEST_CASE("overlay panels: the image embedded, one cell per value, the lightest the largest, the range printed") {
  OverlayPanel a;
  a.title = "weights";
  a.png = "PNGBYTES";
  a.rows = 2;
  a.cols = 3;
  a.values = {0.1, 0.5, 0.2, 0.9, 0.3, 0.4};
  OverlayPanel b;
  b.title = "image only";
  b.png = "X";
  const std::string svg = overlay_svg({a, b}, "title", "line one\nline two");
  const auto cells = svg_elements(svg, "cell");
  REQUIRE(cells.size() == 6);
  for (size_t i = 0; i < 6; ++i) CHECK(std::stod(cells[i].at("data-value")) == a.values[i]);
  CHECK(cells[3].at("fill") == "#fcffa4");                           // 0.9: the scale's light end
  CHECK(cells[0].at("fill") == "#000004");                           // 0.1: its dark end
  CHECK(std::stod(cells[4].at("x")) > std::stod(cells[3].at("x")));  // row-major, left to right
  CHECK(svg.find("data:image/png;base64," + base64("PNGBYTES")) != std::string::npos);
  CHECK(svg.find("data:image/png;base64," + base64("X")) != std::string::npos);
  CHECK(svg.find(">0.1</text>") != std::string::npos);
  CHECK(svg.find(">0.9</text>") != std::string::npos);
  CHECK(svg.find(">line two</text>") != std::string::npos);
  a.values.pop_back();
  CHECK_THROWS_WITH(overlay_svg({a}, "t"), doctest::Contains("5 values for a 2x3 grid"));
}
