// layers/normalization.h — BatchNorm1d, BatchNorm2d and LayerNorm.
//
// BATCH NORM (Ioffe & Szegedy, 2015) normalizes each channel over the batch, then lets the network
// scale and shift it back (weight γ, bias β — parameters, starting at 1 and 0):
//
//     y = (x - μ_c) / √(σ²_c + eps) · γ_c + β_c
//
// In training μ and σ² are the batch's own statistics, and the layer also keeps running estimates
// of them in two BUFFERS (running_mean, running_var: saved with the model, not trained). In
// evaluation it uses those estimates, so a prediction does not depend on the rest of its batch.
// That is why model.eval() matters for a network with batch norm — and, in a graph, why the
// training path and the evaluation path differ (layers/module.h): the training path also updates
// the buffers, with assign nodes its output waits for.
//
// Composite or primitive? Both. functional::batch_norm_plain (layers/functional.h) is the formula
// as a composite of mean, var, mul and add — read it first; its backward is the derivative sheet's
// rules for those, about a dozen passes over the activation. The layer runs functional::batch_norm,
// batch norm's fused primitives (core/ops/batch_norm.cpp): two passes forward, two backward, the
// same values (tests/test_batch_norm_fused.cpp). bench/RESULTS.md has the ResNet step they sped up.
//
// LAYER NORM (Ba et al., 2016) normalizes each sample over its last dims instead, the same in
// training and evaluation (no running statistics).
//
// Read next: layers/embedding.h.
#pragma once

#include "layers/functional.h"
#include "layers/module.h"

namespace tandem::nn {

// What BatchNorm1d and BatchNorm2d share; they differ in the input ranks they accept.
template <class Derived> class BatchNormBase : public Layer<Derived> {
 public:
  BatchNormBase(int64_t num_features, double eps, double momentum, bool affine, bool track_running_stats);
  template <class T> T forward(const T& x) {
    Derived::check_rank(x.dim());
    const int64_t c = x.dim() > 1 ? x.shape()[1] : 0;
    if (c != kUnknown && c != num_features)
      throw ShapeError(msg(this->name(), ": running_mean should contain ", c, " elements not ", num_features,
                           " (the input has ", c, " channels, the layer was built for ", num_features, ")"));
    auto bound = [&](const Tensor& t) { return t.defined() ? this->bind(t, x) : T(); };
    return functional::batch_norm(x, bound(running_mean), bound(running_var), bound(weight), bound(bias),
                                  this->is_training(), momentum, eps, bound(num_batches_tracked));
  }
  void reset_parameters();  // weight 1, bias 0, running_mean 0, running_var 1, count 0
  std::string extra_repr() const override;

  Tensor weight, bias;                                       // [C], with affine
  Tensor running_mean, running_var, num_batches_tracked;     // buffers, with track_running_stats
  const int64_t num_features;
  const double eps, momentum;
  const bool affine, track_running_stats;
};

// Over [N, C] or [N, C, L] (per feature of a Linear's output, or per channel of a sequence).
class BatchNorm1dImpl : public BatchNormBase<BatchNorm1dImpl> {
 public:
  explicit BatchNorm1dImpl(int64_t num_features, double eps = 1e-5, double momentum = 0.1, bool affine = true,
                           bool track_running_stats = true)
      : BatchNormBase(num_features, eps, momentum, affine, track_running_stats) {}
  static void check_rank(int64_t rank);
};
TANDEM_MODULE(BatchNorm1d);

// Over [N, C, H, W]: one mean and variance per channel, over the batch and the image.
class BatchNorm2dImpl : public BatchNormBase<BatchNorm2dImpl> {
 public:
  explicit BatchNorm2dImpl(int64_t num_features, double eps = 1e-5, double momentum = 0.1, bool affine = true,
                           bool track_running_stats = true)
      : BatchNormBase(num_features, eps, momentum, affine, track_running_stats) {}
  static void check_rank(int64_t rank);
};
TANDEM_MODULE(BatchNorm2d);

// nn.LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True): over the last dims.
class LayerNormImpl : public Layer<LayerNormImpl> {
 public:
  explicit LayerNormImpl(Shape normalized_shape, double eps = 1e-5, bool elementwise_affine = true);
  explicit LayerNormImpl(int64_t size, double eps = 1e-5, bool elementwise_affine = true)
      : LayerNormImpl(Shape{size}, eps, elementwise_affine) {}
  template <class T> T forward(const T& x) {
    return functional::layer_norm(x, normalized_shape, weight.defined() ? bind(weight, x) : T(),
                                  bias.defined() ? bind(bias, x) : T(), eps);
  }
  std::string extra_repr() const override;

  Tensor weight, bias;
  const Shape normalized_shape;
  const double eps;
  const bool elementwise_affine;
};
TANDEM_MODULE(LayerNorm);

extern template class BatchNormBase<BatchNorm1dImpl>;
extern template class BatchNormBase<BatchNorm2dImpl>;

}  // namespace tandem::nn
