// DeiT's distillation loss (deit's losses.py, DistillationLoss): the student learns from the
// class labels through its class head and from a teacher's predictions through its distillation
// head (or, for a model without one, through its class head: see apps/README.md):
//
//   loss = (1 - alpha) * base(cls_logits, labels) + alpha * distillation(kd_logits, teacher_logits)
//
//   soft: KL(softmax(teacher / tau) || softmax(student / tau)), summed over the batch and the
//         classes, times tau^2, divided by the number of logits (B * K), as deit's code computes it
//   hard: cross-entropy of the student against the teacher's top class (ties to the lower index)
//
// The teacher's logits are constants (no gradient reaches the teacher).
#pragma once

#include <string>

#include "core/tensor.h"

namespace vt::nn {

enum class DistillationType { kNone, kSoft, kHard };
DistillationType parse_distillation_type(const std::string& name);  // none, soft, hard; throws otherwise
const char* distillation_type_name(DistillationType t);

// The distillation term on (B, K) logits; the teacher's are (B, K) too. kNone is not a term.
Tensor distillation_term(const Tensor& kd_logits, const Tensor& teacher_logits, DistillationType type, float tau);

// (1 - alpha) base + alpha distillation_term(kd_logits, teacher_logits).
Tensor distillation_loss(const Tensor& base, const Tensor& kd_logits, const Tensor& teacher_logits,
                         DistillationType type, float alpha, float tau);

}  // namespace vt::nn
