// data/transforms.cpp — resize as plain loops over the bilinear formula; crops and flips as views
// and gathers; ToTensor and Normalize as two lines of tensor arithmetic.
#include "data/transforms.h"

#include <cmath>

#include "core/factories.h"
#include "core/ops.h"
#include "data/random.h"

namespace tandem::data::transforms {

namespace {

// An image's height and width are its last two dims; it needs at least those two.
void check_image(const Tensor& image, const char* who) {
  if (!image.defined() || image.dim() < 2)
    throw ShapeError(msg(who, ": expected an image [C, H, W] or [H, W], got ",
                         image.defined() ? shape_str(image.shape()) : "an undefined tensor"));
}

// Per output column (or row) of a resize: the two input pixels it blends and their weights, the
// formula of transforms.h in the type PyTorch computes it in (float for float32 and byte images).
template <typename Acc> struct Taps {
  std::vector<int64_t> i0, i1;
  std::vector<Acc> w0, w1;
};

template <typename Acc> Taps<Acc> taps(int64_t in, int64_t out) {
  Taps<Acc> t;
  const Acc scale = static_cast<Acc>(in) / static_cast<Acc>(out);
  for (int64_t o = 0; o < out; ++o) {
    Acc src = scale * (static_cast<Acc>(o) + Acc(0.5)) - Acc(0.5);  // the centre of o, on the input grid
    if (src < 0) src = 0;
    const int64_t lo = std::min(static_cast<int64_t>(std::floor(src)), in - 1);
    const Acc lambda = std::min(std::max(src - static_cast<Acc>(lo), Acc(0)), Acc(1));
    t.i0.push_back(lo);
    t.i1.push_back(lo < in - 1 ? lo + 1 : lo);
    t.w0.push_back(Acc(1) - lambda);
    t.w1.push_back(lambda);
  }
  return t;
}

// Bilinear resize of `planes` planes of in_h x in_w values into out_h x out_w.
template <typename T, typename Acc>
void resize_planes(const T* in, T* out, int64_t planes, int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w) {
  const Taps<Acc> ty = taps<Acc>(in_h, out_h), tx = taps<Acc>(in_w, out_w);
  for (int64_t p = 0; p < planes; ++p) {
    const T* src = in + p * in_h * in_w;
    T* dst = out + p * out_h * out_w;
    for (int64_t y = 0; y < out_h; ++y) {
      const T* row0 = src + ty.i0[y] * in_w;
      const T* row1 = src + ty.i1[y] * in_w;
      for (int64_t x = 0; x < out_w; ++x) {
        const Acc top = static_cast<Acc>(row0[tx.i0[x]]) * tx.w0[x] + static_cast<Acc>(row0[tx.i1[x]]) * tx.w1[x];
        const Acc bottom = static_cast<Acc>(row1[tx.i0[x]]) * tx.w0[x] + static_cast<Acc>(row1[tx.i1[x]]) * tx.w1[x];
        const Acc v = top * ty.w0[y] + bottom * ty.w1[y];
        if constexpr (std::is_integral_v<T>) dst[y * out_w + x] = static_cast<T>(std::nearbyint(v));  // ties to even
        else dst[y * out_w + x] = static_cast<T>(v);
      }
    }
  }
}

}  // namespace

Tensor Compose::operator()(const Tensor& image) const {
  Tensor x = image;
  for (const Transform& t : transforms_) x = t(x);
  return x;
}

// ---- resize ---------------------------------------------------------------------------------------

Tensor resize(const Tensor& image, int64_t height, int64_t width) {
  check_image(image, "Resize");
  if (height < 1 || width < 1)
    throw ShapeError(msg("Resize: the output size must be positive, got ", height, " x ", width));
  const int64_t in_h = image.size(-2), in_w = image.size(-1);
  if (in_h < 1 || in_w < 1) throw ShapeError(msg("Resize: cannot resize an empty image ", shape_str(image.shape())));
  Shape out_shape = image.shape();
  out_shape[out_shape.size() - 2] = height;
  out_shape[out_shape.size() - 1] = width;
  const Tensor in = image.cpu().contiguous();
  Tensor out = Tensor::empty(out_shape, in.dtype());
  const int64_t planes = in.numel() / (in_h * in_w);
  switch (in.dtype()) {
    case DType::float32:
      resize_planes<float, float>(in.data<float>(), out.data<float>(), planes, in_h, in_w, height, width);
      break;
    case DType::float64:
      resize_planes<double, double>(in.data<double>(), out.data<double>(), planes, in_h, in_w, height, width);
      break;
    case DType::int64:  // a byte image: computed in float32, rounded back (torchvision, uint8)
      resize_planes<int64_t, float>(in.data<int64_t>(), out.data<int64_t>(), planes, in_h, in_w, height, width);
      break;
    default:
      throw DTypeError(msg("Resize: expected a float or byte (int64) image, got ", to_string(in.dtype())));
  }
  return out;
}

Tensor Resize::operator()(const Tensor& image) const {
  if (size_ == 0) return resize(image, height_, width_);
  check_image(image, "Resize");
  if (size_ < 1) throw ShapeError(msg("Resize: the size must be positive, got ", size_));
  const int64_t h = image.size(-2), w = image.size(-1);
  if (h < 1 || w < 1) throw ShapeError(msg("Resize: cannot resize an empty image ", shape_str(image.shape())));
  // The shorter side becomes size_; the other follows the aspect ratio, rounded down.
  if (h <= w) return resize(image, size_, size_ * w / h);
  return resize(image, size_ * h / w, size_);
}

// ---- crops and flips --------------------------------------------------------------------------------

Tensor crop(const Tensor& image, int64_t top, int64_t left, int64_t height, int64_t width) {
  check_image(image, "crop");
  if (height < 1 || width < 1) throw ShapeError(msg("crop: the size must be positive, got ", height, " x ", width));
  const int64_t h = image.size(-2), w = image.size(-1);
  if (top >= 0 && left >= 0 && top + height <= h && left + width <= w)  // inside: a view
    return image.slice(-2, top, top + height).slice(-1, left, left + width);
  // Partly outside: zeros, with the overlapping part copied in.
  Shape shape = image.shape();
  shape[shape.size() - 2] = height;
  shape[shape.size() - 1] = width;
  Tensor out = zeros(shape, image.dtype(), image.device());
  const int64_t y0 = std::max<int64_t>(top, 0), y1 = std::min(top + height, h);
  const int64_t x0 = std::max<int64_t>(left, 0), x1 = std::min(left + width, w);
  if (y0 < y1 && x0 < x1)
    out.slice(-2, y0 - top, y1 - top).slice(-1, x0 - left, x1 - left).copy_(image.slice(-2, y0, y1).slice(-1, x0, x1));
  return out;
}

Tensor hflip(const Tensor& image) {
  check_image(image, "hflip");
  const int64_t w = image.size(-1);
  return index_select(image, image.dim() - 1, arange(w - 1, -1, -1));  // columns w-1, ..., 0
}

Tensor CenterCrop::operator()(const Tensor& image) const {
  check_image(image, "CenterCrop");
  // Python's round(): ties to even, so (5 - 2) / 2 = 1.5 starts at 2.
  auto start = [](int64_t size, int64_t crop) {
    return crop > size ? -((crop - size) / 2) : static_cast<int64_t>(std::nearbyint((size - crop) / 2.0));
  };
  return crop(image, start(image.size(-2), height_), start(image.size(-1), width_), height_, width_);
}

Tensor RandomCrop::operator()(const Tensor& image) const {
  check_image(image, "RandomCrop");
  const int64_t h = image.size(-2) + 2 * padding_, w = image.size(-1) + 2 * padding_;
  if (padding_ < 0 || height_ < 1 || width_ < 1 || height_ > h || width_ > w)
    throw ShapeError(msg("RandomCrop: a ", height_, " x ", width_, " crop does not fit in a ", shape_str(image.shape()),
                         " image padded by ", padding_, "; pad more or crop less"));
  Generator& g = example_generator();
  const int64_t top = static_cast<int64_t>(uniform_below(g, static_cast<uint64_t>(h - height_ + 1))) - padding_;
  const int64_t left = static_cast<int64_t>(uniform_below(g, static_cast<uint64_t>(w - width_ + 1))) - padding_;
  return crop(image, top, left, height_, width_);
}

RandomHorizontalFlip::RandomHorizontalFlip(double p) : p_(p) {
  if (!(p >= 0 && p <= 1)) throw Error(msg("RandomHorizontalFlip: p must be in [0, 1], got ", p));
}

Tensor RandomHorizontalFlip::operator()(const Tensor& image) const {
  return example_generator().uniform() < p_ ? hflip(image) : image;
}

// ---- ToTensor and Normalize ---------------------------------------------------------------------------

Tensor ToTensor::operator()(const Tensor& image) const {
  check_image(image, "ToTensor");
  if (image.dtype() != kInt64 || image.dim() > 3)
    throw DTypeError(msg("ToTensor: expected a byte image (int64 values 0-255, [C, H, W] or [H, W], as read_image "
                         "gives), got ", shape_str(image.shape()), " ", to_string(image.dtype()),
                         image.is_floating_point() ? "; a float image is already a tensor in [0, 1]" : ""));
  const Tensor chw = image.dim() == 2 ? image.unsqueeze(0) : image;
  return chw.to(kFloat32) / 255.0;
}

Normalize::Normalize(std::vector<double> mean, std::vector<double> std) : mean_(std::move(mean)), std_(std::move(std)) {
  if (mean_.empty() || mean_.size() != std_.size())
    throw Error(msg("Normalize: give one mean and one std per channel (got ", mean_.size(), " means and ",
                    std_.size(), " stds)"));
  for (double s : std_)
    if (s == 0 || !std::isfinite(s))
      throw Error(msg("Normalize: std evaluated to ", s, ", leading to division by zero or NaN"));
  // As [C, 1, 1] columns, broadcast over each channel's H x W plane; made once, not per image.
  const int64_t c = static_cast<int64_t>(mean_.size());
  mean_column_ = from_vector(mean_, {c, 1, 1}).to(kFloat32);
  std_column_ = from_vector(std_, {c, 1, 1}).to(kFloat32);
}

Tensor Normalize::operator()(const Tensor& image) const {
  if (!image.defined() || image.dim() < 3 || !image.is_floating_point())
    throw DTypeError(msg("Normalize: expected a float image [C, H, W] (apply ToTensor first), got ",
                         image.defined() ? shape_str(image.shape()) + " " + to_string(image.dtype()) : "undefined"));
  const int64_t c = image.size(-3);
  if (c != static_cast<int64_t>(mean_.size()))
    throw ShapeError(msg("Normalize: the image has ", c, " channels (", shape_str(image.shape()), ") but ",
                         mean_.size(), " means and stds were given"));
  if (image.dtype() != kFloat32)  // float64 images get float64 columns
    return (image - from_vector(mean_, {c, 1, 1})) / from_vector(std_, {c, 1, 1});
  return (image - mean_column_) / std_column_;  // torchvision: tensor.sub_(mean).div_(std)
}

}  // namespace tandem::data::transforms
