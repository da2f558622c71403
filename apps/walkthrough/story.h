// The walkthrough's chapters (apps/walkthrough/README.md) print their story through a Story: the
// steps, the question a reader should answer before looking, the numbers ("fact: name = value"
// lines, which tests/apps/test_walkthrough.cpp and the chapter pages quote), and the pictures
// written to the output folder.
#pragma once

#include <string>
#include <vector>

namespace vt::apps::walkthrough {

class Story {
 public:
  explicit Story(std::string out_dir) : out_dir_(std::move(out_dir)) {}
  void step(const std::string& title);                           // "== step 2: title"
  void say(const std::string& line);                             // one line of the story
  void predict(const std::string& question);                     // "predict: ..." before the answer
  void fact(const std::string& name, const std::string& value);  // "fact: name = value"
  // Writes `svg` to the output folder as `file` (atomically) and says so.
  void picture(const std::string& file, const std::string& svg, const std::string& what);

 private:
  std::string out_dir_;
  int steps_ = 0;
};

struct Chapter {
  int number;
  const char* page;  // apps/walkthrough/<page>.md
  const char* title;
  void (*run)(Story&);
};
const std::vector<Chapter>& chapters();

void chapter_tensors(Story& s);
void chapter_autograd(Story& s);
void chapter_op(Story& s);
void chapter_training(Story& s);
void chapter_softmax(Story& s);
void chapter_taylor(Story& s);
void chapter_sparse(Story& s);
void chapter_vit(Story& s);
void chapter_accelerator(Story& s);

}  // namespace vt::apps::walkthrough
