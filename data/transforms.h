// data/transforms.h — image transforms as composable objects, as torchvision.transforms has them.
//
//     auto preprocess = transforms::Compose({            // preprocess = transforms.Compose([
//         transforms::Resize(256),                       //     transforms.Resize(256),
//         transforms::CenterCrop(224),                   //     transforms.CenterCrop(224),
//         transforms::ToTensor(),                        //     transforms.ToTensor(),
//         transforms::Normalize({0.485, 0.456, 0.406},   //     transforms.Normalize(mean=[...],
//                               {0.229, 0.224, 0.225}),  //                          std=[...]),
//     });                                                // ])
//     Tensor x = preprocess(data::read_image("cat.jpg", data::ImageMode::rgb)).unsqueeze(0);
//
// A transform is any function from an image tensor to an image tensor ([C, H, W]; crops and flips
// also take [..., H, W]). Images are byte images (int64 values 0-255, from read_image) until
// ToTensor turns them into float32 in [0, 1]; Resize, the crops and the flip work on either.
//
// Resize is bilinear as torchvision's *tensor* Resize with antialias off, which is
// F.interpolate(mode="bilinear", align_corners=False): output pixel (y, x) reads the input at
//     sy = (y + 0.5) · H_in / H_out − 0.5   (clamped at 0),    likewise sx,
// the centres of the output pixels mapped onto the input grid, and blends the four neighbours
//     out = (1−ly)·((1−lx)·in[y0][x0] + lx·in[y0][x1]) + ly·((1−lx)·in[y1][x0] + lx·in[y1][x1])
// with y0 = floor(sy), y1 = min(y0 + 1, H_in − 1), ly = sy − y0. On a byte image the result is
// rounded to the nearest integer (ties to even, as torch.round), as torchvision does for uint8.
// PIL's Image.resize differs when shrinking: it averages over the whole footprint (antialias).
//
// The random transforms (RandomCrop, RandomHorizontalFlip) draw from data::example_generator(),
// which a DataLoader seeds per example (data/random.h): reproducible, and the same with workers.
//
// Read next: data/image_folder.h (a dataset that applies them).
#pragma once

#include <functional>
#include <vector>

#include "core/tensor.h"

namespace tandem::data::transforms {

using Transform = std::function<Tensor(const Tensor&)>;

// Applies the transforms in order.
class Compose {
 public:
  explicit Compose(std::vector<Transform> transforms) : transforms_(std::move(transforms)) {}
  Tensor operator()(const Tensor& image) const;

 private:
  std::vector<Transform> transforms_;
};

// Resize(256): the shorter side becomes 256, the longer keeps the aspect ratio (rounded down, as
// torchvision: int(256 * long / short)). Resize(h, w): exactly that size. Bilinear (see above).
class Resize {
 public:
  explicit Resize(int64_t size) : size_(size) {}
  Resize(int64_t height, int64_t width) : height_(height), width_(width) {}
  Tensor operator()(const Tensor& image) const;

 private:
  int64_t size_ = 0, height_ = 0, width_ = 0;
};

// The central height x width window; top = round((H − height) / 2) (ties to even, as Python's
// round), likewise left. A crop larger than the image pads it with zeros first, as torchvision.
class CenterCrop {
 public:
  explicit CenterCrop(int64_t size) : height_(size), width_(size) {}
  CenterCrop(int64_t height, int64_t width) : height_(height), width_(width) {}
  Tensor operator()(const Tensor& image) const;

 private:
  int64_t height_, width_;
};

// A height x width window at a uniformly random position, after padding every border with
// `padding` zeros (RandomCrop(28, padding=4) is the classic augmentation of small images).
class RandomCrop {
 public:
  explicit RandomCrop(int64_t size, int64_t padding = 0) : height_(size), width_(size), padding_(padding) {}
  RandomCrop(int64_t height, int64_t width, int64_t padding) : height_(height), width_(width), padding_(padding) {}
  Tensor operator()(const Tensor& image) const;

 private:
  int64_t height_, width_, padding_;
};

// Mirrors the image left-right with probability p.
class RandomHorizontalFlip {
 public:
  explicit RandomHorizontalFlip(double p = 0.5);
  Tensor operator()(const Tensor& image) const;

 private:
  double p_;
};

// A byte image (int64 0-255, [C, H, W] or [H, W]) to float32 [C, H, W] in [0, 1]: x / 255.
class ToTensor {
 public:
  Tensor operator()(const Tensor& image) const;
};

// (x[c] − mean[c]) / std[c] for each channel c of a float image [C, H, W].
class Normalize {
 public:
  Normalize(std::vector<double> mean, std::vector<double> std);
  Tensor operator()(const Tensor& image) const;

 private:
  std::vector<double> mean_, std_;
  Tensor mean_column_, std_column_;  // float32 [C, 1, 1]
};

// The helpers the classes use, for direct calls (torchvision.transforms.functional).
Tensor resize(const Tensor& image, int64_t height, int64_t width);
Tensor crop(const Tensor& image, int64_t top, int64_t left, int64_t height, int64_t width);  // zero-pads outside
Tensor hflip(const Tensor& image);

}  // namespace tandem::data::transforms
