// graph/ops.h — graph-mode functions: the same names as eager mode, adding nodes instead.
//
// `mul(a, b)` on two Outputs runs mul's shape rule from the catalogue at once (so a shape error
// names your line now, not at run time) and adds a node; nothing is computed. Every eager function
// of core/ops.h has its graph twin here with the same signature, Tensor replaced by Output. That is
// what lets one derivative rule (autograd/derivatives.h) serve both modes.
//
// Plus the vocabulary only graphs have: placeholder, constant, Variable, assign, identity,
// stop_gradient, group, and the initializer op.
//
// Read next: graph/session.h.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "graph/graph.h"
#include "core/scalar.h"

namespace tandem::graph {

// ---- sources ---------------------------------------------------------------------------------
// A value fed at run time. Dimensions of -1 are unknown (printed `?`), e.g. the batch size.
Output placeholder(DType dtype, const Shape& shape, const std::string& name = "");
// A value stored in the graph.
Output constant(const Tensor& value, const std::string& name = "");
Output constant(const Scalar& value, DType dtype, const std::string& name = "");

// A variable: state that lives in the Session and persists across run() calls. Its initial value is
// assigned when global_variables_initializer() runs. An initializer function is called once, when
// the variable is declared (e.g. a seeded random tensor), and its result becomes the initial value.
using Initializer = std::function<Tensor(const Shape&, DType)>;
Output Variable(const Tensor& initial_value, bool trainable = true, const std::string& name = "");
Output Variable(const Shape& shape, const Initializer& init, DType dtype = kFloat32,
                bool trainable = true, const std::string& name = "");
// The op that initializes every variable of the graph, named "init" (TF's init op).
Output global_variables_initializer(Graph& g = default_graph());

// ---- state and control -------------------------------------------------------------------------
Output assign(const Output& variable, const Output& value);      // variable = value
Output assign_add(const Output& variable, const Output& value);  // variable += value
Output assign_sub(const Output& variable, const Output& value);  // variable -= value
// An update op of the catalogue (OpDef::updates > 0: sgd_update, adam_update...) as a node: its
// first op.updates inputs must be Variables — the parameter and the optimizer's state — which
// each run overwrites in place. The graph twin of call_update(); optimizers (optim/) build these.
// Its value is the parameter's new value.
Output apply_update(const OpDef& op, const std::vector<Output>& inputs, const Attrs& attrs,
                    const std::string& name = "");
Output identity(const Output& x, const std::string& name = "");
Output stop_gradient(const Output& x);  // the value of x, but gradients do not flow through it
Output group(const std::vector<Output>& ops, const std::string& name = "group");  // runs them all
Output add_n(const std::vector<Output>& xs);  // sum of same-shape values ("AddN")

// ---- the catalogue, on graph outputs (see core/ops.h for what each one does) --------------------
Output add(const Output& a, const Output& b);
Output sub(const Output& a, const Output& b);
Output mul(const Output& a, const Output& b);
Output div(const Output& a, const Output& b);
Output pow(const Output& a, const Output& b);
Output pow(const Output& a, const Scalar& exponent);
Output maximum(const Output& a, const Output& b);
Output minimum(const Output& a, const Output& b);
Output eq(const Output& a, const Output& b);
Output ne(const Output& a, const Output& b);
Output lt(const Output& a, const Output& b);
Output le(const Output& a, const Output& b);
Output gt(const Output& a, const Output& b);
Output ge(const Output& a, const Output& b);
Output where(const Output& condition, const Output& a, const Output& b);
Output scalar_like(const Scalar& s, const Output& like);

Output neg(const Output& x);
Output exp(const Output& x);
Output log(const Output& x);
Output sqrt(const Output& x);
Output abs(const Output& x);
Output sin(const Output& x);
Output cos(const Output& x);
Output tanh(const Output& x);
Output sigmoid(const Output& x);
Output relu(const Output& x);
Output gelu(const Output& x);
Output sign(const Output& x);
Output relu_backward(const Output& g, const Output& y);
Output sigmoid_backward(const Output& g, const Output& y);
Output tanh_backward(const Output& g, const Output& y);
Output gelu_backward(const Output& g, const Output& x);

Output sum(const Output& x);
Output sum(const Output& x, const std::vector<int64_t>& dims, bool keepdim = false);
Output mean(const Output& x);
Output mean(const Output& x, const std::vector<int64_t>& dims, bool keepdim = false);
Output max(const Output& x);
Output max(const Output& x, int64_t dim, bool keepdim = false);
Output min(const Output& x);
Output min(const Output& x, int64_t dim, bool keepdim = false);
Output amax(const Output& x, const std::vector<int64_t>& dims, bool keepdim = false);
Output amin(const Output& x, const std::vector<int64_t>& dims, bool keepdim = false);
Output argmax(const Output& x);
Output argmax(const Output& x, int64_t dim, bool keepdim = false);
Output argmin(const Output& x);
Output argmin(const Output& x, int64_t dim, bool keepdim = false);
Output var(const Output& x);
Output var(const Output& x, const std::vector<int64_t>& dims, int64_t correction = 1, bool keepdim = false);
Output sum_to(const Output& x, const Shape& shape);

Output matmul(const Output& a, const Output& b);
Output softmax(const Output& x, int64_t dim);
Output log_softmax(const Output& x, int64_t dim);

// Convolution and pooling on [N, C, H, W] images, as in eager mode (core/ops.h).
Output conv2d(const Output& x, const Output& weight, Pair stride = {1, 1}, Pair padding = {0, 0});
Output conv2d(const Output& x, const Output& weight, const Output& bias, Pair stride = {1, 1},
              Pair padding = {0, 0});
Output max_pool2d(const Output& x, Pair kernel, Pair stride = {0, 0}, Pair padding = {0, 0});
Output conv2d_input_grad(const Output& g, const Output& weight, const Shape& window);
Output conv2d_weight_grad(const Output& x, const Output& g, const Shape& window);
Output conv2d_input_grad(const Output& g, const Output& weight, const Shape& window, const Output& input_like);
Output conv2d_weight_grad(const Output& x, const Output& g, const Shape& window, const Output& weight_like);
Output max_pool2d_backward(const Output& g, const Output& x, const Shape& window);
Output max_pool2d_gather(const Output& values, const Output& x, const Shape& window);

// Random numbers drawn afresh on every run (core/ops/random.cpp), and dropout (core/dropout.h).
Output rand_like(const Output& x, const std::vector<int64_t>& shared_dims = {});
Output dropout(const Output& x, double p = 0.5, bool training = true);
Output dropout2d(const Output& x, double p = 0.5, bool training = true);

Output index_select(const Output& x, int64_t dim, const Output& index);
Output gather(const Output& x, int64_t dim, const Output& index);
Output one_hot(const Output& labels, int64_t num_classes);  // num_classes must be given in a graph
Output index_add(const Output& x, int64_t dim, const Output& index, const Output& src);
Output scatter_add(const Output& x, int64_t dim, const Output& index, const Output& src);
Output slice_scatter(const Output& x, const Output& src, int64_t dim, int64_t start, int64_t end,
                     int64_t step = 1);
Output select_scatter(const Output& x, const Output& src, int64_t dim, int64_t index);

Output reshape(const Output& x, const Shape& shape);
Output transpose(const Output& x, int64_t dim0, int64_t dim1);
Output permute(const Output& x, const std::vector<int64_t>& dims);
Output slice(const Output& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
Output narrow(const Output& x, int64_t dim, int64_t start, int64_t length);
Output select(const Output& x, int64_t dim, int64_t index);
Output squeeze(const Output& x, std::optional<int64_t> dim = std::nullopt);
Output unsqueeze(const Output& x, int64_t dim);
Output expand(const Output& x, const Shape& shape);
Output flatten(const Output& x, int64_t start_dim = 0, int64_t end_dim = -1);
Output clone(const Output& x);
Output contiguous(const Output& x);  // as eager, a row-major copy when x is a view: here, a clone
Output to(const Output& x, DType dtype);
Output cat(const std::vector<Output>& xs, int64_t dim = 0);
Output stack(const std::vector<Output>& xs, int64_t dim = 0);
Output split_like(const Output& g, const std::vector<Output>& pieces, int64_t dim, int64_t index);
Output check_labels(const Output& labels, const Output& scores, int64_t class_dim, const char* loss);

// The graph-only shape-reading helpers gradients() uses when shapes are known only at run time.
Output sum_to_like(const Output& x, const Output& like);
Output expand_like(const Output& x, const Output& like);
Output reshape_like(const Output& x, const Output& like);
Output zeros_like(const Output& like);
Output ones_like(const Output& like);
Output count_ratio(const Output& numerator, const Output& denominator);

// Operators, as for eager tensors.
Output operator-(const Output& a);
Output operator+(const Output& a, const Output& b);
Output operator-(const Output& a, const Output& b);
Output operator*(const Output& a, const Output& b);
Output operator/(const Output& a, const Output& b);
Output operator+(const Output& a, const Scalar& b);
Output operator-(const Output& a, const Scalar& b);
Output operator*(const Output& a, const Scalar& b);
Output operator/(const Output& a, const Scalar& b);
Output operator+(const Scalar& a, const Output& b);
Output operator-(const Scalar& a, const Output& b);
Output operator*(const Scalar& a, const Output& b);
Output operator/(const Scalar& a, const Output& b);
Output operator==(const Output& a, const Scalar& b);
Output operator>=(const Output& a, const Scalar& b);
Output operator==(const Output& a, const Output& b);
Output operator!=(const Output& a, const Output& b);
Output operator<(const Output& a, const Output& b);
Output operator<=(const Output& a, const Output& b);
Output operator>(const Output& a, const Output& b);
Output operator>=(const Output& a, const Output& b);

// Adds a catalogue op node: runs the shape rule now (errors name the op, the shapes and your line).
Output make_op(const OpDef& op, std::vector<Output> inputs, const Attrs& attrs = {});
// "MatMul" for matmul, "LogSoftmax" for log_softmax: the node type shown in names and drawings.
std::string type_name(const OpDef& op);

}  // namespace tandem::graph
