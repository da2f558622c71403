// Learning-rate schedules: deit's per-epoch stepping (epochs 0 and 1 at warmup_lr), cosine to
// min_lr, per-update stepping, step and constant kinds.
#include <doctest/doctest.h>

#include <cmath>

#include "core/error.h"
#include "nn/schedule.h"

using namespace vt;

TEST_CASE("cosine with warmup, stepped per epoch as deit does") {
  nn::LrSchedule s;
  s.lr = 1e-3;
  s.min_lr = 1e-5;
  s.warmup_lr = 1e-6;
  s.warmup_epochs = 5;
  s.epochs = 100;
  CHECK(s.lr_at(0, 0) == doctest::Approx(1e-6));
  CHECK(s.lr_at(1, 0) == doctest::Approx(1e-6));  // deit: epoch 1 trains at value(0) too
  CHECK(s.lr_at(2, 7) == doctest::Approx(1e-6 + (1e-3 - 1e-6) / 5));
  CHECK(s.lr_at(6, 0) == doctest::Approx(1e-5 + 0.5 * (1e-3 - 1e-5) * (1 + std::cos(M_PI * 5 / 100))));
  CHECK(s.value(100) == doctest::Approx(1e-5));
  CHECK(s.value(150) == doctest::Approx(1e-5));
  for (int e = 6; e < 100; ++e) CHECK(s.lr_at(e + 1, 0) <= s.lr_at(e, 0));  // monotone after warmup
}

TEST_CASE("per-update stepping and the other kinds") {
  nn::LrSchedule s;
  s.lr = 1.0;
  s.warmup_lr = 0.0;
  s.warmup_epochs = 1;
  s.epochs = 10;
  s.min_lr = 0;
  s.per_update = true;
  s.steps_per_epoch = 4;
  CHECK(s.lr_at(0, 0) == 0.0);
  CHECK(s.lr_at(0, 2) == doctest::Approx(0.5));
  CHECK(s.lr_at(1, 0) == doctest::Approx(0.5 * (1 + std::cos(M_PI * 0.1))));
  s.kind = "step";
  s.warmup_epochs = 0;
  s.decay_epochs = 3;
  s.decay_rate = 0.1;
  CHECK(s.value(2.9) == doctest::Approx(1.0));
  CHECK(s.value(3.0) == doctest::Approx(0.1));
  s.kind = "constant";
  CHECK(s.value(7) == 1.0);
  s.kind = "linear";
  CHECK_THROWS_AS(s.value(7), vt::Error);
}
