// data/dataset.h — datasets the PyTorch way: a size and a way to get example i.
//
// torch.utils.data splits data loading in two. A *Dataset* knows how many examples there are and
// how to produce example i (read a file, decode an image, apply transforms); a *DataLoader*
// (data/dataloader.h) decides the order, groups examples into batches and runs the work on
// worker threads. Keeping the two apart is what lets one loader shuffle, batch and parallelise
// any dataset.
//
//     class CustomDataset : public data::Dataset {          // class CustomDataset(Dataset):
//       int64_t size() const override { return 100; }        //   def __len__(self): ...
//       data::Example get(int64_t i) const override {        //   def __getitem__(self, idx):
//         return {tensor({i, i * 2})};                       //     return torch.tensor(...)
//       }
//     };
//
// An Example is a short list of tensors — {image, label}, {token ids, label} — the C++ form of
// the tuple a Python __getitem__ returns. Batching stacks each field (collate, below).
//
// The kinds here, as torch.utils.data has them:
//   Dataset          map-style: size() and get(i)                  (Dataset)
//   IterableDataset  a stream of examples, no index                (IterableDataset)
//   TensorDataset    slices of tensors along their first dimension (TensorDataset)
//   Subset           some indices of another dataset               (Subset)
//   ConcatDataset    datasets one after another                    (ConcatDataset)
//   random_split     disjoint random Subsets of given lengths       (random_split)
//
// Threads: a DataLoader with workers calls get() from several threads at once, so get() must only
// read the dataset's members (it is const); the tensors it returns are its own.
//
// Read next: data/dataloader.h.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace tandem::data {

// One example's fields, or, after collate, one batch's (each field stacked along a new dim 0).
using Example = std::vector<Tensor>;

// default_collate: field k of the batch is stack(example[0][k], example[1][k], ...). Every
// example must have the same number of fields, and field k the same shape and dtype everywhere;
// otherwise a ShapeError names the field and the two examples that differ.
Example collate(const std::vector<Example>& examples);
using Collate = std::function<Example(const std::vector<Example>&)>;

// ---- map-style ------------------------------------------------------------------------------
class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;              // len(dataset)
  virtual Example get(int64_t index) const = 0;  // dataset[index], 0 <= index < size()

  // The examples at `indices`, collated into one batch. The plain version gets each example
  // (seeding example_generator() for each from `pass_seed`, data/random.h) and stacks them; a
  // dataset that can gather a whole batch at once overrides it (TensorDataset does).
  virtual Example get_batch(std::span<const int64_t> indices, uint64_t pass_seed) const;

  // get(index) with example_generator() seeded for (pass_seed, index), as a loader calls it.
  Example get_seeded(int64_t index, uint64_t pass_seed) const;

 protected:
  // Throws IndexError naming `who` unless 0 <= index < size().
  void check_index(int64_t index, const char* who) const;
};
using DatasetPtr = std::shared_ptr<const Dataset>;

// ---- iterable-style -------------------------------------------------------------------------
// A stream hands out the next example, or nothing at the end — a Python iterator's __next__.
using ExampleStream = std::function<std::optional<Example>()>;

class IterableDataset {
 public:
  virtual ~IterableDataset() = default;
  // A fresh stream from the beginning (Python's iter(dataset)); called once per epoch.
  virtual ExampleStream stream() const = 0;
};
using IterableDatasetPtr = std::shared_ptr<const IterableDataset>;

// ---- ready-made datasets --------------------------------------------------------------------
// TensorDataset(images, labels): example i is {images[i], labels[i]}. All tensors must have the
// same size along dim 0.
class TensorDataset : public Dataset {
 public:
  explicit TensorDataset(Example tensors);
  int64_t size() const override;
  Example get(int64_t index) const override;
  // Speed trick: one index_select per tensor instead of one select per example and a stack.
  Example get_batch(std::span<const int64_t> indices, uint64_t pass_seed) const override;
  const Example& tensors() const { return tensors_; }

 private:
  Example tensors_;
};

// index_select(t, 0, indices) for the batch gathers above: rows `indices` of t along dim 0, each
// index already checked (0 <= index < t.size(0)).
Tensor gather_rows(const Tensor& t, std::span<const int64_t> indices);

// Subset(dataset, indices): example i is dataset[indices[i]].
class Subset : public Dataset {
 public:
  Subset(DatasetPtr dataset, std::vector<int64_t> indices);
  int64_t size() const override { return static_cast<int64_t>(indices_.size()); }
  Example get(int64_t index) const override;
  Example get_batch(std::span<const int64_t> indices, uint64_t pass_seed) const override;
  const std::vector<int64_t>& indices() const { return indices_; }
  const DatasetPtr& dataset() const { return dataset_; }

 private:
  DatasetPtr dataset_;
  std::vector<int64_t> indices_;
};

// ConcatDataset({a, b}): a's examples, then b's.
class ConcatDataset : public Dataset {
 public:
  explicit ConcatDataset(std::vector<DatasetPtr> datasets);
  int64_t size() const override { return ends_.empty() ? 0 : ends_.back(); }
  Example get(int64_t index) const override;

 private:
  std::vector<DatasetPtr> datasets_;
  std::vector<int64_t> ends_;  // ends_[k]: one past the last index of datasets_[k]
};

// random_split(dataset, {50000, 10000}, seed): disjoint Subsets of those lengths, which must add
// up to the dataset's size; the indices are a permutation seeded `seed` (the same seed, the same
// split, on every run).
std::vector<std::shared_ptr<Subset>> random_split(const DatasetPtr& dataset,
                                                  const std::vector<int64_t>& lengths, uint64_t seed);

// Makes a DatasetPtr from a dataset object, for the functions above:  share(MyDataset(...)).
template <class D> std::shared_ptr<const D> share(D dataset) {
  return std::make_shared<const D>(std::move(dataset));
}

}  // namespace tandem::data
