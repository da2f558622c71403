// `vitality inspect FILE.safetensors`: every tensor (name, dtype after loading, shape, element
// count), the parameter count and the metadata. `vitality inspect --model NAME` prints the same
// table for a freshly built model instead, so the two can be compared name by name.
#include <cstdio>
#include <string>
#include <vector>

#include "apps/args.h"
#include "apps/commands.h"
#include "nn/safetensors.h"
#include "vit/deit.h"

namespace vt::apps {

namespace {
void print_table(const nn::Parameters& tensors, const std::vector<std::string>& dtypes) {
  size_t width = 4;
  for (const nn::NamedTensor& t : tensors) width = std::max(width, t.name.size());
  std::printf("%-*s  %-5s  %-18s  %s\n", static_cast<int>(width), "name", "dtype", "shape", "elements");
  int64_t total = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const nn::NamedTensor& t = tensors[i];
    std::printf("%-*s  %-5s  %-18s  %lld\n", static_cast<int>(width), t.name.c_str(),
                i < dtypes.size() ? dtypes[i].c_str() : "F32", shape_str(t.tensor.shape()).c_str(),
                static_cast<long long>(t.tensor.numel()));
    total += t.tensor.numel();
  }
  std::printf("%zu tensors, %lld parameters\n", tensors.size(), static_cast<long long>(total));
}
}  // namespace

int run_inspect(int argc, char** argv) {
  std::vector<std::string> files;
  std::string model;
  ArgParser args("inspect", "List the tensors, parameter count and metadata of safetensors files, or of a model.");
  args.positional("FILE.safetensors", &files, "files to inspect (weights or .state files)");
  args.add("model", &model, "print the tensors of a freshly built model instead (e.g. deit_tiny_patch16_224)");
  args.value_hint("model", "NAME");
  if (!args.parse(argc, argv, 2)) return 0;
  if (files.empty() && model.empty()) throw UsageError("give a .safetensors file or --model NAME");
  if (!model.empty()) {
    vit::Deit m(vit::deit_config(model));
    std::printf("model %s\n", model.c_str());
    print_table(m.parameters(), {});
  }
  for (const std::string& path : files) {
    nn::SafetensorsFile f = nn::load_safetensors(path);
    std::printf("%s\n", path.c_str());
    print_table(f.tensors, f.dtypes);
    if (!f.metadata.empty()) {
      std::printf("metadata:\n");
      for (const auto& [k, v] : f.metadata) {
        const std::string shown =
            v.size() > 200 ? v.substr(0, 200) + "... (" + std::to_string(v.size()) + " bytes)" : v;
        std::printf("  %s = %s\n", k.c_str(), shown.c_str());
      }
    }
  }
  return 0;
}

}  // namespace vt::apps
