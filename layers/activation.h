// layers/activation.h — the activation functions as layers, for Sequential and print(model).
//
// Each is a parameterless module around one function: nn::ReLU() is relu, nn::LeakyReLU(0.2) is
// F::leaky_relu(x, 0.2). In a Module's forward one may as well call the function (the seed's
// `F.relu(self.conv1(x))`); a layer is what a Sequential holds (`nn.Sequential(nn.Linear(...),
// nn.ReLU())`), and what print(model) and summary() list.
//
// Read next: layers/dropout.h.
#pragma once

#include "layers/functional.h"
#include "layers/module.h"

namespace tandem::nn {

class ReLUImpl : public Layer<ReLUImpl> {  // max(x, 0)
 public:
  template <class T> T forward(const T& x) { return relu(x); }
};
TANDEM_MODULE(ReLU);

class LeakyReLUImpl : public Layer<LeakyReLUImpl> {  // x for x > 0, negative_slope·x otherwise
 public:
  explicit LeakyReLUImpl(double negative_slope = 0.01) : negative_slope(negative_slope) {}
  template <class T> T forward(const T& x) { return functional::leaky_relu(x, negative_slope); }
  std::string extra_repr() const override { return "negative_slope=" + detail::py_float(negative_slope); }
  const double negative_slope;
};
TANDEM_MODULE(LeakyReLU);

class SigmoidImpl : public Layer<SigmoidImpl> {  // 1 / (1 + e^-x)
 public:
  template <class T> T forward(const T& x) { return sigmoid(x); }
};
TANDEM_MODULE(Sigmoid);

class TanhImpl : public Layer<TanhImpl> {
 public:
  template <class T> T forward(const T& x) { return tanh(x); }
};
TANDEM_MODULE(Tanh);

class GELUImpl : public Layer<GELUImpl> {  // x·Φ(x), or its tanh approximation
 public:
  explicit GELUImpl(std::string approximate = "none");
  template <class T> T forward(const T& x) { return functional::gelu(x, approximate); }
  std::string extra_repr() const override { return "approximate='" + approximate + "'"; }
  const std::string approximate;
};
TANDEM_MODULE(GELU);

class SoftplusImpl : public Layer<SoftplusImpl> {  // log(1 + e^(βx)) / β
 public:
  // Scalars remember whether they were written as integers (1) or not (2.0): PyTorch prints them so.
  explicit SoftplusImpl(Scalar beta = 1, Scalar threshold = 20) : beta(beta), threshold(threshold) {}
  template <class T> T forward(const T& x) { return functional::softplus(x, beta.to_double()); }
  std::string extra_repr() const override;
  const Scalar beta, threshold;  // threshold: printed as PyTorch does; the stable formula needs none
};
TANDEM_MODULE(Softplus);

class SoftmaxImpl : public Layer<SoftmaxImpl> {  // e^x / Σ e^x along dim
 public:
  explicit SoftmaxImpl(int64_t dim) : dim(dim) {}
  template <class T> T forward(const T& x) { return softmax(x, dim); }
  std::string extra_repr() const override { return msg("dim=", dim); }
  const int64_t dim;
};
TANDEM_MODULE(Softmax);

class LogSoftmaxImpl : public Layer<LogSoftmaxImpl> {  // x - log Σ e^x along dim
 public:
  explicit LogSoftmaxImpl(int64_t dim) : dim(dim) {}
  template <class T> T forward(const T& x) { return log_softmax(x, dim); }
  std::string extra_repr() const override { return msg("dim=", dim); }
  const int64_t dim;
};
TANDEM_MODULE(LogSoftmax);

}  // namespace tandem::nn
