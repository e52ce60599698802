// graph/ops.cpp — adding nodes: shape inference at declaration, then the node.
#include "graph/ops.h"

#include <numeric>

#include "core/dropout.h"
#include "core/factories.h"
#include "core/ops.h"

namespace tandem::graph {

std::string type_name(const OpDef& op) {
  if (std::string(op.name) == "matmul") return "MatMul";
  if (std::string(op.name) == "conv2d") return "Conv2D";  // TF's names for these two
  if (std::string(op.name) == "max_pool2d") return "MaxPool";
  if (std::string(op.name) == "sgd_update") return "ApplyGradientDescent";  // and TF's updates
  if (std::string(op.name) == "momentum_update") return "ApplyMomentum";
  if (std::string(op.name) == "adam_update") return "ApplyAdam";
  std::string out;
  bool upper = true;
  for (const char* p = op.name; *p; ++p) {
    if (*p == '_') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(*p))) : *p;
    upper = false;
  }
  return out;
}

namespace {
Graph& graph_of(const std::vector<Output>& inputs) {
  for (const Output& o : inputs)
    if (o.defined()) return o.graph();
  return default_graph();
}

Node* add(Kind kind, const std::string& type, std::vector<Output> inputs, Meta meta,
          const std::string& name = "") {
  return graph_of(inputs).add_node(kind, type, std::move(inputs), std::move(meta), name);
}
}  // namespace

Output make_op(const OpDef& op, std::vector<Output> inputs, const Attrs& attrs) {
  if (op.updates > 0)
    throw Error(msg(op.name, " writes its first ", op.updates, " input(s) in place: build it with "
                    "graph::apply_update(), which makes them variables, or through an optimizer "
                    "(graph::train)"));
  std::vector<Meta> metas;
  for (const Output& in : inputs) metas.push_back({in.shape(), in.dtype()});
  Meta meta;
  try {
    meta = op.shape(metas, attrs);  // the same shape rule eager mode runs, with unknown dims allowed
  } catch (const ShapeError& e) {
    throw ShapeError(msg(e.what(), "\n  for '", type_name(op), "' (op: '", op.name,
                         "') created at ", describe(capture_call_site())));
  } catch (const Error& e) {
    throw Error(msg(e.what(), "\n  for '", type_name(op), "' (op: '", op.name, "') created at ",
                    describe(capture_call_site())));
  }
  Node* n = add(Kind::op, type_name(op), std::move(inputs), meta);
  n->op = &op;
  n->attrs = attrs;
  return Output(n);
}

// ---- sources ------------------------------------------------------------------------------------

Output placeholder(DType dtype, const Shape& shape, const std::string& name) {
  return Output(default_graph().add_node(Kind::placeholder, "Placeholder", {}, {shape, dtype}, name));
}

Output constant(const Tensor& value, const std::string& name) {
  Node* n = default_graph().add_node(Kind::constant, "Const", {}, {value.shape(), value.dtype()}, name);
  n->value = value.detach().contiguous();
  return Output(n);
}

Output constant(const Scalar& value, DType dtype, const std::string& name) {
  return constant(full({}, value, dtype), name);
}

Output Variable(const Tensor& initial_value, bool trainable, const std::string& name) {
  Graph& g = default_graph();
  Node* var = g.add_node(Kind::variable, "VariableV2", {}, {initial_value.shape(), initial_value.dtype()}, name);
  var->trainable = trainable;
  var->value = initial_value.detach().clone();  // a private copy: later changes to the tensor don't leak in
  // The initializer: `name/Assign` of `name/initial_value`, as TF builds it.
  std::string prefix;
  for (const std::string& s : g.scopes) prefix += s + "/";
  const std::string rel = var->name.substr(prefix.size());
  Node* init_value = g.add_node(Kind::constant, "Const", {}, var->meta, rel + "/initial_value");
  init_value->value = var->value;
  var->initializer = g.add_node(Kind::assign, "Assign", {Output(var), Output(init_value)}, var->meta, rel + "/Assign");
  return Output(var);
}

