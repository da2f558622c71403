// Internal to vit: SANGER's mask prediction for every head of a (B,H,n,d) batch, and the
// statistics the sparse kinds report.
#pragma once

#include <chrono>

#include <vector>

#include "core/tensor.h"
#include "core/trace.h"
#include "vit/attention.h"
#include "vit/attention_kernel.h"
#include "vit/attention_steps.h"

namespace vt::vit::detail {

// One head's prediction with a chosen GEMM (gemm_serial inside parallel regions).
CsrMask predict_mask_with(const float* q, int64_t ldq, const float* k, int64_t ldk, int64_t n, int64_t d,
                          const MaskOptions& opt, GemmFn gemm_fn);

// One CsrMask per head of the views (B*H of them, head-major).
std::vector<CsrMask> predict_masks(const HeadView& q, const HeadView& k, const MaskOptions& opt);

// Density per head (mean over the batch) and the row counts of batch entry 0.
SparseStats mask_stats(const std::vector<CsrMask>& masks, int64_t B, int64_t H, int64_t n);

// The sparse kinds with a given mask per head instead of a predicted one (tests, ablations).
Tensor attention_sparse_with_masks(const Tensor& q, const Tensor& k, const Tensor& v, std::vector<CsrMask> masks,
                                   SparseStats* stats = nullptr);
Tensor attention_vitality_with_masks(const Tensor& q, const Tensor& k, const Tensor& v, std::vector<CsrMask> masks,
                                     SparseStats* stats = nullptr, float residual_weight = 1.f);
// A mask keeping every pair, or none, for each of `heads` heads of n tokens.
std::vector<CsrMask> full_masks(int64_t heads, int64_t n, bool keep_all);

// SANGER's four steps on the mask (attention_steps.h): predict, SDDMM, the exps and row sums,
// SpMM, with the kept entries per row of every head (`masks` null: every pair kept). The sparse
// kinds number them their own way: `ids` and `names` in that order; `keys` is the operand the
// keys come from ("k", or ViTALiTy's centred "1c").
struct SangerStepNames {
  const char* ids[4];
  const char* names[4];
  const char* keys;
};
std::vector<TraceRecord> sanger_steps(const StepContext& c, const std::vector<CsrMask>* masks,
                                      const SangerStepNames& s);

// The measured times of a sparse forward on its records (from index `first`, `count` of them,
// SANGER's four first): the prediction's own, and the fused sparse steps' split by FLOPs.
void trace_sanger_timing(size_t first, size_t count, double predict_seconds, double sparse_seconds);

// Seconds since `t0` (for the phase times above).
inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace vt::vit::detail
