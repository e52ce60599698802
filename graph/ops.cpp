// graph/ops.cpp — adding nodes: shape inference at declaration, then the node.
#include "graph/ops.h"

#include <numeric>

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
  if (std::string(op.name) == "rmsprop_tf_update") return "ApplyRMSProp";
  if (std::string(op.name) == "centered_rmsprop_tf_update") return "ApplyCenteredRMSProp";
  if (std::string(op.name) == "adagrad_tf_update") return "ApplyAdagrad";
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

Output make_op(const OpDef& op, std::vector<Output> inputs, const Attrs& attrs, const std::string& name) {
  if (op.updates > 0)
    throw Error(msg(op.name, " writes its first ", op.updates, " input(s) in place: build it with "
                    "graph::apply_update(), which makes them variables, or through an optimizer "
                    "(graph::train)"));
  if (op.arity >= 0 && static_cast<int>(inputs.size()) != op.arity)
    throw Error(msg(op.name, ": expected ", op.arity, " inputs, got ", inputs.size()));
  std::vector<Meta> metas;
  for (const Output& in : inputs) metas.push_back({in.shape(), in.dtype()});  // throws if undefined
  Meta meta;
  try {
    meta = op.shape(metas, attrs);  // the same shape rule eager mode runs, with unknown dims allowed
  } catch (const Error& e) {  // add the node type and the user's line, keeping the error's class
    rethrow_with_context(e, msg("\n  for '", type_name(op), "' (op: '", op.name, "') created at ",
                                describe(capture_call_site())));
  }
  Node* n = add(Kind::op, type_name(op), std::move(inputs), meta, name);
  n->op = &op;
  n->attrs = attrs;
  return Output(n);
}

}  // namespace tandem::graph

// ---- graph mode's side of apply() (core/op.h): a new node instead of a value ----------------------

namespace tandem {
template <>
graph::Output apply<graph::Output>(const OpDef& op, const OpInputs<graph::Output>& inputs, const Attrs& attrs) {
  return graph::make_op(op, inputs.to_vector(), attrs);
}

template <> graph::Output lift<graph::Output>(const Tensor& value, const graph::Output& like) {
  return graph::constant_in(like.graph(), value, "");
}
}  // namespace tandem

namespace tandem::graph {

// ---- sources ------------------------------------------------------------------------------------

Output placeholder(DType dtype, const Shape& shape, const std::string& name) {
  return Output(default_graph().add_node(Kind::placeholder, "Placeholder", {}, {shape, dtype}, name));
}

Output constant_in(Graph& g, const Tensor& value, const std::string& name) {
  Node* n = g.add_node(Kind::constant, "Const", {}, {value.shape(), value.dtype()}, name);
  n->value = value.detach().clone();  // a copy, as TF makes: later changes to `value` don't leak in
  return Output(n);
}

Output constant(const Tensor& value, const std::string& name) { return constant_in(default_graph(), value, name); }

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
  // One input more than the op takes: the learning rate as a tensor (optim/train.h), which the
  // executor reads on every run in place of attrs.lr.
  const bool rate_input = static_cast<int>(inputs.size()) == op.arity + 1;
  if (static_cast<int>(inputs.size()) != op.arity && !rate_input)
    throw Error(msg(op.name, ": expected ", op.arity, " inputs (or ", op.arity + 1,
                    " with a learning-rate tensor last), got ", inputs.size()));
  if (rate_input && (inputs.back().dim() != 0 || !is_floating(inputs.back().dtype())))
    throw ShapeError(msg(op.name, ": the learning rate (input ", op.arity, ") must be a 0-dim floating point tensor, got ",
                         to_string(inputs.back().dtype()), " ", shape_str(inputs.back().shape())));
  for (int k = 0; k < op.updates; ++k)
    if (inputs[k].node()->kind != Kind::variable)
      throw Error(msg(op.name, ": input ", k, " is written in place and must be a Variable, but '",
                      inputs[k].name(), "' is a ", inputs[k].node()->type));
  std::vector<Meta> metas;
  for (int k = 0; k < op.arity; ++k) metas.push_back({inputs[k].shape(), inputs[k].dtype()});
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

Output identity(const Output& x, const std::string& name) { return make_op(ops::identity, {x}, {}, name); }

Output group(const std::vector<Output>& ops, const std::string& name) {
  Graph& g = graph_of(ops);
  Node* n = g.add_node(Kind::no_op, "NoOp", {}, {{}, kFloat32}, name);
  for (const Output& o : ops) g.add_control_input(n, o);  // checked: same graph, created before
  return Output(n);
}

}  // namespace tandem::graph
