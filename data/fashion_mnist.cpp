// data/fashion_mnist.cpp — the three splits cut from the two IDX file pairs.
#include "data/fashion_mnist.h"

#include "core/factories.h"
#include "core/ops.h"

namespace tandem::data {

FashionMnistDataset::FashionMnistDataset(Split split, FashionMnistOptions options)
    : transform_(std::move(options.transform)) {
  const FashionMnist file = load_fashion_mnist(/*train=*/split != Split::test, options.dir);
  const int64_t n = file.images.size(0);
  Tensor images = file.images.unsqueeze(1), labels = file.labels;  // [N, 1, 28, 28]: one channel
  if (split != Split::test) {
    const int64_t v = options.validation_size;
    if (v < 0 || v >= n)
      throw Error(msg("FashionMnistDataset: validation_size must be in [0, ", n, ") for the ", n,
                      " training images in ", options.dir, ", got ", v));
    const int64_t start = split == Split::train ? 0 : n - v, end = split == Split::train ? n - v : n;
    images = images.slice(0, start, end).contiguous();
    labels = labels.slice(0, start, end).contiguous();
  }
  images_ = images;
  labels_ = labels;
}

Example FashionMnistDataset::get(int64_t index) const {
  check_index(index, "FashionMnistDataset");
  Tensor image = images_[index];
  if (transform_) image = transform_(image);
  return {image, labels_[index]};
}

Example FashionMnistDataset::get_batch(std::span<const int64_t> indices, uint64_t pass_seed) const {
  if (transform_) return Dataset::get_batch(indices, pass_seed);
  for (int64_t i : indices) check_index(i, "FashionMnistDataset");
  return {gather_rows(images_, indices), gather_rows(labels_, indices)};
}

}  // namespace tandem::data
