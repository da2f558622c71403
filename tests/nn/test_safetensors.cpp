// safetensors: byte-identical round trips, files from another writer, F16/BF16 conversion, and
// one clear error for every kind of malformed file.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>

#include "core/fileio.h"
#include "core/ops.h"
#include "nn/safetensors.h"

using namespace vt;

namespace {
// A file from a header text and raw data bytes.
std::string make_file(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  return out + header + data;
}
std::string floats(std::initializer_list<float> v) {
  std::string s;
  for (float f : v) s.append(reinterpret_cast<const char*>(&f), 4);
  return s;
}
std::string error_of(const std::string& bytes) {
  try {
    nn::parse_safetensors(bytes, "x.safetensors");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}
std::string tmp_path(const char* name) {
  return std::string("/tmp/vitality_test_") + std::to_string(::getpid()) + "_" + name;
}
}  // namespace

TEST_CASE("save, load, save again gives byte-identical files") {
  nn::Parameters ps = {
      {"b.weight", from_data({1, 2, 3, 4, 5, 6}, {2, 3})}, {"a", from_data({7}, {1})}, {"s", scalar(3)}};
  const std::string bytes = nn::serialize_safetensors(ps, {{"epoch", "3"}, {"arch", "deit"}});
  // Reference layout: little-endian length, compact JSON, metadata first, names sorted, padded to 8.
  const std::string start =
      R"({"__metadata__":{"arch":"deit","epoch":"3"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]})";
  CHECK(bytes.substr(8, start.size()) == start);
  const uint64_t header_len = static_cast<unsigned char>(bytes[0]) | (static_cast<unsigned char>(bytes[1]) << 8);
  CHECK(header_len % 8 == 0);
  nn::SafetensorsFile f = nn::parse_safetensors(bytes, "mem");
  REQUIRE(f.tensors.size() == 3);
  CHECK(f.tensors[0].name == "a");  // offset order = sorted names
  CHECK(f.find("b.weight")->at({1, 2}) == 6);
  CHECK(f.find("s")->dim() == 0);
  CHECK(f.metadata.at("epoch") == "3");
  CHECK(nn::serialize_safetensors(f.tensors, f.metadata) == bytes);
  const std::string path = tmp_path("roundtrip.safetensors");
  nn::save_safetensors(path, f.tensors, f.metadata);
  CHECK(read_file(path) == bytes);
  std::remove(path.c_str());
}

TEST_CASE("a file written by another writer (the PyTorch fixture script) loads") {
  nn::SafetensorsFile f = nn::load_safetensors(VITALITY_TEST_DATA "/vit/fixtures/small_weights.safetensors");
  CHECK(f.find("blocks.1.mlp.fc2.weight")->shape() == Shape{24, 96});
  CHECK(f.metadata.at("format") == "pt");
  CHECK(f.tensors.size() == 4 + 2 * 12 + 4);  // stem, two blocks, norm and head
}

TEST_CASE("F16, BF16 and F64 convert to float32") {
  // F16: 1.0 = 0x3C00, -2.5 = 0xC100, smallest subnormal 0x0001 = 2^-24; BF16: 1.0 = 0x3F80
  std::string f16 = std::string("\x00\x3C\x00\xC1\x01\x00", 6);
  std::string bf16 = std::string("\x80\x3F", 2);
  double d = -0.125;
  std::string f64(reinterpret_cast<const char*>(&d), 8);
  std::string header =
      R"({"h":{"dtype":"F16","shape":[3],"data_offsets":[0,6]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[6,8]},"d":{"dtype":"F64","shape":[1],"data_offsets":[8,16]}})";
  nn::SafetensorsFile f = nn::parse_safetensors(make_file(header, f16 + bf16 + f64), "mem");
  CHECK(f.find("h")->to_vector() == std::vector<float>{1.f, -2.5f, std::ldexp(1.f, -24)});
  CHECK(f.find("b")->item() == 1.f);
  CHECK(f.find("d")->item() == -0.125f);
}

TEST_CASE("malformed files: one line naming the problem") {
  const std::string ok_entry = R"("t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  const std::string data = floats({1, 2});
  CHECK(error_of("abc") ==
        "x.safetensors: not a valid safetensors file: the file has 3 bytes, fewer than the 8-byte header length");
  std::string big = make_file("{" + ok_entry + "}", data);
  big[0] = '\x7f';
  big[3] = '\x01';
  CHECK(error_of(big).find("is larger than the rest of the file") != std::string::npos);
  CHECK(error_of(make_file("{\"t\":", data)).find("header is not valid JSON") != std::string::npos);
  CHECK(error_of(make_file("[1]", data)) ==
        "x.safetensors: not a valid safetensors file: the header does not start with '{'");
  CHECK(error_of(make_file(R"({"t":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})", data))
            .find("dtype I64 is not supported") != std::string::npos);
  CHECK(error_of(make_file(R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data))
            .find("needs 12 bytes but data_offsets span 8") != std::string::npos);
  CHECK(error_of(make_file(R"({"t":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", data))
            .find("lie outside the 8-byte data section") != std::string::npos);
  CHECK(error_of(make_file(R"({"t":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", data))
            .find("overflows") != std::string::npos);
  CHECK(
      error_of(
          make_file(
              R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
              data + floats({3})))
          .find("overlap") != std::string::npos);
  CHECK(error_of(make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", data))
            .find("bytes [0, 4) of the data section belong to no tensor") != std::string::npos);
  CHECK(error_of(make_file("{" + ok_entry + "}", data + floats({3})))
            .find("bytes [8, 12) of the data section belong to no tensor") != std::string::npos);
  CHECK(error_of(make_file(R"({"__metadata__":{"epoch":3},)" + ok_entry + "}", data))
            .find("__metadata__ value of 'epoch' is not a string") != std::string::npos);
  CHECK(error_of(make_file("{" + ok_entry + "," + ok_entry + "}", data)).find("duplicate key") != std::string::npos);
  CHECK(error_of(make_file("{\"t\xff\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", data))
            .find("not valid UTF-8") != std::string::npos);
  CHECK(error_of(make_file(R"({"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", data))
            .find("not a non-negative integer") != std::string::npos);
  CHECK_THROWS_WITH_AS(nn::load_safetensors("/nonexistent/w.safetensors"),
                       "/nonexistent/w.safetensors: No such file or directory", Error);
  CHECK_THROWS_WITH_AS(nn::load_safetensors("/tmp"), "/tmp: is a directory, expected a file", Error);
}

TEST_CASE("load_into reports missing, unexpected and mismatched names together") {
  nn::Parameters model = {{"a", zeros({2})}, {"b", zeros({3})}, {"c", zeros({1})}};
  nn::SafetensorsFile f;
  f.tensors = {{"a", from_data({1, 2}, {2})}, {"b", zeros({4})}, {"extra", zeros({1})}};
  CHECK_THROWS_WITH_AS(
      nn::load_into(model, f, true),
      "cannot load weights: missing (1): c; shape mismatch (1): b: file (4,) vs model (3,); unexpected (1): extra",
      Error);
  f.tensors[1].tensor = from_data({5, 6, 7}, {3});
  f.tensors.push_back({"c", from_data({9}, {1})});
  nn::LoadReport r = nn::load_into(model, f, /*strict=*/false);
  CHECK(r.unexpected == std::vector<std::string>{"extra"});
  CHECK(model[1].tensor.to_vector() == std::vector<float>{5, 6, 7});
  // A skipped name (a head dropped for fine-tuning) is neither loaded nor reported.
  f.tensors[1].tensor = zeros({4});
  nn::LoadReport r2 = nn::load_into(model, f, false, {"b"});
  CHECK(r2.loaded.size() == 2);
}
