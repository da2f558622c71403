// DeiT's distillation loss (distillation.h).
#include "nn/distillation.h"

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops.h"

namespace vt::nn {

DistillationType parse_distillation_type(const std::string& name) {
  if (name == "none") return DistillationType::kNone;
  if (name == "soft") return DistillationType::kSoft;
  if (name == "hard") return DistillationType::kHard;
  throw Error(str_cat("distillation type '", name, "' is not one of none, soft, hard"));
}

const char* distillation_type_name(DistillationType t) {
  switch (t) {
    case DistillationType::kNone: return "none";
    case DistillationType::kSoft: return "soft";
    case DistillationType::kHard: return "hard";
  }
  return "?";
}

Tensor distillation_term(const Tensor& kd, const Tensor& teacher, DistillationType type, float tau) {
  VT_CHECK(kd.dim() == 2 && teacher.shape() == kd.shape(), "distillation: student logits ", shape_str(kd.shape()),
           " and teacher logits ", shape_str(teacher.shape()), " must both be (batch, classes)");
  VT_CHECK(type != DistillationType::kNone, "distillation: no term for type 'none'");
  if (type == DistillationType::kHard) {
    const int64_t B = teacher.size(0), K = teacher.size(1);
    std::vector<int64_t> top(B);
    for (int64_t r = 0; r < B; ++r) {
      const float* row = teacher.data() + r * K;
      top[r] = std::max_element(row, row + K) - row;  // the first of equal maxima, as torch.argmax
    }
    return cross_entropy(kd, top);
  }
  VT_CHECK(tau > 0, "distillation: temperature ", tau, " must be positive");
  Tensor log_p_teacher;
  {
    NoGradGuard no_grad;
    log_p_teacher = log_softmax(teacher * (1.f / tau));
  }
  const Tensor log_p_student = log_softmax(kd * (1.f / tau));
  // F.kl_div(log_p_student, log_p_teacher, reduction='sum', log_target=True) * tau^2 / numel
  const Tensor kl = sum(exp(log_p_teacher) * (log_p_teacher - log_p_student));
  return kl * (tau * tau / static_cast<float>(kd.numel()));
}

Tensor distillation_loss(const Tensor& base, const Tensor& kd, const Tensor& teacher, DistillationType type,
                         float alpha, float tau) {
  VT_CHECK(alpha >= 0 && alpha <= 1, "distillation: alpha ", alpha, " must lie in [0, 1]");
  if (type == DistillationType::kNone) return base;
  return base * (1 - alpha) + distillation_term(kd, teacher, type, tau) * alpha;
}

}  // namespace vt::nn
