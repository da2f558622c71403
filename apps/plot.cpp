// SVG charts and the `vitality plot` command.
#include "apps/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "apps/args.h"
#include "apps/commands.h"
#include "core/fileio.h"

namespace vt::apps {

namespace {
const char* kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"};

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '&') o += "&amp;";
    else if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else o += c;
  }
  return o;
}

std::string num(double v) {
  char buf[32];
  if (v != 0 && (std::fabs(v) < 1e-3 || std::fabs(v) >= 1e5)) std::snprintf(buf, sizeof buf, "%.1e", v);
  else std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}
}  // namespace

RunLog read_run_log(const std::string& dir) {
  RunLog r;
  const size_t slash = dir.find_last_not_of('/');
  r.name = dir.substr(0, slash + 1);
  const std::string path = r.name + "/log.txt";
  std::istringstream in(read_file(path, 256 << 20));
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      r.epochs.push_back(Json::parse(line));
    } catch (const Error& e) {
      throw Error(str_cat(path, ":", n, ": ", e.what()));
    }
    VT_CHECK(r.epochs.back().is_object() && r.epochs.back().find("epoch"), path, ":", n, ": not a log.txt line (no epoch)");
  }
  VT_CHECK(!r.epochs.empty(), path, ": no epochs logged yet");
  return r;
}

