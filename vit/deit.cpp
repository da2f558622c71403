// DeiT: configuration registry, modules, timm's initialisation and the forward pass.
#include "vit/deit.h"

#include <cmath>

#include "core/ops.h"
#include "core/rng.h"
#include "core/trace.h"
#include "nn/init.h"

namespace vt::vit {

void DeitConfig::validate() const {
  VT_CHECK(img_size > 0 && patch > 0 && in_chans > 0, "model ", name,
           ": image size, patch and channels must be positive");
  VT_CHECK(img_size >= patch, "model ", name, ": patch ", patch, " is larger than the image (", img_size, ")");
  VT_CHECK(embed_dim > 0 && depth >= 0 && heads > 0 && num_classes > 0, "model ", name,
           ": embed dim, heads and classes must be positive and depth non-negative");
  VT_CHECK(embed_dim % heads == 0, "model ", name, ": embed dim ", embed_dim, " is not divisible by ", heads, " heads");
  VT_CHECK(mlp_ratio > 0, "model ", name, ": mlp ratio must be positive");
  VT_CHECK(drop >= 0 && drop < 1 && drop_path >= 0 && drop_path < 1, "model ", name, ": drop rates must lie in [0, 1)");
  attention_kind(attn);  // throws naming the registered kinds
}

DeitConfig deit_config(const std::string& name) {
  const std::string suffix = "_distilled_patch16_224";
  if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
    DeitConfig c = deit_config(name.substr(0, name.size() - suffix.size()) + "_patch16_224");  // same sizes
    c.name = name;
    c.distilled = true;
    return c;
  }
  DeitConfig c;
  c.name = name;
  if (name == "deit_tiny_patch16_224") {
    c.embed_dim = 192;
    c.heads = 3;
  } else if (name == "deit_small_patch16_224") {
    c.embed_dim = 384;
    c.heads = 6;
  } else if (name == "deit_base_patch16_224") {
    c.embed_dim = 768;
    c.heads = 12;
  } else {
    std::string known;
    for (const std::string& n : deit_model_names()) known += (known.empty() ? "" : ", ") + n;
    throw Error(str_cat("unknown model '", name, "' (", known, ", or a custom configuration)"));
  }
  return c;
}

std::vector<std::string> deit_model_names() {
  return {"deit_tiny_patch16_224",           "deit_small_patch16_224",           "deit_base_patch16_224",
          "deit_tiny_distilled_patch16_224", "deit_small_distilled_patch16_224", "deit_base_distilled_patch16_224"};
}

// ---------------------------------------------------------------- attention
Tensor Attention::forward(const Tensor& x, const nn::Context& ctx, const Tensor& residual) {
  Tensor qkv_out;
  {
    TraceScope s("qkv");
    qkv_out = qkv.forward(x);  // (B, n, 3D): q, k, v side by side, read in place by the kernels
  }
  if (keep_qkv) *keep_qkv = qkv_out;
  // Evaluation runs the kind's deployed form (ViTALiTy drops its sparse residual: Taylor only).
  const AttentionKindSpec& run = (!ctx.training && !eval_sparse) ? kind->deployed() : *kind;
  Tensor z;  // (B, n, D)
  {
    TraceScope s("core");
    z = attention_packed(qkv_out, heads, run, mask, &last_stats);
  }
  TraceScope s("proj");
  if (residual.defined()) {
    VT_CHECK(proj_drop.identity(ctx), "Attention: a fused residual needs proj_drop to be off");
    return nn::linear(z, proj.weight, proj.bias, nn::Activation::kNone, residual);
  }
  return proj_drop.forward(proj.forward(z), ctx);
}

void Attention::parameters(nn::Parameters& out, const std::string& prefix) const {
  qkv.parameters(out, nn::join_name(prefix, "qkv"));
  proj.parameters(out, nn::join_name(prefix, "proj"));
}

// ---------------------------------------------------------------- block
Tensor Block::forward(const Tensor& x, const nn::Context& ctx) {
  Tensor h;
  {
    TraceScope s("norm1");
    h = norm1.forward(x);
  }
  // The skip connections are added in the epilogue of the GEMM before them (proj, fc2) whenever
  // the dropout and stochastic depth between are the identity (inference; training without them).
  Tensor y;
  {
    TraceScope s("attn");
    if (drop_path.identity(ctx) && attn.proj_drop.identity(ctx)) {
      y = attn.forward(h, ctx, x);  // x + attn(norm1(x))
    } else {
      h = attn.forward(h, ctx);
      y = x + drop_path.forward(h, ctx);
    }
  }
  {
    TraceScope s("norm2");
    h = norm2.forward(y);
  }
  TraceScope s("mlp");
  if (drop_path.identity(ctx) && mlp.drop.identity(ctx)) return mlp.forward(h, ctx, y);  // y + mlp(norm2(y))
  h = mlp.forward(h, ctx);
  return y + drop_path.forward(h, ctx);
}

