// dist/sampler.cpp — DistributedSampler: one shared order, padded, dealt out like cards.
//
// Read dist/sampler.h first.
#include "dist/sampler.h"

#include "data/random.h"
#include "dist/dist.h"

namespace tandem::dist {

DistributedSampler::DistributedSampler(int64_t dataset_size, SamplerOptions options)
    : size_(dataset_size), options_(options) {
  if (options_.num_replicas < 0) options_.num_replicas = dist::world_size();  // (dist::: the members shadow them)
  if (options_.rank < 0) options_.rank = dist::rank();
  if (options_.num_replicas < 1 || options_.rank >= options_.num_replicas)
    throw Error(msg("DistributedSampler: rank ", options_.rank, " of ", options_.num_replicas,
                    " replicas: the rank must be in [0, num_replicas)"));
  if (size_ < 0) throw Error(msg("DistributedSampler: a dataset of ", size_, " examples"));
  if (options_.drop_last && size_ < options_.num_replicas)
    throw Error(msg("DistributedSampler: drop_last with ", size_, " examples and ", options_.num_replicas,
                    " replicas leaves every rank nothing; pad instead (drop_last = false)"));
}

int64_t DistributedSampler::num_samples() const {
  const int64_t n = options_.num_replicas;
  return options_.drop_last ? size_ / n : (size_ + n - 1) / n;  // floor, or ceil
}

std::vector<int64_t> DistributedSampler::indices(int64_t epoch) const {
  // 1. The shared order (the same on every rank).
  std::vector<int64_t> order;
  if (options_.shuffle) {
    order = data::permutation(size_, data::mix(options_.seed, static_cast<uint64_t>(epoch)));
  } else {
    for (int64_t i = 0; i < size_; ++i) order.push_back(i);
  }
  // 2. Padded (repeating from the start, as often as needed) or cut to num_samples · N.
  const int64_t total = num_samples() * options_.num_replicas;
  for (size_t i = 0; static_cast<int64_t>(order.size()) < total; ++i) order.push_back(order[i % static_cast<size_t>(size_)]);
  order.resize(static_cast<size_t>(total));
  // 3. Every N-th, from this rank's number.
  std::vector<int64_t> mine;
  for (int64_t i = options_.rank; i < total; i += options_.num_replicas) mine.push_back(order[static_cast<size_t>(i)]);
  return mine;
}

data::DatasetPtr DistributedSampler::shard(const data::DatasetPtr& dataset, int64_t epoch) const {
  if (dataset->size() != size_)
    throw Error(msg("DistributedSampler::shard: the sampler was made for ", size_, " examples, the dataset has ",
                    dataset->size()));
  return std::make_shared<const data::Subset>(dataset, indices(epoch));
}

}  // namespace tandem::dist
