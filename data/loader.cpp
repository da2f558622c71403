// DataLoader: epoch order, worker threads, the bounded window of batches, substitution of bad files.
#include "data/loader.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "core/error.h"
#include "core/rng.h"

namespace vt::data {

namespace {
constexpr uint64_t kMixupStream = 0x6d697875700000ULL;  // "mixup": a separate stream per batch
}

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, LoaderOptions opt)
    : ds_(std::move(dataset)), opt_(std::move(opt)) {
  VT_CHECK(ds_ && ds_->size() > 0, "data loader: empty dataset");
  VT_CHECK(opt_.batch_size > 0, "data loader: batch size ", opt_.batch_size, " must be positive");
  VT_CHECK(opt_.num_workers >= 0, "data loader: --num_workers ", opt_.num_workers, " must not be negative");
  VT_CHECK(opt_.world_size >= 1 && opt_.rank >= 0 && opt_.rank < opt_.world_size, "data loader: rank ", opt_.rank,
           " outside world size ", opt_.world_size);
  if (opt_.train && opt_.mixup && opt_.mixup->enabled()) {
    VT_CHECK(opt_.batch_size % 2 == 0, "mixup/cutmix needs an even batch size, got ", opt_.batch_size);
    VT_CHECK(opt_.drop_last, "mixup/cutmix needs drop_last (a short last batch could be odd)");
  }
  if (!opt_.warn) opt_.warn = [](const std::string& m) { std::fprintf(stderr, "warning: %s\n", m.c_str()); };
  opt_.prefetch_batches = std::max(1, opt_.prefetch_batches);
  warned_.assign(ds_->size(), false);
  if (opt_.cache_decoded) cache_.resize(ds_->size());
}

DataLoader::~DataLoader() { stop_workers(); }

int64_t DataLoader::samples_per_epoch() const {
  const int64_t n = ds_->size(), w = opt_.world_size;
  if (!opt_.pad_shards) return (n - opt_.rank + w - 1) / w;  // this rank's share, unpadded
  return (n + w - 1) / w;                                    // padded as DistributedSampler
}

int64_t DataLoader::batches_per_epoch() const {
  const int64_t n = samples_per_epoch();
  return opt_.drop_last ? n / opt_.batch_size : (n + opt_.batch_size - 1) / opt_.batch_size;
}

void DataLoader::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
}

void DataLoader::start_epoch(int64_t epoch, int64_t first_batch) {
  stop_workers();
  epoch_ = epoch;
  const int64_t n = ds_->size();
  std::vector<int64_t> perm(n);
  for (int64_t i = 0; i < n; ++i) perm[i] = i;
  if (opt_.shuffle) {  // Fisher-Yates from (seed, epoch): the same on every rank
    Generator g = Generator::derive(opt_.seed, static_cast<uint64_t>(epoch), 0x5eedULL);
    for (int64_t i = n - 1; i > 0; --i) std::swap(perm[i], perm[g.randint(0, i + 1)]);
  }
  const int64_t total = opt_.pad_shards ? samples_per_epoch() * opt_.world_size : n;
  for (int64_t i = n; i < total; ++i) perm.push_back(perm[i - n]);  // pad with the first samples
  order_.clear();
  for (int64_t i = opt_.rank; i < total; i += opt_.world_size) order_.push_back(perm[i]);
  num_batches_ = batches_per_epoch();
  ready_.clear();
  VT_CHECK(first_batch >= 0 && first_batch <= num_batches_, "data loader: first batch ", first_batch, " outside [0, ",
           num_batches_, "]");
  next_to_make_ = next_to_return_ = first_batch;
  stopping_ = false;
  error_ = nullptr;
  wait_seconds_ = 0;
  for (int w = 0; w < opt_.num_workers; ++w) workers_.emplace_back([this] { worker_loop(); });
}

