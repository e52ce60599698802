// data/image_folder.h — ImageFolder: a dataset of image files, one sub-folder per class.
//
//     root/cat/001.png          data::ImageFolder train("root", transforms::Compose({...}));
//     root/cat/002.jpg          train.classes()   -> {"cat", "dog"}   (sorted names: labels 0, 1)
//     root/dog/001.bmp          train.get(2)      -> {transform(read_image("root/dog/001.bmp")), 1}
//
// As torchvision.datasets.ImageFolder: classes are the sub-folders in sorted order, samples are the
// .png / .jpg / .jpeg / .bmp files under each (any case, in sub-folders too), sorted by path. The
// folder is listed once, when the dataset is made; each get() reads and decodes one file, so the
// images need not fit in memory, and a DataLoader's workers decode them in parallel. A file that
// fails to decode is an Error naming it (data/image.h), thrown from the worker at that batch.
//
// Read next: data/fashion_mnist.h.
#pragma once

#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/image.h"
#include "data/transforms.h"

namespace tandem::data {

class ImageFolder : public Dataset {
 public:
  // `transform` is applied to each decoded byte image (unset: the byte image itself, int64).
  explicit ImageFolder(const std::string& root, transforms::Transform transform = nullptr,
                       ImageMode mode = ImageMode::rgb);

  int64_t size() const override { return static_cast<int64_t>(samples_.size()); }
  Example get(int64_t index) const override;  // {image, label (int64, 0-dim)}

  const std::vector<std::string>& classes() const { return classes_; }
  struct Sample {
    std::string path;
    int64_t label;
  };
  const std::vector<Sample>& samples() const { return samples_; }

 private:
  std::vector<std::string> classes_;
  std::vector<Sample> samples_;
  transforms::Transform transform_;
  ImageMode mode_;
};

}  // namespace tandem::data
