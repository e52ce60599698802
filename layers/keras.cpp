// layers/keras.cpp — Dense's building, and keras::Sequential's names, building and summary.
#include "layers/keras.h"

#include <cmath>

#include "layers/init.h"
#include "layers/summary.h"

namespace tandem::keras {

namespace layers {

void check_activation(const std::string& name) {
  for (const char* known : {"", "linear", "relu", "sigmoid", "tanh", "softmax", "softplus", "gelu"})
    if (name == known) return;
  throw Error(msg("Unknown activation function: '", name, "'. Use one of: linear, relu, sigmoid, tanh, softmax, "
                  "softplus, gelu"));
}

DenseImpl::DenseImpl(int64_t units, std::string activation, Shape input_shape, bool use_bias)
    : units(units), activation_name(std::move(activation)), input_shape(std::move(input_shape)), use_bias(use_bias) {
  if (units <= 0) throw Error(msg("Dense: units must be positive, but got ", units));
  check_activation(activation_name);
  if (!this->input_shape.empty()) build(this->input_shape.back());
}

// PyTorch's Linear initialisation (layers/init.h), with the kernel laid out [in, units].
void DenseImpl::build(int64_t input_dim) {
  if (input_dim == kUnknown || input_dim <= 0)
    throw ShapeError(msg("Dense: the last dimension of the inputs should be defined, but it is ",
                         input_dim == kUnknown ? std::string("None") : std::to_string(input_dim),
                         " (give the first layer an input_shape)"));
  const double bound = 1.0 / std::sqrt(static_cast<double>(input_dim));
  kernel = register_parameter("kernel", Tensor::empty({input_dim, units}));
  nn::init::uniform_(kernel, -bound, bound);
  if (use_bias) {
    bias = register_parameter("bias", Tensor::empty({units}));
    nn::init::uniform_(bias, -bound, bound);
  }
}

std::string DenseImpl::extra_repr() const {
  return msg("units=", units, ", activation=", activation_name.empty() ? "linear" : activation_name,
             kernel.defined() ? msg(", input_dim=", kernel.size(0)) : std::string());
}

}  // namespace layers

SequentialImpl::SequentialImpl(std::initializer_list<std::shared_ptr<nn::Module>> layers, std::string name)
    : model_name(std::move(name)) {
  for (const auto& layer : layers) add(layer);
}

void SequentialImpl::add(std::shared_ptr<nn::Module> layer) {
  if (!layer) throw Error("Sequential.add: the layer is an empty holder");
  const std::string base = nn::snake_case(layer->name());
  const int n = counts_[base]++;
  push_back(n == 0 ? base : base + "_" + std::to_string(n), layer);
  // The first layer's input_shape makes the model buildable: build it now, as Keras does.
  if (size() == 1) {
    if (auto dense = std::dynamic_pointer_cast<layers::DenseImpl>(layer); dense && !dense->input_shape.empty())
      input_shape_ = dense->input_shape;
    if (auto embedding = std::dynamic_pointer_cast<layers::EmbeddingImpl>(layer); embedding && embedding->input_length > 0) {
      input_shape_ = {embedding->input_length};
      input_dtype_ = kInt64;  // token ids
    }
  }
  if (!input_shape_.empty()) nn::trace_shapes(*this, input_shape_, input_dtype_);
}

std::string SequentialImpl::summary() {
  if (input_shape_.empty())
    throw Error("This model has not yet been built. Build the model first by calling it on some data, or give "
                "the first layer an input_shape (or use nn::summary(model, input_shape))");
  return nn::summary(*this, input_shape_, input_dtype_, model_name);
}

}  // namespace tandem::keras
