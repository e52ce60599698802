// layers/init.h — how layers fill their parameters: torch.nn.init, drawn from the default generator.
//
// A layer's starting weights matter: too large and the activations explode layer after layer, too
// small and they vanish. PyTorch's layers start from KAIMING-UNIFORM with a = √5 (He et al., 2015,
// with a gain chosen for leaky_relu of slope √5):
//
//     gain  = √(2 / (1 + a²)) = √(1/3)        std = gain / √fan_in        bound = √3 · std = 1 / √fan_in
//     weight ~ U(-1/√fan_in, 1/√fan_in)       and the bias likewise:  bias ~ U(-1/√fan_in, 1/√fan_in)
//
// where fan_in is the number of inputs of one output unit: in_features for Linear, in_channels/groups
// · kh · kw for Conv2d. Embedding starts from N(0, 1), normalization layers from weight 1, bias 0.
//
// The numbers come from Tandem's default generator (core/factories.h), so `manual_seed(0)` before
// building a model gives the same model every time — not PyTorch's numbers (its generator is
// another), but the same distributions.
//
// Read next: layers/linear.h.
#pragma once

#include <cstdint>
#include <utility>

#include "core/tensor.h"

namespace tandem::nn::init {

// (fan_in, fan_out) of a weight: [out, in] for Linear, [out, in, kh, kw] for Conv2d.
std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& weight);

// Each fills t in place (without recording on the tape) and returns it.
const Tensor& uniform_(const Tensor& t, double low = 0.0, double high = 1.0);   // U(low, high)
const Tensor& normal_(const Tensor& t, double mean = 0.0, double std = 1.0);    // N(mean, std²)
const Tensor& constant_(const Tensor& t, double value);
const Tensor& zeros_(const Tensor& t);
const Tensor& ones_(const Tensor& t);
// U(-bound, bound), bound = gain·√(3 / fan_in), gain = √(2 / (1 + a²)) (PyTorch's leaky_relu gain).
const Tensor& kaiming_uniform_(const Tensor& t, double a = 0.0);

}  // namespace tandem::nn::init
