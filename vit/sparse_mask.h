// Internal to vit: SANGER's mask prediction for every head of a (B,H,n,d) batch, and the
// statistics the sparse kinds report.
#pragma once

#include <chrono>

#include <vector>

#include "core/tensor.h"
#include "core/trace.h"
#include "vit/attention.h"
#include "vit/attention_kernel.h"

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

// Trace records for the predictor and the sparse products: "sparse_predict", "sparse_sddmm",
// "sparse_softmax", "sparse_spmm" (kind_prefix replaces "sparse" for vitality's residual). When
// the trace times ops, the predictor's record gets `predict_seconds` and the three fused sparse
// steps share `sparse_seconds` by FLOPs.
void trace_sparse(const char* kind_prefix, const std::vector<CsrMask>& masks, const SparseStats& stats,
                  int64_t B, int64_t H, int64_t n, int64_t d, double predict_seconds = 0, double sparse_seconds = 0);

// Seconds since `t0` (for the phase times above).
inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace vt::vit::detail
