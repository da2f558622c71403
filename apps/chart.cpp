// SVG charts (see chart.h): axes with round ticks, line charts, stacked bars, heatmaps.
#include "apps/chart.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "core/error.h"

namespace vt::apps {

namespace {
const char* kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"};
constexpr double kCharWidth = 6.2;  // average advance of an 11 px sans-serif character

// Pixel coordinates with two decimals: enough for any screen, short enough to read.
std::string px(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

double text_width(const std::string& s, double char_width = kCharWidth) { return double(s.size()) * char_width; }

// Maps a value on an axis to a pixel between `from` and `to`.
double place(const Axis& a, double v, double from, double to) {
  const double t = a.log ? (std::log10(v) - std::log10(a.min)) / (std::log10(a.max) - std::log10(a.min))
                         : (v - a.min) / (a.max - a.min);
  return from + t * (to - from);
}

// A value in a data attribute: every digit, so that tools reading the chart get the number back.
std::string exact(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

bool plottable(const Axis& a, double v) { return std::isfinite(v) && (!a.log || v > 0); }
}  // namespace

std::string svg_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '&') o += "&amp;";
    else if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}

std::string tick_label(double v) {
  if (v == 0) return "0";
  char buf[48];
  const double mag = std::fabs(v);
  // fixed notation with the fewest decimals that read back v, between 1e-4 and 1e7; else %g
  for (int decimals = 0; mag >= 1e-4 && mag < 1e7 && decimals <= 10; ++decimals) {
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    if (std::fabs(std::strtod(buf, nullptr) - v) <= 1e-9 * mag) return buf;
  }
  for (int digits = 1; digits <= 15; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (std::fabs(std::strtod(buf, nullptr) - v) <= 1e-9 * mag) break;
  }
  return buf;
}

Axis nice_axis(double lo, double hi, int max_ticks, bool integer, bool log) {
  Axis a;
  a.log = log;
  if (!std::isfinite(lo) || !std::isfinite(hi) || lo > hi) lo = hi = log ? 1 : 0;
  if (log) {
    int d0 = static_cast<int>(std::floor(std::log10(lo) + 1e-9)),
        d1 = static_cast<int>(std::ceil(std::log10(hi) - 1e-9));
    if (d1 <= d0) d1 = d0 + 1;
    a.min = std::pow(10.0, d0);
    a.max = std::pow(10.0, d1);
    for (int d = d0; d <= d1; ++d) {
      const double p = std::pow(10.0, d);
      a.ticks.push_back(p);
      if (d1 - d0 < 3 && d < d1)
        for (double m : {2.0, 5.0}) a.ticks.push_back(m * p);
    }
    std::sort(a.ticks.begin(), a.ticks.end());
    return a;
  }
  if (hi == lo) {
    lo -= integer ? 1 : std::max(1.0, std::fabs(lo)) * 0.5;
    hi += integer ? 1 : std::max(1.0, std::fabs(hi)) * 0.5;
  }
  const double raw = (hi - lo) / std::max(1, max_ticks - 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / mag;
  double step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
  if (integer) step = std::max(1.0, std::round(step));
  const long long k0 = static_cast<long long>(std::floor(lo / step + 1e-9)),
                  k1 = static_cast<long long>(std::ceil(hi / step - 1e-9));
  for (long long k = k0; k <= k1; ++k) a.ticks.push_back(static_cast<double>(k) * step);
  a.min = a.ticks.front();
  a.max = a.ticks.back();
  if (a.max == a.min) {  // a single tick: widen by one step
    a.max = a.min + step;
    a.ticks.push_back(a.max);
  }
  return a;
}

std::string line_chart_svg(const std::vector<Panel>& panels, const std::string& title, const std::string& note) {
  const double pw = 400, ph = 306, ml = 70, mr = 18, mt = 52, mb = 56;
  const double width = std::max<double>(1, double(panels.size())) * pw;
  // the legend: one entry per group, in rows under the panels
  struct Entry {
    std::string name;
    bool dashed;
  };
  std::vector<Entry> legend;
  auto colour_of = [&](const Series& s) {
    const std::string key = s.group.empty() ? s.name : s.group;
    auto it = std::find_if(legend.begin(), legend.end(), [&](const Entry& e) { return e.name == key; });
    if (it == legend.end()) {
      legend.push_back({key, s.dashed});
      it = legend.end() - 1;
    }
    return kColours[(it - legend.begin()) % 8];
  };
  for (const Panel& p : panels)
    for (const Series& s : p.series) colour_of(s);
  std::vector<std::pair<double, int>> legend_pos;  // x, row
  double lx = 20;
  int rows = legend.empty() ? 0 : 1;
  for (const Entry& e : legend) {
    const double w = 34 + text_width(e.name) + 18;
    if (lx + w > width - 10 && lx > 20) {
      lx = 20;
      ++rows;
    }
    legend_pos.push_back({lx, rows - 1});
    lx += w;
  }
  const double legend_top = ph + 12, height = legend_top + rows * 18 + (note.empty() ? 6 : 22);
  std::ostringstream os;
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << px(width) << "\" height=\"" << px(height)
     << "\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  os << "<text x=\"" << px(width / 2) << "\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">" << svg_escape(title)
     << "</text>\n";
  for (size_t pi = 0; pi < panels.size(); ++pi) {
    const Panel& p = panels[pi];
    const double x0 = double(pi) * pw + ml, y0 = mt, w = pw - ml - mr, h = ph - mt - mb;
    double xlo = 1e300, xhi = -1e300, ylo = 1e300, yhi = -1e300;
    for (const Series& s : p.series)
      for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
        if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i]) || (p.log_x && s.x[i] <= 0) || (p.log_y && s.y[i] <= 0))
          continue;
        xlo = std::min(xlo, s.x[i]);
        xhi = std::max(xhi, s.x[i]);
        ylo = std::min(ylo, s.y[i]);
        yhi = std::max(yhi, s.y[i]);
      }
    for (const Marker& m : p.markers) {
      xlo = std::min(xlo, m.x);
      xhi = std::max(xhi, m.x);
    }
    const Axis ax = nice_axis(xlo, xhi, 6, p.integer_x, p.log_x), ay = nice_axis(ylo, yhi, 6, false, p.log_y);
    auto X = [&](double v) { return place(ax, v, x0, x0 + w); };
    auto Y = [&](double v) { return place(ay, v, y0 + h, y0); };
    os << "<g class=\"panel\" data-title=\"" << svg_escape(p.title) << "\">\n";
    os << "<text x=\"" << px(x0 + w / 2) << "\" y=\"" << px(y0 - 10) << "\" text-anchor=\"middle\" font-size=\"12\">"
       << svg_escape(p.title) << "</text>\n";
    for (double t : ay.ticks) {
      const double y = Y(t);
      os << "<line x1=\"" << px(x0) << "\" x2=\"" << px(x0 + w) << "\" y1=\"" << px(y) << "\" y2=\"" << px(y)
         << "\" stroke=\"#e6e6e6\"/>"
         << "<text class=\"ytick\" x=\"" << px(x0 - 5) << "\" y=\"" << px(y + 4) << "\" text-anchor=\"end\">"
         << tick_label(t) << "</text>\n";
    }
    for (double t : ax.ticks) {
      const double x = X(t);
      os << "<line x1=\"" << px(x) << "\" x2=\"" << px(x) << "\" y1=\"" << px(y0) << "\" y2=\"" << px(y0 + h)
         << "\" stroke=\"#f2f2f2\"/>"
         << "<text class=\"xtick\" x=\"" << px(x) << "\" y=\"" << px(y0 + h + 15) << "\" text-anchor=\"middle\">"
         << tick_label(t) << "</text>\n";
    }
    os << "<rect x=\"" << px(x0) << "\" y=\"" << px(y0) << "\" width=\"" << px(w) << "\" height=\"" << px(h)
       << "\" fill=\"none\" stroke=\"#888\"/>\n";
    os << "<text x=\"" << px(x0 + w / 2) << "\" y=\"" << px(y0 + h + 34) << "\" text-anchor=\"middle\">"
       << svg_escape(p.x_label) << "</text>\n";
    os << "<text transform=\"translate(" << px(x0 - 52) << "," << px(y0 + h / 2)
       << ") rotate(-90)\" text-anchor=\"middle\">" << svg_escape(p.y_label) << "</text>\n";
    for (const Marker& m : p.markers) {
      const double x = X(m.x);
      os << "<line class=\"marker\" data-x=\"" << exact(m.x) << "\" x1=\"" << px(x) << "\" x2=\"" << px(x) << "\" y1=\""
         << px(y0) << "\" y2=\"" << px(y0 + h) << "\" stroke=\"#555\" stroke-dasharray=\"2,3\"/>";
      const bool right = x < x0 + w / 2;  // the label on the side with more room
      os << "<text x=\"" << px(x + (right ? 4 : -4)) << "\" y=\"" << px(y0 + 12) << "\" text-anchor=\""
         << (right ? "start" : "end") << "\" fill=\"#333\" font-size=\"10\">" << svg_escape(m.label) << "</text>\n";
    }
    for (const Series& s : p.series) {
      const char* colour = colour_of(s);
      os << "<polyline class=\"series\" data-name=\"" << svg_escape(s.name) << "\" fill=\"none\" stroke=\"" << colour
         << "\" stroke-width=\"1.8\"" << (s.dashed ? " stroke-dasharray=\"5,3\"" : "") << " points=\"";
      std::string dots;
      for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
        if (!plottable(ax, s.x[i]) || !plottable(ay, s.y[i])) continue;
        os << px(X(s.x[i])) << "," << px(Y(s.y[i])) << " ";
        dots += "<circle cx=\"" + px(X(s.x[i])) + "\" cy=\"" + px(Y(s.y[i])) + "\" r=\"2.2\" fill=\"" + colour + "\"/>";
      }
      os << "\"/>\n" << dots << "\n";
    }
    os << "</g>\n";
  }
  for (size_t i = 0; i < legend.size(); ++i) {
    const double x = legend_pos[i].first, y = legend_top + legend_pos[i].second * 18 + 10;
    os << "<line x1=\"" << px(x) << "\" x2=\"" << px(x + 26) << "\" y1=\"" << px(y - 4) << "\" y2=\"" << px(y - 4)
       << "\" stroke=\"" << kColours[i % 8] << "\" stroke-width=\"2.5\""
       << (legend[i].dashed ? " stroke-dasharray=\"5,3\"" : "") << "/>";
    os << "<text class=\"legend\" x=\"" << px(x + 32) << "\" y=\"" << px(y) << "\">" << svg_escape(legend[i].name)
       << "</text>\n";
  }
  if (!note.empty())
    os << "<text x=\"20\" y=\"" << px(height - 8) << "\" fill=\"#555\">" << svg_escape(note) << "</text>\n";
  os << "</svg>\n";
  return os.str();
}

