// layers/linear.h — Linear (a fully connected layer), and the two layers that only reshape:
// Flatten and Identity.
//
// The simplest layer shows the whole pattern every other one follows:
//   1. the constructor registers the parameters and draws their starting values (layers/init.h);
//   2. forward is ONE template for both modes: it binds the parameters to the input's mode
//      (Module::bind — the tensors themselves in eager mode, their Variables in a graph) and calls
//      the function of layers/functional.h that does the math;
//   3. extra_repr() says what print(model) shows inside the parentheses.
//
//     nn::Linear fc(784, 64);          // weight [64, 784], bias [64], as PyTorch lays them out
//     Tensor y = fc(x);                // y = x Wᵀ + b
//
// Read next: layers/conv.h.
#pragma once

#include "layers/functional.h"
#include "layers/module.h"

namespace tandem::nn {

// nn.Linear(in_features, out_features, bias=True): y = x Wᵀ + b, W [out, in] and b [out], both drawn
// from U(-1/√in, 1/√in) (Kaiming-uniform with a = √5; layers/init.h). x may have any leading dims.
class LinearImpl : public Layer<LinearImpl> {
 public:
  LinearImpl(int64_t in_features, int64_t out_features, bool bias = true);
  template <class T> T forward(const T& x) {
    return functional::linear(x, bind(weight, x), bias.defined() ? bind(bias, x) : T());
  }
  void reset_parameters();  // draws the weights again
  std::string extra_repr() const override;

  Tensor weight, bias;  // bias undefined with bias = false
  const int64_t in_features, out_features;
};
TANDEM_MODULE(Linear);

// nn.Flatten(start_dim=1, end_dim=-1): merges the dims start..end; by default everything but the
// batch, turning [N, C, H, W] into [N, C·H·W] in front of a Linear.
class FlattenImpl : public Layer<FlattenImpl> {
 public:
  explicit FlattenImpl(int64_t start_dim = 1, int64_t end_dim = -1) : start_dim(start_dim), end_dim(end_dim) {}
  template <class T> T forward(const T& x) { return flatten(x, start_dim, end_dim); }
  std::string extra_repr() const override { return msg("start_dim=", start_dim, ", end_dim=", end_dim); }
  const int64_t start_dim, end_dim;
};
TANDEM_MODULE(Flatten);

// nn.Identity(): returns its input (a placeholder where a layer is optional: a ResNet shortcut).
class IdentityImpl : public Layer<IdentityImpl> {
 public:
  template <class T> T forward(const T& x) { return x; }
};
TANDEM_MODULE(Identity);

}  // namespace tandem::nn
