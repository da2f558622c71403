// Datasets: a list of samples with labels that can be decoded from any thread.
//
//   ImageFolder   <root>/<split>/<class>/**/<file>   classes = sorted folder names (byte order,
//                 as Python's sorted()), or the order of a class-map file (timm's --class-map:
//                 one class per line, other folders ignored); files found recursively (symlinks
//                 followed, loops detected), kept when their extension is one of torchvision's
//                 image extensions, decoded by content. Tiny-ImageNet's flat val/images with
//                 val/val_annotations.txt is recognised.
//   IDX           MNIST / Fashion-MNIST (train-images-idx3-ubyte[.gz], ...), 28x28 grey.
//
// Every candidate file's header is checked at scan time (cheap: the first 64 KiB and the last
// bytes): empty, unreadable, undecodable, truncated-JPEG and oversized files are skipped, named
// with the reason, and counted in the summary; with `strict` the first one is an error instead.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "data/image.h"

namespace vt::data {

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  virtual int64_t label(int64_t i) const = 0;
  virtual DecodeResult load(int64_t i) const = 0;     // thread-safe
  virtual std::string describe(int64_t i) const = 0;  // a path, or "<file>[i]"
  const std::vector<std::string>& classes() const { return classes_; }
  int64_t num_classes() const { return static_cast<int64_t>(classes_.size()); }

 protected:
  std::vector<std::string> classes_;
};

struct SkippedFile {
  std::string path;
  std::string reason;
};

// What was found in one split, for the startup summary.
struct SplitSummary {
  std::string name;                   // "train"
  std::vector<int64_t> per_class;     // images per class
  std::vector<SkippedFile> skipped;   // files that will not be used, with stb's (or our) reason
  std::vector<std::string> warnings;  // empty classes, classes missing from this split, symlink loops
  int64_t ignored_other_files = 0;    // files without an image extension
};

struct FolderOptions {
  std::string class_map;             // file with one class name per line ("" = all folders)
  std::vector<std::string> classes;  // use exactly these classes in this order (the train split's)
  int64_t max_pixels = kDefaultMaxPixels;
  bool strict = false;  // a bad file or inconsistent class list is an error
  int scan_threads = 4;
};

class ImageFolder : public Dataset {
 public:
  // Scans <root>/<split>; throws one line for a missing root or split.
  ImageFolder(const std::string& root, const std::string& split, const FolderOptions& opt);
  int64_t size() const override { return static_cast<int64_t>(paths_.size()); }
  int64_t label(int64_t i) const override { return labels_[i]; }
  DecodeResult load(int64_t i) const override;
  std::string describe(int64_t i) const override { return paths_[i]; }
  const SplitSummary& summary() const { return summary_; }
  bool tiny_imagenet_layout() const { return tiny_; }

 private:
  std::vector<std::string> paths_;
  std::vector<int64_t> labels_;
  SplitSummary summary_;
  int64_t max_pixels_;
  bool tiny_ = false;
};

class IdxDataset : public Dataset {
 public:
  // Reads <dir>/<prefix>-images-idx3-ubyte[.gz] and <prefix>-labels-idx1-ubyte[.gz], prefix
  // "train" or "t10k"; class names given (Fashion-MNIST's by default).
  IdxDataset(const std::string& dir, const std::string& prefix, std::vector<std::string> class_names);
  int64_t size() const override { return count_; }
  int64_t label(int64_t i) const override { return labels_[i]; }
  DecodeResult load(int64_t i) const override;  // a 1-channel image
  std::string describe(int64_t i) const override;
  SplitSummary summary(const std::string& name) const;
  int rows() const { return rows_; }
  int cols() const { return cols_; }

 private:
  std::string images_path_;
  int64_t count_ = 0;
  int rows_ = 0, cols_ = 0;
  std::vector<uint8_t> pixels_;
  std::vector<int64_t> labels_;
};

std::vector<std::string> fashion_mnist_classes();
constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// One class name per line (blank lines and surrounding spaces ignored); throws naming the file
// and line for duplicates or an empty list.
std::vector<std::string> read_class_map(const std::string& path);

// Printable file names: bytes that are not valid UTF-8 appear as \xNN.
std::string printable_path(const std::string& path);

// The startup summary lines for one split.
std::string format_summary(const SplitSummary& s, const std::vector<std::string>& classes, int max_listed = 10);

}  // namespace vt::data
