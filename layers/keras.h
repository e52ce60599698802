// layers/keras.h — the Keras spellings the seed articles use, on the same Module system.
//
//     // tf.keras.Sequential([Dense(64, activation='relu', input_shape=(10,)),
//     //                      Dense(32, activation='relu'), Dense(1, activation='sigmoid')])
//     keras::Sequential model({keras::layers::Dense(64, "relu", Shape{10}),
//                              keras::layers::Dense(32, "relu"), keras::layers::Dense(1, "sigmoid")});
//     std::cout << model->summary();            // model.summary()
//
// A Keras layer is an nn Module like any other (it runs in both modes, prints, counts in
// summary()); what differs is how Keras builds and names it:
//   - Dense(units, activation) does not ask for its input size: like a Keras layer it is BUILT on
//     its first input, reading the size from the input's shape. A keras::Sequential whose first
//     layer has an input_shape builds every layer at once, by shape inference on a placeholder
//     (nn::trace_shapes, layers/summary.h) — no data needed, as in Keras. Its kernel is laid out
//     [in, units] (Keras's, y = x·kernel + bias); both start from PyTorch's Linear initialisation.
//   - layers get Keras's names in a keras::Sequential: "dense", "dense_1", "dense_2" (Keras counts
//     per Python session; here per model, so a model's first Dense is always "dense").
//   - Keras's image layers are channels-last by default; Tandem's images are [N, C, H, W], so
//     GlobalAveragePooling2D averages dims 2 and 3 (Keras's data_format="channels_first").
//
// Read next: tests/test_layers_seeds.cpp (the seed models, line by line).
#pragma once

#include <initializer_list>

#include "layers/container.h"
#include "layers/embedding.h"
#include "layers/losses.h"

namespace tandem::keras {

namespace layers {

// Keras's activation names: "linear" (or ""), "relu", "sigmoid", "tanh", "softmax" (last axis),
// "softplus", "gelu". Anything else is an error when the layer is made.
void check_activation(const std::string& name);
template <TensorLike T> T activation(const T& x, const std::string& name) {
  if (name.empty() || name == "linear") return x;
  if (name == "relu") return relu(x);
  if (name == "sigmoid") return sigmoid(x);
  if (name == "tanh") return tanh(x);
  if (name == "softmax") return softmax(x, -1);
  if (name == "softplus") return softplus(x);
  if (name == "gelu") return gelu(x);
  check_activation(name);  // throws
  return x;
}

// Dense(units, activation=None, input_shape): y = activation(x·kernel + bias), kernel [in, units].
class DenseImpl : public nn::Layer<DenseImpl> {
 public:
  explicit DenseImpl(int64_t units, std::string activation = "linear", Shape input_shape = {}, bool use_bias = true);
  template <class T> T forward(const T& x) {
    if (!kernel.defined()) build(x.dim() ? x.shape().back() : kUnknown);  // built on its first input
    T y = matmul(x, bind(kernel, x));
    if (use_bias) y = y + bind(bias, x);
    return layers::activation(y, activation_name);
  }
  void build(int64_t input_dim);  // makes kernel [input_dim, units] and bias [units]
  std::string extra_repr() const override;

