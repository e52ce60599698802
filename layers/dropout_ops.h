// layers/dropout_ops.h — dropout, written once for eager tensors and graph outputs.
//
// During training, dropout zeroes each element with probability p and multiplies the survivors by
// 1 / (1 - p), so that the expected value of every element is unchanged and nothing needs
// rescaling at test time (PyTorch's F.dropout; TF1's tf.nn.dropout takes keep_prob = 1 - p).
// Outside training it is the identity. Written with ops only:
//
//     mask = (rand_like(x) >= p)      keep with probability 1 - p
//     y    = x * mask / (1 - p)
//
// so its gradient needs no rule of its own: dy/dx = mask / (1 - p), the mask being a constant
// (rand_like has no derivative). dropout2d draws one number per (image, channel) of an
// [N, C, H, W] batch and drops whole feature maps (F.dropout2d, the seed ConvNet's Dropout2d).
//
// The template serves both modes, as the model templates of examples/01_side_by_side.cpp do.
#pragma once

#include <vector>

#include "core/error.h"
#include "core/ops.h"
#include "core/shape.h"

namespace tandem {

template <class T> T dropout_with(const T& x, double p, bool training, const std::vector<int64_t>& shared_dims) {
  if (p < 0 || p > 1) throw Error(msg("dropout probability has to be between 0 and 1, but got ", p));
  if (!training || p == 0) return x;
  if (p == 1) return x * 0.0;  // everything dropped
  return x * to(rand_like(x, shared_dims) >= p, x.dtype()) * (1.0 / (1.0 - p));
}

// One draw per (image, channel) of an [N, C, H, W] batch: the mask is shared along H and W.
template <class T> T dropout2d_with(const T& x, double p, bool training) {
  if (x.shape().size() != 4)
    throw ShapeError(msg("dropout2d: expected a 4-D input [N, C, H, W], but got shape ", shape_str(x.shape())));
  return dropout_with(x, p, training, {2, 3});
}

// F.dropout: in training, zero each element with probability p, scale the others by 1 / (1 - p).
template <TensorLike T> T dropout(const T& x, double p = 0.5, bool training = true) {
  return dropout_with(x, p, training, {});
}
// F.dropout2d: the same for whole channels of an [N, C, H, W] batch.
template <TensorLike T> T dropout2d(const T& x, double p = 0.5, bool training = true) {
  return dropout2d_with(x, p, training);
}

}  // namespace tandem
