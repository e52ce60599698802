// data/dataset.cpp — collate, and the ready-made datasets.
#include "data/dataset.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "core/factories.h"
#include "core/ops.h"
#include "data/random.h"

namespace tandem::data {

Example collate(const std::vector<Example>& examples) {
  if (examples.empty()) throw Error("collate: no examples to put in a batch");
  const size_t fields = examples[0].size();
  for (size_t j = 1; j < examples.size(); ++j)
    if (examples[j].size() != fields)
      throw ShapeError(msg("collate: example 0 of the batch has ", fields, " fields but example ", j,
                           " has ", examples[j].size(), " fields; every example must have the same fields"));
  Example batch;
  batch.reserve(fields);
  std::vector<Tensor> column(examples.size());
  for (size_t k = 0; k < fields; ++k) {
    for (size_t j = 0; j < examples.size(); ++j) {
      const Tensor& t = examples[j][k];
      if (!t.defined()) throw Error(msg("collate: field ", k, " of example ", j, " is an undefined tensor"));
      if (t.shape() != examples[0][k].shape() || t.dtype() != examples[0][k].dtype())
        throw ShapeError(msg("collate: field ", k, " is ", shape_str(examples[0][k].shape()), " ",
                             to_string(examples[0][k].dtype()), " in example 0 of the batch but ",
                             shape_str(t.shape()), " ", to_string(t.dtype()), " in example ", j,
                             "; resize or pad the examples to one shape (a transform, or a collate "
                             "function of your own)"));
      column[j] = t;
    }
    batch.push_back(stack(column, 0));
  }
  return batch;
}

// ---- Dataset ------------------------------------------------------------------------------------

void Dataset::check_index(int64_t index, const char* who) const {
  if (index < 0 || index >= size())
    throw IndexError(msg(who, ": index ", index, " is out of range for a dataset of ", size(), " examples"));
}

Example Dataset::get_seeded(int64_t index, uint64_t pass_seed) const {
  ExampleSeed seed(pass_seed, index);
  return get(index);
}

Example Dataset::get_batch(std::span<const int64_t> indices, uint64_t pass_seed) const {
  std::vector<Example> examples;
  examples.reserve(indices.size());
  for (int64_t i : indices) examples.push_back(get_seeded(i, pass_seed));
  return collate(examples);
}

// ---- TensorDataset --------------------------------------------------------------------------------

TensorDataset::TensorDataset(Example tensors) : tensors_(std::move(tensors)) {
  if (tensors_.empty()) throw Error("TensorDataset: give at least one tensor");
  for (size_t k = 0; k < tensors_.size(); ++k) {
    if (!tensors_[k].defined() || tensors_[k].dim() == 0)
      throw ShapeError(msg("TensorDataset: tensor ", k, " has no first dimension to index examples by"));
    if (tensors_[k].size(0) != tensors_[0].size(0))
      throw ShapeError(msg("TensorDataset: size mismatch between tensors: tensor 0 has ", tensors_[0].size(0),
                           " examples (", shape_str(tensors_[0].shape()), "), tensor ", k, " has ",
                           tensors_[k].size(0), " (", shape_str(tensors_[k].shape()), ")"));
  }
}

int64_t TensorDataset::size() const { return tensors_[0].size(0); }

Example TensorDataset::get(int64_t index) const {
  check_index(index, "TensorDataset");
  Example e;
  for (const Tensor& t : tensors_) e.push_back(t.select(0, index));
  return e;
}

Example TensorDataset::get_batch(std::span<const int64_t> indices, uint64_t) const {
  for (int64_t i : indices) check_index(i, "TensorDataset");
  Example batch;
  for (const Tensor& t : tensors_) batch.push_back(gather_rows(t, indices));
  return batch;
}

Tensor gather_rows(const Tensor& t, std::span<const int64_t> indices) {
  const auto n = static_cast<int64_t>(indices.size());
  // Speed trick: a contiguous tensor on the CPU stores example i as one run of bytes, so the batch
  // is one memcpy per example (a 64 x 784 float batch: ~10 µs, against ~60 µs for index_select's
  // element-by-element loop). The plain version, for any other tensor:
  if (!t.device().is_cpu() || !t.is_contiguous()) {
    const Tensor index = from_vector(std::vector<int64_t>(indices.begin(), indices.end()), {n});
    return index_select(t, 0, index);
  }
  Shape shape = t.shape();
  shape[0] = n;
  Tensor out = Tensor::empty(shape, t.dtype());
  const size_t row = t.size(0) == 0 ? 0 : t.nbytes() / static_cast<size_t>(t.size(0));
  const auto* src = static_cast<const char*>(t.raw_data());
  auto* dst = static_cast<char*>(out.raw_data());
  for (int64_t j = 0; j < n; ++j)
    std::memcpy(dst + static_cast<size_t>(j) * row, src + static_cast<size_t>(indices[static_cast<size_t>(j)]) * row, row);
  return out;
}

// ---- Subset and ConcatDataset ------------------------------------------------------------------------

Subset::Subset(DatasetPtr dataset, std::vector<int64_t> indices)
    : dataset_(std::move(dataset)), indices_(std::move(indices)) {
  if (!dataset_) throw Error("Subset: the dataset is null");
  for (int64_t i : indices_)
    if (i < 0 || i >= dataset_->size())
      throw IndexError(msg("Subset: index ", i, " is out of range for a dataset of ", dataset_->size(), " examples"));
}

Example Subset::get(int64_t index) const {
  check_index(index, "Subset");
  return dataset_->get(indices_[static_cast<size_t>(index)]);
}

// The inner dataset's own get_batch (a TensorDataset's gather), at the mapped indices.
Example Subset::get_batch(std::span<const int64_t> indices, uint64_t pass_seed) const {
  std::vector<int64_t> inner(indices.size());
  for (size_t j = 0; j < indices.size(); ++j) {
    check_index(indices[j], "Subset");
    inner[j] = indices_[static_cast<size_t>(indices[j])];
  }
  return dataset_->get_batch(inner, pass_seed);
}

ConcatDataset::ConcatDataset(std::vector<DatasetPtr> datasets) : datasets_(std::move(datasets)) {
  int64_t end = 0;
  for (size_t k = 0; k < datasets_.size(); ++k) {
    if (!datasets_[k]) throw Error(msg("ConcatDataset: dataset ", k, " is null"));
    end += datasets_[k]->size();
    ends_.push_back(end);
  }
}

Example ConcatDataset::get(int64_t index) const {
  check_index(index, "ConcatDataset");
  // The first dataset whose end lies beyond index (a binary search, as PyTorch's bisect).
  const size_t k = static_cast<size_t>(std::upper_bound(ends_.begin(), ends_.end(), index) - ends_.begin());
  const int64_t start = k == 0 ? 0 : ends_[k - 1];
  return datasets_[k]->get(index - start);
}

std::vector<std::shared_ptr<Subset>> random_split(const DatasetPtr& dataset,
                                                  const std::vector<int64_t>& lengths, uint64_t seed) {
  if (!dataset) throw Error("random_split: the dataset is null");
  int64_t total = 0;
  for (int64_t n : lengths) {
    if (n < 0) throw Error(msg("random_split: lengths must be >= 0, got ", n));
    total += n;
  }
  if (total != dataset->size())
    throw Error(msg("random_split: the lengths add up to ", total, " but the dataset has ", dataset->size(),
                    " examples; they must be equal"));
  const std::vector<int64_t> order = permutation(dataset->size(), seed);
  std::vector<std::shared_ptr<Subset>> parts;
  auto from = order.begin();
  for (int64_t n : lengths) {
    parts.push_back(std::make_shared<Subset>(dataset, std::vector<int64_t>(from, from + n)));
    from += n;
  }
  return parts;
}

}  // namespace tandem::data
