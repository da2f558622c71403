// The attention kinds, one entry each: everything the rest of the program knows about a kind.
// The model's dispatch, the command line's choices and help texts, the steps the op trace records
// (which hwmodel lowers without a list of kinds), the training schedule and the accelerator a
// kind is estimated on all come from this table (attention_registry.cpp).
//
//   const AttentionKindSpec& k = attention_kind("taylor");  // throws naming the registered kinds
//   for (const AttentionKindSpec& k : attention_kinds()) ...
//
// Adding a kind takes its kernel file (forward, backward, its step list), one entry in
// attention_registry.cpp, a lowering in hwmodel/lower.cpp for any step primitive that is new, and
// its tests (vit/README.md, "Adding an attention kind").
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/trace.h"
#include "vit/attention.h"

namespace vt::vit {

namespace detail {
class AttentionKernel;
}

// How a kind with a sparse residual (vitality) lowers its weight over training.
struct ResidualAnneal {
  bool cosine = true;  // false: the weight stays 1 throughout
  double end = 1.0;    // the fraction of training at which the weight reaches 0
};

// The dimensions of one traced attention call, and its masks for the sparse kinds.
struct StepDims {
  int64_t heads = 1, n = 0, d = 0;
  const std::vector<CsrMask>* masks = nullptr;  // one per head (sparse kinds); null: every pair kept
};

struct AttentionKindSpec {
  const char* name;     // the --attn value
  const char* summary;  // one line for --help and listings
  bool uses_mask;       // predicts SANGER's mask: --sparse-threshold applies, density is reported
  // Evaluation and deployment run this kind instead (vitality drops its sparse part: "taylor");
  // null: the kind itself.
  const char* inference_kind;
  const char* accelerator;  // the shipped hwmodel config that runs its inference kind
  // Floats a training step keeps per head for backward beyond q, k, v and z (memory estimate).
  double (*saved_floats_per_head)(int64_t n, int64_t d);
  // The weight of the sparse residual at `progress` in [0, 1] (0: the first training step, 1:
  // the last); null for kinds without one.
  float (*residual_weight)(double progress, const ResidualAnneal& anneal);
  // The kernel (attention_kernel.h); `opt.residual_weight` is the residual's current weight.
  std::shared_ptr<detail::AttentionKernel> (*make_kernel)(const MaskOptions& opt, SparseStats* stats);
  // The steps one forward records in the trace, in order (core/trace.h).
  std::vector<TraceRecord> (*steps)(const StepDims& dims);
  // One head's n x n weights W (Z = W V) for contiguous q, k of shape (n, d), formed explicitly;
  // the masked kinds also return their mask (attention_weights.h).
  Tensor (*weights)(const Tensor& q, const Tensor& k, const MaskOptions& opt, CsrMask* mask);

  const AttentionKindSpec& deployed() const;  // the inference kind's entry (itself when null)
};

const std::vector<AttentionKindSpec>& attention_kinds();
const AttentionKindSpec& attention_kind(const std::string& name);  // throws naming the kinds
std::vector<std::string> attention_kind_names();
// "softmax|taylor|sparse|vitality" with `sep`.
std::string attention_kind_list(const std::string& sep);

}  // namespace vt::vit
