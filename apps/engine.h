// The training engine, deit's engine.py in C++: building the datasets and loaders from the
// settings, one training epoch (forward, loss, backward, clipping, optimiser, EMA, logging) and
// evaluation (loss, top-1, top-5). Every random draw comes from (seed, epoch, step) or
// (seed, epoch, sample), so a resumed run repeats an uninterrupted one exactly.
#pragma once

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "apps/teacher.h"
#include "apps/train_args.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "nn/optim.h"
#include "nn/schedule.h"
#include "vit/deit.h"

namespace vt::apps {

struct Datasets {
  std::shared_ptr<data::Dataset> train, val;
  std::vector<std::string> classes;
  std::string summary;  // the startup summary lines
};

// Fashion-MNIST (IDX) when --data-set FMNIST, an ImageFolder (IMNET, TINYIMNET) otherwise.
Datasets load_datasets(const TrainArgs& a, bool need_train = true);
data::LoaderOptions loader_options(const TrainArgs& a, bool train, int64_t num_classes);
nn::LrSchedule lr_schedule(const TrainArgs& a, int64_t steps_per_epoch);
std::unique_ptr<nn::Optimizer> make_optimizer(const TrainArgs& a, const nn::Parameters& params);

// Where a run stands: enough to continue exactly after an interruption.
struct Progress {
  int64_t epoch = 0;          // the epoch in progress (or the next one)
  int64_t step_in_epoch = 0;  // steps of `epoch` already done
  int64_t global_step = 0;
  double loss_sum = 0, lr_sum = 0;  // over the steps done in `epoch`
  // the mask density per block and head, summed over the steps of `epoch` that used a mask
  std::vector<std::vector<double>> density_sum;
  int64_t masked_steps = 0;
  double max_accuracy = 0;
  // back to the start of `epoch`: its sums cleared
  void restart_epoch() {
    step_in_epoch = 0;
    loss_sum = lr_sum = 0;
    density_sum.clear();
    masked_steps = 0;
  }
};

struct EpochStats {
  double train_loss = 0, train_lr = 0;
  double seconds = 0, images_per_s = 0, wait_seconds = 0;
  // data parallel: time in the gradient allreduce, including waiting for the slowest rank's
  // backward (what overlapping the reduction with the backward could at most hide)
  double allreduce_seconds = 0;
  int64_t steps = 0;
  bool interrupted = false;  // Ctrl-C: the epoch is not finished
  // per block and head, the mean over the epoch's steps that used a mask (none: empty); a kind
  // whose residual is annealed away stops using its mask once the weight reaches 0
  std::vector<std::vector<double>> densities;
  int64_t masked_steps = 0;
  double residual_weight = NAN;  // at the epoch's last step (kinds with an anneal)
  double teacher_seconds = 0;    // distillation: time in the teacher's forward passes
};

// A loss that is not finite stops the run; the message names the step.
class NonFiniteLoss : public Error {
 public:
  using Error::Error;
};

struct TrainContext {
  vit::Deit& model;
  data::DataLoader& loader;
  nn::Optimizer& opt;
  const nn::LrSchedule& sched;
  nn::ModelEma* ema;  // null when off
  const TrainArgs& args;
  Teacher* teacher = nullptr;               // --distillation-type soft|hard
  data::TransformConfig student_transform;  // what made the batches (the teacher converts from it)
};

EpochStats train_one_epoch(TrainContext& c, Progress& p);

// Training progress of step `step` of epoch `epoch` with `steps_per_epoch` steps: 0 at the first
// step of the run, 1 at its last.
double training_progress(const TrainArgs& a, int64_t epoch, int64_t step, int64_t steps_per_epoch);
// The weight of a kind's sparse residual at that step (vit/attention_registry.h); 1 for kinds
// without an anneal.
float residual_weight_at(const TrainArgs& a, const vit::AttentionKindSpec& kind, int64_t epoch, int64_t step,
                         int64_t steps_per_epoch);

// Throws UsageError naming --batch-size when a training step would need more memory than the
// machine has available (the model's per-image estimate, plus weights and optimiser state).
void check_memory(const vit::Deit& model, int64_t batch_size);

struct EvalStats {
  double loss = 0, acc1 = 0, acc5 = 0;
  int64_t images = 0;
  // With `confusion`: K x K counts, row = true class, column = predicted (top-1; ties to the
  // lower index, as torch.topk), summed over ranks.
  std::vector<int64_t> confusion;
};
// Prints deit's "Test:" lines and "* Acc@1 .. Acc@5 .. loss .." when `verbose`.
EvalStats evaluate(vit::Deit& model, data::DataLoader& loader, int log_interval, bool verbose, bool confusion = false);

}  // namespace vt::apps
