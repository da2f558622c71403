// load_pretrained: deit's --finetune rules on top of nn::load_into.
#include "vit/pretrained.h"

#include <algorithm>

namespace vt::vit {

FinetuneReport load_pretrained(Deit& model, const nn::SafetensorsFile& file) {
  FinetuneReport report;
  nn::SafetensorsFile adjusted = file;
  std::vector<std::string> skip;
  for (const char* name : {"head.weight", "head.bias"}) {
    const Tensor* t = file.find(name);
    const Tensor& mine = std::string(name) == "head.weight" ? model.head.weight : model.head.bias;
    if (t && t->shape() != mine.shape()) {
      report.messages.push_back(str_cat("Removing key ", name, " from pretrained checkpoint (shape ",
                                        shape_str(t->shape()), ", the model's head is ", shape_str(mine.shape()), ")"));
      skip.push_back(name);
    }
  }
  if (const Tensor* pos = file.find("pos_embed"); pos && pos->shape() != model.pos_embed.shape()) {
    VT_CHECK(pos->dim() == 3 && pos->size(2) == model.pos_embed.size(2), "pretrained pos_embed of shape ",
             shape_str(pos->shape()), " does not fit the model's ", shape_str(model.pos_embed.shape()));
    const int64_t grid = model.cfg.img_size / model.cfg.patch;
    Tensor resized = resize_pos_embed(*pos, grid);
    for (nn::NamedTensor& t : adjusted.tensors)
      if (t.name == "pos_embed") t.tensor = resized;
    report.messages.push_back(str_cat("Resized pos_embed ", shape_str(pos->shape()), " -> ", shape_str(resized.shape()),
                                      " (bicubic, for ", model.cfg.img_size, "x", model.cfg.img_size, " images)"));
  }
  nn::LoadReport r = nn::load_into(model.parameters(), adjusted, /*strict=*/false, skip);
  report.ignored = r.unexpected;
  return report;
}

}  // namespace vt::vit
