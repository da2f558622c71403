// The ops of core: every function here computes its forward, records its backward when a gradient
// is needed (core/autograd.h), and appends a record to the op trace when one is on (core/trace.h).
// Each op family lives in one file with forward and backward side by side:
//
//   ops_binary.cpp    add sub mul div pow(tensor) where masked_fill   (numpy broadcasting)
//   ops_unary.cpp     scalar arithmetic, neg exp log sqrt rsqrt pow tanh erf relu gelu, clone
//   ops_reduce.cpp    sum mean max over axes (keepdim), expand, sum_to, argmax
//   ops_matmul.cpp    matmul / batched matmul with transpose flags (cblas_sgemm), reference GEMM
//   ops_shape.cpp     reshape permute transpose concat slice index_select gather
//   ops_softmax.cpp   softmax log_softmax cross_entropy (labels + smoothing, soft targets)
//   ops_norm.cpp      layer_norm (fused forward and backward)
//   ops_dropout.cpp   dropout (seeded, counter-based mask)
//
// Letters used in shape comments: B batch, N tokens (rows), C classes, D features, M/K/N GEMM.
// Errors name the op and the shapes: "matmul: (2,3) @ (4,5): inner dimensions 3 != 4".
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/tensor.h"

namespace vt {

class Generator;

// ---- elementwise, numpy broadcasting (ops_binary.cpp) ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& base, const Tensor& exponent);
// where(cond, a, b): a where cond != 0, else b; cond carries no gradient.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
// x with `value` where mask != 0; mask must broadcast to x's shape.
Tensor masked_fill(const Tensor& x, const Tensor& mask, float value);

// ---- elementwise, one tensor (ops_unary.cpp) ----
Tensor add(const Tensor& a, float s);
Tensor mul(const Tensor& a, float s);
Tensor rsub(const Tensor& a, float s);  // s - a
Tensor rdiv(const Tensor& a, float s);  // s / a
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);  // log(0) = -inf
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor pow(const Tensor& x, float exponent);
Tensor tanh(const Tensor& x);
Tensor erf(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor gelu(const Tensor& x);  // exact: x/2 * (1 + erf(x/sqrt(2))), PyTorch's default

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator+(const Tensor& a, float s) { return add(a, s); }
inline Tensor operator+(float s, const Tensor& a) { return add(a, s); }
inline Tensor operator-(const Tensor& a, float s) { return add(a, -s); }
inline Tensor operator-(float s, const Tensor& a) { return rsub(a, s); }
inline Tensor operator*(const Tensor& a, float s) { return mul(a, s); }
inline Tensor operator*(float s, const Tensor& a) { return mul(a, s); }
inline Tensor operator/(const Tensor& a, float s) { return mul(a, 1.0f / s); }
inline Tensor operator/(float s, const Tensor& a) { return rdiv(a, s); }
inline Tensor operator-(const Tensor& x) { return neg(x); }

// ---- reductions (ops_reduce.cpp); an empty axis list means all axes ----
Tensor sum(const Tensor& x, std::vector<int64_t> axes = {}, bool keepdim = false);
Tensor mean(const Tensor& x, std::vector<int64_t> axes = {}, bool keepdim = false);
// Maximum over axes. Gradient: split evenly between tied maxima (torch.amax's rule).
Tensor max(const Tensor& x, std::vector<int64_t> axes = {}, bool keepdim = false);
// x broadcast to `shape` as a new contiguous tensor; its backward is sum_to.
Tensor expand(const Tensor& x, const Shape& shape);
// Sums a broadcast result back to `shape` (the backward of broadcasting).
Tensor sum_to(const Tensor& x, const Shape& shape);
// Index of the largest entry along the last axis, per row; not differentiable.
std::vector<int64_t> argmax(const Tensor& x);

// ---- matrix products (ops_matmul.cpp) ----
// a: (..., M, K), or (..., K, M) with trans_a;  b: (K, N), or (N, K) with trans_b, or batched
// (..., K, N) with the same leading dims as a. A 2-D operand is shared by every batch entry.
// Result: (..., M, N).
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);
// The same product with three plain loops and no BLAS, no autograd: the reference for tests.
Tensor matmul_reference(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);
// Row-major C = alpha * op(A) op(B) + beta * C through cblas_sgemm (for kernels in other folders).
// Inside an OpenMP parallel region only when blas_serial_in_parallel_region().
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc);
// gemm, then epilogue(first_row, rows) on each block of rows of C right after that block is
// computed, on the thread that computed it, while it is still in cache (bias, activation). The
// blocks cover the M rows of C once, in an unspecified order and partition.
void gemm_then(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
               const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
               const std::function<void(int64_t, int64_t)>& epilogue);
// True when a BLAS call made inside an OpenMP parallel region runs on the calling thread alone:
// OpenBLAS's OpenMP build checks omp_in_parallel() and then does not fork (its single-threaded
// build never does). Then many independent products (attention heads) can be spread over the
// threads, one BLAS call per thread, with no oversubscription. False for the pthread build.
bool blas_serial_in_parallel_region();
// The same product with plain vectorised loops on the calling thread, for the many tiny per-head
// products of attention on small images: safe inside a parallel region (BLAS is not).
void gemm_serial(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                 const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// ---- layout (ops_shape.cpp) ----
Tensor reshape(const Tensor& x, Shape shape);                       // a view; same as x.reshape(shape)
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);  // contiguous copy
Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1);      // contiguous copy
Tensor concat(const std::vector<Tensor>& xs, int64_t axis);
// x[..., start:end, ...] along `axis`, Python rules (negative indices count from the end, bounds
// clamp). A view when the range is contiguous in memory (e.g. along the first axis).
Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t end);
// Rows of x along `axis` at the given indices (repeats allowed).
Tensor index_select(const Tensor& x, int64_t axis, const std::vector<int64_t>& indices);
// torch.gather: out[i][j][k] = x[i][index[i][j][k]][k] for axis 1; index has the shape
// `index_shape`, equal to x's shape except along `axis`.
Tensor gather(const Tensor& x, int64_t axis, const std::vector<int64_t>& index, const Shape& index_shape);

// ---- softmax and losses (ops_softmax.cpp), over the last axis, row max subtracted ----
Tensor softmax(const Tensor& x);
Tensor log_softmax(const Tensor& x);
// Mean over rows of (1 - smoothing) * -log p[label] + smoothing * mean_c(-log p[c]).
// logits: (..., C), labels: one class index per row.
Tensor cross_entropy(const Tensor& logits, const std::vector<int64_t>& labels, float smoothing = 0.f);
// Mean over rows of sum_c -targets[c] * log p[c]; targets: same shape as logits (mixup/cutmix).
Tensor cross_entropy_soft(const Tensor& logits, const Tensor& targets);

// ---- normalisation (ops_norm.cpp) ----
// Over the last axis D: (x - mean) / sqrt(var + eps) * weight + bias; weight and bias (D,) may
// be undefined tensors (no affine part).
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps = 1e-5f);

// ---- randomness (ops_dropout.cpp) ----
// Zeroes each element with probability p and scales the rest by 1/(1-p) when training; identity
// otherwise. The mask comes from one draw of `gen` (default generator when null), so a seed fixes it.
Tensor dropout(const Tensor& x, float p, bool training, Generator* gen = nullptr);

}  // namespace vt