Output Variable(const Shape& shape, const Initializer& init, DType dtype, bool trainable,
                const std::string& name) {
  const Tensor value = init(shape, dtype);
  if (value.shape() != shape || value.dtype() != dtype)
    throw ShapeError(msg("Variable: the initializer returned a ", to_string(value.dtype()), " tensor of shape ",
                         shape_str(value.shape()), " for a variable of ", to_string(dtype), " ",
                         shape_str(shape)));
  return Variable(value, trainable, name);
}

Output global_variables_initializer(Graph& g) {
  std::vector<Node*> inits;
  for (const auto& n : g.nodes())
    if (n->kind == Kind::variable) inits.push_back(n->initializer);
  Node* init = g.add_node(Kind::no_op, "NoOp", {}, {{}, kFloat32}, "init");
  for (Node* i : inits) g.add_control_input(init, Output(i));
  return Output(init);
}

// ---- state and control -------------------------------------------------------------------------

namespace {
Output assign_like(Kind kind, const char* type, const Output& var, const Output& value) {
  if (var.node()->kind != Kind::variable)
    throw Error(msg(type, ": the first argument must be a Variable, but '", var.name(), "' is a ",
                    var.node()->type));
  const Shape& a = var.shape();
  const Shape& b = value.shape();
  bool ok = a.size() == b.size();
  for (size_t i = 0; ok && i < a.size(); ++i) ok = a[i] == b[i] || b[i] == kUnknown;
  if (!ok)
    throw ShapeError(msg(type, ": shapes must be equal, but are ", shape_str(a), " and ", shape_str(b),
                         " for variable '", var.node()->name, "' created at ",
                         describe(var.node()->created_at)));
  Node* n = add(kind, type, {var, value}, var.node()->meta);
  return Output(n);
}
}  // namespace

Output assign(const Output& v, const Output& value) { return assign_like(Kind::assign, "Assign", v, value); }
Output assign_add(const Output& v, const Output& value) {
  return assign_like(Kind::assign_add, "AssignAdd", v, value);
}
Output assign_sub(const Output& v, const Output& value) { return assign_add(v, -value); }

Output apply_update(const OpDef& op, const std::vector<Output>& inputs, const Attrs& attrs,
                    const std::string& name) {
  if (op.updates == 0) throw Error(msg("apply_update: ", op.name, " is not an update op"));
  if (static_cast<int>(inputs.size()) != op.arity)
    throw Error(msg(op.name, ": expected ", op.arity, " inputs, got ", inputs.size()));
  for (int k = 0; k < op.updates; ++k)
    if (inputs[k].node()->kind != Kind::variable)
      throw Error(msg(op.name, ": input ", k, " is written in place and must be a Variable, but '",
                      inputs[k].name(), "' is a ", inputs[k].node()->type));
  std::vector<Meta> metas;
  for (const Output& in : inputs) metas.push_back({in.shape(), in.dtype()});
  try {
    op.shape(metas, attrs);
  } catch (const Error& e) {
    throw Error(
        msg(e.what(), "\n  for '", type_name(op), "' created at ", describe(capture_call_site())));
  }
  Node* n = add(Kind::update, type_name(op), inputs, inputs[0].node()->meta, name);
  n->op = &op;
  n->attrs = attrs;
  return Output(n);
}

Output identity(const Output& x, const std::string& name) {
  return Output(add(Kind::identity, "Identity", {x}, x.node()->meta, name));
}

Output stop_gradient(const Output& x) {
  return Output(add(Kind::stop_gradient, "StopGradient", {x}, x.node()->meta));
}

Output group(const std::vector<Output>& ops, const std::string& name) {
  Graph& g = graph_of(ops);
  Node* n = g.add_node(Kind::no_op, "NoOp", {}, {{}, kFloat32}, name);
  for (const Output& o : ops) g.add_control_input(n, o);  // checked: same graph, created before
  return Output(n);
}

