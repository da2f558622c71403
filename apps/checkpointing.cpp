// Model cards and the contents of the two checkpoint files.
#include "apps/checkpointing.h"

#include <cstdio>
#include <cstring>

#include "core/rng.h"

namespace vt::apps {

Json model_card(const vit::DeitConfig& c, const data::TransformConfig& t, const std::vector<std::string>& classes) {
  Json j = Json::object();
  j.set("model", c.name);
  j.set("img_size", c.img_size);
  j.set("patch", c.patch);
  j.set("in_chans", c.in_chans);
  j.set("embed_dim", c.embed_dim);
  j.set("depth", c.depth);
  j.set("heads", c.heads);
  j.set("mlp_ratio", c.mlp_ratio);
  j.set("num_classes", c.num_classes);
  j.set("distilled", c.distilled);
  j.set("attn", c.attn);
  j.set("sparse_threshold", static_cast<double>(c.mask.threshold));
  Json mean = Json::array(), std = Json::array();
  for (int i = 0; i < 3; ++i) {
    mean.push(static_cast<double>(t.mean[i]));
    std.push(static_cast<double>(t.std[i]));
  }
  j.set("mean", mean);
  j.set("std", std);
  j.set("crop_ratio", t.crop_ratio);
  j.set("interpolation", t.eval_interpolation == data::Interpolation::kBicubic ? "bicubic" : "bilinear");
  Json names = Json::array();
  for (const std::string& n : classes) names.push(n);
  j.set("classes", names);
  return j;
}

vit::DeitConfig config_from_card(const Json& j) {
  vit::DeitConfig c;
  auto need = [&](const char* k) -> const Json& {
    const Json* v = j.find(k);
    VT_CHECK(v, "checkpoint model card: missing '", k, "'");
    return *v;
  };
  c.name = need("model").as_string("model");
  c.img_size = need("img_size").as_int("img_size");
  c.patch = need("patch").as_int("patch");
  c.in_chans = need("in_chans").as_int("in_chans");
  c.embed_dim = need("embed_dim").as_int("embed_dim");
  c.depth = need("depth").as_int("depth");
  c.heads = need("heads").as_int("heads");
  c.mlp_ratio = need("mlp_ratio").as_double("mlp_ratio");
  c.num_classes = need("num_classes").as_int("num_classes");
  if (const Json* d = j.find("distilled")) c.distilled = d->as_bool("distilled");
  c.attn = vit::attention_kind(need("attn").as_string("attn")).name;
  c.mask.threshold = static_cast<float>(need("sparse_threshold").as_double("sparse_threshold"));
  return c;
}

data::TransformConfig transform_from_card(const Json& j) {
  data::TransformConfig t;
  const vit::DeitConfig c = config_from_card(j);
  t.input_size = static_cast<int>(c.img_size);
  t.in_chans = static_cast<int>(c.in_chans);
  if (const Json* m = j.find("mean"))
    for (int i = 0; i < 3; ++i) t.mean[i] = static_cast<float>(m->items("mean").at(i).as_double());
  if (const Json* s = j.find("std"))
    for (int i = 0; i < 3; ++i) t.std[i] = static_cast<float>(s->items("std").at(i).as_double());
  if (const Json* r = j.find("crop_ratio")) t.crop_ratio = r->as_double("crop_ratio");
  if (const Json* ip = j.find("interpolation")) t.eval_interpolation = data::parse_interpolation(ip->as_string());
  return t;
}

std::vector<std::string> classes_from_card(const Json& j) {
  std::vector<std::string> out;
  if (const Json* c = j.find("classes"))
    for (const Json& n : c->items("classes")) out.push_back(n.as_string("class name"));
  return out;
}

void save_training_checkpoint(const std::string& path, const SaveInputs& in) {
  std::map<std::string, std::string> wmeta, smeta;
  wmeta["vitality_model"] = model_card(in.model.cfg, transform_config(in.args), in.classes).dump();
  nn::Parameters state = in.opt.state();
  if (in.ema)
    for (const nn::NamedTensor& t : in.ema->shadow()) state.push_back({"model_ema." + t.name, t.tensor});
  const Progress& p = in.progress;
  smeta["epoch"] = std::to_string(p.epoch);
  smeta["step_in_epoch"] = std::to_string(p.step_in_epoch);
  smeta["global_step"] = std::to_string(p.global_step);
  smeta["optimizer_steps"] = std::to_string(in.opt.steps());
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", p.loss_sum);
  smeta["loss_sum"] = buf;
  std::snprintf(buf, sizeof buf, "%.17g", p.lr_sum);
  smeta["lr_sum"] = buf;
  std::snprintf(buf, sizeof buf, "%.17g", p.max_accuracy);
  smeta["max_accuracy"] = buf;
  Json density = Json::array();
  for (const auto& block : p.density_sum) {
    Json heads = Json::array();
    for (double v : block) heads.push(v);
    density.push(heads);
  }
  smeta["density_sum"] = density.dump();
  smeta["masked_steps"] = std::to_string(p.masked_steps);
  smeta["args"] = settings_json(in.args).dump();
  smeta["optimizer"] = in.args.opt;
  smeta["world_size"] = std::to_string(in.args.world_size);
  smeta["format_version"] = "1";
  nn::save_checkpoint(path, in.model.parameters(), state, wmeta, smeta);
}

Resumed resume_training(const std::string& path, vit::Deit& model, nn::Optimizer& opt, nn::ModelEma* ema, Progress& p) {
  nn::LoadedCheckpoint c = nn::load_checkpoint(path);
  if (!c.recovered.empty()) std::fprintf(stderr, "%s\n", c.recovered.c_str());
  nn::load_into(model.parameters(), c.weights, /*strict=*/true);
  Resumed r;
  if (!c.state) return r;
  r.with_state = true;
  const nn::SafetensorsFile& s = *c.state;
  auto meta = [&](const char* k) -> const std::string& {
    auto it = s.metadata.find(k);
    VT_CHECK(it != s.metadata.end(), nn::state_path_for(path), ": missing '", k, "' in the metadata");
    return it->second;
  };
  opt.load_state(s.tensors);
  opt.set_steps(std::stoll(meta("optimizer_steps")));
  if (ema) {
    for (nn::NamedTensor& t : ema->shadow()) {
      const Tensor* src = s.find("model_ema." + t.name);
      VT_CHECK(src && src->shape() == t.tensor.shape(), nn::state_path_for(path), ": no model_ema tensor for ", t.name,
               " (was the run trained without --model-ema?)");
      std::memcpy(t.tensor.data(), src->data(), sizeof(float) * src->numel());
    }
  }
  p.epoch = std::stoll(meta("epoch"));
  p.step_in_epoch = std::stoll(meta("step_in_epoch"));
  p.global_step = std::stoll(meta("global_step"));
  p.loss_sum = std::stod(meta("loss_sum"));
  p.lr_sum = std::stod(meta("lr_sum"));
  p.max_accuracy = std::stod(meta("max_accuracy"));
  p.density_sum.clear();
  p.masked_steps = 0;
  if (s.metadata.count("density_sum")) {  // absent in checkpoints of runs without mask statistics
    const Json sums = Json::parse(meta("density_sum"));
    for (const Json& block : sums.items("density_sum")) {
      p.density_sum.emplace_back();
      for (const Json& v : block.items("density_sum")) p.density_sum.back().push_back(v.as_double("density_sum"));
    }
    p.masked_steps = std::stoll(meta("masked_steps"));
  }
  auto it = s.metadata.find("world_size");
  r.world_size = it == s.metadata.end() ? 1 : std::stoll(it->second);
  r.args = Json::parse(meta("args"));
  return r;
}

LoadedModel load_model(const std::string& path) {
  nn::SafetensorsFile f = nn::load_safetensors(path);
  auto it = f.metadata.find("vitality_model");
  VT_CHECK(it != f.metadata.end(), path,
           ": no 'vitality_model' metadata (not written by vitality train?); "
           "pass --model and the data flags to build the model by hand");
  LoadedModel m;
  m.card = Json::parse(it->second);
  m.model = std::make_unique<vit::Deit>(config_from_card(m.card));
  nn::load_into(m.model->parameters(), f, /*strict=*/true);
  m.transform = transform_from_card(m.card);
  m.classes = classes_from_card(m.card);
  return m;
}

LoadedModel load_model(const std::string& path, const std::string& model_name, const std::string& attn) {
  nn::SafetensorsFile f = nn::load_safetensors(path);
  LoadedModel m;
  if (f.metadata.count("vitality_model")) {
    m = load_model(path);
  } else {
    VT_CHECK(!model_name.empty(), path, ": no model card in the file; name the architecture with --model");
    vit::DeitConfig c = vit::deit_config(model_name);
    const Tensor* head = f.find("head.weight");
    VT_CHECK(head && head->dim() == 2, path, ": no head.weight to read the class count from");
    c.num_classes = head->size(0);
    m.model = std::make_unique<vit::Deit>(c);
    nn::load_into(m.model->parameters(), f, /*strict=*/true);
    m.transform.input_size = static_cast<int>(c.img_size);
    for (int64_t i = 0; i < c.num_classes; ++i) m.classes.push_back(std::to_string(i));
  }
  if (!attn.empty()) m.model->set_attention(attn);
  return m;
}

std::string describe_model(const std::string& path, const LoadedModel& m) {
  const data::TransformConfig& t = m.transform;
  const bool sparse_kept = !m.model->blocks.empty() && m.model->blocks[0].attn.eval_sparse;
  const char* evaluated = sparse_kept ? m.model->cfg.attn.c_str() : m.model->attention().deployed().name;
  const char* interpolation = t.eval_interpolation == data::Interpolation::kBicubic ? "bicubic" : "bilinear";
  if (t.small_input())  // data/transforms.cpp, eval_image: small images are only resized to the input size
    return str_printf("%s: %s attention (evaluated as %s), %d px (images resized to it, %s; no crop at 32 px or less)",
                      path.c_str(), m.model->cfg.attn.c_str(), evaluated, t.input_size, interpolation);
  return str_printf("%s: %s attention (evaluated as %s), %d px, resize %d px then center crop (ratio %g, %s)",
                    path.c_str(), m.model->cfg.attn.c_str(), evaluated, t.input_size,
                    static_cast<int>(std::floor(t.input_size / t.crop_ratio)), t.crop_ratio, interpolation);
}

}  // namespace vt::apps
