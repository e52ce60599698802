// layers/conv.cpp — Conv2d's parameters, and what the conv and pooling layers print.
#include "layers/conv.h"

#include <cmath>

#include "layers/init.h"

namespace tandem::nn {

Conv2dImpl::Conv2dImpl(Conv2dOptions o) : options(o) {
  const int64_t in = o.in_channels_, out = o.out_channels_, g = o.groups_;
  const Pair k = o.kernel_size_;
  if (in <= 0 || out <= 0 || k[0] <= 0 || k[1] <= 0)
    throw Error(msg("Conv2d: in_channels, out_channels and the kernel size must be positive, but got ", in, ", ",
                    out, " and ", o.kernel_size_.str()));
  if (g <= 0) throw Error(msg("Conv2d: groups must be a positive integer, but got ", g));
  if (in % g != 0) throw Error(msg("Conv2d: in_channels must be divisible by groups (", in, " and ", g, ")"));
  if (out % g != 0) throw Error(msg("Conv2d: out_channels must be divisible by groups (", out, " and ", g, ")"));
  if (o.padding_.same && (Pair(o.stride_) != Pair{1, 1}))
    throw Error("Conv2d: padding='same' is not supported for strided convolutions");
  weight = register_parameter("weight", Tensor::empty({out, in / g, k[0], k[1]}));
  if (o.bias_) bias = register_parameter("bias", Tensor::empty({out}));
  reset_parameters();
}

// PyTorch's _ConvNd.reset_parameters: the same rule as Linear's, with fan_in = in/groups · kh · kw.
void Conv2dImpl::reset_parameters() {
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    const double fan_in = static_cast<double>(init::calculate_fan_in_and_fan_out(weight).first);
    init::uniform_(bias, -1.0 / std::sqrt(fan_in), 1.0 / std::sqrt(fan_in));
  }
}

// PyTorch's _ConvNd.extra_repr: sizes as tuples; padding, dilation, groups and bias only when not
// the defaults.
std::string Conv2dImpl::extra_repr() const {
  const Conv2dOptions& o = options;
  std::string s = msg(o.in_channels_, ", ", o.out_channels_, ", kernel_size=", detail::py_tuple(o.kernel_size_),
                      ", stride=", detail::py_tuple(o.stride_));
  if (!o.padding_.text.empty()) s += ", padding=" + o.padding_.text;
  else if (o.padding_.size != Pair{0, 0}) s += ", padding=" + detail::py_tuple(o.padding_.size);
  if (Pair(o.dilation_) != Pair{1, 1}) s += ", dilation=" + detail::py_tuple(o.dilation_);
  if (o.groups_ != 1) s += msg(", groups=", o.groups_);
  if (!o.bias_) s += ", bias=False";
  return s;
}

std::string MaxPool2dImpl::extra_repr() const {
  return msg("kernel_size=", kernel_size.str(), ", stride=", stride.str(), ", padding=", padding.str(),
             ", dilation=1, ceil_mode=False");
}

std::string AvgPool2dImpl::extra_repr() const {
  return msg("kernel_size=", kernel_size.str(), ", stride=", stride.str(), ", padding=", padding.str());
}

}  // namespace tandem::nn
