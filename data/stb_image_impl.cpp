// The one translation unit that compiles stb_image's implementation (Debian's libstb-dev ships
// the header). All formats stay enabled: ImageNet has a PNG named .JPEG, and content, not the
// extension, decides the decoder. Failure strings stay on: skipped files are reported with them.
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO  // we read files ourselves (clear errors, bounded sizes)
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#endif
#include <stb_image.h>
