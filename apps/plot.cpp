// Training logs and the `vitality plot` command (the charts themselves: chart.h).
#include "apps/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "apps/args.h"
#include "apps/commands.h"
#include "core/fileio.h"

namespace vt::apps {

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
    VT_CHECK(r.epochs.back().is_object() && r.epochs.back().find("epoch"), path, ":", n,
             ": not a log.txt line (no epoch)");
  }
  VT_CHECK(!r.epochs.empty(), path, ": no epochs logged yet");
  return r;
}

std::string training_chart_svg(const std::vector<RunLog>& runs, const std::string& title) {
  Panel loss("loss", "epoch", "cross-entropy loss (nats)"), acc("test top-1", "epoch", "top-1 accuracy (%)"),
      lr("learning rate", "epoch", "learning rate (log scale)");
  loss.integer_x = acc.integer_x = lr.integer_x = true;
  lr.log_y = true;
  for (const RunLog& r : runs) {
    Series tr(r.name + " (train)", r.name), te(r.name + " (test)", r.name, /*dashed=*/true), a(r.name), l(r.name);
    for (const Json& e : r.epochs) {
      const double ep = e.find("epoch")->as_double();
      auto get = [&](const char* k) {
        const Json* v = e.find(k);
        return v && v->is_number() ? v->as_double() : NAN;
      };
      for (auto [series, key] :
           {std::pair{&tr, "train_loss"}, {&te, "test_loss"}, {&a, "test_acc1"}, {&l, "train_lr"}}) {
        series->x.push_back(ep);
        series->y.push_back(get(key));
      }
    }
    loss.series.push_back(tr);
    loss.series.push_back(te);
    acc.series.push_back(a);
    lr.series.push_back(l);
  }
  return line_chart_svg({loss, acc, lr}, title, "loss: solid train, dashed test");
}

int run_plot(int argc, char** argv) {
  std::vector<std::string> dirs;
  std::string out, title = "vitality training";
  ArgParser args("plot", "Draw loss, accuracy and learning rate per epoch from runs' log.txt as one SVG.");
  args.positional("OUTPUT_DIR", &dirs, "run directories holding log.txt (several: one colour each)");
  args.add("output", &out, "SVG file to write");
  args.value_hint("output", "FILE");
  args.default_text("output", "<first dir>/training.svg");
  args.add("title", &title, "chart title");
  if (!args.parse(argc, argv, 2)) return 0;
  if (dirs.empty()) throw UsageError("give at least one run directory");
  std::vector<RunLog> runs;
  for (const std::string& d : dirs) runs.push_back(read_run_log(d));
  if (out.empty()) out = runs[0].name + "/training.svg";
  write_file_atomic(out, training_chart_svg(runs, title));
  std::printf("wrote %s (%zu run%s)\n", out.c_str(), runs.size(), runs.size() == 1 ? "" : "s");
  return 0;
}

}  // namespace vt::apps