std::string stacked_bar_svg(const std::vector<BarGroup>& groups, const std::vector<std::string>& segments,
                            const std::string& title, const std::string& unit) {
  double label_w = 60;
  for (const BarGroup& g : groups) label_w = std::max(label_w, text_width(g.name) + 12);
  const double ml = label_w + 10, mr = 70, bar = 26, gap = 14, top = 40, width = 780;
  double vmax = 0;
  for (const BarGroup& g : groups) {
    double t = 0;
    for (double v : g.values) t += v;
    vmax = std::max(vmax, t);
  }
  const Axis ax = nice_axis(0, vmax > 0 ? vmax : 1, 6);
  const double plot_h = double(groups.size()) * (bar + gap);
  const double axis_y = top + plot_h + 4;
  // legend rows below the axis title
  std::vector<std::pair<double, int>> pos;
  double lx = 20;
  int rows = segments.empty() ? 0 : 1;
  for (const std::string& s : segments) {
    const double w = 18 + text_width(s) + 18;
    if (lx + w > width - 10 && lx > 20) {
      lx = 20;
      ++rows;
    }
    pos.push_back({lx, rows - 1});
    lx += w;
  }
  const double legend_top = axis_y + 40, height = legend_top + rows * 18 + 8;
  auto X = [&](double v) { return place(ax, v, ml, width - mr); };
  std::ostringstream os;
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << px(width) << "\" height=\"" << px(height)
     << "\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  os << "<text x=\"" << px(width / 2) << "\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">" << svg_escape(title)
     << "</text>\n";
  for (double t : ax.ticks) {
    os << "<line x1=\"" << px(X(t)) << "\" x2=\"" << px(X(t)) << "\" y1=\"" << px(top - 4) << "\" y2=\"" << px(axis_y)
       << "\" stroke=\"#e6e6e6\"/><text class=\"xtick\" x=\"" << px(X(t)) << "\" y=\"" << px(axis_y + 14)
       << "\" text-anchor=\"middle\">" << tick_label(t) << "</text>\n";
  }
  os << "<line x1=\"" << px(ml) << "\" x2=\"" << px(width - mr) << "\" y1=\"" << px(axis_y) << "\" y2=\"" << px(axis_y)
     << "\" stroke=\"#888\"/>\n";
  os << "<text x=\"" << px((ml + width - mr) / 2) << "\" y=\"" << px(axis_y + 30) << "\" text-anchor=\"middle\">"
     << svg_escape(unit) << "</text>\n";
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const double y = top + double(gi) * (bar + gap);
    os << "<text x=\"" << px(ml - 6) << "\" y=\"" << px(y + bar / 2 + 4) << "\" text-anchor=\"end\">"
       << svg_escape(groups[gi].name) << "</text>\n";
    double at = 0;
    for (size_t si = 0; si < groups[gi].values.size(); ++si) {
      const double v = groups[gi].values[si];
      os << "<rect class=\"bar\" data-group=\"" << svg_escape(groups[gi].name) << "\" data-segment=\""
         << svg_escape(segments[si]) << "\" data-value=\"" << exact(v) << "\" x=\"" << px(X(at)) << "\" y=\"" << px(y)
         << "\" width=\"" << px(X(at + v) - X(at)) << "\" height=\"" << px(bar) << "\" fill=\"" << kColours[si % 8]
         << "\"><title>" << svg_escape(segments[si]) << ": " << tick_label(v) << "</title></rect>\n";
      at += v;
    }
    char total[32];
    std::snprintf(total, sizeof total, "%.4g", at);
    os << "<text x=\"" << px(X(at) + 4) << "\" y=\"" << px(y + bar / 2 + 4) << "\">" << total << "</text>\n";
  }
  for (size_t si = 0; si < segments.size(); ++si) {
    const double x = pos[si].first, y = legend_top + pos[si].second * 18 + 10;
    os << "<rect x=\"" << px(x) << "\" y=\"" << px(y - 9) << "\" width=\"11\" height=\"11\" fill=\"" << kColours[si % 8]
       << "\"/>";
    os << "<text class=\"legend\" x=\"" << px(x + 16) << "\" y=\"" << px(y) << "\">" << svg_escape(segments[si])
       << "</text>\n";
  }
  os << "</svg>\n";
  return os.str();
}

