// layers/conv.h — convolution and pooling layers for images [N, C, H, W].
//
//     nn::Conv2d conv1(1, 10, 5);                       // nn.Conv2d(1, 10, kernel_size=5)
//     nn::Conv2d conv(16, 32, 3, /*stride=*/2, /*padding=*/1, /*dilation=*/1, /*groups=*/1, /*bias=*/false);
//     nn::Conv2d same(nn::Conv2dOptions(16, 16, 3).padding("same"));   // LibTorch's options
//     nn::MaxPool2d pool(2);   nn::AvgPool2d avg(2);   nn::AdaptiveAvgPool2d gap(1);
//
// The layers hold the settings (and Conv2d its weights); the computing is in layers/functional.h
// (conv2d with dilation, groups and "same" padding, avg_pool2d as pooling matrices) and core/ops/conv.cpp
// (the conv2d and max_pool2d ops: im2col + GEMM).
//
// Read next: layers/normalization.h.
#pragma once

#include "layers/functional.h"
#include "layers/module.h"

namespace tandem::nn {

// Conv2d's settings, LibTorch's way: Conv2dOptions(in, out, kernel).stride(2).padding(1).bias(false).
struct Conv2dOptions {
  Conv2dOptions(int64_t in_channels, int64_t out_channels, Size2 kernel_size)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
  Conv2dOptions& stride(Size2 v) { stride_ = v; return *this; }
  Conv2dOptions& padding(functional::Padding2d v) { padding_ = v; return *this; }
  Conv2dOptions& dilation(Size2 v) { dilation_ = v; return *this; }
  Conv2dOptions& groups(int64_t v) { groups_ = v; return *this; }
  Conv2dOptions& bias(bool v) { bias_ = v; return *this; }

  int64_t in_channels_, out_channels_;
  Size2 kernel_size_;
  Size2 stride_ = 1;
  functional::Padding2d padding_;
  Size2 dilation_ = 1;
  int64_t groups_ = 1;
  bool bias_ = true;
};

// nn.Conv2d: weight [out, in/groups, kh, kw] and bias [out], both U(-1/√fan_in, 1/√fan_in) with
// fan_in = in/groups · kh · kw. Padding is a number, (h, w), "valid" (none) or "same" (stride 1).
class Conv2dImpl : public Layer<Conv2dImpl> {
 public:
  explicit Conv2dImpl(Conv2dOptions options);
  Conv2dImpl(int64_t in_channels, int64_t out_channels, Size2 kernel_size, Size2 stride = 1,
             functional::Padding2d padding = {}, Size2 dilation = 1, int64_t groups = 1, bool bias = true)
      : Conv2dImpl(Conv2dOptions(in_channels, out_channels, kernel_size)
                       .stride(stride).padding(padding).dilation(dilation).groups(groups).bias(bias)) {}
  template <class T> T forward(const T& x) {
    return functional::conv2d(x, bind(weight, x), bias.defined() ? bind(bias, x) : T(), options.stride_,
                              options.padding_, options.dilation_, options.groups_);
  }
  void reset_parameters();
  std::string extra_repr() const override;

  Tensor weight, bias;
  const Conv2dOptions options;
};
TANDEM_MODULE(Conv2d);

// nn.MaxPool2d(kernel_size, stride=kernel_size, padding=0): the largest value of each window.
class MaxPool2dImpl : public Layer<MaxPool2dImpl> {
 public:
  explicit MaxPool2dImpl(Size2 kernel_size, std::optional<Size2> stride = std::nullopt, Size2 padding = 0)
      : kernel_size(kernel_size), stride(stride.value_or(kernel_size)), padding(padding) {}
  template <class T> T forward(const T& x) { return max_pool2d(x, kernel_size, stride, padding); }
  std::string extra_repr() const override;
  const Size2 kernel_size, stride, padding;
};
TANDEM_MODULE(MaxPool2d);

// nn.AvgPool2d(kernel_size, stride=kernel_size, padding=0, ceil_mode=False, count_include_pad=True):
// the mean of each window (ceil_mode is not offered: windows never run past the padded input).
class AvgPool2dImpl : public Layer<AvgPool2dImpl> {
 public:
  explicit AvgPool2dImpl(Size2 kernel_size, std::optional<Size2> stride = std::nullopt, Size2 padding = 0,
                         bool count_include_pad = true)
      : kernel_size(kernel_size), stride(stride.value_or(kernel_size)), padding(padding),
        count_include_pad(count_include_pad) {}
  template <class T> T forward(const T& x) {
    return functional::avg_pool2d(x, kernel_size, stride, padding, count_include_pad);
  }
  std::string extra_repr() const override;
  const Size2 kernel_size, stride, padding;
  const bool count_include_pad;
};
TANDEM_MODULE(AvgPool2d);

// nn.AdaptiveAvgPool2d(output_size): average-pools to a fixed size, whatever the input's;
// AdaptiveAvgPool2d(1) is the global average pooling that ends a ResNet ([N, C, H, W] -> [N, C, 1, 1]).
class AdaptiveAvgPool2dImpl : public Layer<AdaptiveAvgPool2dImpl> {
 public:
  explicit AdaptiveAvgPool2dImpl(Size2 output_size) : output_size(output_size) {}
  template <class T> T forward(const T& x) { return functional::adaptive_avg_pool2d(x, output_size); }
  std::string extra_repr() const override { return "output_size=" + output_size.str(); }
  const Size2 output_size;
};
TANDEM_MODULE(AdaptiveAvgPool2d);

}  // namespace tandem::nn
