// The pipeline closed form (see pipeline.h).
#include "hwmodel/pipeline.h"

#include <algorithm>
#include <map>

#include "core/error.h"

namespace vt::hw {

double pipeline_cycles(const std::vector<PipelineStage>& stages, int64_t chunks) {
  VT_CHECK(chunks >= 1, "pipeline: ", chunks, " chunks");
  const size_t S = stages.size();
  for (size_t s = 0; s < S; ++s)
    for (int p : stages[s].inputs)
      VT_CHECK(p >= 0 && static_cast<size_t>(p) < s, "pipeline: stage ", s, " consumes stage ", p);
  const double n = static_cast<double>(chunks);
  std::vector<double> t(S);  // per-chunk time of each stage
  for (size_t s = 0; s < S; ++s) t[s] = stages[s].cycles / n;
  auto consumes = [&](size_t c, size_t p) {
    const auto& in = stages[c].inputs;
    return std::find(in.begin(), in.end(), static_cast<int>(p)) != in.end();
  };
  // Path formula. Taking each stage b in turn as the bottleneck: the longest path through b over
  // stages no slower than b, plus (n - 1) t_b. Every path is counted with its true bottleneck and
  // no candidate exceeds the value of the path it describes, so the maximum over b is the maximum
  // over paths.
  double best = 0;
  std::vector<double> to(S), from(S);  // longest sums ending at / starting from each stage (-1: excluded)
  for (size_t b = 0; b < S; ++b) {
    for (size_t s = 0; s < S; ++s) {
      to[s] = -1;
      if (t[s] > t[b]) continue;
      double longest = 0;
      for (int p : stages[s].inputs) longest = std::max(longest, to[static_cast<size_t>(p)]);
      to[s] = longest + t[s];
    }
    for (size_t s = S; s-- > 0;) {
      from[s] = -1;
      if (t[s] > t[b]) continue;
      double longest = 0;
      for (size_t c = s + 1; c < S; ++c)
        if (consumes(c, s)) longest = std::max(longest, from[c]);
      from[s] = longest + t[s];
    }
    if (to[b] >= 0) best = std::max(best, to[b] + from[b] - t[b] + (n - 1) * t[b]);
  }
  // Shared units: head (longest chain of single chunks before the unit's earliest stage) + all of
  // the unit's work + tail (likewise after its latest).
  std::vector<double> before(S, 0), after(S, 0);
  for (size_t s = 0; s < S; ++s)
    for (int p : stages[s].inputs)
      before[s] = std::max(before[s], before[static_cast<size_t>(p)] + t[static_cast<size_t>(p)]);
  for (size_t s = S; s-- > 0;)
    for (size_t c = s + 1; c < S; ++c)
      if (consumes(c, s)) after[s] = std::max(after[s], after[c] + t[c]);
  std::map<int, std::vector<size_t>> by_unit;
  for (size_t s = 0; s < S; ++s)
    if (stages[s].unit >= 0) by_unit[stages[s].unit].push_back(s);
  for (const auto& [unit, members] : by_unit) {
    if (members.size() < 2) continue;
    double head = 1e300, tail = 1e300, work = 0;
    for (size_t s : members) {
      head = std::min(head, before[s]);
      tail = std::min(tail, after[s]);
      work += stages[s].cycles;
    }
    best = std::max(best, head + work + tail);
    // A later stage b on the unit that consumes an earlier one a (through other units) cannot run
    // its last chunk before a's last chunk has crossed the chain between them.
    for (size_t a : members)
      for (size_t b : members) {
        if (b <= a) continue;
        std::vector<double> reach(S, -1);  // longest chain of single chunks from a, a excluded
        reach[a] = 0;
        for (size_t s = a + 1; s <= b; ++s)
          for (int p : stages[s].inputs)
            if (reach[static_cast<size_t>(p)] >= 0)
              reach[s] = std::max(reach[s], reach[static_cast<size_t>(p)] +
                                                (static_cast<size_t>(p) == a ? 0 : t[static_cast<size_t>(p)]));
        if (reach[b] < 0) continue;
        best = std::max(best, before[a] + stages[a].cycles + reach[b] + t[b] + after[b]);
      }
  }
  return best;
}

}  // namespace vt::hw
