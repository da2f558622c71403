// What eval and predict draw: `eval --per-class` (per-class top-1 and the confusion matrix as CSV
// and SVG) and `predict --attention-map` (the cls token's attention, its rollout and the masks),
// each checked against numbers computed independently of the drawing code.
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>

#include "apps/checkpointing.h"
#include "core/fileio.h"
#include "data/image.h"
#include "data/transforms.h"
#include "tests/apps/cli_util.h"
#include "tests/apps/tiny_folder.h"
#include "tests/svg_util.h"
#include "vit/attention_registry.h"
#include "vit/attention_weights.h"
#include "vit/deit.h"

using vt::testing::run_cli;
using vt::testing::TinyFolder;

namespace {
std::string unbase64(const std::string& text) {
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    if (c == '=') break;
    bits = (bits << 6) | static_cast<uint32_t>(alphabet.find(c));
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xff);
    }
  }
  return out;
}

std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> cells;
    std::istringstream fields(line);
    for (std::string f; std::getline(fields, f, ',');) cells.push_back(f);
    rows.push_back(cells);
  }
  return rows;
}
}  // namespace

TEST_CASE("eval --per-class: per-class top-1 and a confusion matrix that add up to the overall accuracy") {
  TinyFolder f;
  REQUIRE(run_cli("train " + f.flags(f.root + "/run") + " --epochs 1").exit_code == 0);
  const std::string ckpt = f.root + "/run/checkpoint.safetensors", out = f.root + "/pc";
  const auto r = run_cli("eval --checkpoint " + ckpt + " --data-path " + f.root + " --per-class --output_dir " + out);
  REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  CHECK(r.out.find("Per-class top-1 (2 classes") != std::string::npos);
  const auto confusion = csv_rows(vt::read_file(out + "/confusion.csv"));
  REQUIRE(confusion.size() == 3);
  CHECK(confusion[0] == std::vector<std::string>{"true\\predicted", "class0", "class1"});
  int64_t total = 0, diagonal = 0;
  for (int t = 0; t < 2; ++t)
    for (int p = 0; p < 2; ++p) {
      total += std::stoll(confusion[1 + t][1 + p]);
      if (t == p) diagonal += std::stoll(confusion[1 + t][1 + p]);
    }
  CHECK(total == 4);  // the validation split
  const size_t at = r.out.find("* Acc@1 ");
  REQUIRE(at != std::string::npos);
  CHECK(std::stod(r.out.substr(at + 8)) == doctest::Approx(100.0 * double(diagonal) / double(total)));
  const auto per_class = csv_rows(vt::read_file(out + "/per_class.csv"));
  REQUIRE(per_class.size() == 3);
  CHECK(per_class[0] == std::vector<std::string>{"index", "class", "images", "correct", "top1"});
  for (int t = 0; t < 2; ++t) {
    CHECK(per_class[1 + t][1] == "class" + std::to_string(t));
    CHECK(std::stoll(per_class[1 + t][2]) == std::stoll(confusion[1 + t][1]) + std::stoll(confusion[1 + t][2]));
    CHECK(per_class[1 + t][3] == confusion[1 + t][1 + t]);
  }
  const auto cells = vt::testing::svg_elements(vt::read_file(out + "/confusion.svg"), "cell");
  REQUIRE(cells.size() == 4);
  for (int i = 0; i < 4; ++i) CHECK(std::stod(cells[i].at("data-value")) == std::stod(confusion[1 + i / 2][1 + i % 2]));
  // without a folder it prints only; a folder without --per-class is a usage error
  const auto printed = run_cli("eval --checkpoint " + ckpt + " --data-path " + f.root + " --per-class");
  CHECK(printed.exit_code == 0);
  CHECK(printed.out.find("wrote ") == std::string::npos);
  CHECK(run_cli("eval --checkpoint " + ckpt + " --data-path " + f.root + " --output_dir " + out).exit_code == 2);
}