Output add_n(const std::vector<Output>& xs) {
  if (xs.empty()) throw Error("add_n: needs at least one input");
  if (xs.size() == 1) return xs[0];
  Shape s = xs[0].shape();
  DType dt = xs[0].dtype();
  for (const Output& x : xs) {
    s = broadcast_shapes(s, x.shape(), "add_n");
    dt = promote_types(dt, x.dtype());
  }
  return Output(add(Kind::add_n, "AddN", xs, {s, dt}));
}

// ---- shape-reading helpers -------------------------------------------------------------------------

Output sum_to_like(const Output& x, const Output& like) {
  return Output(add(Kind::sum_to_like, "SumToLike", {x, like}, {like.shape(), x.dtype()}));
}
Output expand_like(const Output& x, const Output& like) {
  return Output(add(Kind::expand_like, "ExpandLike", {x, like}, {like.shape(), x.dtype()}));
}
Output reshape_like(const Output& x, const Output& like) {
  return Output(add(Kind::reshape_like, "ReshapeLike", {x, like}, {like.shape(), x.dtype()}));
}
Output zeros_like(const Output& like) {
  return Output(add(Kind::zeros_like, "ZerosLike", {like}, like.node()->meta));
}
Output ones_like(const Output& like) {
  return Output(add(Kind::ones_like, "OnesLike", {like}, like.node()->meta));
}
Output count_ratio(const Output& a, const Output& b) {
  return Output(add(Kind::count_ratio, "CountRatio", {a, b}, {{}, kFloat64}));
}

// ---- the catalogue -------------------------------------------------------------------------------------

Output scalar_like(const Scalar& s, const Output& like) {
  return constant(s, scalar_dtype(s, like.dtype()));
}

Output add(const Output& a, const Output& b) { return make_op(ops::add, {a, b}); }
Output sub(const Output& a, const Output& b) { return make_op(ops::sub, {a, b}); }
Output mul(const Output& a, const Output& b) { return make_op(ops::mul, {a, b}); }
Output div(const Output& a, const Output& b) { return make_op(ops::div, {a, b}); }
Output pow(const Output& a, const Output& b) { return make_op(ops::pow, {a, b}); }
Output pow(const Output& a, const Scalar& e) { return pow(a, scalar_like(e, a)); }
Output maximum(const Output& a, const Output& b) { return make_op(ops::maximum, {a, b}); }
Output minimum(const Output& a, const Output& b) { return make_op(ops::minimum, {a, b}); }
Output eq(const Output& a, const Output& b) { return make_op(ops::eq, {a, b}); }
Output ne(const Output& a, const Output& b) { return make_op(ops::ne, {a, b}); }
Output lt(const Output& a, const Output& b) { return make_op(ops::lt, {a, b}); }
Output le(const Output& a, const Output& b) { return make_op(ops::le, {a, b}); }
Output gt(const Output& a, const Output& b) { return make_op(ops::gt, {a, b}); }
Output ge(const Output& a, const Output& b) { return make_op(ops::ge, {a, b}); }
Output where(const Output& c, const Output& a, const Output& b) { return make_op(ops::where, {c, a, b}); }

Output neg(const Output& x) { return make_op(ops::neg, {x}); }
Output exp(const Output& x) { return make_op(ops::exp, {x}); }
Output log(const Output& x) { return make_op(ops::log, {x}); }
Output sqrt(const Output& x) { return make_op(ops::sqrt, {x}); }
Output abs(const Output& x) { return make_op(ops::abs, {x}); }
Output sin(const Output& x) { return make_op(ops::sin, {x}); }
Output cos(const Output& x) { return make_op(ops::cos, {x}); }
Output tanh(const Output& x) { return make_op(ops::tanh, {x}); }
Output sigmoid(const Output& x) { return make_op(ops::sigmoid, {x}); }
Output relu(const Output& x) { return make_op(ops::relu, {x}); }
Output gelu(const Output& x) { return make_op(ops::gelu, {x}); }
Output sign(const Output& x) { return make_op(ops::sign, {x}); }
Output relu_backward(const Output& g, const Output& y) { return make_op(ops::relu_backward, {g, y}); }
Output sigmoid_backward(const Output& g, const Output& y) { return make_op(ops::sigmoid_backward, {g, y}); }
Output tanh_backward(const Output& g, const Output& y) { return make_op(ops::tanh_backward, {g, y}); }
Output gelu_backward(const Output& g, const Output& x) { return make_op(ops::gelu_backward, {g, x}); }

