// The one translation unit that compiles stb_image's implementation (Debian's libstb-dev ships
// the header). The formats of torchvision's IMG_EXTENSIONS that stb decodes stay enabled (JPEG,
// PNG, BMP, PPM/PGM): ImageNet has a PNG named .JPEG, and content, not the extension, decides
// the decoder. The rest (GIF, PSD, TGA, HDR, PIC) are compiled out: no dataset uses them and
// they only widen what a hostile file can reach in stb 2.27. Failure strings stay on: skipped
// files are reported with them. data/image.cpp checks the headers stb 2.27 trusts too much.
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_ONLY_PNM
#define STBI_NO_STDIO  // we read files ourselves (clear errors, bounded sizes)
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#endif
#include <stb_image.h>