std::string line_chart_svg(const std::vector<Panel>& panels, const std::string& title) {
  const int pw = 380, ph = 280, ml = 60, mr = 15, mt = 40, mb = 45;
  const int width = static_cast<int>(panels.size()) * pw, height = ph + 70;
  std::ostringstream os;
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
     << "\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  os << "<text x=\"" << width / 2 << "\" y=\"18\" text-anchor=\"middle\" font-size=\"14\">" << esc(title) << "</text>\n";
  std::vector<std::string> legend;
  for (size_t pi = 0; pi < panels.size(); ++pi) {
    const Panel& p = panels[pi];
    const int x0 = static_cast<int>(pi) * pw + ml, y0 = mt, w = pw - ml - mr, h = ph - mt - mb + 30;
    double xmin = 1e300, xmax = -1e300, ymin = 1e300, ymax = -1e300;
    for (const Series& s : p.series)
      for (size_t i = 0; i < s.x.size(); ++i) {
        if (!std::isfinite(s.y[i]) || (p.log_y && s.y[i] <= 0)) continue;
        const double y = p.log_y ? std::log10(s.y[i]) : s.y[i];
        xmin = std::min(xmin, s.x[i]);
        xmax = std::max(xmax, s.x[i]);
        ymin = std::min(ymin, y);
        ymax = std::max(ymax, y);
      }
    if (xmin > xmax) continue;
    if (xmax == xmin) xmax = xmin + 1;
    if (ymax == ymin) ymax = ymin + 1;
    const double pad = 0.05 * (ymax - ymin);
    ymin -= pad;
    ymax += pad;
    auto X = [&](double x) { return x0 + (x - xmin) / (xmax - xmin) * w; };
    auto Y = [&](double y) { return y0 + h - ((p.log_y ? std::log10(y) : y) - ymin) / (ymax - ymin) * h; };
    os << "<text x=\"" << x0 + w / 2 << "\" y=\"" << y0 - 8 << "\" text-anchor=\"middle\" font-size=\"12\">" << esc(p.title) << "</text>\n";
    os << "<rect x=\"" << x0 << "\" y=\"" << y0 << "\" width=\"" << w << "\" height=\"" << h << "\" fill=\"none\" stroke=\"#888\"/>\n";
    for (int t = 0; t <= 4; ++t) {
      const double yv = ymin + (ymax - ymin) * t / 4;
      const double ypix = y0 + h - h * t / 4.0;
      os << "<line x1=\"" << x0 << "\" x2=\"" << x0 + w << "\" y1=\"" << ypix << "\" y2=\"" << ypix << "\" stroke=\"#eee\"/>";
      os << "<text x=\"" << x0 - 4 << "\" y=\"" << ypix + 4 << "\" text-anchor=\"end\">" << num(p.log_y ? std::pow(10, yv) : yv) << "</text>\n";
      const double xv = xmin + (xmax - xmin) * t / 4;
      os << "<text x=\"" << X(xv) << "\" y=\"" << y0 + h + 14 << "\" text-anchor=\"middle\">" << num(xv) << "</text>\n";
    }
    os << "<text x=\"" << x0 + w / 2 << "\" y=\"" << y0 + h + 30 << "\" text-anchor=\"middle\">" << esc(p.x_label) << "</text>\n";
    os << "<text transform=\"translate(" << x0 - 45 << "," << y0 + h / 2 << ") rotate(-90)\" text-anchor=\"middle\">" << esc(p.y_label) << "</text>\n";
    for (size_t si = 0; si < p.series.size(); ++si) {
      const Series& s = p.series[si];
      // One colour per run: "x (train)" solid and "x (test)" dashed share x's colour.
      const bool dashed = s.name.find(" (test)") != std::string::npos;
      std::string key = s.name;
      for (const char* suffix : {" (train)", " (test)"}) {
        const size_t at = key.find(suffix);
        if (at != std::string::npos) key = key.substr(0, at);
      }
      auto it = std::find(legend.begin(), legend.end(), key);
      if (it == legend.end()) {
        legend.push_back(key);
        it = legend.end() - 1;
      }
      const char* colour = kColours[(it - legend.begin()) % 8];
      os << "<polyline fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"1.8\"" << (dashed ? " stroke-dasharray=\"5,3\"" : "") << " points=\"";
      for (size_t i = 0; i < s.x.size(); ++i)
        if (std::isfinite(s.y[i]) && (!p.log_y || s.y[i] > 0)) os << X(s.x[i]) << "," << Y(s.y[i]) << " ";
      os << "\"/>\n";
      for (size_t i = 0; i < s.x.size(); ++i)
        if (std::isfinite(s.y[i]) && (!p.log_y || s.y[i] > 0))
          os << "<circle cx=\"" << X(s.x[i]) << "\" cy=\"" << Y(s.y[i]) << "\" r=\"2.2\" fill=\"" << colour << "\"/>";
      os << "\n";
    }
  }
  for (size_t i = 0; i < legend.size(); ++i) {
    const int lx = 20 + static_cast<int>(i % 6) * 160, ly = height - 22 + static_cast<int>(i / 6) * 14;
    os << "<rect x=\"" << lx << "\" y=\"" << ly - 8 << "\" width=\"12\" height=\"4\" fill=\"" << kColours[i % 8] << "\"/>";
    os << "<text x=\"" << lx + 16 << "\" y=\"" << ly - 3 << "\">" << esc(legend[i]) << "</text>\n";
  }
  os << "<text x=\"" << width - 20 << "\" y=\"" << height - 25 << "\" text-anchor=\"end\" fill=\"#555\">solid: train, dashed: test</text>\n";
  os << "</svg>\n";
  return os.str();
}

std::string training_chart_svg(const std::vector<RunLog>& runs, const std::string& title) {
  Panel loss{"loss", "epoch", "cross-entropy", {}, false}, acc{"test top-1", "epoch", "accuracy (%)", {}, false},
      lr{"learning rate", "epoch", "lr", {}, true};
  for (const RunLog& r : runs) {
    Series tr{r.name + " (train)", {}, {}}, te{r.name + " (test)", {}, {}}, a{r.name, {}, {}}, l{r.name, {}, {}};
    for (const Json& e : r.epochs) {
      const double ep = e.find("epoch")->as_double();
      auto get = [&](const char* k) { const Json* v = e.find(k); return v && v->is_number() ? v->as_double() : NAN; };
      tr.x.push_back(ep);
      tr.y.push_back(get("train_loss"));
      te.x.push_back(ep);
      te.y.push_back(get("test_loss"));
      a.x.push_back(ep);
      a.y.push_back(get("test_acc1"));
      l.x.push_back(ep);
      l.y.push_back(get("train_lr"));
    }
    loss.series.push_back(tr);
    loss.series.push_back(te);
    acc.series.push_back(a);
    lr.series.push_back(l);
  }
  return line_chart_svg({loss, acc, lr}, title);
}