namespace {
Output reduce(const OpDef& op, const Output& x, std::vector<int64_t> dims, bool keepdim, int64_t correction = 1) {
  Attrs a;
  a.dims = std::move(dims);
  a.keepdim = keepdim;
  a.correction = correction;
  return make_op(op, {x}, a);
}
}  // namespace

Output sum(const Output& x) { return reduce(ops::sum, x, {}, false); }
Output sum(const Output& x, const std::vector<int64_t>& d, bool k) { return reduce(ops::sum, x, d, k); }
Output mean(const Output& x) { return reduce(ops::mean, x, {}, false); }
Output mean(const Output& x, const std::vector<int64_t>& d, bool k) { return reduce(ops::mean, x, d, k); }
Output max(const Output& x) { return reduce(ops::amax, x, {}, false); }
Output max(const Output& x, int64_t d, bool k) {  // as eager: the value at argmax (see core/ops.h)
  const Output v = gather(x, d, argmax(x, d, true));
  return k ? v : squeeze(v, d);
}
Output min(const Output& x) { return reduce(ops::amin, x, {}, false); }
Output min(const Output& x, int64_t d, bool k) {
  const Output v = gather(x, d, argmin(x, d, true));
  return k ? v : squeeze(v, d);
}
Output amax(const Output& x, const std::vector<int64_t>& d, bool k) { return reduce(ops::amax, x, d, k); }
Output amin(const Output& x, const std::vector<int64_t>& d, bool k) { return reduce(ops::amin, x, d, k); }
Output argmax(const Output& x) { return reduce(ops::argmax, x, {}, false); }
Output argmax(const Output& x, int64_t d, bool k) { return reduce(ops::argmax, x, {d}, k); }
Output argmin(const Output& x) { return reduce(ops::argmin, x, {}, false); }
Output argmin(const Output& x, int64_t d, bool k) { return reduce(ops::argmin, x, {d}, k); }
Output var(const Output& x) { return reduce(ops::var, x, {}, false, 1); }
Output var(const Output& x, const std::vector<int64_t>& d, int64_t c, bool k) { return reduce(ops::var, x, d, k, c); }
Output sum_to(const Output& x, const Shape& shape) {
  Attrs a;
  a.dims = shape;
  return make_op(ops::sum_to, {x}, a);
}

Output matmul(const Output& a, const Output& b) { return make_op(ops::matmul, {a, b}); }
Output softmax(const Output& x, int64_t dim) {
  Attrs a;
  a.dim = dim;
  return make_op(ops::softmax, {x}, a);
}
Output log_softmax(const Output& x, int64_t dim) {
  Attrs a;
  a.dim = dim;
  return make_op(ops::log_softmax, {x}, a);
}

namespace {
Attrs window_attrs(const Shape& window) {
  Attrs a;
  a.dims = window;
  return a;
}
}  // namespace

