// `vitality eval`: evaluate a checkpoint on a validation set, print deit's lines, and optionally
// write timm's results file (CSV or JSON).
#include <cstdio>

#include "apps/chart.h"
#include "apps/checkpointing.h"
#include "apps/commands.h"
#include "apps/engine.h"
#include "apps/preflight.h"
#include "core/fileio.h"
#include "core/threads.h"

namespace vt::apps {

namespace {

// Top-1 per class from the confusion matrix (rows: true class), printed, and with `dir` written as
// per_class.csv, confusion.csv and confusion.svg.
void report_per_class(const std::vector<std::string>& classes, const std::vector<int64_t>& confusion,
                      const std::string& dir) {
  const size_t K = classes.size();
  VT_CHECK(confusion.size() == K * K, "per-class report: ", confusion.size(), " counts for ", K, " classes");
  size_t name_w = 5;
  for (const std::string& c : classes) name_w = std::max(name_w, c.size());
  std::printf("\nPer-class top-1 (%zu classes; rows of the confusion matrix: true class)\n", K);
  std::printf("%-*s %8s %8s %9s  %s\n", static_cast<int>(name_w), "class", "images", "correct", "top-1 (%)",
              "most often predicted instead");
  std::string per_class_csv = "index,class,images,correct,top1\n";
  for (size_t t = 0; t < K; ++t) {
    int64_t images = 0, worst = -1;
    for (size_t p = 0; p < K; ++p) {
      images += confusion[t * K + p];
      if (p != t && confusion[t * K + p] > 0 && (worst < 0 || confusion[t * K + p] > confusion[t * K + worst]))
        worst = static_cast<int64_t>(p);
    }
    const int64_t correct = confusion[t * K + t];
    const double top1 = images ? 100.0 * double(correct) / double(images) : 0.0;
    const std::string instead =
        worst < 0 ? "-"
                  : str_printf("%s (%lld)", classes[worst].c_str(), static_cast<long long>(confusion[t * K + worst]));
    std::printf("%-*s %8lld %8lld %9.2f  %s\n", static_cast<int>(name_w), classes[t].c_str(),
                static_cast<long long>(images), static_cast<long long>(correct), top1, instead.c_str());
    per_class_csv += str_printf("%zu,%s,%lld,%lld,%.4f\n", t, csv_field(classes[t]).c_str(),
                                static_cast<long long>(images), static_cast<long long>(correct), top1);
  }
  if (dir.empty()) return;
  std::string confusion_csv = "true\\predicted";
  for (const std::string& c : classes) confusion_csv += "," + csv_field(c);
  confusion_csv += "\n";
  for (size_t t = 0; t < K; ++t) {
    confusion_csv += csv_field(classes[t]);
    for (size_t p = 0; p < K; ++p) confusion_csv += "," + std::to_string(confusion[t * K + p]);
    confusion_csv += "\n";
  }
  Heatmap h;
  h.title = "Confusion matrix (images)";
  h.row_label = "true class";
  h.col_label = "predicted class";
  h.rows = h.cols = classes;
  for (int64_t c : confusion) h.values.push_back(static_cast<double>(c));
  write_file_atomic(dir + "/per_class.csv", per_class_csv);
  write_file_atomic(dir + "/confusion.csv", confusion_csv);
  write_file_atomic(dir + "/confusion.svg", heatmap_svg(h));
  std::printf("wrote %s/per_class.csv, confusion.csv, confusion.svg\n", dir.c_str());
}

}  // namespace

int run_eval(int argc, char** argv) {
  TrainArgs a;
  std::string checkpoint, results_file, results_format, output_dir;
  bool per_class = false;
  ArgParser p("eval", "Evaluate a checkpoint: prints '* Acc@1 .. Acc@5 .. loss ..' as deit does.");
  p.group("model");
  add_checkpoint_flags(p, &checkpoint, &a.model, &a.attn, &a.eval_crop_ratio);
  p.add_alias("resume", "checkpoint");
  p.add_flag("eval-sparse", &a.eval_sparse, "vitality: keep the sparse part (shows what dropping it costs)");
  p.group("data");
  p.add("data-path", &a.data_path, "dataset root");
  p.value_hint("data-path", "DIR");
  p.default_text("data-path", "Fashion-MNIST in /usr/share/datasets/fashion-mnist");
  p.add_choice("data-set", &a.data_set, {"IMNET", "TINYIMNET", "FMNIST"}, "dataset kind (IMNET: any ImageFolder)");
  p.default_text("data-set", "IMNET with --data-path, else FMNIST");
  p.add("val-split", &a.val_split, "validation folder name");
  p.add("class-map", &a.class_map, "class subset file (as in training)");
  p.value_hint("class-map", "FILE");
  p.add("num_workers", &a.num_workers, "data loading threads");
  p.add_flag("strict", &a.strict, "stop at the first unreadable file");
  p.group("run");
  p.add("batch-size", &a.batch_size, "batch size (evaluation uses 1.5 x this, as deit)");
  p.add_alias("b", "batch-size");
  p.add("threads", &a.threads, "compute threads");
  p.default_text("threads", "all cores");
  add_device_flag(p, &a.device);
  p.add("results-file", &results_file, "write timm's results columns to this file");
  p.value_hint("results-file", "FILE");
  p.add_choice("results-format", &results_format, {"", "csv", "json"}, "results file format");
  p.default_text("results-format", "by the file's extension");
  p.group("per class");
  p.add_flag("per-class", &per_class, "top-1 per class and the confusion matrix (true class x predicted)");
  p.add("output_dir", &output_dir, "--per-class: write per_class.csv, confusion.csv and confusion.svg here");
  p.value_hint("output_dir", "DIR");
  p.default_text("output_dir", "print only");
  if (!p.parse(argc, argv, 2)) return 0;
  check_device(a.device);
  check_crop_ratio(p, a.eval_crop_ratio);
  if (checkpoint.empty()) throw UsageError("--checkpoint FILE is required");
  require_file("checkpoint", checkpoint);
  if (!a.data_path.empty()) require_dir("data-path", a.data_path);
  if (!a.class_map.empty()) require_file("class-map", a.class_map);
  if (!output_dir.empty() && !per_class) throw UsageError("--output_dir applies to --per-class");
  if (!output_dir.empty()) require_writable_dir("output_dir", output_dir);
  set_num_threads(a.threads > 0 ? a.threads : hardware_threads());
  LoadedModel m = load_model(checkpoint, p.was_set("model") ? a.model : "", p.was_set("attn") ? a.attn : "");
  for (vit::Block& b : m.model->blocks) b.attn.eval_sparse = a.eval_sparse;
  if (a.data_path.empty() && !p.was_set("data-set")) a.data_set = "FMNIST";
  a.input_size = m.transform.input_size;
  a.in_chans = m.transform.in_chans;
  if (p.was_set("eval-crop-ratio")) m.transform.crop_ratio = a.eval_crop_ratio;
  a.eval_crop_ratio = m.transform.crop_ratio;
  std::printf("%s\n", describe_model(checkpoint, m).c_str());
  const Datasets ds = load_datasets(a, /*need_train=*/false);
  std::printf("%s", ds.summary.c_str());
  VT_CHECK(ds.val->num_classes() == m.model->cfg.num_classes, "the checkpoint has ", m.model->cfg.num_classes,
           " classes but the dataset has ", ds.val->num_classes(), " (use --class-map to pick a subset)");
  data::LoaderOptions lo = loader_options(a, /*train=*/false, ds.val->num_classes());
  lo.transform = m.transform;
  lo.transform.crop_ratio = a.eval_crop_ratio;
  data::DataLoader loader(ds.val, lo);
  EvalStats ev = evaluate(*m.model, loader, 10, true, per_class);
  std::printf("Accuracy of the network on the %lld test images: %.1f%%\n", static_cast<long long>(ev.images), ev.acc1);
  if (per_class) report_per_class(ds.classes, ev.confusion, output_dir);
  if (!results_file.empty()) {
    const bool json = results_format == "json" || (results_format.empty() && results_file.size() > 5 &&
                                                   results_file.compare(results_file.size() - 5, 5, ".json") == 0);
    const std::string model_name = m.model->cfg.name;
    const int64_t params = m.model->num_parameters();
    const char* interp = m.transform.eval_interpolation == data::Interpolation::kBicubic ? "bicubic" : "bilinear";
    std::string out;
    if (json) {
      Json r = Json::object();
      r.set("model", model_name);
      r.set("top1", ev.acc1);
      r.set("top1_err", 100 - ev.acc1);
      r.set("top5", ev.acc5);
      r.set("top5_err", 100 - ev.acc5);
      r.set("param_count", static_cast<double>(params) / 1e6);
      r.set("img_size", m.transform.input_size);
      r.set("crop_pct", a.eval_crop_ratio);
      r.set("interpolation", interp);
      r.set("attn", m.model->cfg.attn);
      r.set("loss", ev.loss);
      out = r.dump() + "\n";
    } else {
      char row[512];
      std::snprintf(row, sizeof row, "%s,%.3f,%.3f,%.3f,%.3f,%.2f,%d,%.3f,%s,%s,%.4f\n", model_name.c_str(), ev.acc1,
                    100 - ev.acc1, ev.acc5, 100 - ev.acc5, static_cast<double>(params) / 1e6, m.transform.input_size,
                    a.eval_crop_ratio, interp, m.model->cfg.attn.c_str(), ev.loss);
      out = std::string("model,top1,top1_err,top5,top5_err,param_count,img_size,crop_pct,interpolation,attn,loss\n") +
            row;
    }
    write_file_atomic(results_file, out);
  }
  return 0;
}

}  // namespace vt::apps
