// layers/dropout.h — Dropout and Dropout2d: noise in training, nothing in evaluation.
//
// In train() mode each element (Dropout) or each whole channel (Dropout2d) is zeroed with
// probability p and the survivors scaled by 1/(1-p); in eval() mode the layer is the identity.
// The masks come from rand_like (layers/dropout_ops.h), drawn from the default generator when the op
// runs — so an eager forward and a graph's training run, started from the same seed, draw the
// same masks in the same order (the executor runs nodes in the order they were created).
//
// In a graph, train()/eval() decide which path forward builds (layers/module.h). For a rate fed at
// run time instead — seed-002's keep_prob — use F::dropout(x, rate) with a 0-dim placeholder.
//
// Read next: layers/normalization.h.
#pragma once

#include "layers/functional.h"
#include "layers/module.h"

namespace tandem::nn {

class DropoutImpl : public Layer<DropoutImpl> {
 public:
  explicit DropoutImpl(double p = 0.5);
  template <class T> T forward(const T& x) { return dropout(x, p, is_training()); }
  std::string extra_repr() const override { return "p=" + detail::py_float(p) + ", inplace=False"; }
  const double p;
};
TANDEM_MODULE(Dropout);

// Whole feature maps of an [N, C, H, W] batch: one draw per (image, channel).
class Dropout2dImpl : public Layer<Dropout2dImpl> {
 public:
  explicit Dropout2dImpl(double p = 0.5);
  template <class T> T forward(const T& x) { return dropout2d(x, p, is_training()); }
  std::string extra_repr() const override { return "p=" + detail::py_float(p) + ", inplace=False"; }
  const double p;
};
TANDEM_MODULE(Dropout2d);

}  // namespace tandem::nn