void DataLoader::worker_loop() {
  if (opt_.worker_nice > 0) {
    // Lower this thread's priority (Linux: nice is per thread), so that on a machine with few
    // cores the model's threads win the cores and the workers fill the gaps.
    errno = 0;
    if (::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), opt_.worker_nice) != 0 && opt_.warn)
      opt_.warn(str_cat("loader: cannot lower worker priority: ", std::strerror(errno)));
  }
  while (true) {
    int64_t b;
    {
      std::unique_lock<std::mutex> lock(mu_);
      // Stay within the window: never more than prefetch_batches ahead of the consumer.
      cv_.wait(lock, [&] {
        return stopping_ || (next_to_make_ < num_batches_ && next_to_make_ < next_to_return_ + opt_.prefetch_batches);
      });
      if (stopping_) return;
      b = next_to_make_++;
    }
    try {
      Batch batch = make_batch(b);
      std::lock_guard<std::mutex> lock(mu_);
      ready_.emplace(b, std::move(batch));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu_);
      if (!error_) error_ = std::current_exception();
    }
    cv_.notify_all();
  }
}

std::optional<Batch> DataLoader::next() {
  if (next_to_return_ >= num_batches_) return std::nullopt;
  const int64_t b = next_to_return_;
  if (workers_.empty()) {  // --num_workers 0: made here, and all of it is time the model waits
    const auto t0 = std::chrono::steady_clock::now();
    Batch batch = make_batch(b);
    ++next_to_return_;
    wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return batch;
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return error_ || ready_.count(b); });
  wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (error_) std::rethrow_exception(error_);
  Batch batch = std::move(ready_.at(b));
  ready_.erase(b);
  ++next_to_return_;
  lock.unlock();
  cv_.notify_all();  // a slot in the window is free
  return batch;
}

Image DataLoader::load_or_substitute(int64_t position, int64_t& used) {
  const int64_t n = static_cast<int64_t>(order_.size());
  for (int64_t k = 0; k < std::min<int64_t>(n, 64); ++k) {
    used = order_[(position + k) % n];
    if (opt_.cache_decoded) {
      std::lock_guard<std::mutex> lock(cache_mu_);
      if (cache_[used]) return *cache_[used];
    }
    DecodeResult r = ds_->load(used);
    if (r.image) {
      if (opt_.cache_decoded) {
        std::lock_guard<std::mutex> lock(cache_mu_);
        cache_[used] = std::make_shared<const Image>(*r.image);
      }
      return std::move(*r.image);
    }
    const std::string msg = str_cat(ds_->describe(used), ": ", r.error);
    if (opt_.strict) throw Error(str_cat(msg, " (--strict)"));
    std::lock_guard<std::mutex> lock(warn_mu_);
    if (!warned_[used]) {
      warned_[used] = true;
      ++bad_files_;
      opt_.warn(str_cat(msg, "; using the next sample instead"));
    }
  }
  throw Error("data loader: 64 consecutive samples failed to decode; is the dataset readable?");
}

Batch DataLoader::make_batch(int64_t b) {
  const int64_t first = b * opt_.batch_size;
  const int64_t count = std::min<int64_t>(opt_.batch_size, static_cast<int64_t>(order_.size()) - first);
  const int64_t S = opt_.transform.input_size, C = opt_.transform.in_chans;
  Batch batch;
  batch.images = empty({count, C, S, S});
  for (int64_t i = 0; i < count; ++i) {
    int64_t used = -1;
    const Image img = load_or_substitute(first + i, used);
    float* out = batch.images.data() + i * C * S * S;
    if (opt_.train) {
      Generator g = Generator::derive(opt_.seed, static_cast<uint64_t>(epoch_), static_cast<uint64_t>(used));
      train_transform(img, opt_.transform, g, out);
    } else {
      eval_transform(img, opt_.transform, out);
    }
    batch.labels.push_back(ds_->label(used));
    batch.indices.push_back(used);
  }
  if (opt_.train && opt_.mixup && opt_.mixup->enabled()) {
    Generator g = Generator::derive(opt_.seed, static_cast<uint64_t>(epoch_), kMixupStream + static_cast<uint64_t>(b));
    batch.targets = mixup_batch(batch.images, batch.labels, *opt_.mixup, g);
  }
  return batch;
}

}  // namespace vt::data