void Block::parameters(nn::Parameters& out, const std::string& prefix) const {
  norm1.parameters(out, nn::join_name(prefix, "norm1"));
  attn.parameters(out, nn::join_name(prefix, "attn"));
  norm2.parameters(out, nn::join_name(prefix, "norm2"));
  mlp.parameters(out, nn::join_name(prefix, "mlp"));
}

// ---------------------------------------------------------------- model
Deit::Deit(const DeitConfig& c) : cfg(c) {
  cfg.validate();
  const int64_t D = cfg.embed_dim;
  patch_embed = nn::PatchEmbed(cfg.img_size, cfg.patch, cfg.in_chans, D);
  cls_token = nn::parameter({1, 1, D});
  if (cfg.distilled) dist_token = nn::parameter({1, 1, D});
  pos_embed = nn::parameter({1, cfg.tokens(), D});
  pos_drop = nn::Dropout{cfg.drop};
  const int64_t hidden = static_cast<int64_t>(D * cfg.mlp_ratio);
  for (int64_t i = 0; i < cfg.depth; ++i) {
    Block b;
    b.norm1 = nn::LayerNorm(D, cfg.ln_eps);
    b.norm2 = nn::LayerNorm(D, cfg.ln_eps);
    b.attn.qkv = nn::Linear(D, 3 * D, cfg.qkv_bias);
    b.attn.proj = nn::Linear(D, D);
    b.attn.heads = cfg.heads;
    b.attn.kind = &attention_kind(cfg.attn);
    b.attn.mask = cfg.mask;
    b.attn.eval_sparse = cfg.eval_sparse;
    b.attn.proj_drop = nn::Dropout{cfg.drop};
    // Stochastic depth rises linearly from 0 to drop_path over the blocks (timm's linspace).
    b.drop_path = nn::DropPath{cfg.depth > 1 ? cfg.drop_path * static_cast<float>(i) / static_cast<float>(cfg.depth - 1)
                                             : cfg.drop_path};
    b.mlp = nn::Mlp(D, hidden, cfg.drop);
    blocks.push_back(std::move(b));
  }
  norm = nn::LayerNorm(D, cfg.ln_eps);
  head = nn::Linear(D, cfg.num_classes);
  if (cfg.distilled) head_dist = nn::Linear(D, cfg.num_classes);
}

void Deit::init(Generator& gen) {
  // timm: trunc_normal(.02) for pos_embed and cls_token, then for every Linear weight (biases 0),
  // LayerNorm 1/0, and the patch projection keeps PyTorch's Conv2d default. Order as timm's.
  nn::init_trunc_normal(pos_embed, .02f, gen);
  nn::init_trunc_normal(cls_token, .02f, gen);
  if (cfg.distilled) nn::init_trunc_normal(dist_token, .02f, gen);  // deit's DistilledVisionTransformer
  nn::init_torch_default(patch_embed.weight, patch_embed.bias, gen);
  auto init_linear = [&](nn::Linear& l) {
    nn::init_trunc_normal(l.weight, .02f, gen);
    if (l.bias.defined()) nn::init_constant(l.bias, 0.f);
  };
  for (Block& b : blocks) {
    init_linear(b.attn.qkv);
    init_linear(b.attn.proj);
    init_linear(b.mlp.fc1);
    init_linear(b.mlp.fc2);
    for (nn::LayerNorm* ln : {&b.norm1, &b.norm2}) {
      nn::init_constant(ln->weight, 1.f);
      nn::init_constant(ln->bias, 0.f);
    }
  }
  nn::init_constant(norm.weight, 1.f);
  nn::init_constant(norm.bias, 0.f);
  init_linear(head);
  if (cfg.distilled) init_linear(head_dist);
}

Tensor Deit::forward(const Tensor& images, const nn::Context& ctx) {
  Heads h = forward_heads(images, ctx);
  if (!cfg.distilled) return h.cls;
  TraceScope s("head_mean");
  return (h.cls + h.dist) * 0.5f;  // deit's (x + x_dist) / 2
}

Deit::Heads Deit::forward_heads(const Tensor& images, const nn::Context& ctx) {
  const int64_t B = images.size(0), D = cfg.embed_dim;
  Tensor x;
  {
    TraceScope s("patch_embed");
    x = patch_embed.forward(images);  // (B, N, D)
  }
  {
    TraceScope s("pos_embed");
    std::vector<Tensor> tokens = {expand(cls_token, {B, 1, D})};  // (B, 1, D)
    if (cfg.distilled) tokens.push_back(expand(dist_token, {B, 1, D}));
    tokens.push_back(x);
    x = pos_drop.forward(concat(tokens, 1) + pos_embed, ctx);  // (B, n, D)
  }
  {
    TraceScope s("blocks");
    for (size_t i = 0; i < blocks.size(); ++i) {
      TraceScope si(static_cast<int64_t>(i));
      x = blocks[i].forward(x, ctx);
    }
  }
  {
    TraceScope s("norm");
    x = norm.forward(x);
  }
  Heads out;
  {
    TraceScope s("head");
    out.cls = head.forward(slice(x, 1, 0, 1).reshape({B, D}));  // the cls token -> (B, classes)
  }
  if (cfg.distilled) {
    TraceScope s("head_dist");
    out.dist = head_dist.forward(slice(x, 1, 1, 2).reshape({B, D}));  // the distillation token
  }
  return out;
}