std::string heatmap_svg(const Heatmap& hm) {
  const size_t R = hm.rows.size(), C = hm.cols.size();
  double row_w = 40, col_h = 40;
  for (const std::string& r : hm.rows) row_w = std::max(row_w, text_width(r) + 10);
  for (const std::string& c : hm.cols) col_h = std::max(col_h, text_width(c) * 0.75 + 14);  // rotated 45 degrees
  const double cell = std::max(14.0, std::min(44.0, 560.0 / double(std::max<size_t>(1, std::max(R, C)))));
  const double x0 = row_w + 30, y0 = 40 + col_h, width = x0 + cell * double(C) + 40,
               height = y0 + cell * double(R) + 40;
  double lo = 1e300, hi = -1e300;
  bool integers = true;
  for (double v : hm.values) {
    if (!std::isfinite(v)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    integers = integers && v == std::floor(v);
  }
  if (lo > hi) lo = hi = 0;
  std::ostringstream os;
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << px(width) << "\" height=\"" << px(height)
     << "\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  os << "<text x=\"" << px(width / 2) << "\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">" << svg_escape(hm.title)
     << "</text>\n";
  for (size_t c = 0; c < C; ++c) {
    const double x = x0 + (double(c) + 0.5) * cell;
    os << "<text class=\"col\" transform=\"translate(" << px(x + 3) << "," << px(y0 - 5) << ") rotate(-45)\">"
       << svg_escape(hm.cols[c]) << "</text>\n";
  }
  for (size_t r = 0; r < R; ++r) {
    const double y = y0 + (double(r) + 0.5) * cell;
    os << "<text class=\"row\" x=\"" << px(x0 - 5) << "\" y=\"" << px(y + 4) << "\" text-anchor=\"end\">"
       << svg_escape(hm.rows[r]) << "</text>\n";
    for (size_t c = 0; c < C; ++c) {
      const double v = hm.values[r * C + c];
      const double t = hi > lo && std::isfinite(v) ? (v - lo) / (hi - lo) : 0;
      // white (t = 0) to #08306b (t = 1)
      const int red = static_cast<int>(std::lround(255 + t * (8 - 255))),
                green = static_cast<int>(std::lround(255 + t * (48 - 255))),
                blue = static_cast<int>(std::lround(255 + t * (107 - 255)));
      char fill[8];
      std::snprintf(fill, sizeof fill, "#%02x%02x%02x", red, green, blue);
      os << "<rect class=\"cell\" data-row=\"" << r << "\" data-col=\"" << c << "\" data-value=\"" << exact(v)
         << "\" x=\"" << px(x0 + double(c) * cell) << "\" y=\"" << px(y0 + double(r) * cell) << "\" width=\""
         << px(cell) << "\" height=\"" << px(cell) << "\" fill=\"" << fill
         << "\" stroke=\"#ddd\" stroke-width=\"0.5\"/>";
      if (hm.annotate && cell >= 22) {
        char text[32];
        std::snprintf(text, sizeof text, integers ? "%.0f" : "%.2f", v);
        os << "<text x=\"" << px(x0 + (double(c) + 0.5) * cell) << "\" y=\"" << px(y0 + (double(r) + 0.5) * cell + 4)
           << "\" text-anchor=\"middle\" font-size=\"" << (cell >= 34 ? 11 : 9) << "\" fill=\""
           << (t > 0.55 ? "white" : "#222") << "\">" << text << "</text>";
      }
    }
    os << "\n";
  }
  os << "<text x=\"" << px(x0 + cell * double(C) / 2) << "\" y=\"" << px(y0 + cell * double(R) + 24)
     << "\" text-anchor=\"middle\">" << svg_escape(hm.col_label) << "</text>\n";
  os << "<text transform=\"translate(16," << px(y0 + cell * double(R) / 2) << ") rotate(-90)\" text-anchor=\"middle\">"
     << svg_escape(hm.row_label) << "</text>\n";
  os << "</svg>\n";
  return os.str();
}

std::string base64(const std::string& bytes) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t left = bytes.size() - i;
    uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
    if (left > 1) v |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    if (left > 2) v |= uint32_t(uint8_t(bytes[i + 2]));
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += left > 1 ? kAlphabet[(v >> 6) & 63] : '=';
    out += left > 2 ? kAlphabet[v & 63] : '=';
  }
  return out;
}

