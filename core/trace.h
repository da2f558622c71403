// The op trace: when a Trace is installed on this thread, every op appends one record (kind,
// scoped name such as "blocks.3.attn.qkv", input and output shapes, FLOPs, bytes read and
// written, optional wall time and op-specific attributes). The hardware model and the profiler
// read these records; they are the single source of truth for what a model computes.
//
// A fused op (an attention kernel) records one step per record instead: `step_of` names the op,
// `step` and `step_name` the step as its paper numbers it ("4a", "t_D = n sqrt(d) + Q khat_sum^T"),
// `kind` the primitive it is ("gemm", "column_sum", "divide", ...) and `operands` where each of
// its inputs comes from, so that a consumer (hwmodel) can lower the steps without knowing the op.
//
//   Trace trace;
//   { TraceSession on(trace);  TraceScope s("blocks.3");  model.forward(x); }
//   for (const TraceRecord& r : trace.records) ...
//
// With no Trace installed an op pays one thread-local pointer test; scopes pay the same.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace vt {

// One input of a step: the op's own inputs ("q", "k", "v") or an earlier step of the same op
// ("1b"), and how the step consumes it.
struct TraceOperand {
  enum class Use {
    kStream,  // row by row, as the producer emits it
    kWhole,   // all of it before the first output row (a reduction over all tokens, or all of K)
    kFused,   // row by row in the producer's own pass: the producer's output is never stored
  };
  std::string from;
  Use use = Use::kStream;
};

// The mask of a sparse op: for each head, the kept columns of each row (CSR over heads * rows).
struct TraceMask {
  int64_t heads = 0, rows = 0, cols = 0;
  std::vector<int64_t> row_ptr;  // heads * rows + 1 offsets into `col`
  std::vector<int32_t> col;      // kept columns, increasing within a row
  int64_t nnz() const { return static_cast<int64_t>(col.size()); }
  int64_t kept(int64_t head, int64_t row) const { return row_ptr[head * rows + row + 1] - row_ptr[head * rows + row]; }
};

struct TraceRecord {
  std::string kind;   // op kind: "matmul", "add", "softmax", "layer_norm", ...
  std::string scope;  // dotted module path active when the op ran
  std::vector<Shape> inputs;
  Shape output;
  double flops = 0;                       // floating-point operations (a multiply-add counts 2)
  double bytes_read = 0;                  // bytes of operands read (each operand once)
  double bytes_written = 0;               // bytes of results written
  double seconds = 0;                     // wall time, when Trace::time_ops is set
  bool backward = false;                  // recorded while autograd ran backward closures
  std::map<std::string, double> attrs;    // op-specific: trans_a, nnz, density, ...
  std::shared_ptr<const TraceMask> mask;  // sparse ops: the mask (shared by the steps that use it)
  // steps of a fused op (empty otherwise)
  std::string step_of, step, step_name;
  std::vector<TraceOperand> operands;
};

class Trace {
 public:
  std::vector<TraceRecord> records;
  bool time_ops = false;            // measure each op's wall time (adds a clock read per op)
  std::vector<std::string> scopes;  // the current scope stack (managed by TraceScope)
  std::string scope_name() const;   // scopes joined with '.'
};

// Installs `trace` for the current thread for the lifetime of the session object.
class TraceSession {
 public:
  explicit TraceSession(Trace& trace);
  ~TraceSession();
  TraceSession(const TraceSession&) = delete;
  TraceSession& operator=(const TraceSession&) = delete;

 private:
  Trace* prev_;
};

Trace* active_trace();  // null when tracing is off on this thread

// Pushes one component of the scope name ("blocks", "3", "attn") while alive.
class TraceScope {
 public:
  explicit TraceScope(const char* name) : t_(active_trace()) {
    if (t_) t_->scopes.emplace_back(name);
  }
  explicit TraceScope(const std::string& name) : t_(active_trace()) {
    if (t_) t_->scopes.push_back(name);
  }
  explicit TraceScope(int64_t index) : t_(active_trace()) {
    if (t_) t_->scopes.push_back(std::to_string(index));
  }
  ~TraceScope() {
    if (t_) t_->scopes.pop_back();
  }
  TraceScope(const TraceScope&) = delete;
  TraceScope& operator=(const TraceScope&) = delete;

 private:
  Trace* t_;
};

// Used inside ops: created at the top (starts the clock when timing), record() at the end.
class OpTrace {
 public:
  explicit OpTrace(const char* kind) : t_(active_trace()), kind_(kind) {
    if (t_ && t_->time_ops) start_ = std::chrono::steady_clock::now();
  }
  bool on() const { return t_ != nullptr; }
  // Appends the record and returns it (for attrs); null when tracing is off.
  TraceRecord* record(std::vector<Shape> inputs, const Shape& output, double flops, double bytes_read,
                      double bytes_written);
  // Common case: inputs and output are tensors; bytes are 4 per element of each.
  TraceRecord* record(std::initializer_list<const Tensor*> inputs, const Tensor& output, double flops);

 private:
  Trace* t_;
  const char* kind_;
  std::chrono::steady_clock::time_point start_{};
};

// Appends records built by a fused op (its steps) under the current scope; returns the index of
// the first, or SIZE_MAX when tracing is off.
size_t append_records(std::vector<TraceRecord> records);

// For work computed fused (one pass that stands for several records, such as Taylor attention's
// six steps or a linear layer with its GELU): gives the records from index `first` on the
// measured `seconds`, in proportion to their FLOPs, and marks them "time_split_by_flops" (the
// profile shows them with "~"). Does nothing unless the trace times ops.
void split_time_by_flops(Trace& trace, size_t first, double seconds, size_t last = SIZE_MAX);  // records [first, last)

// The same for the common case: created before the fused work, split() after its records are
// appended gives them the time elapsed since, by FLOPs.
class FusedTrace {
 public:
  FusedTrace() : t_(active_trace()), first_(t_ ? t_->records.size() : 0), t0_(std::chrono::steady_clock::now()) {}
  double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count(); }
  // Seconds the records appended since construction already carry (kernels that time their steps).
  double recorded_seconds() const {
    double s = 0;
    for (size_t i = first_; t_ && i < t_->records.size(); ++i) s += t_->records[i].seconds;
    return s;
  }
  void split() const {
    if (t_) split_time_by_flops(*t_, first_, seconds());
  }

 private:
  Trace* t_;
  size_t first_;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace vt
