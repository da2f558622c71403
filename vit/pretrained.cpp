// load_pretrained: deit's --finetune rules on top of nn::load_into.
#include "vit/pretrained.h"

#include <algorithm>

namespace vt::vit {

FinetuneReport load_pretrained(Deit& model, const nn::SafetensorsFile& file) {
  FinetuneReport report;
  nn::SafetensorsFile adjusted = file;
  std::vector<std::string> skip;
  const std::pair<const char*, Tensor> heads[] = {{"head.weight", model.head.weight},
                                                  {"head.bias", model.head.bias},
                                                  {"head_dist.weight", model.head_dist.weight},
                                                  {"head_dist.bias", model.head_dist.bias}};
  for (const auto& [name, mine] : heads) {
    const Tensor* t = file.find(name);
    if (t && mine.defined() && t->shape() != mine.shape()) {
      report.messages.push_back(str_cat("Removing key ", name, " from pretrained checkpoint (shape ",
                                        shape_str(t->shape()), ", the model's head is ", shape_str(mine.shape()), ")"));
      skip.push_back(name);
    }
  }
  // A distilled model from a plain checkpoint keeps its fresh distillation token and head (and
  // the reverse ignores the file's): the patch positions carry over either way.
  const int64_t file_prefix = file.find("dist_token") ? 2 : 1, prefix = model.cfg.prefix_tokens();
  if (model.cfg.distilled && file_prefix == 1)
    for (const char* name : {"dist_token", "head_dist.weight", "head_dist.bias"}) {
      skip.push_back(name);
      report.messages.push_back(str_cat("Keeping the model's fresh ", name,
                                        " (not in a checkpoint of a model that is "
                                        "not distilled)"));
    }
  if (const Tensor* pos = file.find("pos_embed"); pos && pos->shape() != model.pos_embed.shape()) {
    VT_CHECK(pos->dim() == 3 && pos->size(2) == model.pos_embed.size(2), "pretrained pos_embed of shape ",
             shape_str(pos->shape()), " does not fit the model's ", shape_str(model.pos_embed.shape()));
    const int64_t grid = model.cfg.img_size / model.cfg.patch, D = pos->size(2);
    const Tensor grid_part = resize_pos_embed(*pos, grid, file_prefix);  // (1, file_prefix + grid^2, D)
    Tensor resized = empty(model.pos_embed.shape());
    float* dst = resized.data();
    std::copy(grid_part.data(), grid_part.data() + D, dst);  // cls
    if (prefix == 2)                                         // dist: the file's, or the model's fresh one
      std::copy((file_prefix == 2 ? grid_part.data() : model.pos_embed.data()) + D,
                (file_prefix == 2 ? grid_part.data() : model.pos_embed.data()) + 2 * D, dst + D);
    std::copy(grid_part.data() + file_prefix * D, grid_part.data() + grid_part.numel(), dst + prefix * D);
    for (nn::NamedTensor& t : adjusted.tensors)
      if (t.name == "pos_embed") t.tensor = resized;
    report.messages.push_back(str_cat("Resized pos_embed ", shape_str(pos->shape()), " -> ", shape_str(resized.shape()),
                                      " (bicubic, for ", model.cfg.img_size, "x", model.cfg.img_size, " images",
                                      file_prefix != prefix ? ", prefix tokens " : "",
                                      file_prefix != prefix ? str_cat(file_prefix, " -> ", prefix) : "", ")"));
  }
  nn::LoadReport r = nn::load_into(model.parameters(), adjusted, /*strict=*/false, skip);
  report.ignored = r.unexpected;
  return report;
}

}  // namespace vt::vit
