// data/dataloader.cpp — one epoch of batches: made in order on the training thread, or ahead of it
// on worker threads and handed out in order.
//
// THE WORKERS, IN ONE PICTURE (num_workers = 2, prefetch_factor = 2: a window of 4 batches)
//
//     delivered_ = 3          claimed_ = 7
//         │                       │
//     ... 3   4   5   6  │  7   8   9 ...
//         ▲   ▲   ▲   ▲  │  not yet claimed: a worker takes the next one when delivered_
//         slots: done, or being made      moves on and the window has room
//
// A worker claims the next batch number under the lock, makes the batch without the lock (the
// slow part, in parallel with the other workers and the training loop), then puts it in its slot
// and wakes the loop. The loop waits until slot delivered_ is filled, takes it and wakes the
// workers (the window moved). An exception thrown while making batch k travels in slot k and is
// thrown again by the loop when it reaches k, as PyTorch re-raises a worker's error.
//
// Everything the threads share (the counters, the slots, stop_) is read and written under one
// mutex; the dataset is only read (Dataset::get is const). The destructor sets stop_ and joins
// the workers, so leaving a `for` loop early (break, or an exception) never leaves a thread behind.
#include "data/dataloader.h"

#include <condition_variable>
#include <algorithm>
#include <exception>
#include <limits>
#include <map>
#include <mutex>
#include <thread>

#include "data/random.h"
#if defined(TANDEM_HAVE_CUDA)
#include "cuda/cuda.h"
#endif

namespace tandem::data {

namespace {
bool gpu_present() {
#if defined(TANDEM_HAVE_CUDA)
  return cuda::is_available();
#else
  return false;
#endif
}
}  // namespace

class DataLoader::EpochRun {
 public:
  // Map-style: the batches' indices are fixed before any thread starts.
  EpochRun(DatasetPtr dataset, std::vector<std::vector<int64_t>> batches, uint64_t pass_seed,
           const DataLoaderOptions& options, Device target)
      : dataset_(std::move(dataset)), batches_(std::move(batches)), pass_seed_(pass_seed),
        options_(options), target_(target), total_(static_cast<int64_t>(batches_.size())) {
    start_workers(options.num_workers);
  }
  // Iterable: one stream, read by one thread (the loop's, or a single worker's).
  EpochRun(ExampleStream stream, uint64_t pass_seed, const DataLoaderOptions& options, Device target)
      : stream_(std::move(stream)), pass_seed_(pass_seed), options_(options), target_(target),
        total_(std::numeric_limits<int64_t>::max()) {
    start_workers(options.num_workers > 0 ? 1 : 0);
  }

  ~EpochRun() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    space_.notify_all();
    for (std::thread& t : workers_) t.join();
  }

  // The next batch in order, or nothing at the end of the epoch.
  std::optional<Example> next() {
    if (workers_.empty()) {
      if (delivered_ >= total_) return std::nullopt;
      std::optional<Example> batch = make(delivered_++);
      if (!batch) total_ = delivered_;
      return batch;
    }
    Slot slot;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (delivered_ >= total_) return std::nullopt;
      ready_.wait(lock, [&] { return slots_.count(delivered_) > 0; });
      auto it = slots_.find(delivered_);
      slot = std::move(it->second);
      slots_.erase(it);
      ++delivered_;
    }
    space_.notify_one();  // one slot of the window opened: one worker may claim it
    if (slot.error) std::rethrow_exception(slot.error);
    return std::move(slot.batch);
  }

 private:
  struct Slot {
    std::optional<Example> batch;  // nothing: the stream ended (iterable datasets)
    std::exception_ptr error;
  };

  void start_workers(int n) {
    for (int w = 0; w < n; ++w) workers_.emplace_back([this] { work(); });
  }

  // A worker: claim the next batch number inside the window, make it, file it.
  void work() {
    const int64_t window = static_cast<int64_t>(options_.num_workers) * options_.prefetch_factor;
    for (;;) {
      int64_t k;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        space_.wait(lock, [&] { return stop_ || claimed_ >= total_ || claimed_ < delivered_ + window; });
        if (stop_ || claimed_ >= total_) return;
        k = claimed_++;
      }
      Slot slot;
      try {
        slot.batch = make(k);
      } catch (...) {
        slot.error = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!slot.batch) total_ = k + 1;  // end of stream (or an error): claim no further
        slots_[k] = std::move(slot);
      }
      ready_.notify_one();  // only the loop waits for slots
    }
  }

  // Batch k: gathered and collated, then moved to the target device.
  std::optional<Example> make(int64_t k) {
    std::optional<Example> batch = dataset_ ? make_indexed(k) : make_streamed();
    if (batch && !target_.is_cpu())
      for (Tensor& t : *batch) t = t.to(target_);
    return batch;
  }

  Example make_indexed(int64_t k) {
    const std::vector<int64_t>& indices = batches_[static_cast<size_t>(k)];
    if (!options_.collate) return dataset_->get_batch(indices, pass_seed_);
    std::vector<Example> examples;
    for (int64_t i : indices) examples.push_back(dataset_->get_seeded(i, pass_seed_));
    return options_.collate(examples);
  }

  // The next batch_size examples of the stream (only ever one thread here).
  std::optional<Example> make_streamed() {
    std::vector<Example> examples;
    while (static_cast<int64_t>(examples.size()) < options_.batch_size) {
      ExampleSeed seed(pass_seed_, streamed_++);
      std::optional<Example> e = stream_();
      if (!e) break;
      examples.push_back(std::move(*e));
    }
    if (examples.empty()) return std::nullopt;
    if (options_.drop_last && static_cast<int64_t>(examples.size()) < options_.batch_size) return std::nullopt;
    return options_.collate ? options_.collate(examples) : collate(examples);
  }

  DatasetPtr dataset_;
  std::vector<std::vector<int64_t>> batches_;
  ExampleStream stream_;
  int64_t streamed_ = 0;
  const uint64_t pass_seed_;
  const DataLoaderOptions options_;
  const Device target_;

  std::mutex mutex_;
  std::condition_variable ready_;  // a slot was filled
  std::condition_variable space_;  // the window moved, or stop_
  int64_t total_;                  // batches in the epoch (iterable: known at the end)
  int64_t claimed_ = 0;            // batches handed to workers so far
  int64_t delivered_ = 0;          // batches handed to the loop so far
  std::map<int64_t, Slot> slots_;  // finished batches waiting for their turn
  bool stop_ = false;
  std::vector<std::thread> workers_;  // last member: the threads start after everything above
};