Output conv2d(const Output& x, const Output& w, Pair stride, Pair padding) {
  return make_op(ops::conv2d, {x, w}, window_attrs({stride[0], stride[1], padding[0], padding[1]}));
}
Output conv2d(const Output& x, const Output& w, const Output& bias, Pair stride, Pair padding) {
  if (bias.shape().size() != 1)
    throw ShapeError(msg("conv2d: expected a 1-D bias (one per output channel), but got shape ",
                         shape_str(bias.shape())));
  return conv2d(x, w, stride, padding) + reshape(bias, {bias.shape()[0], 1, 1});
}
Output max_pool2d(const Output& x, Pair kernel, Pair stride, Pair padding) {
  if (stride[0] == 0 && stride[1] == 0) stride = kernel;  // as eager mode: stride defaults to the kernel
  return make_op(ops::max_pool2d, {x},
                 window_attrs({kernel[0], kernel[1], stride[0], stride[1], padding[0], padding[1]}));
}
Output conv2d_input_grad(const Output& g, const Output& w, const Shape& window) {
  return make_op(ops::conv2d_input_grad, {g, w}, window_attrs(window));
}
Output conv2d_weight_grad(const Output& x, const Output& g, const Shape& window) {
  return make_op(ops::conv2d_weight_grad, {x, g}, window_attrs(window));
}
Output max_pool2d_backward(const Output& g, const Output& x, const Shape& window) {
  return make_op(ops::max_pool2d_backward, {g, x}, window_attrs(window));
}
Output max_pool2d_gather(const Output& values, const Output& x, const Shape& window) {
  return make_op(ops::max_pool2d_gather, {values, x}, window_attrs(window));
}

Output rand_like(const Output& x, const std::vector<int64_t>& shared_dims) {
  Attrs a;
  a.dims = shared_dims;
  return make_op(ops::rand_like, {x}, a);
}
Output dropout(const Output& x, double p, bool training) { return dropout_with(x, p, training, {}); }
Output dropout2d(const Output& x, double p, bool training) { return dropout2d_with(x, p, training); }

Output index_select(const Output& x, int64_t dim, const Output& index) {
  Attrs a;
  a.dim = dim;
  return make_op(ops::index_select, {x, index}, a);
}
Output gather(const Output& x, int64_t dim, const Output& index) {
  Attrs a;
  a.dim = dim;
  return make_op(ops::gather, {x, index}, a);
}
Output one_hot(const Output& labels, int64_t num_classes) {
  if (num_classes <= 0)
    throw Error("one_hot: in a graph the number of classes must be given (it cannot be read from "
                "values that do not exist yet)");
  Attrs a;
  a.num_classes = num_classes;
  return make_op(ops::one_hot, {labels}, a);
}
Output index_add(const Output& x, int64_t dim, const Output& index, const Output& src) {
  Attrs a;
  a.dim = dim;
  return make_op(ops::index_add, {x, index, src}, a);
}
Output scatter_add(const Output& x, int64_t dim, const Output& index, const Output& src) {
  Attrs a;
  a.dim = dim;
  return make_op(ops::scatter_add, {x, index, src}, a);
}
Output slice_scatter(const Output& x, const Output& src, int64_t dim, int64_t start, int64_t end, int64_t step) {
  Attrs a;
  a.dim = dim;
  a.start = start;
  a.end = end;
  a.step = step;
  return make_op(ops::slice_scatter, {x, src}, a);
}
Output select_scatter(const Output& x, const Output& src, int64_t dim, int64_t index) {
  Attrs a;
  a.dim = dim;
  a.start = index;
  return make_op(ops::select_scatter, {x, src}, a);
}