TEST_CASE("predict --attention-map: the model's own cls attention and rollout, and the masks of the masked kinds") {
  TinyFolder f;
  const std::string image = vt::testing::kPhotos + "rocket.jpg";
  for (const vt::vit::AttentionKindSpec& k : vt::vit::attention_kinds()) {
    CAPTURE(k.name);
    const std::string dir = f.root + "/" + k.name;
    REQUIRE(run_cli("train " + f.flags(dir) + " --epochs 1 --max-steps 1 --attn " + k.name).exit_code == 0);
    const std::string ckpt = dir + "/checkpoint.safetensors", svg_path = dir + "/map.svg";
    const auto r = run_cli("predict --checkpoint " + ckpt + " --attention-map " + svg_path + " " + image);
    REQUIRE_MESSAGE(r.exit_code == 0, r.out);
    const std::string svg = vt::read_file(svg_path);
    // the same maps computed here from the checkpoint
    vt::apps::LoadedModel m = vt::apps::load_model(ckpt);
    const vt::data::Image seen = vt::data::eval_image(*vt::data::decode_image(vt::read_file(image)).image, m.transform);
    vt::Tensor x = vt::empty({1, m.transform.in_chans, m.transform.input_size, m.transform.input_size});
    vt::data::eval_transform(*vt::data::decode_image(vt::read_file(image)).image, m.transform, x.data());
    const auto maps = vt::vit::attention_maps(*m.model, x);
    const vt::Tensor& w = maps.back().weights;
    const int64_t H = w.size(0), n = w.size(1);
    const vt::Tensor rollout = vt::vit::attention_rollout(maps);
    const auto cells = vt::testing::svg_elements(svg, "cell");
    const bool masked = k.deployed().uses_mask;
    REQUIRE(cells.size() == size_t((masked ? 3 : 2) * (n - 1)));
    for (int64_t j = 0; j < n - 1; ++j) {
      double mean = 0;
      for (int64_t h = 0; h < H; ++h) mean += w.data()[h * n * n + 1 + j] / double(H);
      CHECK(cells[j].at("data-panel") == "1");
      CHECK(std::stod(cells[j].at("data-value")) == doctest::Approx(mean).epsilon(1e-6));
      CHECK(std::stod(cells[n - 1 + j].at("data-value")) == doctest::Approx(rollout.data()[1 + j]).epsilon(1e-6));
      if (masked) {
        int heads = 0;
        for (const vt::vit::CsrMask& mk : maps.back().masks)
          for (int32_t e = mk.row_ptr[0]; e < mk.row_ptr[1]; ++e) heads += mk.col[e] == 1 + j;
        CHECK(std::stod(cells[2 * (n - 1) + j].at("data-value")) == heads);
      }
    }
    // the picture under the maps is the crop the model sees, its pixels repeated
    const size_t at = svg.find("data:image/png;base64,");
    REQUIRE(at != std::string::npos);
    const std::string b64 = svg.substr(at + 22, svg.find('"', at) - at - 22);
    const auto shown = vt::data::decode_image(unbase64(b64)).image;
    REQUIRE(shown);
    const int factor = shown->width / seen.width;
    CHECK(factor * seen.width >= 224);
    CHECK(shown->height == factor * seen.height);
    for (int y = 0; y < seen.height; ++y)
      for (int xx = 0; xx < seen.width; ++xx)
        for (int c = 0; c < 3; ++c) REQUIRE(shown->at(y * factor, xx * factor, c) == seen.at(y, xx, c));
    CHECK(svg.find("rollout over 1 block<") != std::string::npos);
  }
  const auto two = run_cli("predict --checkpoint " + f.root + "/softmax/checkpoint.safetensors --attention-map " +
                           f.root + "/x.svg " + image + " " + image);
  CHECK(two.exit_code == 2);
  CHECK(two.out.find("--attention-map draws one image; 2 were given") != std::string::npos);
}
