// The four attention kinds (their math: vit/README.md), as differentiable ops on per-head tensors.
//
// Legend: B batch, H heads, n tokens, d head dim, s = 1/sqrt(d).
// Every kind takes q, k, v of shape (B, H, n, d) (contiguous) and returns Z of shape (B, H, n, d).
//
// (attention_registry.h lists the kinds; attention.cpp runs every kernel on strided head views:
// attention_kernel.h)
//   attention_softmax   Z = softmax(s Q K^T) V                                 (attention_softmax.cpp)
//   attention_taylor    ViTALiTy's Algorithm 1, six numbered steps, O(n d^2)   (attention_taylor.cpp)
//   attention_sparse    SANGER: 4-bit predicted mask, softmax on kept entries  (attention_sparse.cpp)
//   attention_vitality  Taylor low-rank part + exp residual on the mask        (attention_vitality.cpp)
#pragma once

#include <string>
#include <vector>

#include "core/tensor.h"

namespace vt::vit {

struct AttentionKindSpec;  // attention_registry.h

// How the sparse mask is predicted (sparse and vitality kinds).
struct MaskOptions {
  float threshold = 0.002f;  // keep pairs whose predicted probability exceeds this
  bool keep_row_max = true;  // always keep each row's largest predicted score (no empty row)
  // vitality only: the weight lambda of the higher-order residual (1 = the formula of
  // vit/README.md, 0 = Taylor attention); training anneals it to 0 so that it ends on the
  // deployed model.
  float residual_weight = 1.f;
};

// A row-compressed mask for one head: the kept columns of row i are col[row_ptr[i] .. row_ptr[i+1]).
struct CsrMask {
  std::vector<int32_t> row_ptr;  // n + 1
  std::vector<int32_t> col;      // nnz
  int64_t nnz() const { return static_cast<int64_t>(col.size()); }
};

// Kept fraction per head (averaged over the batch) and per-row counts of the first batch entry,
// filled by the sparse kinds for logs and for the hardware model.
struct SparseStats {
  std::vector<double> density;                // (H,)
  std::vector<std::vector<int32_t>> row_nnz;  // (H, n), batch entry 0
};

Tensor attention_softmax(const Tensor& q, const Tensor& k, const Tensor& v);

// Algorithm 1 with its own backward; never forms an n x n matrix.
Tensor attention_taylor(const Tensor& q, const Tensor& k, const Tensor& v);

// SANGER's mask prediction for one head: q, k (n, d; rows ldq / ldk apart) fake-quantised to 4-bit
// symmetric integers (scale = max|x| / 7 over the head's matrix), P = softmax(s Q~ K~^T), keep
// P > threshold.
CsrMask predict_mask(const float* q, int64_t ldq, const float* k, int64_t ldk, int64_t n, int64_t d,
                     const MaskOptions& opt);

Tensor attention_sparse(const Tensor& q, const Tensor& k, const Tensor& v, const MaskOptions& opt,
                        SparseStats* stats = nullptr);

// Training form of ViTALiTy attention (the sparse part kept); see attention_vitality.cpp.
Tensor attention_vitality(const Tensor& q, const Tensor& k, const Tensor& v, const MaskOptions& opt,
                          SparseStats* stats = nullptr);

// What the model calls: any kind on the qkv projection's output (B, n, 3D), q, k, v read in place
// (head h of q is columns h*d .. h*d+d of the first D), returning (B, n, D) ready for the output
// projection. The same kernels as above, without the permutes. `stats` is cleared, then filled
// when the kernel predicted masks.
Tensor attention_packed(const Tensor& qkv, int64_t heads, const AttentionKindSpec& kind, const MaskOptions& opt,
                        SparseStats* stats = nullptr);

}  // namespace vt::vit
