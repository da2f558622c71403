// ImageFolder (with Tiny-ImageNet's val layout and class maps) and the IDX dataset.
#include "data/dataset.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "core/error.h"
#include "core/fileio.h"
#include "core/json.h"
#include "data/idx.h"

namespace vt::data {

std::string printable_path(const std::string& path) {
  if (valid_utf8(path)) return path;
  std::string out;
  for (unsigned char c : path) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    }
  }
  return out;
}

std::vector<std::string> read_class_map(const std::string& path) {
  std::istringstream in(read_file(path, 64 << 20));
  std::vector<std::string> classes;
  std::set<std::string> seen;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const size_t a = line.find_first_not_of(" \t\r"), b = line.find_last_not_of(" \t\r");
    if (a == std::string::npos) continue;
    const std::string name = line.substr(a, b - a + 1);
    VT_CHECK(seen.insert(name).second, path, ":", number, ": class '", printable_path(name), "' is listed twice");
    classes.push_back(name);
  }
  VT_CHECK(!classes.empty(), path, ": the class map lists no classes");
  return classes;
}

namespace {

bool is_dir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool has_image_extension(const std::string& name) {
  static const char* exts[] = {".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"};
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* e : exts) {
    const size_t n = std::strlen(e);
    if (lower.size() > n && lower.compare(lower.size() - n, n, e) == 0) return true;
  }
  return false;
}

// Entries of a directory (names only, "." and ".." excluded), sorted bytewise.
std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (!d) throw Error(str_cat(printable_path(dir), ": cannot read directory: ", std::strerror(errno)));
  while (dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

// Every file below dir (following symlinks; a directory seen twice is a loop and is reported).
void walk(const std::string& dir, std::set<std::pair<dev_t, ino_t>>& seen, std::vector<std::string>& files,
          SplitSummary& summary) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return;
  if (!seen.insert({st.st_dev, st.st_ino}).second) {
    summary.warnings.push_back(str_cat("symlink loop at ", printable_path(dir), ": not followed again"));
    return;
  }
  for (const std::string& name : list_dir(dir)) {
    if (name[0] == '.') continue;  // hidden files and folders
    const std::string path = dir + "/" + name;
    struct stat es;
    if (::stat(path.c_str(), &es) != 0) {
      if (has_image_extension(name)) summary.skipped.push_back({printable_path(path), std::strerror(errno)});
      continue;
    }
    if (S_ISDIR(es.st_mode)) walk(path, seen, files, summary);
    else if (has_image_extension(name)) files.push_back(path);
    else ++summary.ignored_other_files;
  }
}

// Reads up to n bytes at offset; returns what was read.
std::string pread_some(int fd, size_t n, off_t offset) {
  std::string buf(n, '\0');
  size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd, &buf[got], n - got, offset + static_cast<off_t>(got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  buf.resize(got);
  return buf;
}

// The scan-time check of one file: its header decodes, its size is allowed, a JPEG ends with EOI.
std::string check_file(const std::string& path, int64_t max_pixels) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::strerror(errno);
  struct stat st;
  std::string reason;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    reason = "not a regular file";
  } else if (st.st_size == 0) {
    reason = "empty file";
  } else {
    const std::string head = pread_some(fd, 64 << 10, 0);
    int w = 0, h = 0;
    if (!probe_image(head, w, h, reason, max_pixels) && static_cast<off_t>(head.size()) < st.st_size &&
        reason.find("exceeds the limit") == std::string::npos) {
      // a header larger than 64 KiB (EXIF thumbnails): read it all
      const std::string all = pread_some(fd, static_cast<size_t>(std::min<off_t>(st.st_size, off_t{64} << 20)), 0);
      reason.clear();
      probe_image(all, w, h, reason, max_pixels);
    }
    if (reason.empty() && head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0xFF &&
        static_cast<unsigned char>(head[1]) == 0xD8) {
      const off_t tail_len = std::min<off_t>(st.st_size, 1024);
      const std::string tail = pread_some(fd, static_cast<size_t>(tail_len), st.st_size - tail_len);
      if (tail.find("\xFF\xD9") == std::string::npos)
        reason = "truncated JPEG (no end-of-image marker in its last 1 KiB)";
    }
  }
  ::close(fd);
  return reason;
}

}  // namespace

