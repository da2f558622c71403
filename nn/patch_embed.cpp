// patchify (forward: gather pixels into patch rows; backward: scatter them back) and PatchEmbed.
//
// Shapes: B batch, C channels, H x W image, P patch, Hp = H/P, Wp = W/P, D embed dim.
//   out[b, py*Wp + px, (c*P + i)*P + j] = x[b, c, py*P + i, px*P + j]
#include "nn/patch_embed.h"

#include <cstring>

#include "core/autograd.h"
#include "core/ops.h"
#include "core/threads.h"
#include "core/trace.h"
#include "nn/linear.h"

namespace vt::nn {

namespace {
// Moves pixels between image layout and patch layout: to_patches copies src (an image batch)
// into dst (patch rows); otherwise src holds patch rows and dst receives the image.
void patch_copy(const float* src, float* dst, int64_t B, int64_t C, int64_t H, int64_t W, int64_t P, bool to_patches) {
  const int64_t Hp = H / P, Wp = W / P, row = C * P * P;
  parallel_for(B * Hp, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t bp = lo; bp < hi; ++bp) {
      const int64_t b = bp / Hp, py = bp % Hp;
      for (int64_t px = 0; px < Wp; ++px)
        for (int64_t c = 0; c < C; ++c)
          for (int64_t i = 0; i < P; ++i) {
            const int64_t pix = ((b * C + c) * H + py * P + i) * W + px * P;         // image offset
            const int64_t cell = ((b * Hp + py) * Wp + px) * row + (c * P + i) * P;  // patch offset
            if (to_patches) std::memcpy(dst + cell, src + pix, sizeof(float) * P);
            else std::memcpy(dst + pix, src + cell, sizeof(float) * P);
          }
    }
  });
}
}  // namespace

Tensor patchify(const Tensor& x, int64_t P) {
  VT_CHECK(x.dim() == 4, "patchify: expected an image batch (B,C,H,W), got ", shape_str(x.shape()));
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  VT_CHECK(P >= 1 && H >= P && W >= P, "patchify: patch ", P, " does not fit images of ", H, "x", W);
  OpTrace tr("patchify");
  const int64_t Hp = H / P, Wp = W / P;
  Tensor out = empty({B, Hp * Wp, C * P * P});
  patch_copy(x.data(), out.data(), B, C, H, W, P, /*to_patches=*/true);
  if (tr.on()) tr.record({&x}, out, 0);
  if (needs_grad(x)) {
    record_op(out, "patchify", {x}, [sx = x.shape(), P](const Tensor& g) -> Grads {
      // Pixels outside whole patches get no gradient, so start from zeros when they exist.
      Tensor dx = (sx[2] % P || sx[3] % P) ? zeros(sx) : empty(sx);
      patch_copy(g.data(), dx.data(), sx[0], sx[1], sx[2], sx[3], P, /*to_patches=*/false);
      return {dx};
    });
  }
  return out;
}

PatchEmbed::PatchEmbed(int64_t img, int64_t p, int64_t c, int64_t d)
    : img_size(img), patch(p), in_chans(c), embed_dim(d), weight(parameter({d, c, p, p})), bias(parameter({d})) {
  VT_CHECK(p >= 1 && img >= p, "PatchEmbed: patch ", p, " does not fit an image of ", img, " pixels");
}

Tensor PatchEmbed::forward(const Tensor& x) const {
  VT_CHECK(x.dim() == 4 && x.size(1) == in_chans && x.size(2) == img_size && x.size(3) == img_size,
           "patch_embed: expected images of shape (B,", in_chans, ",", img_size, ",", img_size, "), got ",
           shape_str(x.shape()));
  TraceScope s("proj");
  Tensor patches = patchify(x, patch);                            // (B, Np, C*P*P)
  return linear(patches, weight.reshape({embed_dim, -1}), bias);  // (B, Np, D)
}

void PatchEmbed::parameters(Parameters& out, const std::string& prefix) const {
  out.push_back({join_name(prefix, "proj.weight"), weight});
  out.push_back({join_name(prefix, "proj.bias"), bias});
}

}  // namespace vt::nn