// ---- DataLoader --------------------------------------------------------------------------------

namespace {
void check_options(const DataLoaderOptions& o) {
  if (o.batch_size < 1) throw Error(msg("DataLoader: batch_size must be >= 1, got ", o.batch_size));
  if (o.num_workers < 0) throw Error(msg("DataLoader: num_workers must be >= 0, got ", o.num_workers));
  if (o.prefetch_factor < 1)
    throw Error(msg("DataLoader: prefetch_factor must be >= 1, got ", o.prefetch_factor));
}

// Where batches arrive: options.device, else the GPU with pin_memory when one is present.
Device target_device(const DataLoaderOptions& o) {
  if (o.device) {
    if (o.device->is_cuda() && !gpu_present())
      throw Error(msg("DataLoader: device ", to_string(*o.device), " was asked for, but no GPU is available ",
                      "(or this build of Tandem has no CUDA backend); leave device unset for the CPU"));
    return *o.device;
  }
  return o.pin_memory && gpu_present() ? Device::cuda(0) : Device::cpu();
}
}  // namespace

DataLoader::DataLoader(DatasetPtr dataset, DataLoaderOptions options)
    : dataset_(std::move(dataset)), options_(std::move(options)) {
  if (!dataset_) throw Error("DataLoader: the dataset is null");
  check_options(options_);
  target_ = target_device(options_);
}

DataLoader::DataLoader(IterableDatasetPtr dataset, DataLoaderOptions options)
    : iterable_(std::move(dataset)), options_(std::move(options)) {
  if (!iterable_) throw Error("DataLoader: the dataset is null");
  check_options(options_);
  if (options_.shuffle)
    throw Error("DataLoader: shuffle needs indices, and an IterableDataset has none (PyTorch: \"expected "
                "unspecified shuffle option\"); shuffle inside the stream, or use a map-style Dataset or "
                "Pipeline::shuffle(buffer_size, seed)");
  target_ = target_device(options_);
}

int64_t DataLoader::size() const {
  if (!dataset_)
    throw Error("DataLoader::size: a loader over an IterableDataset does not know its length "
                "(PyTorch's len() raises TypeError too); count the batches as they come");
  const int64_t n = dataset_->size(), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

void DataLoader::set_epoch(int64_t epoch) {
  if (epoch < 0) throw Error(msg("DataLoader::set_epoch: epochs count from 0, got ", epoch));
  epoch_ = epoch;
}

std::vector<int64_t> DataLoader::order(int64_t e) const {
  if (!dataset_) throw Error("DataLoader::order: an IterableDataset has no indices");
  const int64_t n = dataset_->size();
  if (options_.shuffle) return permutation(n, mix(options_.seed, static_cast<uint64_t>(e)));
  std::vector<int64_t> in_order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) in_order[static_cast<size_t>(i)] = i;
  return in_order;
}

DataLoader::Iterator DataLoader::begin() {
  const int64_t e = epoch_++;
  // The seed of this pass: random transforms of example i draw from mix(pass_seed, i). Distinct
  // from the shuffle's seed, mix(seed, e), so that the two never share a stream.
  const uint64_t pass_seed = mix(options_.seed, static_cast<uint64_t>(e), 0x7472616e73666f72ull);
  if (iterable_)
    return Iterator(std::make_shared<EpochRun>(iterable_->stream(), pass_seed, options_, target_));
  const std::vector<int64_t> indices = order(e);
  std::vector<std::vector<int64_t>> batches;
  const size_t b = static_cast<size_t>(options_.batch_size);
  for (size_t s = 0; s < indices.size(); s += b) {
    const size_t end = std::min(indices.size(), s + b);
    if (end - s < b && options_.drop_last) break;
    batches.emplace_back(indices.begin() + static_cast<std::ptrdiff_t>(s),
                         indices.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return Iterator(std::make_shared<EpochRun>(dataset_, std::move(batches), pass_seed, options_, target_));
}

DataLoader::Iterator::Iterator(std::shared_ptr<EpochRun> run) : run_(std::move(run)), done_(false) {
  ++*this;
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  std::optional<Example> batch = run_->next();
  if (batch) {
    current_ = std::move(*batch);
  } else {
    done_ = true;
    current_.clear();
    run_.reset();  // stops and joins the workers now, not when the iterator goes away
  }
  return *this;
}

}  // namespace tandem::data
