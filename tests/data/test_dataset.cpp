// ImageFolder on temporary trees: layout, class maps, Tiny-ImageNet, and every bad input.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>

#include "data/dataset.h"
#include "tests/data/data_test_util.h"

using namespace vt;
using namespace vt::data;
using namespace vt::testing;

namespace {
const std::string kJpeg = kDataFixtures + "photos/chelsea.jpg";
const std::string kPng = kDataFixtures + "formats/grey.png";

bool skipped(const SplitSummary& s, const std::string& path_end, const std::string& reason_part) {
  for (const SkippedFile& f : s.skipped)
    if (f.path.size() >= path_end.size() &&
        f.path.compare(f.path.size() - path_end.size(), path_end.size(), path_end) == 0 &&
        f.reason.find(reason_part) != std::string::npos)
      return true;
  return false;
}
bool warned(const SplitSummary& s, const std::string& part) {
  for (const std::string& w : s.warnings)
    if (w.find(part) != std::string::npos) return true;
  return false;
}
}  // namespace

TEST_CASE("ImageFolder: sorted classes, recursive files, non-image files ignored") {
  TempDir d;
  d.copy(kJpeg, "train/dog/a.JPEG");
  d.copy(kJpeg, "train/cat/nested/deeper/b.jpg");
  d.copy(kPng, "train/cat/c.png");
  d.write("train/cat/notes.txt", "not an image");
  d.copy(kJpeg, "train/cat/.hidden.jpg");
  ImageFolder ds(d.path, "train", FolderOptions{});
  CHECK(ds.classes() == std::vector<std::string>{"cat", "dog"});
  REQUIRE(ds.size() == 3);
  CHECK(ds.label(0) == 0);
  CHECK(ds.label(2) == 1);
  CHECK(ds.summary().ignored_other_files == 1);
  CHECK(ds.summary().per_class == std::vector<int64_t>{2, 1});
  DecodeResult r = ds.load(2);
  REQUIRE(r.image);
  CHECK(r.image->width == 451);
  const std::string text = format_summary(ds.summary(), ds.classes());
  CHECK(text.find("train: 3 images in 2 classes (1 to 2 per class), 1 non-image file(s) ignored") == 0);
  CHECK(text.find("per class: cat 2, dog 1") != std::string::npos);
}

TEST_CASE("ImageFolder: every kind of bad file is skipped, named and counted; good odd files load") {
  TempDir d;
  const std::string jpeg = read_file(kJpeg);
  d.write("train/a/truncated.JPEG", jpeg.substr(0, jpeg.size() / 2));
  d.write("train/a/empty.JPEG", "");
  d.write("train/a/text.JPEG", "hello, I am a text file\n");
  d.copy(kDataFixtures + "formats/png_named.JPEG", "train/a/png_named.JPEG");
  d.copy(kDataFixtures + "formats/cmyk.jpg", "train/a/cmyk.jpg");
  d.copy(kDataFixtures + "formats/grey16.png", "train/a/grey16.png");
  d.copy(kDataFixtures + "formats/grey.png", "train/a/grey.png");
  d.copy(kDataFixtures + "formats/rgba.png", "train/a/rgba.png");
  d.copy(kDataFixtures + "formats/one_pixel.png", "train/a/one_pixel.png");
  // a header claiming 100000 x 100000 pixels
  std::string huge = "\x89PNG\r\n\x1a\n";
  huge += std::string("\x00\x00\x00\x0dIHDR\x00\x01\x86\xa0\x00\x01\x86\xa0\x08\x02\x00\x00\x00\x00\x00\x00\x00", 25);
  d.write("train/a/huge.png", huge);
  REQUIRE(::symlink("/nonexistent/file.jpg", (d.path + "/train/a/unreadable.jpg").c_str()) == 0);
  d.copy(kJpeg, "train/b/caf\xe9.jpg");  // a Latin-1 file name: not UTF-8
  REQUIRE(::symlink("..", (d.path + "/train/b/loop").c_str()) == 0);
  d.mkdir("train/empty_class");

  ImageFolder ds(d.path, "train", FolderOptions{});
  const SplitSummary& s = ds.summary();
  CHECK(skipped(s, "truncated.JPEG", "truncated JPEG"));
  CHECK(skipped(s, "empty.JPEG", "empty file"));
  CHECK(skipped(s, "text.JPEG", "not a decodable image"));
  CHECK(skipped(s, "huge.png", "exceeds the limit of 89478485 pixels"));
  CHECK(skipped(s, "unreadable.jpg", "No such file or directory"));
  CHECK(s.skipped.size() == 5);
  CHECK(ds.size() == 7);  // png_named, cmyk, grey16, grey, rgba, one_pixel, caf\xe9
  for (int64_t i = 0; i < ds.size(); ++i) {
    CAPTURE(ds.describe(i));
    CHECK(ds.load(i).image.has_value());
  }
  CHECK(warned(s, "symlink loop"));
  CHECK(warned(s, "class 'empty_class' has no usable images in train"));
  const std::string text = format_summary(s, ds.classes());
  CHECK(text.find("5 file(s) skipped") != std::string::npos);
  CHECK(text.find("caf\\xE9.jpg") == std::string::npos);  // good files are not listed
  FolderOptions strict;
  strict.strict = true;
  CHECK_THROWS_AS(ImageFolder(d.path, "train", strict), Error);
  // non-UTF-8 names print escaped
  CHECK(printable_path("caf\xe9.jpg") == "caf\\xE9.jpg");
}

