// LrSchedule::value and the two stepping modes.
#include "nn/schedule.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace vt::nn {

double LrSchedule::value(double t) const {
  if (warmup_epochs > 0 && t < warmup_epochs) return warmup_lr + t * (lr - warmup_lr) / warmup_epochs;
  if (kind == "constant") return lr;
  if (kind == "step") return lr * std::pow(decay_rate, std::floor(t / decay_epochs));
  VT_CHECK(kind == "cosine", "schedule: unknown kind '", kind, "' (cosine, step, constant)");
  if (t >= epochs) return min_lr;  // past the single cycle
  return min_lr + 0.5 * (lr - min_lr) * (1 + std::cos(M_PI * t / epochs));
}

double LrSchedule::lr_at(int64_t epoch, int64_t step_in_epoch) const {
  if (per_update) {
    const double s = static_cast<double>(epoch * steps_per_epoch + step_in_epoch);
    return value(s / static_cast<double>(std::max<int64_t>(steps_per_epoch, 1)));
  }
  // deit steps the scheduler with the finished epoch's index: epoch e runs at value(e - 1), and
  // before the first step the optimiser holds warmup_lr (= value(0) when warming up).
  return value(static_cast<double>(std::max<int64_t>(epoch - 1, 0)));
}

}  // namespace vt::nn
