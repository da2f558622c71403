// Internal to vit: how an attention kernel describes its steps in the op trace. Each kind lists
// its steps once (`<kind>_steps` in its kernel file, reached through the registry); the kernel
// appends them to the trace after its forward, and hwmodel lowers them one by one without
// knowing the kind (core/trace.h: TraceRecord::step, step_name, operands).
//
// A step is one primitive on one head's n x d operands, times `heads`:
//   gemm          O (M x N) = A (M x K) W (K x N); operands A, then W
//   column_sum    1^T X: the sum over the rows (tokens) of a rows x cols block
//   add           rows x cols element-wise additions (a broadcast row or column added to a block)
//   divide        rows x cols divisions; attribute divisors = 1 (one shared divisor) or rows (one per row)
//   softmax_rows  row softmax of a rows x cols block
//   predict       SANGER's low-precision Q K^T, its row softmax and the threshold (the mask)
//   sddmm, sparse_softmax, spmm   the same on the mask's kept entries only (row_counts)
// Counting: 2 FLOPs per multiply-add and 1 per element otherwise; bytes are fp32 operands read
// once and results written once (what the CPU kernel moves, not what an accelerator moves).
#pragma once

#include <string>
#include <vector>

#include "core/trace.h"

namespace vt::vit::detail {

inline TraceOperand stream(const char* from) { return {from, TraceOperand::Use::kStream}; }
inline TraceOperand whole(const char* from) { return {from, TraceOperand::Use::kWhole}; }
inline TraceOperand fused(const char* from) { return {from, TraceOperand::Use::kFused}; }

// The shape every step of one traced attention call shares.
struct StepContext {
  const char* of;  // the kind's name ("taylor")
  int64_t heads = 0, n = 0, d = 0;
};

inline TraceRecord step_base(const StepContext& c, const char* id, const char* name, const char* kind,
                             std::vector<TraceOperand> operands, int64_t tokens) {
  TraceRecord r;
  r.kind = kind;
  r.step_of = c.of;
  r.step = id;
  r.step_name = name;
  r.operands = std::move(operands);
  r.inputs = {Shape{c.heads, c.n, c.d}};
  r.attrs = {{"heads", double(c.heads)}, {"n", double(c.n)}, {"d", double(c.d)}, {"tokens", double(tokens)}};
  return r;
}

// O (M x N) = A (M x K) W (K x N) per head; `tokens` rows of A stream through it.
inline TraceRecord gemm_step(const StepContext& c, const char* id, const char* name, int64_t M, int64_t N, int64_t K,
                             std::vector<TraceOperand> operands, const char* kind = "gemm") {
  TraceRecord r = step_base(c, id, name, kind, std::move(operands), M);
  const double h = double(c.heads);
  r.output = {c.heads, M, N};
  r.flops = 2 * h * M * N * K;
  r.bytes_read = 4 * h * (double(M) * K + double(K) * N);
  r.bytes_written = 4 * h * M * N;
  r.attrs["M"] = double(M);
  r.attrs["N"] = double(N);
  r.attrs["K"] = double(K);
  return r;
}

// `rows` x `cols` elements per head, one operation each, the result of shape (heads, out_rows, cols).
inline TraceRecord vector_step(const StepContext& c, const char* id, const char* name, const char* kind, int64_t rows,
                               int64_t cols, int64_t out_rows, std::vector<TraceOperand> operands, int64_t tokens) {
  TraceRecord r = step_base(c, id, name, kind, std::move(operands), tokens);
  const double h = double(c.heads);
  r.output = {c.heads, out_rows, cols};
  r.flops = h * rows * cols;
  r.bytes_read = 4 * h * rows * cols;
  r.bytes_written = 4 * h * out_rows * cols;
  r.attrs["rows"] = double(rows);
  r.attrs["cols"] = double(cols);
  return r;
}

// `rows` x `cols` divisions by one shared divisor (divisors = 1) or one per row.
inline TraceRecord divide_step(const StepContext& c, const char* id, const char* name, int64_t rows, int64_t cols,
                               bool per_row, std::vector<TraceOperand> operands, int64_t tokens) {
  TraceRecord r = vector_step(c, id, name, "divide", rows, cols, rows, std::move(operands), tokens);
  r.attrs["divisors"] = per_row ? double(rows) : 1.0;
  return r;
}

}  // namespace vt::vit::detail