  Tensor kernel, bias;
  const int64_t units;
  const std::string activation_name;
  const Shape input_shape;  // Keras's input_shape: an input without its batch dim ({} when not given)
  const bool use_bias;
};
TANDEM_MODULE(Dense);

// Embedding(input_dim, output_dim, input_length): nn::Embedding (N(0, 1) rows, PyTorch's start),
// with Keras's input_length: the number of token ids per sample, which gives a keras::Sequential
// its input shape [None, input_length] (int64).
class EmbeddingImpl : public nn::EmbeddingImpl {
 public:
  EmbeddingImpl(int64_t input_dim, int64_t output_dim, int64_t input_length = 0)
      : nn::EmbeddingImpl(input_dim, output_dim), input_length(input_length) {}
  const int64_t input_length;  // 0: not given
};
TANDEM_MODULE(Embedding);

// GlobalAveragePooling1D: [N, steps, features] -> [N, features], the mean over the steps (the
// sentiment model's x.mean(dim=1)).
class GlobalAveragePooling1DImpl : public nn::Layer<GlobalAveragePooling1DImpl> {
 public:
  template <class T> T forward(const T& x) { return mean(x, {1}); }
};
TANDEM_MODULE(GlobalAveragePooling1D);

// GlobalAveragePooling2D: [N, C, H, W] -> [N, C], the mean over each channel's image.
class GlobalAveragePooling2DImpl : public nn::Layer<GlobalAveragePooling2DImpl> {
 public:
  template <class T> T forward(const T& x) { return mean(x, {2, 3}); }
};
TANDEM_MODULE(GlobalAveragePooling2D);

}  // namespace layers

// Sequential([layers...]): an nn::Sequential that names its layers as Keras does, builds them
// when the first one has an input_shape, and has summary().
class SequentialImpl : public nn::SequentialImpl {
 public:
  explicit SequentialImpl(std::initializer_list<std::shared_ptr<nn::Module>> layers = {},
                          std::string name = "sequential");
  void add(std::shared_ptr<nn::Module> layer);  // model.add(layer), named "dense_1"...
  std::string summary();                        // needs the first layer's input_shape
  std::string name() const override { return "Sequential"; }
  const std::string model_name;

 private:
  Shape input_shape_;
  DType input_dtype_ = kFloat32;
  std::map<std::string, int> counts_;  // per Keras base name, for "dense_1"
};

class Sequential : public nn::ModuleHolder<SequentialImpl> {
 public:
  using nn::ModuleHolder<SequentialImpl>::ModuleHolder;
  Sequential(std::initializer_list<std::shared_ptr<nn::Module>> layers, std::string name = "sequential")  // NOLINT
      : ModuleHolder(std::make_shared<SequentialImpl>(layers, std::move(name))) {}
};

// ---- Keras's loss functions: (y_true, y_pred), one loss per sample (the mean over the last axis)
namespace losses {
inline constexpr double kEpsilon = 1e-7;  // Keras's backend.epsilon(): probabilities are clipped to [ε, 1-ε]

// binary_crossentropy(y_true, y_pred): -mean(y·log(p+ε) + (1-y)·log(1-p+ε)) over the last axis, p
// clipped to [ε, 1-ε]; from_logits: the stable form on logits (nn::functional::binary_cross_entropy_with_logits).
template <TensorLike T> T binary_crossentropy(const T& y_true, const T& y_pred, bool from_logits = false) {
  if (from_logits)
    return mean(nn::functional::binary_cross_entropy_with_logits(y_pred, y_true, T(), "none"), {-1});
  const T p = clamp(y_pred, kEpsilon, 1.0 - kEpsilon);
  return -mean(y_true * log(p + kEpsilon) + (1.0 - y_true) * log(1.0 - p + kEpsilon), {-1});
}

// categorical_crossentropy(y_true, y_pred): one-hot (or probability) rows against predicted
// probabilities, -Σ y·log(p) with p normalised and clipped; from_logits: against log_softmax.
template <TensorLike T> T categorical_crossentropy(const T& y_true, const T& y_pred, bool from_logits = false) {
  if (from_logits) return -sum(y_true * log_softmax(y_pred, -1), {-1});
  const T p = clamp(y_pred / sum(y_pred, {-1}, true), kEpsilon, 1.0 - kEpsilon);
  return -sum(y_true * log(p), {-1});
}

// sparse_categorical_crossentropy(y_true, y_pred): the same with int64 class indices as y_true.
template <TensorLike T> T sparse_categorical_crossentropy(const T& y_true, const T& y_pred, bool from_logits = false) {
  const T log_p = from_logits ? log_softmax(y_pred, -1) : log(clamp(y_pred / sum(y_pred, {-1}, true), kEpsilon, 1.0 - kEpsilon));
  return nn::functional::nll_loss(log_p, y_true, {.reduction = "none"});
}
}  // namespace losses

}  // namespace tandem::keras
