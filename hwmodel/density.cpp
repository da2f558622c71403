// Synthetic masks of a given density (see density.h).
#include "hwmodel/density.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/error.h"
#include "core/rng.h"

namespace vt::hw {

TraceMask synthesize_mask(int64_t heads, int64_t n, const DensitySpec& spec, uint64_t stream) {
  VT_CHECK(spec.density > 0 && spec.density <= 1, "density ", spec.density, " must lie in (0, 1]");
  VT_CHECK(spec.spread >= 0 && std::isfinite(spec.spread), "density spread ", spec.spread, " must be >= 0");
  VT_CHECK(heads > 0 && n > 0, "synthesize_mask: ", heads, " heads of ", n, " rows");
  TraceMask m;
  m.heads = heads;
  m.rows = m.cols = n;
  m.row_ptr.push_back(0);
  std::vector<int64_t> k(static_cast<size_t>(n));
  std::vector<int32_t> pool(static_cast<size_t>(n));
  for (int64_t h = 0; h < heads; ++h) {
    Generator g = Generator::derive(spec.seed, stream, static_cast<uint64_t>(h));
    const int64_t target = std::max<int64_t>(n, std::llround(spec.density * double(n) * double(n)));
    int64_t total = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double z = g.normal();
      const double want = double(n) * spec.density * std::exp(spec.spread * z - spec.spread * spec.spread / 2);
      k[i] = std::min<int64_t>(n, std::max<int64_t>(1, std::llround(want)));
      total += k[i];
    }
    while (total != target) {  // one entry at a time on random rows, within [1, n]
      const int64_t i = g.randint(0, n);
      if (total < target && k[i] < n) {
        ++k[i];
        ++total;
      } else if (total > target && k[i] > 1) {
        --k[i];
        --total;
      }
    }
    for (int64_t i = 0; i < n; ++i) {
      // the first k_i of a partial Fisher-Yates shuffle: a uniform subset, then sorted
      for (int64_t j = 0; j < n; ++j) pool[j] = static_cast<int32_t>(j);
      for (int64_t j = 0; j < k[i]; ++j) std::swap(pool[j], pool[j + g.randint(0, n - j)]);
      std::sort(pool.begin(), pool.begin() + k[i]);
      m.col.insert(m.col.end(), pool.begin(), pool.begin() + k[i]);
      m.row_ptr.push_back(static_cast<int64_t>(m.col.size()));
    }
  }
  return m;
}

int64_t synthesize_masks(std::vector<HwOp>& ops, const DensitySpec& spec) {
  std::map<const TraceMask*, std::shared_ptr<const TraceMask>> replaced;
  for (HwOp& op : ops) {
    if (!op.mask) continue;
    auto it = replaced.find(op.mask.get());
    if (it == replaced.end()) {
      const uint64_t stream = static_cast<uint64_t>(replaced.size());  // one stream per layer's mask
      auto fresh = std::make_shared<const TraceMask>(synthesize_mask(op.mask->heads, op.mask->rows, spec, stream));
      it = replaced.emplace(op.mask.get(), fresh).first;
    }
    op.mask = it->second;
  }
  return static_cast<int64_t>(replaced.size());
}

double mean_mask_density(const std::vector<HwOp>& ops) {
  std::map<const TraceMask*, bool> seen;
  double kept = 0, pairs = 0;
  for (const HwOp& op : ops)
    if (op.mask && !seen[op.mask.get()]) {
      seen[op.mask.get()] = true;
      kept += double(op.mask->nnz());
      pairs += double(op.mask->heads) * double(op.mask->rows) * double(op.mask->cols);
    }
  return pairs > 0 ? kept / pairs : NAN;
}

}  // namespace vt::hw
