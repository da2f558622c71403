// Builds a small DeiT with Taylor attention, runs one image through DeiT's eval transform and the
// model, and estimates that forward pass on the ViTALiTy accelerator: the few lines a project
// linking vitality needs.
#include <cmath>
#include <cstdio>

#include "core/autograd.h"
#include "core/rng.h"
#include "core/trace.h"
#include "data/image.h"
#include "data/transforms.h"
#include "hwmodel/config.h"
#include "hwmodel/lower.h"
#include "hwmodel/model.h"
#include "vit/deit.h"

int main() {
  vt::vit::DeitConfig cfg;
  cfg.img_size = 32;
  cfg.patch = 8;
  cfg.embed_dim = 32;
  cfg.depth = 2;
  cfg.heads = 2;
  cfg.num_classes = 10;
  cfg.attn = "taylor";
  vt::vit::Deit model(cfg);
  vt::Generator gen(0);
  model.init(gen);
  vt::data::Image photo = vt::data::make_image(48, 40, 3);  // a gradient, as a decoded photo would be
  for (int y = 0; y < photo.height; ++y)
    for (int x = 0; x < photo.width; ++x)
      for (int c = 0; c < 3; ++c) photo.at(y, x, c) = static_cast<uint8_t>((x * 5 + y * 3 + c * 40) % 256);
  vt::data::TransformConfig t;
  t.input_size = 32;
  vt::Tensor image = vt::empty({1, 3, 32, 32});
  vt::data::eval_transform(photo, t, image.data());
  vt::Trace trace;
  vt::Tensor logits;
  {
    vt::NoGradGuard no_grad;
    vt::TraceSession on(trace);
    logits = model.forward(image, vt::nn::Context{});
  }
  const vt::hw::Report r = vt::hw::evaluate(vt::hw::lower_trace(trace.records), vt::hw::load_arch_config("vitality"),
                                            vt::hw::load_energy_table("energy-45nm"));
  std::printf("logits %lld, first %.4f; %zu ops on %s: %.3f us, %.3f uJ\n", static_cast<long long>(logits.size(1)),
              logits.data()[0], r.ops.size(), r.arch_name.c_str(), r.latency_s * 1e6, r.energy_pj() * 1e-6);
  return logits.size(1) == 10 && std::isfinite(logits.data()[0]) && r.latency_s > 0 ? 0 : 1;
}
