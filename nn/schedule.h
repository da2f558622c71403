// Learning-rate schedules as deit configures timm's schedulers: linear warmup from warmup_lr over
// warmup_epochs, then cosine from lr to min_lr over `epochs` (t counted from 0, warmup not
// subtracted, as timm 0.3), or a constant / step schedule.
//
// Two stepping modes:
//   per epoch (deit): lr is set after each epoch, so epoch e trains at value(e - 1) and epochs
//     0 and 1 both run at warmup_lr (deit's behaviour, kept for parity);
//   per update (timm's --sched-on-updates): global step s trains at value(s / steps_per_epoch).
#pragma once

#include <cstdint>
#include <string>

namespace vt::nn {

struct LrSchedule {
  std::string kind = "cosine";  // cosine | step | constant
  double lr = 5e-4;             // the (already batch-scaled) base rate
  double min_lr = 1e-5;
  double warmup_lr = 1e-6;
  double warmup_epochs = 5;
  double epochs = 300;
  double decay_epochs = 30;  // step schedule
  double decay_rate = 0.1;   // step schedule
  bool per_update = false;
  int64_t steps_per_epoch = 1;

  // The schedule's value at time t, in epochs.
  double value(double t) const;
  // The rate used for the update at (epoch, step within the epoch).
  double lr_at(int64_t epoch, int64_t step_in_epoch) const;
};

}  // namespace vt::nn
