// Synthetic attention masks of a given mean density, for estimating the sparse kinds (SANGER)
// where no trained model's masks are at hand, and for sweeping density as an axis.
//
// Per head of n rows, the total kept is round(density n^2) (at least one entry a row: SANGER
// always keeps each row's largest score, so density >= 1/n). Row i keeps
//   k_i ~ n density exp(spread z_i - spread^2 / 2),  z_i standard normal,
// a log-normal spread around the mean (spread 0: every row keeps the same number), clamped to
// [1, n] and then adjusted one entry at a time on random rows until the head's total is exact.
// Its columns are a uniformly random subset. SANGER's load balance depends on the spread: its
// pack emits a block when the fullest row of a group runs out of PEs.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/trace.h"
#include "hwmodel/ir.h"

namespace vt::hw {

struct DensitySpec {
  double density = 0.1;  // mean kept fraction, in (0, 1]
  double spread = 0.5;   // sigma of the row counts' log-normal spread (0: all rows alike)
  uint64_t seed = 0;
};

// One synthetic mask of `heads` heads of n x n. Throws unless 0 < density <= 1 and spread >= 0.
TraceMask synthesize_mask(int64_t heads, int64_t n, const DensitySpec& spec, uint64_t stream);

// Replaces the mask of every sparse op with a synthetic one of that density (ops that shared a
// mask share the new one); returns how many masks were replaced (0: the workload has no sparse op).
int64_t synthesize_masks(std::vector<HwOp>& ops, const DensitySpec& spec);

// Mean density of the sparse ops' masks (each mask counted once), NaN without one.
double mean_mask_density(const std::vector<HwOp>& ops);

}  // namespace vt::hw
