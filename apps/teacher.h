// A distillation teacher (deit's --teacher-path): any vitality checkpoint (its model card names
// the architecture, attention kind and preprocessing), a timm-named file with --teacher-model, or a
// model in memory (the main job's softmax run). It runs in inference mode (the kind's deployed
// form, no activations kept for backward) on the student's batch, brought to the teacher's input:
// the student's normalisation undone and the teacher's applied per channel, and the images resized
// bilinearly (align_corners = false, as F.interpolate) when the teacher was trained at another size.
#pragma once

#include <memory>
#include <string>

#include "core/tensor.h"
#include "data/transforms.h"
#include "vit/deit.h"

namespace vt::apps {

class Teacher {
 public:
  // From a file; `model_name` names the architecture of a file without a model card.
  Teacher(const std::string& path, const std::string& model_name);
  // A model in memory with the preprocessing it was trained with; `label` says where it came from.
  Teacher(std::shared_ptr<vit::Deit> model, const data::TransformConfig& transform, std::string label);

  // The teacher's logits (B, K) for a batch the student's transform made (B, C, S, S); constants.
  Tensor logits(const Tensor& student_images, const data::TransformConfig& student);

  const vit::Deit& model() const { return *model_; }
  const std::string& label() const { return label_; }
  // Of its weights: weights_fingerprint (the state file records it, a resume compares it).
  const std::string& fingerprint() const { return fingerprint_; }
  // One line: where it came from, its architecture, attention kind, input size and parameter count.
  std::string describe() const;

 private:
  std::shared_ptr<vit::Deit> model_;
  data::TransformConfig transform_;
  std::string label_, fingerprint_;
};

// (B, C, S, S) -> (B, C, size, size), bilinear with align_corners = false and no antialiasing, as
// torch.nn.functional.interpolate(mode="bilinear").
Tensor resize_bilinear(const Tensor& images, int64_t size);

// FNV-1a 64 over a model's tensors (names and float bytes), as 16 hex digits.
std::string weights_fingerprint(const vit::Deit& model);

}  // namespace vt::apps
