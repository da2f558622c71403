// Op trace storage and the per-thread switch.
#include "core/trace.h"

#include <algorithm>

#include "core/autograd.h"

namespace vt {

namespace {
thread_local Trace* t_trace = nullptr;
}

Trace* active_trace() { return t_trace; }

TraceSession::TraceSession(Trace& trace) : prev_(t_trace) { t_trace = &trace; }
TraceSession::~TraceSession() { t_trace = prev_; }

std::string Trace::scope_name() const {
  std::string name;
  for (const std::string& s : scopes) {
    if (!name.empty()) name += '.';
    name += s;
  }
  return name;
}

TraceRecord* OpTrace::record(std::vector<Shape> inputs, const Shape& output, double flops, double bytes_read,
                             double bytes_written) {
  if (!t_) return nullptr;
  TraceRecord r;
  r.kind = kind_;
  r.scope = t_->scope_name();
  r.inputs = std::move(inputs);
  r.output = output;
  r.flops = flops;
  r.bytes_read = bytes_read;
  r.bytes_written = bytes_written;
  r.backward = in_backward();
  if (t_->time_ops) r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  t_->records.push_back(std::move(r));
  return &t_->records.back();
}

TraceRecord* OpTrace::record(std::initializer_list<const Tensor*> inputs, const Tensor& output, double flops) {
  if (!t_) return nullptr;
  std::vector<Shape> shapes;
  double bytes_read = 0;
  for (const Tensor* t : inputs) {
    if (!t || !t->defined()) continue;
    shapes.push_back(t->shape());
    bytes_read += 4.0 * t->numel();
  }
  return record(std::move(shapes), output.shape(), flops, bytes_read, 4.0 * output.numel());
}

size_t append_records(std::vector<TraceRecord> records) {
  if (!t_trace) return SIZE_MAX;
  const size_t first = t_trace->records.size();
  const std::string scope = t_trace->scope_name();
  const bool backward = in_backward();
  for (TraceRecord& r : records) {
    r.scope = scope;
    r.backward = backward;
    t_trace->records.push_back(std::move(r));
  }
  return first;
}

void split_time_by_flops(Trace& trace, size_t first, double seconds, size_t last) {
  if (!trace.time_ops) return;
  last = std::min(last, trace.records.size());
  double flops = 0;
  for (size_t i = first; i < last; ++i) flops += trace.records[i].flops;
  if (flops <= 0) return;
  for (size_t i = first; i < last; ++i) {
    trace.records[i].seconds = seconds * trace.records[i].flops / flops;
    trace.records[i].attrs["time_split_by_flops"] = 1;
  }
}

}  // namespace vt
