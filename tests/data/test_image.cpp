// Decoding by content with stb_image: the formats ImageNet contains, and every kind of bad file.
#include <doctest/doctest.h>

#include "data/image.h"
#include "tests/data/data_test_util.h"

using namespace vt;
using namespace vt::data;
using vt::testing::kDataFixtures;

namespace {
DecodeResult decode_file(const std::string& name) { return decode_image(read_file(kDataFixtures + name)); }

// A PNG signature and IHDR chunk claiming width x height (no pixel data; stb reads only the header).
std::string png_header(uint32_t width, uint32_t height) {
  std::string s = "\x89PNG\r\n\x1a\n";
  auto be32 = [&](uint32_t v) {
    for (int i = 3; i >= 0; --i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
  };
  be32(13);
  s += "IHDR";
  be32(width);
  be32(height);
  s += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB
  be32(0);                                      // CRC (stb does not check it)
  return s;
}
}  // namespace

TEST_CASE("the formats ImageNet throws at a loader all decode to RGB") {
  for (const char* name :
       {"formats/cmyk.jpg", "formats/grey16.png", "formats/grey.png", "formats/rgba.png", "formats/png_named.JPEG",
        "photos/camera.jpg", "formats/progressive.jpg", "formats/rgb.bmp", "formats/rgb.ppm", "formats/grey.pgm"}) {
    CAPTURE(name);
    DecodeResult r = decode_file(name);
    REQUIRE_MESSAGE(r.image, r.error);
    CHECK(r.image->channels == 3);
  }
  // BMP and PPM are lossless copies of the same 32x24 picture; the progressive JPEG is close to it.
  Image bmp = *decode_file("formats/rgb.bmp").image, ppm = *decode_file("formats/rgb.ppm").image;
  Image prog = *decode_file("formats/progressive.jpg").image;
  CHECK(bmp.width == 32);
  CHECK(bmp.height == 24);
  CHECK(bmp.pixels == ppm.pixels);
  double err = 0;
  for (size_t i = 0; i < bmp.pixels.size(); ++i) err += std::abs(int(bmp.pixels[i]) - int(prog.pixels[i]));
  CHECK(err / bmp.pixels.size() < 6);
  DecodeResult one = decode_file("formats/one_pixel.png");
  REQUIRE(one.image);
  CHECK(one.image->width == 1);
  CHECK(one.image->pixels == std::vector<uint8_t>{200, 100, 50});
  // Grey is replicated into three equal channels; 16-bit is reduced to 8 bits.
  Image g = *decode_file("formats/grey16.png").image;
  Image g8 = *decode_file("formats/grey.png").image;
  CHECK(g.at(5, 7, 0) == g.at(5, 7, 2));
  CHECK(g.at(5, 7, 0) == g8.at(5, 7, 0));
  // CMYK is converted to RGB, close to the RGB image it was made from.
  Image cmyk = *decode_file("formats/cmyk.jpg").image;
  Image rgba = *decode_file("formats/rgba.png").image;  // alpha dropped, colour kept
  int worst = 0;
  for (size_t i = 0; i < cmyk.pixels.size(); ++i)
    worst = std::max(worst, std::abs(int(cmyk.pixels[i]) - int(rgba.pixels[i])));
  CHECK(worst < 40);  // JPEG at quality 95 of the same picture
}

TEST_CASE("bad bytes give a reason, never a crash or a huge allocation") {
  CHECK(decode_image("").error == "empty file");
  CHECK(decode_image("this is a text file named .JPEG\n").error.find("not a decodable image") == 0);
  const std::string jpeg = read_file(kDataFixtures + "photos/chelsea.jpg");
  DecodeResult cut = decode_image(jpeg.substr(0, jpeg.size() / 2));
  CHECK_FALSE(cut.image);
  CHECK(cut.error == "truncated JPEG (no end-of-image marker in its last 1 KiB)");
  CHECK(decode_image(jpeg + std::string(100, '\0')).image);  // bytes after EOI are tolerated
  DecodeResult huge = decode_image(png_header(100000, 100000));
  CHECK(huge.error == "image of 100000x100000 pixels exceeds the limit of 89478485 pixels (--max-image-pixels)");
  CHECK(decode_image(png_header(100, 100), /*max_pixels=*/50).error.find("exceeds the limit of 50") !=
        std::string::npos);
  DecodeResult broken_png = decode_image(png_header(4, 4));  // a header and no data
  CHECK_FALSE(broken_png.image);
  CHECK(broken_png.error.find("decoding failed") == 0);
}

TEST_CASE("headers stb_image 2.27 would trust are refused before it runs") {
  // A Huffman table (DHT) whose code counts sum above 256 overflowed stb's 256-entry arrays.
  std::string jpeg = read_file(kDataFixtures + "photos/chelsea.jpg");
  const size_t dht = jpeg.find("\xFF\xC4");
  REQUIRE(dht != std::string::npos);
  std::string bad = jpeg;
  // FF C4, length (2 bytes), class/id at +4, the count of codes of length k at +4+k.
  for (int k : {14, 15, 16}) bad[dht + 4 + k] = char(200);
  DecodeResult r = decode_image(bad);
  CHECK_FALSE(r.image);
  CHECK(r.error.find("corrupt JPEG: Huffman table at byte ") == 0);
  CHECK(r.error.find("(at most 256)") != std::string::npos);
  CHECK(decode_image("\xFF\xFF" + bad).error.find("corrupt JPEG: Huffman table") == 0);  // fill bytes before SOI
  CHECK(decode_image("\xFF\xFF" + jpeg).image);
  // the same check between the scans of a progressive JPEG: corrupt its last table
  std::string prog = read_file(kDataFixtures + "formats/progressive.jpg");
  const size_t last = prog.rfind("\xFF\xC4");
  REQUIRE(last > prog.find("\xFF\xDA"));  // a DHT after the first scan
  for (int k : {15, 16}) prog[last + 4 + k] = char(255);
  CHECK(decode_image(prog).error.find("corrupt JPEG: Huffman table") == 0);
  // A PPM whose width overflows an int.
  CHECK(decode_image("P6\n3333333333 2\n255\n" + std::string(12, 'x')).error == "PNM header field 1 exceeds 16777216");
  CHECK(decode_image("P5 # comment\n4 99999999999\n255\n").error == "PNM header field 2 exceeds 16777216");
  CHECK(decode_image("P5\n2 2\n355\n" + std::string(8, 'x')).error ==
        "16-bit PPM/PGM (maximum value 355) is not supported");
  // Formats compiled out of stb are refused by content, whatever the name says.
  CHECK(decode_image("GIF89a\x01\x00\x01\x00\x00\x00\x00;").error.find("not a decodable image") == 0);
}

TEST_CASE("a PNG whose first IDAT chunk is empty decodes (stb 2.27 would memcpy into a null buffer)") {
  // Legal PNG: the image data may be split over IDAT chunks of any size, including 0. Under
  // UBSan (the sanitized suite) stb's memcpy(NULL, src, 0) on such a chunk is a fatal report.
  const std::string png = read_file(kDataFixtures + "formats/one_pixel.png");
  const size_t idat = png.find("IDAT") - 4;  // the chunk starts with its length
  REQUIRE(idat == 33);
  const std::string empty_idat("\x00\x00\x00\x00IDAT\x35\xaf\x06\x1e", 12);  // length 0, type, CRC-32 of "IDAT"
  const std::string with_empty = png.substr(0, idat) + empty_idat + empty_idat + png.substr(idat);
  DecodeResult want = decode_image(png), got = decode_image(with_empty);
  REQUIRE(want.image);
  REQUIRE_MESSAGE(got.image, got.error);
  CHECK(got.image->pixels == want.image->pixels);
  // the fuzzer's find: the same file with the real IDAT's length zeroed, so its data reads as
  // chunk headers: an error, not a crash
  std::string broken = png;
  for (int k = 0; k < 4; ++k) broken[idat + k] = 0;
  DecodeResult r = decode_image(broken);
  CHECK_FALSE(r.image);
  CHECK(r.error.find("decoding failed") == 0);
}

TEST_CASE("encode_png: PNG bytes that decode to the same pixels; grey and RGBA too; bad images refused") {
  Image rgb = make_image(5, 3, 3);
  for (size_t i = 0; i < rgb.pixels.size(); ++i) rgb.pixels[i] = static_cast<uint8_t>(i * 37 % 256);
  const std::string png = encode_png(rgb);
  CHECK(png.compare(0, 8, "\x89PNG\r\n\x1a\n", 8) == 0);
  DecodeResult r = decode_image(png);
  REQUIRE(r.image);
  CHECK(r.image->width == 5);
  CHECK(r.image->height == 3);
  CHECK(r.image->pixels == rgb.pixels);
  Image grey = make_image(2, 2, 1);
  grey.pixels = {0, 85, 170, 255};
  DecodeResult g = decode_image(encode_png(grey));
  REQUIRE(g.image);
  CHECK(g.image->pixels == std::vector<uint8_t>{0, 0, 0, 85, 85, 85, 170, 170, 170, 255, 255, 255});
  Image rgba = make_image(1, 1, 4, 200);
  DecodeResult a = decode_image(encode_png(rgba));
  REQUIRE(a.image);
  CHECK(a.image->pixels == std::vector<uint8_t>{200, 200, 200});  // alpha dropped on decode
  Image bad = make_image(2, 2, 2);
  CHECK_THROWS_WITH(encode_png(bad), doctest::Contains("2 channels"));
  bad = make_image(2, 2, 3);
  bad.pixels.pop_back();
  CHECK_THROWS_WITH(encode_png(bad), doctest::Contains("11 bytes for a 2x2x3 image"));
}