std::string stacked_bar_svg(const std::vector<BarGroup>& groups, const std::vector<std::string>& segments,
                            const std::string& title, const std::string& unit) {
  const int ml = 170, mr = 30, bar = 26, gap = 14, top = 40;
  const int width = 760, height = top + static_cast<int>(groups.size()) * (bar + gap) + 60;
  double vmax = 0;
  for (const BarGroup& g : groups) {
    double t = 0;
    for (double v : g.values) t += v;
    vmax = std::max(vmax, t);
  }
  if (vmax <= 0) vmax = 1;
  const double scale = (width - ml - mr) / vmax;
  std::ostringstream os;
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
     << "\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  os << "<text x=\"" << width / 2 << "\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">" << esc(title) << "</text>\n";
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const int y = top + static_cast<int>(gi) * (bar + gap);
    os << "<text x=\"" << ml - 6 << "\" y=\"" << y + bar / 2 + 4 << "\" text-anchor=\"end\">" << esc(groups[gi].name) << "</text>\n";
    double x = ml, total = 0;
    for (size_t si = 0; si < groups[gi].values.size(); ++si) {
      const double w = groups[gi].values[si] * scale;
      total += groups[gi].values[si];
      os << "<rect x=\"" << x << "\" y=\"" << y << "\" width=\"" << w << "\" height=\"" << bar << "\" fill=\"" << kColours[si % 8]
         << "\"><title>" << esc(segments[si]) << ": " << num(groups[gi].values[si]) << " " << esc(unit) << "</title></rect>\n";
      x += w;
    }
    os << "<text x=\"" << x + 4 << "\" y=\"" << y + bar / 2 + 4 << "\">" << num(total) << " " << esc(unit) << "</text>\n";
  }
  for (size_t si = 0; si < segments.size(); ++si) {
    const int lx = 20 + static_cast<int>(si % 5) * 145, ly = height - 34 + static_cast<int>(si / 5) * 16;
    os << "<rect x=\"" << lx << "\" y=\"" << ly - 9 << "\" width=\"10\" height=\"10\" fill=\"" << kColours[si % 8] << "\"/>";
    os << "<text x=\"" << lx + 14 << "\" y=\"" << ly << "\">" << esc(segments[si]) << "</text>\n";
  }
  os << "</svg>\n";
  return os.str();
}

int run_plot(int argc, char** argv) {
  std::vector<std::string> dirs;
  std::string out, title = "vitality training";
  ArgParser args("plot", "Draw loss, accuracy and learning rate per epoch from runs' log.txt as one SVG.");
  args.positional("OUTPUT_DIR", &dirs, "run directories holding log.txt (several: one colour each)");
  args.add("output", &out, "SVG file to write (default: <first dir>/training.svg)");
  args.add("title", &title, "chart title");
  if (!args.parse(argc, argv, 2)) return 0;
  if (dirs.empty()) throw UsageError("plot: give at least one run directory");
  std::vector<RunLog> runs;
  for (const std::string& d : dirs) runs.push_back(read_run_log(d));
  if (out.empty()) out = runs[0].name + "/training.svg";
  write_file_atomic(out, training_chart_svg(runs, title));
  std::printf("wrote %s (%zu run%s)\n", out.c_str(), runs.size(), runs.size() == 1 ? "" : "s");
  return 0;
}

}  // namespace vt::apps