namespace {
// Three significant digits: a colour scale's end, not a value to read back.
std::string short_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

// The inferno colour scale (matplotlib) at t in [0, 1], from five of its stops.
std::string inferno(double t) {
  static const double stops[5][3] = {{0, 0, 4}, {87, 16, 110}, {188, 55, 84}, {249, 142, 9}, {252, 255, 164}};
  t = std::min(1.0, std::max(0.0, t)) * 4;
  const int i = std::min(3, static_cast<int>(t));
  const double f = t - i;
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x",
                static_cast<int>(std::lround(stops[i][0] + f * (stops[i + 1][0] - stops[i][0]))),
                static_cast<int>(std::lround(stops[i][1] + f * (stops[i + 1][1] - stops[i][1]))),
                static_cast<int>(std::lround(stops[i][2] + f * (stops[i + 1][2] - stops[i][2]))));
  return buf;
}
}  // namespace

std::string overlay_svg(const std::vector<OverlayPanel>& panels, const std::string& title, const std::string& note) {
  constexpr double kSide = 224, kGap = 28, kTop = 64, kScale = 10;
  double width = kGap + double(panels.size()) * (kSide + kGap);
  for (const OverlayPanel& p : panels) width = std::max(width, text_width(p.title) + 2 * kGap);
  std::vector<std::string> note_lines;  // the note, one <text> per line
  for (size_t at = 0; !note.empty() && at <= note.size();) {
    const size_t end = std::min(note.find('\n', at), note.size());
    note_lines.push_back(note.substr(at, end - at));
    at = end + 1;
  }
  for (const std::string& line : note_lines) width = std::max(width, text_width(line) + 2 * kGap);
  const double height = kTop + kSide + kScale + 62 + 16 * double(note_lines.size());
  std::ostringstream os;
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" width=\"" << px(width)
     << "\" height=\"" << px(height) << "\" font-family=\"sans-serif\" font-size=\"11\">\n"
     << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  os << "<text x=\"" << px(width / 2) << "\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">" << svg_escape(title)
     << "</text>\n";
  for (size_t k = 0; k < panels.size(); ++k) {
    const OverlayPanel& p = panels[k];
    const double x0 = kGap + double(k) * (kSide + kGap), y0 = kTop;
    os << "<g class=\"panel\" data-name=\"" << svg_escape(p.title) << "\">\n";
    os << "<text x=\"" << px(x0 + kSide / 2) << "\" y=\"" << px(y0 - 10) << "\" text-anchor=\"middle\">"
       << svg_escape(p.title) << "</text>\n";
    if (!p.png.empty())
      os << "<image x=\"" << px(x0) << "\" y=\"" << px(y0) << "\" width=\"" << px(kSide) << "\" height=\"" << px(kSide)
         << "\" preserveAspectRatio=\"none\" style=\"image-rendering:pixelated\" xlink:href=\"data:image/png;base64,"
         << base64(p.png) << "\"/>\n";
    std::string range;
    if (!p.values.empty()) {
      VT_CHECK(p.rows > 0 && p.cols > 0 && p.values.size() == size_t(p.rows) * p.cols, "overlay_svg: panel '", p.title,
               "' has ", p.values.size(), " values for a ", p.rows, "x", p.cols, " grid");
      double lo = 1e300, hi = -1e300;
      for (double v : p.values) lo = std::min(lo, v), hi = std::max(hi, v);
      const double cw = kSide / p.cols, ch = kSide / p.rows;
      for (int r = 0; r < p.rows; ++r)
        for (int c = 0; c < p.cols; ++c) {
          const double v = p.values[size_t(r) * p.cols + c];
          os << "<rect class=\"cell\" data-panel=\"" << k << "\" data-value=\"" << exact(v) << "\" x=\""
             << px(x0 + c * cw) << "\" y=\"" << px(y0 + r * ch) << "\" width=\"" << px(cw) << "\" height=\"" << px(ch)
             << "\" fill=\"" << inferno(hi > lo ? (v - lo) / (hi - lo) : 0.5) << "\" fill-opacity=\""
             << (p.png.empty() ? 1.0 : p.opacity) << "\"/>";
        }
      os << "\n";
      // the colour scale, with the range it spans
      for (int i = 0; i < 32; ++i)
        os << "<rect x=\"" << px(x0 + i * kSide / 32) << "\" y=\"" << px(y0 + kSide + 6) << "\" width=\""
           << px(kSide / 32 + 0.3) << "\" height=\"" << px(kScale) << "\" fill=\"" << inferno(i / 31.0) << "\"/>";
      os << "\n<text x=\"" << px(x0) << "\" y=\"" << px(y0 + kSide + kScale + 20) << "\">" << short_number(lo)
         << "</text><text x=\"" << px(x0 + kSide) << "\" y=\"" << px(y0 + kSide + kScale + 20)
         << "\" text-anchor=\"end\">" << short_number(hi) << "</text>\n";
    }
    os << "<rect x=\"" << px(x0) << "\" y=\"" << px(y0) << "\" width=\"" << px(kSide) << "\" height=\"" << px(kSide)
       << "\" fill=\"none\" stroke=\"#888\"/>\n";
    if (!p.caption.empty())
      os << "<text x=\"" << px(x0 + kSide / 2) << "\" y=\"" << px(y0 + kSide + kScale + 38)
         << "\" text-anchor=\"middle\" fill=\"#444\">" << svg_escape(p.caption) << "</text>\n";
    os << "</g>\n";
  }
  for (size_t i = 0; i < note_lines.size(); ++i)
    os << "<text x=\"" << px(kGap) << "\" y=\"" << px(kTop + kSide + kScale + 72 + 16 * double(i))
       << "\" fill=\"#444\">" << svg_escape(note_lines[i]) << "</text>\n";
  os << "</svg>\n";
  return os.str();
}

}  // namespace vt::apps
