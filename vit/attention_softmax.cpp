// Vanilla softmax attention, the baseline (DESIGN.md section 5), composed from core ops:
//   S = s Q K^T (B,H,n,n),  P = softmax(S) row-wise with the row max subtracted,  Z = P V.
// Also the attention kind registry.
#include <cmath>

#include "core/ops.h"
#include "core/trace.h"
#include "vit/attention.h"

namespace vt::vit {

AttentionKind parse_attention_kind(const std::string& name) {
  if (name == "softmax") return AttentionKind::kSoftmax;
  if (name == "taylor") return AttentionKind::kTaylor;
  if (name == "sparse") return AttentionKind::kSparse;
  if (name == "vitality") return AttentionKind::kVitality;
  throw Error(str_cat("unknown attention kind '", name, "' (softmax, taylor, sparse, vitality)"));
}

const char* attention_kind_name(AttentionKind kind) {
  switch (kind) {
    case AttentionKind::kSoftmax: return "softmax";
    case AttentionKind::kTaylor: return "taylor";
    case AttentionKind::kSparse: return "sparse";
    case AttentionKind::kVitality: return "vitality";
  }
  return "?";
}

Tensor attention_softmax(const Tensor& q, const Tensor& k, const Tensor& v) {
  VT_CHECK(q.dim() == 4 && k.shape() == q.shape() && v.shape() == q.shape(),
           "attention_softmax: q, k, v must share one (B,H,n,d) shape, got ", shape_str(q.shape()), ", ",
           shape_str(k.shape()), ", ", shape_str(v.shape()));
  const float scale = 1.0f / std::sqrt(static_cast<float>(q.size(-1)));
  Tensor scores = matmul(q, k, false, true) * scale;  // (B,H,n,n)
  Tensor probs = softmax(scores);                     // rows sum to 1
  return matmul(probs, v);                            // (B,H,n,d)
}

}  // namespace vt::vit
