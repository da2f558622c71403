// Story and the chapter list (story.h), and `vitality walkthrough [N]`.
#include "apps/walkthrough/story.h"

#include <cstdio>

#include "apps/args.h"
#include "apps/commands.h"
#include "apps/preflight.h"
#include "core/fileio.h"
#include "core/threads.h"

namespace vt::apps {
namespace walkthrough {

void Story::step(const std::string& title) { std::printf("\n== step %d: %s\n", ++steps_, title.c_str()); }
void Story::say(const std::string& line) { std::printf("%s\n", line.c_str()); }
void Story::predict(const std::string& question) { std::printf("predict: %s\n", question.c_str()); }
void Story::fact(const std::string& name, const std::string& value) {
  std::printf("fact: %s = %s\n", name.c_str(), value.c_str());
}
void Story::picture(const std::string& file, const std::string& svg, const std::string& what) {
  write_file_atomic(out_dir_ + "/" + file, svg);
  std::printf("picture: %s/%s (%s)\n", out_dir_.c_str(), file.c_str(), what.c_str());
}

const std::vector<Chapter>& chapters() {
  static const std::vector<Chapter> list = {
      {1, "01-tensors", "Tensors: storage, shape, views, broadcasting", chapter_tensors},
      {2, "02-autograd", "Autograd by hand, then on the tape", chapter_autograd},
      {3, "03-an-op", "Writing an op: forward, backward, gradient check", chapter_op},
      {4, "04-training", "Training a network: spirals, SGD against AdamW", chapter_training},
      {5, "05-softmax-attention", "Softmax attention for one head, step by step", chapter_softmax},
      {6, "06-taylor-attention", "ViTALiTy's linear Taylor attention (Algorithm 1)", chapter_taylor},
      {7, "07-sparse-and-vitality", "SANGER's sparse attention and ViTALiTy's training", chapter_sparse},
      {8, "08-vision-transformer", "A vision transformer on Fashion-MNIST, and what it attends to", chapter_vit},
      {9, "09-accelerator", "From operations to accelerator cycles", chapter_accelerator},
  };
  return list;
}

}  // namespace walkthrough

int run_walkthrough(int argc, char** argv) {
  std::vector<std::string> which;
  std::string out = "walkthrough";
  int threads = 0;
  ArgParser p("walkthrough",
              "From a tensor to a trained vision transformer and its accelerator, in chapters that run. Without a "
              "chapter number: the list. The pages: apps/walkthrough/README.md.");
  p.positional("N", &which, "the chapter to run");
  p.add("out", &out, "folder for the chapter's pictures");
  p.value_hint("out", "DIR");
  p.add("threads", &threads, "compute threads");
  p.default_text("threads", "all cores");
  if (!p.parse(argc, argv, 2)) return 0;
  const auto& list = walkthrough::chapters();
  if (which.empty()) {
    std::printf("The walkthrough: run `vitality walkthrough N`; read apps/walkthrough/<page>.md beside it.\n\n");
    for (const walkthrough::Chapter& c : list) std::printf("  %d  %-24s %s\n", c.number, c.page, c.title);
    return 0;
  }
  if (which.size() > 1) throw UsageError("give one chapter number");
  const walkthrough::Chapter* chapter = nullptr;
  for (const walkthrough::Chapter& c : list)
    if (which[0] == std::to_string(c.number)) chapter = &c;
  if (!chapter) throw UsageError(str_cat("no chapter '", which[0], "' (1 to ", list.size(), ")"));
  require_writable_dir("out", out);
  set_num_threads(threads > 0 ? threads : hardware_threads());
  std::printf("Chapter %d: %s (page: apps/walkthrough/%s.md)\n", chapter->number, chapter->title, chapter->page);
  walkthrough::Story story(out);
  chapter->run(story);
  std::printf("\nend of chapter %d\n", chapter->number);
  return 0;
}

}  // namespace vt::apps
