// The pipeline closed form (hwmodel/pipeline.h) against an event-driven scheduler that steps
// chunks through units: equal whenever each stage has its own unit (chains, forks and joins,
// the real DeiT segments), and within a stated bound when two stages share a unit.
#include <doctest/doctest.h>

#include <algorithm>
#include <limits>

#include "core/rng.h"
#include "core/trace.h"
#include "hwmodel/lower.h"
#include "hwmodel/model.h"
#include "hwmodel/pipeline.h"
#include "hwmodel_test_util.h"
#include "vit/deit.h"

using namespace vt;
using namespace vt::hw;
using namespace vt::hw::test;

namespace {

// List scheduling of the (stage, chunk) tasks: a task may start when its producers' same chunk
// is done, its own previous chunk is done (each op handles its chunks in order), and its unit is
// free; at every step the task that can start earliest is started (ties: lower chunk, then lower
// stage). Returns the time the last task finishes.
double event_driven(const std::vector<PipelineStage>& stages, int64_t chunks) {
  const size_t S = stages.size();
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<std::vector<double>> finish(S, std::vector<double>(static_cast<size_t>(chunks), inf));
  std::vector<int64_t> next(S, 0);  // next chunk of each stage
  std::vector<double> unit_free(S + 64, 0);
  auto unit_of = [&](size_t s) { return stages[s].unit >= 0 ? static_cast<size_t>(stages[s].unit) : 32 + s; };
  for (int64_t done = 0; done < static_cast<int64_t>(S) * chunks; ++done) {
    double best_start = inf;
    size_t best = S;
    for (size_t s = 0; s < S; ++s) {
      const int64_t c = next[s];
      if (c >= chunks) continue;
      double ready = c > 0 ? finish[s][static_cast<size_t>(c - 1)] : 0;
      for (int p : stages[s].inputs) ready = std::max(ready, finish[static_cast<size_t>(p)][static_cast<size_t>(c)]);
      if (ready == inf) continue;
      const double start = std::max(ready, unit_free[unit_of(s)]);
      if (start < best_start || (start == best_start && best < S && c < next[best])) {
        best_start = start;
        best = s;
      }
    }
    REQUIRE(best < S);
    const double t = stages[best].cycles / double(chunks);
    finish[best][static_cast<size_t>(next[best])] = best_start + t;
    unit_free[unit_of(best)] = best_start + t;
    ++next[best];
  }
  double end = 0;
  for (const auto& f : finish) end = std::max(end, f.back());
  return end;
}

}  // namespace

TEST_CASE("a chain: sum of t + (n-1) max t, worked by hand") {
  // three stages of 40, 100 and 20 cycles over 4 chunks: t = 10, 25, 5; 40 + 3 * 25 = 115
  const std::vector<PipelineStage> chain = {{40, {}, 0}, {100, {0}, 1}, {20, {1}, 2}};
  CHECK(pipeline_cycles(chain, 4) == doctest::Approx(115));
  CHECK(event_driven(chain, 4) == doctest::Approx(115));
  CHECK(pipeline_cycles(chain, 1) == doctest::Approx(160));  // one chunk: no overlap
}

TEST_CASE("closed form = event-driven scheduler on random DAGs with one unit per stage") {
  Generator gen(11);
  for (int trial = 0; trial < 300; ++trial) {
    const int S = static_cast<int>(gen.randint(1, 9));
    const int64_t n = gen.randint(1, 12);
    std::vector<PipelineStage> st(static_cast<size_t>(S));
    for (int s = 0; s < S; ++s) {
      st[static_cast<size_t>(s)].cycles = std::round(gen.uniform(1, 1000));
      st[static_cast<size_t>(s)].unit = s;
      for (int p = 0; p < s; ++p)
        if (gen.uniform() < 0.35) st[static_cast<size_t>(s)].inputs.push_back(p);
    }
    CAPTURE(trial);
    CHECK(pipeline_cycles(st, n) == doctest::Approx(event_driven(st, n)).epsilon(1e-12));
  }
}

TEST_CASE("stages sharing a unit (Q K^T and P V on one array)") {
  // qk (SA) -> softmax (own unit) -> pv (SA), over DeiT's chunk counts and a range of ratios:
  // the closed form is a lower bound of the list schedule, at most 12% below it (the schedule
  // also idles the array while the last chunk's softmax runs, which the bound leaves out).
  double worst = 0;
  for (int64_t n : {1, 2, 7, 25, 99})
    for (double qk : {1000.0, 5000.0})
      for (double sm : {100.0, 1000.0, 5000.0, 20000.0}) {
        CAPTURE(n);
        CAPTURE(qk);
        CAPTURE(sm);
        const std::vector<PipelineStage> st = {{qk, {}, 0}, {sm, {0}, 1}, {5000, {1}, 0}};
        const double closed = pipeline_cycles(st, n), sched = event_driven(st, n);
        CHECK(closed >= qk + 5000);  // never below the shared unit's work
        CHECK(closed <= sched * (1 + 1e-12));
        CHECK(closed >= sched * 0.88);
        worst = std::max(worst, 1 - closed / sched);
      }
  MESSAGE("shared unit: the closed form is at most " << 100 * worst << "% below the schedule");
}

TEST_CASE("the segments of a traced DeiT-Tiny layer agree with the scheduler") {
  vit::DeitConfig cfg = vit::deit_config("deit_tiny_patch16_224");
  cfg.depth = 2;  // two blocks are enough: every block lowers alike
  double worst_shared = 0;
  for (const char* kind : {"taylor", "softmax"}) {
    cfg.attn = kind;
    vit::Deit model(cfg);
    Generator gen(0);
    model.init(gen);
    Trace trace;
    {
      TraceSession on(trace);
      model.forward(randn({1, 3, 224, 224}, &gen), nn::Context{});
    }
    const ArchConfig arch = load_arch_config(vit::attention_kind(kind).accelerator);
    const Report r = evaluate(lower_trace(trace.records), arch, energy45());
    int checked = 0;
    for (const Segment& s : r.segments) {
      std::vector<PipelineStage> st;
      bool shared = false;
      std::vector<int> units;
      for (size_t k = 0; k < s.ops.size(); ++k) {
        const HwOp& op = r.ops[static_cast<size_t>(s.ops[k])];
        PipelineStage p;
        p.cycles = double(r.costs[static_cast<size_t>(s.ops[k])].cycles);
        p.unit = static_cast<int>(op.unit);
        for (const Dep& d : op.deps) {
          auto it = std::find(s.ops.begin(), s.ops.end(), d.op);
          if (it != s.ops.end()) p.inputs.push_back(static_cast<int>(it - s.ops.begin()));
        }
        shared |= std::count(units.begin(), units.end(), p.unit) > 0;
        units.push_back(p.unit);
        st.push_back(p);
      }
      CHECK(s.cycles == doctest::Approx(pipeline_cycles(st, s.chunks)));
      CHECK(s.cycles <= s.serial_cycles + 1e-6);
      const double sched = event_driven(st, s.chunks);
      if (!shared) {
        CHECK(s.cycles == doctest::Approx(sched).epsilon(1e-12));
        ++checked;
      } else {  // Q K^T, softmax, P V on one array: a lower bound of the greedy schedule
        CHECK(s.cycles <= sched * (1 + 1e-12));
        CHECK(s.cycles >= sched * 0.9);
        worst_shared = std::max(worst_shared, 1 - s.cycles / sched);
      }
    }
    CHECK(checked >= 6);
  }
  MESSAGE("DeiT-Tiny segments with a shared array: closed form at most " << 100 * worst_shared
                                                                         << "% below the greedy schedule");
}