Output reshape(const Output& x, const Shape& shape) {
  Attrs a;
  a.dims = shape;
  return make_op(ops::reshape, {x}, a);
}
Output permute(const Output& x, const std::vector<int64_t>& dims) {
  Attrs a;
  a.dims = dims;
  return make_op(ops::permute, {x}, a);
}
Output transpose(const Output& x, int64_t d0, int64_t d1) {
  const int64_t r = x.dim();
  if (r == 0) return x;
  std::vector<int64_t> p(r);
  std::iota(p.begin(), p.end(), 0);
  std::swap(p[normalize_dim(d0, r, "transpose")], p[normalize_dim(d1, r, "transpose")]);
  return permute(x, p);
}
Output slice(const Output& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  Attrs a;
  a.dim = dim;
  a.start = start;
  a.end = end;
  a.step = step;
  return make_op(ops::slice, {x}, a);
}
Output narrow(const Output& x, int64_t dim, int64_t start, int64_t length) {
  return slice(x, dim, start, start + length, 1);
}
Output select(const Output& x, int64_t dim, int64_t index) {
  Attrs a;
  a.dim = dim;
  a.start = index;
  return make_op(ops::select, {x}, a);
}
Output squeeze(const Output& x, std::optional<int64_t> dim) {
  Attrs a;
  if (dim) a.dims = {*dim};
  return make_op(ops::squeeze, {x}, a);
}
Output unsqueeze(const Output& x, int64_t dim) {
  Attrs a;
  a.dim = dim;
  return make_op(ops::unsqueeze, {x}, a);
}
Output expand(const Output& x, const Shape& shape) {
  Attrs a;
  a.dims = shape;
  return make_op(ops::expand, {x}, a);
}
Output flatten(const Output& x, int64_t start_dim, int64_t end_dim) {
  const int64_t r = x.dim();
  if (r == 0) return reshape(x, {1});
  const int64_t s = normalize_dim(start_dim, r, "flatten"), e = normalize_dim(end_dim, r, "flatten");
  Shape shape(x.shape().begin(), x.shape().begin() + s);
  int64_t merged = 1;
  for (int64_t d = s; d <= e; ++d) merged = (merged == kUnknown || x.shape()[d] == kUnknown) ? kUnknown : merged * x.shape()[d];
  shape.push_back(merged == kUnknown ? -1 : merged);
  shape.insert(shape.end(), x.shape().begin() + e + 1, x.shape().end());
  return reshape(x, shape);
}
Output clone(const Output& x) { return make_op(ops::clone, {x}); }
Output to(const Output& x, DType dtype) {
  if (x.dtype() == dtype) return x;
  Attrs a;
  a.dtype = dtype;
  return make_op(ops::cast, {x}, a);
}
Output cat(const std::vector<Output>& xs, int64_t dim) {
  Attrs a;
  a.dim = dim;
  return make_op(ops::cat, xs, a);
}
Output stack(const std::vector<Output>& xs, int64_t dim) {
  Attrs a;
  a.dim = dim;
  return make_op(ops::stack, xs, a);
}

Output operator-(const Output& a) { return neg(a); }
Output operator+(const Output& a, const Output& b) { return add(a, b); }
Output operator-(const Output& a, const Output& b) { return sub(a, b); }
Output operator*(const Output& a, const Output& b) { return mul(a, b); }
Output operator/(const Output& a, const Output& b) { return div(a, b); }
Output operator+(const Output& a, const Scalar& b) { return add(a, scalar_like(b, a)); }
Output operator-(const Output& a, const Scalar& b) { return sub(a, scalar_like(b, a)); }
Output operator*(const Output& a, const Scalar& b) { return mul(a, scalar_like(b, a)); }
Output operator/(const Output& a, const Scalar& b) { return div(a, scalar_like(b, a)); }
Output operator+(const Scalar& a, const Output& b) { return add(scalar_like(a, b), b); }
Output operator-(const Scalar& a, const Output& b) { return sub(scalar_like(a, b), b); }
Output operator*(const Scalar& a, const Output& b) { return mul(scalar_like(a, b), b); }
Output operator/(const Scalar& a, const Output& b) { return div(scalar_like(a, b), b); }
Output operator==(const Output& a, const Scalar& b) { return eq(a, scalar_like(b, a)); }
Output operator>=(const Output& a, const Scalar& b) { return ge(a, scalar_like(b, a)); }
Output operator==(const Output& a, const Output& b) { return eq(a, b); }
Output operator!=(const Output& a, const Output& b) { return ne(a, b); }
Output operator<(const Output& a, const Output& b) { return lt(a, b); }
Output operator<=(const Output& a, const Output& b) { return le(a, b); }
Output operator>(const Output& a, const Output& b) { return gt(a, b); }
Output operator>=(const Output& a, const Output& b) { return ge(a, b); }

}  // namespace tandem::graph
