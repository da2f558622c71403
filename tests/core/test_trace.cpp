// The op trace: records with scope names, shapes, FLOPs and bytes; nothing when off.
#include <doctest/doctest.h>

#include <chrono>

#include "core/ops.h"
#include "core/trace.h"

using namespace vt;

TEST_CASE("ops append records under the current scope") {
  Trace trace;
  Tensor a = ones({4, 3}), w = ones({3, 5});
  {
    TraceSession on(trace);
    TraceScope blocks("blocks");
    TraceScope three(int64_t{3});
    TraceScope qkv("attn.qkv");
    Tensor y = matmul(a, w) + ones({5});
    y = gelu(y);
  }
  REQUIRE(trace.records.size() == 3);
  const TraceRecord& mm = trace.records[0];
  CHECK(mm.kind == "matmul");
  CHECK(mm.scope == "blocks.3.attn.qkv");
  CHECK(mm.inputs == std::vector<Shape>{{4, 3}, {3, 5}});
  CHECK(mm.output == Shape{4, 5});
  CHECK(mm.flops == 2 * 4 * 5 * 3);
  CHECK(mm.bytes_read == 4 * (12 + 15));
  CHECK(mm.bytes_written == 4 * 20);
  CHECK(mm.attrs.at("M") == 4);
  CHECK(mm.attrs.at("K") == 3);
  CHECK(trace.records[1].kind == "add");
  CHECK(trace.records[2].kind == "gelu");
  CHECK_FALSE(mm.backward);
  // Tracing is off again outside the session.
  Tensor z = a + a;
  CHECK(trace.records.size() == 3);
  CHECK(active_trace() == nullptr);
}

TEST_CASE("backward ops are marked and timing is optional") {
  Trace trace;
  trace.time_ops = true;
  Tensor x = ones({8, 8}).set_requires_grad();
  {
    TraceSession on(trace);
    sum(exp(x)).backward();
  }
  bool saw_backward = false;
  for (const TraceRecord& r : trace.records) {
    saw_backward |= r.backward;
    CHECK(r.seconds >= 0);
  }
  CHECK(saw_backward);
  CHECK_FALSE(trace.records.front().backward);
}

TEST_CASE("a disabled trace costs next to nothing per op") {
  // The cost of the switch itself: an OpTrace and a TraceScope with no trace installed.
  const int n = 1000000;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    TraceScope s("x");
    OpTrace tr("noop");
    if (tr.on()) FAIL("trace should be off");
  }
  const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / n;
  MESSAGE("disabled trace + scope: " << ns << " ns per op");
  CHECK(ns < 200);  // generous bound for noisy machines; typically a few ns
}
