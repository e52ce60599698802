// layers/summary.h — Keras's model.summary() for any Module: one row per layer, with its output
// shape and its number of parameters.
//
//     std::cout << nn::summary(model, {10});      // input [None, 10]: the batch size left open
//
//     Model: "sequential"
//     _________________________________________________________________
//      Layer (type)                Output Shape              Param #
//     =================================================================
//      dense (Dense)               (None, 64)                704
//     ...
//     Total params: 2,817
//
// WHERE THE SHAPES COME FROM: no data is run. summary() builds the model's forward once in a
// scratch graph, on a placeholder whose batch dimension is unknown (None), and reads each layer's
// output shape from graph mode's shape inference — the shape rules of the op catalogue, which run
// when a node is declared (graph/graph.h). The parameters are bound as placeholders of their shape,
// so nothing is copied or initialised either. That is the lesson of define-then-run: a graph knows
// every shape before it knows any value — and it is how Keras itself knows them.
//
// The rows are the model's direct submodules, in the order they were registered, named as
// registered ("fc1 (Linear)", or Keras's "dense_1 (Dense)" in a keras::Sequential). A layer called
// with several different shapes (one ReLU used twice) shows "multiple", as in Keras; one never
// called shows "?". Param # counts a layer's parameters and its floating-point buffers (batch
// norm's running statistics: Keras's non-trainable weights); frozen parameters and buffers are the
// "Non-trainable params". The layout is Keras 2's (2.9-2.12): 65 columns, the columns ending at
// 29, 55 and 65, a blank line after each layer.
//
// Read next: layers/keras.h.
#pragma once

#include <string>

#include "layers/module.h"

namespace tandem::nn {

// The summary table of `model` for inputs of shape [None, input_shape...] and dtype `dtype`
// (kInt64 for token ids). model_name defaults to the model's type in snake_case ("net").
std::string summary(Module& model, const Shape& input_shape, DType dtype = kFloat32, const std::string& model_name = "");
template <class Impl>
std::string summary(const ModuleHolder<Impl>& model, const Shape& input_shape, DType dtype = kFloat32,
                    const std::string& model_name = "") {
  return summary(*model, input_shape, dtype, model_name);
}

// "py_torch_model" for "PyTorchModel", "global_average_pooling1d" for "GlobalAveragePooling1D": how
// Keras names a model or a layer after its class (its to_snake_case, two regular expressions).
std::string snake_case(const std::string& class_name);

// The shape inference summary() runs, on its own: the model's forward on a placeholder
// [None, input_shape...] in a scratch graph, parameters as placeholders, in eval mode. Returns
// the output shape of every call the model's forward made directly (a submodule called twice
// appears twice), in call order. Layers that build themselves on their first input (Keras's
// Dense) are built by it — how a keras::Sequential with an input_shape gets its weights.
std::vector<std::pair<const Module*, Shape>> trace_shapes(Module& model, const Shape& input_shape,
                                                          DType dtype = kFloat32);

}  // namespace tandem::nn
