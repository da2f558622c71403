// The intra-layer pipeline in closed form. A segment is a group of ops on distinct units that
// stream token chunks to each other (edges = producer -> consumer within the segment). With n
// chunks and op s taking t_s = cycles_s / n per chunk, chunk c of op s finishes at
//   f(s, c) = max(f(s, c-1), max over producers p of f(p, c)) + t_s,
// whose value at the last chunk is the longest path through the (op, chunk) grid:
//   T = max over producer->consumer paths P of ( sum_{s in P} t_s + (n - 1) * max_{s in P} t_s ).
// For a chain that is the textbook sum t_s + (n-1) max t_s. Segments run one after another
// (reductions over all tokens separate them). tests/hwmodel/test_pipeline.cpp checks this against
// an event-driven scheduler that steps the chunks through the units: equal when every stage has
// its own unit.
//
// Stages that share a unit chunk by chunk (Q K^T and P V on one array) cannot overlap each other;
// the segment then also takes at least, for each shared unit, all of its work plus the time before
// its first chunk can start and after its last one ends:
//   T = max( the path formula above, max over units u of (head_u + sum of cycles on u + tail_u) ).
// (and a later stage on the unit waits for an earlier one's last chunk to cross the chain between
// them). With one unit per stage these terms never exceed the path formula. With a shared unit the
// result is a lower bound, reached by a schedule that runs all of Q K^T's chunks before P V's; the
// tests measure how far below a greedy chunk-interleaving scheduler it lies (under 7% on DeiT).
#pragma once

#include <cstdint>
#include <vector>

namespace vt::hw {

struct PipelineStage {
  double cycles = 0;        // the op's cycles for all chunks
  std::vector<int> inputs;  // stages of the same segment it consumes (indices < its own)
  int unit = -1;            // stages with the same unit >= 0 share it chunk by chunk
};

// Throws vt::Error when an input index is not an earlier stage or chunks < 1.
double pipeline_cycles(const std::vector<PipelineStage>& stages, int64_t chunks);

}  // namespace vt::hw