TEST_CASE("missing root, missing split, no classes: one-line errors") {
  TempDir d;
  CHECK_THROWS_WITH_AS(ImageFolder("/nonexistent/imagenet", "train", {}),
                       "data path '/nonexistent/imagenet' is not a directory", Error);
  d.mkdir("train");
  CHECK_THROWS_WITH_AS(
      ImageFolder(d.path, "val", {}),
      ("data path '" + d.path + "' has no split folder 'val' (expected " + d.path + "/val/<class>/<images>)").c_str(),
      Error);
  CHECK_THROWS_WITH_AS(
      ImageFolder(d.path, "train", {}),
      ("data path '" + d.path + "/train' has no class folders (expected " + d.path + "/train/<class>/<images>)")
          .c_str(),
      Error);
}

TEST_CASE("val uses train's classes: extra and missing folders are reported") {
  TempDir d;
  d.copy(kJpeg, "train/cat/1.jpg");
  d.copy(kJpeg, "train/dog/1.jpg");
  d.copy(kJpeg, "val/cat/1.jpg");
  d.copy(kJpeg, "val/bird/1.jpg");
  ImageFolder train(d.path, "train", {});
  FolderOptions vo;
  vo.classes = train.classes();
  ImageFolder val(d.path, "val", vo);
  CHECK(val.classes() == train.classes());
  CHECK(val.size() == 1);
  CHECK(warned(val.summary(), "folder 'bird' in val is not one of the training classes: ignored"));
  CHECK(warned(val.summary(), "class 'dog' has no folder in val"));
  vo.strict = true;
  CHECK_THROWS_AS(ImageFolder(d.path, "val", vo), Error);
}

TEST_CASE("class map: a subset in the map's order, as timm's --class-map") {
  TempDir d;
  for (const char* c : {"n01", "n02", "n03"}) d.copy(kJpeg, std::string("train/") + c + "/x.jpg");
  d.write("map.txt", "n03\n\n  n01  \n");
  FolderOptions o;
  o.class_map = d.path + "/map.txt";
  ImageFolder ds(d.path, "train", o);
  CHECK(ds.classes() == std::vector<std::string>{"n03", "n01"});
  CHECK(ds.size() == 2);
  CHECK(ds.label(0) == 0);  // n03's image
  d.write("dup.txt", "a\nb\na\n");
  CHECK_THROWS_WITH_AS(read_class_map(d.path + "/dup.txt"), (d.path + "/dup.txt:3: class 'a' is listed twice").c_str(),
                       Error);
  d.write("empty.txt", "\n\n");
  CHECK_THROWS_AS(read_class_map(d.path + "/empty.txt"), Error);
}

TEST_CASE("Tiny-ImageNet: train by top-level folder, flat val labelled from val_annotations.txt") {
  TempDir d;
  d.copy(kJpeg, "train/n001/images/n001_0.JPEG");
  d.write("train/n001/n001_boxes.txt", "n001_0.JPEG\t0\t0\t10\t10\n");
  d.copy(kJpeg, "train/n002/images/n002_0.JPEG");
  d.copy(kJpeg, "val/images/val_0.JPEG");
  d.copy(kJpeg, "val/images/val_1.JPEG");
  d.write("val/val_annotations.txt", "val_0.JPEG\tn002\t0\t0\t9\t9\nval_1.JPEG\tn001\t1\t1\t8\t8\n");
  ImageFolder train(d.path, "train", {});
  CHECK(train.classes() == std::vector<std::string>{"n001", "n002"});
  CHECK(train.size() == 2);
  CHECK(train.summary().ignored_other_files == 1);  // the *_boxes.txt file
  FolderOptions vo;
  vo.classes = train.classes();
  ImageFolder val(d.path, "val", vo);
  CHECK(val.tiny_imagenet_layout());
  REQUIRE(val.size() == 2);
  CHECK(val.label(0) == 1);  // val_0 is n002
  CHECK(val.label(1) == 0);
}