ImageFolder::ImageFolder(const std::string& root, const std::string& split, const FolderOptions& opt)
    : max_pixels_(opt.max_pixels) {
  VT_CHECK(is_dir(root), "data path '", printable_path(root), "' is not a directory");
  const std::string dir = root + "/" + split;
  VT_CHECK(is_dir(dir), "data path '", printable_path(root), "' has no split folder '", split, "' (expected ",
           printable_path(dir), "/<class>/<images>)");
  summary_.name = split;
  std::vector<std::pair<std::string, int64_t>> candidates;  // path, label
  auto class_index = [&](const std::string& name) -> int64_t {
    auto it = std::find(classes_.begin(), classes_.end(), name);
    return it == classes_.end() ? -1 : it - classes_.begin();
  };

  tiny_ = is_dir(dir + "/images") && ::access((dir + "/val_annotations.txt").c_str(), R_OK) == 0;
  if (tiny_) {
    // Tiny-ImageNet's val: val/images/val_<k>.JPEG, labels in val_annotations.txt (tab-separated).
    std::map<std::string, std::string> wnid_of;
    std::istringstream in(read_file(dir + "/val_annotations.txt", 256 << 20));
    std::string line;
    while (std::getline(in, line)) {
      const size_t tab = line.find('\t');
      if (tab == std::string::npos) continue;
      const size_t tab2 = line.find('\t', tab + 1);
      wnid_of[line.substr(0, tab)] =
          line.substr(tab + 1, tab2 == std::string::npos ? std::string::npos : tab2 - tab - 1);
    }
    if (!opt.classes.empty()) classes_ = opt.classes;
    else if (!opt.class_map.empty()) classes_ = read_class_map(opt.class_map);
    else {
      std::set<std::string> wnids;
      for (auto& [f, w] : wnid_of) wnids.insert(w);
      classes_.assign(wnids.begin(), wnids.end());
    }
    for (const std::string& name : list_dir(dir + "/images")) {
      auto it = wnid_of.find(name);
      if (it == wnid_of.end()) {
        ++summary_.ignored_other_files;
        continue;
      }
      const int64_t label = class_index(it->second);
      if (label < 0) continue;  // a class outside the class list
      candidates.emplace_back(dir + "/images/" + name, label);
    }
  } else {
    std::vector<std::string> folders;
    for (const std::string& n : list_dir(dir))
      if (n[0] != '.' && is_dir(dir + "/" + n)) folders.push_back(n);
    if (!opt.classes.empty()) classes_ = opt.classes;
    else if (!opt.class_map.empty()) classes_ = read_class_map(opt.class_map);
    else classes_ = folders;
    VT_CHECK(!classes_.empty(), "data path '", printable_path(dir), "' has no class folders (expected ",
             printable_path(dir), "/<class>/<images>)");
    for (const std::string& f : folders)
      if (class_index(f) < 0) {
        const std::string msg = str_cat("folder '", printable_path(f), "' in ", split, " is not one of the ",
                                        opt.classes.empty() ? "class map's" : "training", " classes: ignored");
        VT_CHECK(!opt.strict || !opt.class_map.empty(), msg, " (--strict)");
        summary_.warnings.push_back(msg);
      }
    std::set<std::pair<dev_t, ino_t>> seen;
    for (size_t c = 0; c < classes_.size(); ++c) {
      const std::string cdir = dir + "/" + classes_[c];
      if (!is_dir(cdir)) {
        const std::string msg = str_cat("class '", printable_path(classes_[c]), "' has no folder in ", split);
        VT_CHECK(!opt.strict, msg, " (--strict)");
        summary_.warnings.push_back(msg);
        continue;
      }
      std::vector<std::string> files;
      walk(cdir, seen, files, summary_);
      for (const std::string& f : files) candidates.emplace_back(f, static_cast<int64_t>(c));
    }
  }

  // Header checks in parallel; the order of the results does not depend on the threads.
  std::vector<std::string> reasons(candidates.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < candidates.size(); i = next++)
      reasons[i] = check_file(candidates[i].first, max_pixels_);
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::max(1, opt.scan_threads); ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();

  summary_.per_class.assign(classes_.size(), 0);
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (!reasons[i].empty()) {
      summary_.skipped.push_back({printable_path(candidates[i].first), reasons[i]});
      continue;
    }
    paths_.push_back(candidates[i].first);
    labels_.push_back(candidates[i].second);
    ++summary_.per_class[candidates[i].second];
  }
  if (opt.strict && !summary_.skipped.empty())
    throw Error(str_cat(summary_.skipped[0].path, ": ", summary_.skipped[0].reason, " (--strict; ",
                        summary_.skipped.size(), " bad file(s) in ", split, ")"));
  for (size_t c = 0; c < classes_.size(); ++c)
    if (summary_.per_class[c] == 0 && is_dir(dir + "/" + classes_[c])) {
      const std::string msg = str_cat("class '", printable_path(classes_[c]), "' has no usable images in ", split);
      VT_CHECK(!opt.strict, msg, " (--strict)");
      summary_.warnings.push_back(msg);
    }
  VT_CHECK(!paths_.empty(), "data path '", printable_path(dir), "': no usable images found");
}

