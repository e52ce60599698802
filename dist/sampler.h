// dist/sampler.h — DistributedSampler: which examples each rank trains on, epoch by epoch.
//
// PyTorch's torch.utils.data.distributed.DistributedSampler, step by step, for N ranks:
//   1. every rank builds THE SAME order of the n examples: with shuffle, the permutation seeded
//      mix(seed, epoch) — the very order DataLoader(shuffle=true, seed) visits (data/random.h) —
//      so no rank needs to tell the others anything;
//   2. the order is padded to a multiple of N by repeating its first examples (or, with
//      drop_last, cut down to one), so every rank gets the same number and takes the same number
//      of steps — a rank with one step more would wait for ever in its last all-reduce;
//   3. rank r takes every N-th index starting at r: order[r], order[r + N], order[r + 2N] ...
//
// So batch k of rank r and batch k of the other ranks together are positions [k·B·N, (k+1)·B·N)
// of the order (interleaved): N ranks with batches of B see, step by step, the same examples as
// one process with batches of B·N. Averaged, their gradients are that process's gradient — the
// equality tests/dist/ checks.
//
//     dist::DistributedSampler sampler(dataset->size(), {.shuffle = true, .seed = 0});
//     for (int64_t epoch = 0; epoch < epochs; ++epoch) {
//       data::DataLoader loader(sampler.shard(dataset, epoch), {.batch_size = 32});  // in order
//       for (const data::Example& batch : loader) ...
//     }
//
// (PyTorch sets the epoch with sampler.set_epoch(epoch); forgetting it repeats epoch 0's order.
// Here the epoch is an argument, so it cannot be forgotten.)
//
// Read next: dist/data_parallel.h.
#pragma once

#include <cstdint>
#include <vector>

#include "data/dataset.h"

namespace tandem::dist {

struct SamplerOptions {
  int num_replicas = -1;  // N; -1: dist::world_size()
  int rank = -1;          // r; -1: dist::rank()
  bool shuffle = true;
  uint64_t seed = 0;
  bool drop_last = false;  // cut the order down to a multiple of N instead of padding it
};

class DistributedSampler {
 public:
  explicit DistributedSampler(int64_t dataset_size, SamplerOptions options = {});
  // This rank's indices for `epoch`, in the order it visits them.
  std::vector<int64_t> indices(int64_t epoch) const;
  // The same, as a dataset: Subset(dataset, indices(epoch)), for a DataLoader without shuffle.
  data::DatasetPtr shard(const data::DatasetPtr& dataset, int64_t epoch) const;
  int64_t num_samples() const;  // examples per rank per epoch
  int num_replicas() const { return options_.num_replicas; }
  int rank() const { return options_.rank; }

 private:
  int64_t size_;
  SamplerOptions options_;
};

}  // namespace tandem::dist
