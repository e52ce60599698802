// data/fashion_mnist.h — Fashion-MNIST as a Dataset: 28 x 28 grey images of clothes, 10 classes.
//
//     data::FashionMnistDataset train(data::FashionMnistDataset::Split::train,
//                                     {.transform = transforms::Normalize({0.2860}, {0.3530})});
//     data::DataLoader loader(train, {.batch_size = 64, .shuffle = true});
//
// torchvision.datasets.FashionMNIST with its usual companion, a validation split. The files are
// the four IDX files of Debian's dataset-fashion-mnist (data/idx.h reads them); the three splits:
//     train       the first 60000 − validation_size images of the training file (50000)
//     validation  its last validation_size images (10000; Keras's validation_split takes the end too)
//     test        the 10000 images of the test file (t10k), for the final score only
// Example i is {image [1, 28, 28] float32 in [0, 1] (after `transform`), label (int64, 0-dim)}.
// tests/data/fashion-mnist-sample/ holds the same four files cut to a few hundred images
// (scripts/make_data_samples writes them from the real ones), so tests never need the package.
//
// Read next: data/text.h.
#pragma once

#include <array>
#include <string>

#include "data/dataset.h"
#include "data/idx.h"
#include "data/transforms.h"

namespace tandem::data {

struct FashionMnistOptions {
  std::string dir = kFashionMnistDir;   // the folder of the four .gz files
  int64_t validation_size = 10000;      // taken from the end of the training file
  transforms::Transform transform{};    // applied to each [1, 28, 28] image; unset: none
};

class FashionMnistDataset : public Dataset {
 public:
  enum class Split { train, validation, test };
  explicit FashionMnistDataset(Split split, FashionMnistOptions options = {});

  int64_t size() const override { return labels_.size(0); }
  Example get(int64_t index) const override;
  // Without a transform, a batch is one gather of the stored images (as TensorDataset).
  Example get_batch(std::span<const int64_t> indices, uint64_t pass_seed) const override;

  const Tensor& images() const { return images_; }  // [N, 1, 28, 28] float32, before the transform
  const Tensor& labels() const { return labels_; }  // [N] int64
  static const std::array<const char*, 10>& classes() { return kFashionMnistClasses; }

 private:
  Tensor images_, labels_;
  transforms::Transform transform_;
};

}  // namespace tandem::data
