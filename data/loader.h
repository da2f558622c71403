// The data loader: worker threads decode and transform samples into batches ahead of the model,
// through a bounded window of batches (memory stays bounded whatever the dataset size).
//
//   DataLoader loader(dataset, options);
//   loader.start_epoch(epoch);                 // reshuffles (seed, epoch) and starts the workers
//   while (auto batch = loader.next()) ...     // batches in order; nullopt at the end of the epoch
//   loader.wait_seconds();                     // time next() spent blocked this epoch
//
// Determinism: the epoch's order is a permutation drawn from (seed, epoch); sample i of batch b
// is transformed with a generator derived from (seed, epoch, its dataset index); mixup uses one
// derived from (seed, epoch, b). Results do not depend on the number of workers or on timing.
// Distributed runs take every world-th sample of the (padded) permutation from `rank`, as
// PyTorch's DistributedSampler does.
//
// A file that fails to decode at run time is named once in a warning and replaced by the next
// sample in the epoch's order that decodes; with `strict` it stops the run with an error instead.
#pragma once

#include <atomic>
#include <condition_variable>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/tensor.h"
#include "data/dataset.h"
#include "data/transforms.h"

namespace vt::data {

struct Batch {
  Tensor images;                 // (B, C, S, S) normalised
  std::vector<int64_t> labels;   // (B,)
  Tensor targets;                // (B, K) soft targets when mixup is on, else undefined
  std::vector<int64_t> indices;  // dataset indices, for logs and tests
};

struct LoaderOptions {
  int64_t batch_size = 64;
  bool train = true;  // train transform + shuffle; eval transform otherwise
  bool shuffle = true;
  bool drop_last = true;
  int num_workers = 2;
  int prefetch_batches = 4;  // the bounded window: at most this many batches exist ahead
  int worker_nice = 0;       // > 0: workers run at this lower priority (nice), leaving cores to the model
  uint64_t seed = 0;
  int rank = 0, world_size = 1;
  bool pad_shards = true;  // pad the permutation so every rank gets as many samples (training);
                           // false: rank r takes samples r, r + world, ... once each (evaluation)
  bool strict = false;
  bool cache_decoded = false;  // keep decoded images in memory (small datasets)
  TransformConfig transform;
  std::optional<MixupConfig> mixup;              // train only
  std::function<void(const std::string&)> warn;  // default: stderr
};

class DataLoader {
 public:
  DataLoader(std::shared_ptr<const Dataset> dataset, LoaderOptions opt);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  // Starts `epoch` at batch `first_batch` (a resumed run skips the batches it already trained on
  // without loading them; the batches after it are the same as in an uninterrupted epoch).
  void start_epoch(int64_t epoch, int64_t first_batch = 0);
  std::optional<Batch> next();
  int64_t batches_per_epoch() const;
  int64_t samples_per_epoch() const;  // this rank's share
  double wait_seconds() const { return wait_seconds_; }
  int64_t bad_files() const { return bad_files_.load(); }
  const LoaderOptions& options() const { return opt_; }

 private:
  void stop_workers();
  void worker_loop();
  Batch make_batch(int64_t b);
  Image load_or_substitute(int64_t position, int64_t& used_index);

  std::shared_ptr<const Dataset> ds_;
  LoaderOptions opt_;
  std::vector<int64_t> order_;  // this rank's dataset indices for the epoch
  int64_t epoch_ = 0, num_batches_ = 0;

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<int64_t, Batch> ready_;
  int64_t next_to_make_ = 0, next_to_return_ = 0;
  bool stopping_ = false;
  std::exception_ptr error_;
  double wait_seconds_ = 0;

  std::atomic<int64_t> bad_files_{0};
  std::mutex warn_mu_;
  std::vector<bool> warned_;
  std::mutex cache_mu_;
  std::vector<std::shared_ptr<const Image>> cache_;
};

}  // namespace vt::data