DecodeResult ImageFolder::load(int64_t i) const {
  DecodeResult r;
  std::string bytes;
  try {
    bytes = read_file(paths_[i], uint64_t{1} << 30);
  } catch (const Error& e) {
    r.error = e.what();
    return r;
  }
  return decode_image(bytes, max_pixels_);
}

// ---------------------------------------------------------------- IDX
std::vector<std::string> fashion_mnist_classes() {
  return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
}

namespace {
std::string idx_file(const std::string& dir, const std::string& stem) {
  for (const std::string& p : {dir + "/" + stem + ".gz", dir + "/" + stem})
    if (::access(p.c_str(), F_OK) == 0) return p;
  throw Error(str_cat(dir, ": no ", stem, "[.gz] (Fashion-MNIST: apt-get install dataset-fashion-mnist)"));
}
}  // namespace

IdxDataset::IdxDataset(const std::string& dir, const std::string& prefix, std::vector<std::string> class_names) {
  VT_CHECK(is_dir(dir), "data path '", printable_path(dir), "' is not a directory");
  classes_ = std::move(class_names);
  images_path_ = idx_file(dir, prefix + "-images-idx3-ubyte");
  IdxSplit s = read_idx_split(images_path_, idx_file(dir, prefix + "-labels-idx1-ubyte"), num_classes());
  count_ = s.count;
  rows_ = s.rows;
  cols_ = s.cols;
  pixels_ = std::move(s.pixels);
  labels_ = std::move(s.labels);
}

DecodeResult IdxDataset::load(int64_t i) const {
  DecodeResult r;
  Image im = make_image(cols_, rows_, 1);
  const size_t n = static_cast<size_t>(rows_) * cols_;
  std::copy(pixels_.begin() + static_cast<std::ptrdiff_t>(i * n),
            pixels_.begin() + static_cast<std::ptrdiff_t>((i + 1) * n), im.pixels.begin());
  r.image = std::move(im);
  return r;
}

std::string IdxDataset::describe(int64_t i) const { return str_cat(images_path_, "[", i, "]"); }

SplitSummary IdxDataset::summary(const std::string& name) const {
  SplitSummary s;
  s.name = name;
  s.per_class.assign(classes_.size(), 0);
  for (int64_t l : labels_) ++s.per_class[l];
  return s;
}

std::string format_summary(const SplitSummary& s, const std::vector<std::string>& classes, int max_listed) {
  std::ostringstream os;
  int64_t total = 0, lo = INT64_MAX, hi = 0;
  for (int64_t c : s.per_class) {
    total += c;
    lo = std::min(lo, c);
    hi = std::max(hi, c);
  }
  os << s.name << ": " << total << " images in " << classes.size() << " classes (" << lo << " to " << hi
     << " per class)";
  if (!s.skipped.empty()) os << ", " << s.skipped.size() << " file(s) skipped";
  if (s.ignored_other_files) os << ", " << s.ignored_other_files << " non-image file(s) ignored";
  os << "\n";
  if (classes.size() <= static_cast<size_t>(max_listed)) {
    os << "  per class:";
    for (size_t c = 0; c < classes.size(); ++c)
      os << (c ? ", " : " ") << printable_path(classes[c]) << " " << s.per_class[c];
    os << "\n";
  }
  for (size_t i = 0; i < s.skipped.size() && i < static_cast<size_t>(max_listed); ++i)
    os << "  skipped " << s.skipped[i].path << ": " << s.skipped[i].reason << "\n";
  if (s.skipped.size() > static_cast<size_t>(max_listed))
    os << "  ... and " << s.skipped.size() - max_listed << " more skipped file(s)\n";
  for (const std::string& w : s.warnings) os << "  warning: " << w << "\n";
  return os.str();
}

}  // namespace vt::data
