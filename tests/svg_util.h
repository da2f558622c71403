// Reading back what an SVG chart of apps/chart.h drew: each panel's series (as data values, by
// inverting the pixel mapping through the panel's own tick labels), bars and heatmap cells. Tests
// compare these with the numbers the chart was made from, so a chart that plots the wrong series,
// scale or axis fails.
#pragma once

#include <cmath>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace vt::testing {

struct SvgSeries {
  std::string name;
  std::vector<double> x, y;  // data values, read back through the axes
};
struct SvgPanel {
  std::string title;
  std::vector<std::pair<double, double>> xticks, yticks;  // (value, pixel)
  std::vector<SvgSeries> series;
  std::vector<double> markers;  // data-x of the marker lines
};

inline std::string svg_attr(const std::string& tag, const std::string& name) {
  const std::regex re(" " + name + "=\"([^\"]*)\"");
  std::smatch m;
  return std::regex_search(tag, m, re) ? m[1].str() : std::string();
}

// A linear (or, when every tick value is positive and they grow geometrically, logarithmic) map
// from pixels to values, fitted through the first and last tick.
inline double svg_unmap(const std::vector<std::pair<double, double>>& ticks, double pixel) {
  if (ticks.size() < 2) return NAN;
  const auto& [v0, p0] = ticks.front();
  const auto& [v1, p1] = ticks.back();
  bool log = v0 > 0 && ticks.size() >= 3;
  if (log) {  // equal pixel steps for unequal value steps: a log axis
    const double d01 = ticks[1].second - ticks[0].second, dv01 = ticks[1].first - ticks[0].first;
    const double d12 = ticks[2].second - ticks[1].second, dv12 = ticks[2].first - ticks[1].first;
    log = std::fabs(d01 / dv01 - d12 / dv12) > 1e-6 * std::fabs(d01 / dv01);
  }
  const double t = (pixel - p0) / (p1 - p0);
  return log ? std::pow(10.0, std::log10(v0) + t * (std::log10(v1) - std::log10(v0))) : v0 + t * (v1 - v0);
}

inline std::vector<SvgPanel> svg_panels(const std::string& svg) {
  std::vector<SvgPanel> out;
  const std::regex group_re("<g class=\"panel\" data-title=\"([^\"]*)\">([\\s\\S]*?)</g>");
  const std::regex tick_re("<text class=\"(xtick|ytick)\" x=\"([-0-9.]+)\" y=\"([-0-9.]+)\"[^>]*>([^<]*)</text>");
  const std::regex poly_re("<polyline class=\"series\"[^>]*/>");
  const std::regex marker_re("<line class=\"marker\" data-x=\"([^\"]*)\"");
  for (auto g = std::sregex_iterator(svg.begin(), svg.end(), group_re); g != std::sregex_iterator(); ++g) {
    SvgPanel p;
    p.title = (*g)[1].str();
    const std::string body = (*g)[2].str();
    for (auto t = std::sregex_iterator(body.begin(), body.end(), tick_re); t != std::sregex_iterator(); ++t) {
      const double value = std::stod((*t)[4].str());
      if ((*t)[1].str() == "xtick") p.xticks.push_back({value, std::stod((*t)[2].str())});
      else p.yticks.push_back({value, std::stod((*t)[3].str()) - 4});  // the label sits 4 px below its line
    }
    for (auto m = std::sregex_iterator(body.begin(), body.end(), marker_re); m != std::sregex_iterator(); ++m)
      p.markers.push_back(std::stod((*m)[1].str()));
    for (auto l = std::sregex_iterator(body.begin(), body.end(), poly_re); l != std::sregex_iterator(); ++l) {
      const std::string tag = (*l)[0].str();
      SvgSeries s;
      s.name = svg_attr(tag, "data-name");
      std::istringstream pts(svg_attr(tag, "points"));
      std::string xy;
      while (pts >> xy) {
        const size_t comma = xy.find(',');
        s.x.push_back(svg_unmap(p.xticks, std::stod(xy.substr(0, comma))));
        s.y.push_back(svg_unmap(p.yticks, std::stod(xy.substr(comma + 1))));
      }
      p.series.push_back(s);
    }
    out.push_back(p);
  }
  return out;
}

// Every tag with class="<cls>" and its data-* attributes (bars, heatmap cells).
inline std::vector<std::map<std::string, std::string>> svg_elements(const std::string& svg, const std::string& cls) {
  std::vector<std::map<std::string, std::string>> out;
  const std::regex tag_re("<[a-z]+ class=\"" + cls + "\"[^>]*>");
  const std::regex attr_re("([a-z-]+)=\"([^\"]*)\"");
  for (auto t = std::sregex_iterator(svg.begin(), svg.end(), tag_re); t != std::sregex_iterator(); ++t) {
    const std::string tag = (*t)[0].str();
    std::map<std::string, std::string> attrs;
    for (auto a = std::sregex_iterator(tag.begin(), tag.end(), attr_re); a != std::sregex_iterator(); ++a)
      attrs[(*a)[1].str()] = (*a)[2].str();
    out.push_back(attrs);
  }
  return out;
}

// The text of every <text class="<cls>"> element, in order (legend entries, row labels, ...).
inline std::vector<std::string> svg_texts(const std::string& svg, const std::string& cls) {
  std::vector<std::string> out;
  const std::regex re("<text class=\"" + cls + "\"[^>]*>([^<]*)</text>");
  for (auto t = std::sregex_iterator(svg.begin(), svg.end(), re); t != std::sregex_iterator(); ++t)
    out.push_back((*t)[1].str());
  return out;
}

}  // namespace vt::testing
