// The translation unit that compiles stb_image_write's implementation (Debian's libstb-dev ships
// the header): PNG encoding for the pictures the apps embed in SVGs (data/image.h, encode_png).
// Only the in-memory writer is used; stdio is compiled out.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#endif
#include <stb_image_write.h>
