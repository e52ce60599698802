// data/dataloader.h — DataLoader: order, batches and worker threads over any Dataset.
//
//     data::DataLoader loader(dataset, {.batch_size = 32, .shuffle = true, .seed = 0});
//     for (int64_t epoch = 0; epoch < 10; ++epoch)        // each pass over the loader is an epoch
//       for (const data::Example& batch : loader) {       // for images, labels in loader:
//         const Tensor& x = batch[0], & y = batch[1];
//         ...
//       }
//
// One epoch, step by step:
//   1. the order: 0..n-1, or with shuffle a permutation seeded mix(seed, epoch) (data/random.h) —
//      a new order every epoch, the same orders on every run;
//   2. cut it into batches of batch_size indices; the last may be short, or dropped (drop_last);
//   3. make batch k: dataset.get_batch(indices) — get(i) for each index, then collate (stack).
//      A random transform inside get(i) draws from example_generator(), seeded from
//      (seed, epoch, i): the draw belongs to the example, not to the thread that makes it;
//   4. hand the batches out in order, k = 0, 1, 2...
//
// With num_workers > 0, step 3 runs on that many threads, up to num_workers * prefetch_factor
// batches ahead of the training loop (PyTorch's prefetching), while the loop trains on the batch
// before. Whichever thread makes batch k, it is the same batch: the order and the seeds were fixed
// in steps 1 and 3, so 0 and N workers give identical batches. The loop still receives them in
// order k = 0, 1, 2...: a batch finished early waits in its slot.
//
// Resuming: the loader counts epochs (each `for` over it is one). set_epoch(e) makes the next one
// epoch e — a run restored from a checkpoint after epoch 4 calls set_epoch(5) and sees exactly the
// order an uninterrupted run would have (PyTorch gets this with DistributedSampler.set_epoch).
//
// Staging (pin_memory): PyTorch pins host memory so that `.to("cuda", non_blocking=True)`
// overlaps the copy with compute. Tandem's loader does the copy itself, on its worker threads:
// with pin_memory and a GPU present, every batch arrives on cuda:0 (or on options.device, when
// given). Without a GPU pin_memory changes nothing, as PyTorch's warns and carries on.
//
// Read next: data/pipeline.h (the same job, the tf.data way).
#pragma once

#include <concepts>
#include <iterator>
#include <memory>
#include <optional>

#include "core/device.h"
#include "data/dataset.h"

namespace tandem::data {

struct DataLoaderOptions {
  int64_t batch_size = 1;
  bool shuffle = false;       // a new seeded permutation each epoch
  bool drop_last = false;     // drop the last batch when it is short
  int num_workers = 0;        // threads that make batches; 0: the training thread makes them
  int prefetch_factor = 2;    // batches each worker may have ready ahead of the loop
  uint64_t seed = 0;          // of the shuffles and of the random transforms
  bool pin_memory = false;    // with a GPU present: batches arrive on the GPU (see above)
  std::optional<Device> device{};  // where batches arrive; unset: the CPU (or the GPU, pin_memory)
  Collate collate{};          // unset: Dataset::get_batch, i.e. data::collate (stack each field)
};

class DataLoader {
 public:
  DataLoader(DatasetPtr dataset, DataLoaderOptions options = {});
  // An IterableDataset has no indices: no shuffle (shuffle it in its stream, or use a Pipeline's
  // shuffle buffer); with workers, one thread reads the stream ahead of the loop.
  DataLoader(IterableDatasetPtr dataset, DataLoaderOptions options = {});
  // DataLoader(CustomDataset(), {...}): takes the dataset object itself.
  template <class D>
    requires std::derived_from<D, Dataset>
  DataLoader(D dataset, DataLoaderOptions options = {})
      : DataLoader(DatasetPtr(std::make_shared<const D>(std::move(dataset))), std::move(options)) {}

  // Batches per epoch, len(loader) (map-style datasets only).
  int64_t size() const;
  const DataLoaderOptions& options() const { return options_; }

  // The epoch the next `for` will run, and the way to choose it (resuming).
  int64_t epoch() const { return epoch_; }
  void set_epoch(int64_t epoch);
  // The indices epoch `e` visits, in order (what shuffle does, for inspection and tests).
  std::vector<int64_t> order(int64_t e) const;

  // ---- iteration: `for (const Example& batch : loader)` -----------------------------------------
  class EpochRun;  // one epoch's batches and workers (data/dataloader.cpp)
  class Iterator {
   public:
    using value_type = Example;
    using difference_type = std::ptrdiff_t;
    Iterator() = default;
    explicit Iterator(std::shared_ptr<EpochRun> run);
    const Example& operator*() const { return current_; }
    const Example* operator->() const { return &current_; }
    Iterator& operator++();
    void operator++(int) { ++*this; }
    bool operator==(std::default_sentinel_t) const { return done_; }

   private:
    std::shared_ptr<EpochRun> run_;  // shared: the workers stop when the last copy goes
    Example current_;
    bool done_ = true;
  };
  // Starts epoch epoch() (and its workers) and moves the counter on.
  Iterator begin();
  std::default_sentinel_t end() const { return {}; }

 private:
  DatasetPtr dataset_;
  IterableDatasetPtr iterable_;
  DataLoaderOptions options_;
  Device target_ = Device::cpu();
  int64_t epoch_ = 0;
};

}  // namespace tandem::data