nn::Parameters Deit::parameters() const {
  nn::Parameters out;
  out.push_back({"cls_token", cls_token});
  if (cfg.distilled) out.push_back({"dist_token", dist_token});
  out.push_back({"pos_embed", pos_embed});
  patch_embed.parameters(out, "patch_embed");
  for (size_t i = 0; i < blocks.size(); ++i) blocks[i].parameters(out, "blocks." + std::to_string(i));
  norm.parameters(out, "norm");
  head.parameters(out, "head");
  if (cfg.distilled) head_dist.parameters(out, "head_dist");
  return out;
}

int64_t Deit::num_parameters() const {
  int64_t n = 0;
  for (const nn::NamedTensor& p : parameters()) n += p.tensor.numel();
  return n;
}

double Deit::training_bytes_per_image() const {
  const double n = double(cfg.tokens()), D = double(cfg.embed_dim), H = double(cfg.heads), d = D / H;
  const double hidden = cfg.mlp_ratio * D;
  const double per_block = n * (10 * D + 2 * hidden) + H * attention().saved_floats_per_head(cfg.tokens(), int64_t(d));
  return 1.25 * 4.0 * (double(cfg.depth) * per_block + n * double(cfg.patch * cfg.patch * cfg.in_chans));
}

std::vector<std::vector<double>> Deit::densities() const {
  std::vector<std::vector<double>> out;
  for (const Block& b : blocks) out.push_back(b.attn.last_stats.density);
  return out;
}

void Deit::set_residual_weight(float lambda) {
  VT_CHECK(lambda >= 0.f && lambda <= 1.f, "residual weight ", lambda, " outside [0, 1]");
  for (Block& b : blocks) b.attn.mask.residual_weight = lambda;
}

const AttentionKindSpec& Deit::attention() const { return attention_kind(cfg.attn); }

void Deit::set_attention(const std::string& kind) {
  const AttentionKindSpec& k = attention_kind(kind);
  cfg.attn = kind;
  for (Block& b : blocks) b.attn.kind = &k;
}

// ---------------------------------------------------------------- pos_embed resizing
namespace {
// PyTorch's cubic convolution kernel with a = -0.75 (upsample_bicubic2d).
double cubic(double x) {
  const double a = -0.75;
  x = std::fabs(x);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}
}  // namespace

Tensor resize_pos_embed(const Tensor& pos, int64_t new_grid, int64_t prefix) {
  VT_CHECK(pos.dim() == 3 && pos.size(0) == 1, "resize_pos_embed: expected (1, ", prefix, " + g*g, D), got ",
           shape_str(pos.shape()));
  VT_CHECK(prefix >= 0 && prefix < pos.size(1), "resize_pos_embed: ", prefix, " prefix tokens of ", pos.size(1));
  const int64_t D = pos.size(2), g = static_cast<int64_t>(std::lround(std::sqrt(double(pos.size(1) - prefix))));
  VT_CHECK(g * g + prefix == pos.size(1), "resize_pos_embed: ", pos.size(1) - prefix,
           " patch positions do not form a square grid");
  VT_CHECK(new_grid >= 1, "resize_pos_embed: grid ", new_grid, " must be positive");
  Tensor out = empty({1, prefix + new_grid * new_grid, D});
  const float* src = pos.data();
  float* dst = out.data();
  std::copy(src, src + prefix * D, dst);                   // cls (and dist) tokens
  const double scale = static_cast<double>(g) / new_grid;  // align_corners = false
  for (int64_t y = 0; y < new_grid; ++y)
    for (int64_t x = 0; x < new_grid; ++x) {
      const double sy = (y + 0.5) * scale - 0.5, sx = (x + 0.5) * scale - 0.5;
      const int64_t iy = static_cast<int64_t>(std::floor(sy)), ix = static_cast<int64_t>(std::floor(sx));
      const double ty = sy - iy, tx = sx - ix;
      double wy[4], wx[4];
      for (int k = 0; k < 4; ++k) {
        wy[k] = cubic(ty - (k - 1));
        wx[k] = cubic(tx - (k - 1));
      }
      float* o = dst + (prefix + y * new_grid + x) * D;
      for (int64_t c = 0; c < D; ++c) {
        double acc = 0;
        for (int a = 0; a < 4; ++a) {
          const int64_t yy = std::min(std::max(iy + a - 1, int64_t{0}), g - 1);  // border: clamp
          for (int b = 0; b < 4; ++b) {
            const int64_t xx = std::min(std::max(ix + b - 1, int64_t{0}), g - 1);
            acc += wy[a] * wx[b] * src[(prefix + yy * g + xx) * D + c];
          }
        }
        o[c] = static_cast<float>(acc);
      }
    }
  return out;
}

}  // namespace vt::vit
