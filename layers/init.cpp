// layers/init.cpp — torch.nn.init's fillers (see layers/init.h).
#include "layers/init.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "core/factories.h"
#include "core/ops.h"

namespace tandem::nn::init {

std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& weight) {
  if (weight.dim() < 2)
    throw ShapeError(msg("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions (got ",
                         shape_str(weight.shape()), ")"));
  int64_t receptive = 1;  // the kernel's size, for convolutions
  for (int64_t d = 2; d < weight.dim(); ++d) receptive *= weight.size(d);
  return {weight.size(1) * receptive, weight.size(0) * receptive};
}

const Tensor& uniform_(const Tensor& t, double low, double high) {
  no_grad guard;
  t.copy_(rand(t.shape(), t.dtype()) * (high - low) + low);
  return t;
}

const Tensor& normal_(const Tensor& t, double mean, double std) {
  no_grad guard;
  t.copy_(randn(t.shape(), t.dtype()) * std + mean);
  return t;
}

const Tensor& constant_(const Tensor& t, double value) {
  no_grad guard;
  t.fill_(value);
  return t;
}

const Tensor& zeros_(const Tensor& t) { return constant_(t, 0.0); }
const Tensor& ones_(const Tensor& t) { return constant_(t, 1.0); }

const Tensor& kaiming_uniform_(const Tensor& t, double a) {
  if (t.numel() == 0) return t;  // nothing to fill (and no fan-in to divide by)
  const double fan_in = static_cast<double>(calculate_fan_in_and_fan_out(t).first);
  const double gain = std::sqrt(2.0 / (1.0 + a * a));
  const double bound = gain * std::sqrt(3.0 / fan_in);
  return uniform_(t, -bound, bound);
}

}  // namespace tandem::nn::init
