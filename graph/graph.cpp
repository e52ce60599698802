// graph/graph.cpp — nodes, names, scopes and the default graph.
#include "graph/graph.h"

#include <atomic>
#include <ostream>

#include "core/ops.h"

namespace tandem::graph {

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::op: return "op";
    case Kind::placeholder: return "placeholder";
    case Kind::constant: return "constant";
    case Kind::variable: return "variable";
    case Kind::assign: return "assign";
    case Kind::assign_add: return "assign_add";
    case Kind::update: return "update";
    case Kind::no_op: return "no_op";
  }
  return "?";
}

// ---- Output -------------------------------------------------------------------------------------

namespace {
Node& deref(Node* n) {
  if (!n)
    throw Error("this graph Output is undefined (default-constructed, or a gradient that does not "
                "exist because the value does not depend on that input)");
  return *n;
}
}  // namespace

Graph& Output::graph() const { return *deref(node_).graph; }
const Shape& Output::shape() const { return deref(node_).meta.shape; }
DType Output::dtype() const { return deref(node_).meta.dtype; }
std::string Output::name() const { return deref(node_).name + ":0"; }
int64_t Output::size(int64_t d) const { return shape()[normalize_dim(d, dim(), "size")]; }

std::string tf_shape_str(const Shape& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ", ";
    out += s[i] == kUnknown ? std::string("?") : std::to_string(s[i]);
  }
  if (s.size() == 1) out += ",";
  return out + ")";
}

std::ostream& operator<<(std::ostream& os, const Output& o) {
  if (!o.defined()) return os << "Tensor(undefined)";
  if (!o.node()->produces_value())
    return os << "Operation(\"" << o.node()->name << "\", type=" << o.node()->type << ")";
  return os << "Tensor(\"" << o.name() << "\", shape=" << tf_shape_str(o.shape())
            << ", dtype=" << to_string(o.dtype()) << ")";
}

std::string Node::describe() const {
  return msg("node '", name, "' (", type, ") created at ", tandem::describe(created_at));
}

// ---- Graph ----------------------------------------------------------------------------------------

uint64_t Graph::next_serial() {
  static std::atomic<uint64_t> counter{0};
  return ++counter;
}

std::string Graph::unique_name(const std::string& base) {
  std::string name = base;
  for (int i = 1; used_names_.count(name); ++i) name = base + "_" + std::to_string(i);
  used_names_.insert(name);
  return name;
}

Node* Graph::add_node(Kind kind, std::string type, std::vector<Output> inputs, Meta meta,
                      const std::string& name) {
  if (finalized_)
    throw Error(msg("Graph is finalized and cannot be modified: tried to add a ", type,
                    " node. Build every op before the training loop; creating ops inside the loop "
                    "makes the graph grow on every step"));
  for (const Output& in : inputs)
    if (in.defined() && in.node()->graph != this)
      throw Error(msg(type, ": input '", in.name(), "' must be from the same graph as this node; "
                      "create every node of a computation in one graph (see DefaultGraph)"));
  auto node = std::make_unique<Node>();
  node->id = size();
  node->kind = kind;
  std::string prefix;
  for (const std::string& s : scopes) prefix += s + "/";
  node->name = unique_name(prefix + (name.empty() ? type : name));
  node->type = std::move(type);
  node->inputs = std::move(inputs);
  node->meta = std::move(meta);
  node->graph = this;
  node->created_at = capture_call_site();
  for (const auto& deps : control_stack)
    for (Node* d : deps) node->control_inputs.push_back(d);
  nodes_.push_back(std::move(node));
  return nodes_.back().get();
}

Node* Graph::find(const std::string& name) const {
  std::string n = name;
  if (n.size() > 2 && n.compare(n.size() - 2, 2, ":0") == 0) n.resize(n.size() - 2);
  for (const auto& node : nodes_)
    if (node->name == n) return node.get();
  return nullptr;
}

std::vector<Output> Graph::global_variables() const {
  std::vector<Output> out;
  for (const auto& n : nodes_)
    if (n->kind == Kind::variable) out.emplace_back(n.get());
  return out;
}

std::vector<Output> Graph::trainable_variables() const {
  std::vector<Output> out;
  for (const auto& n : nodes_)
    if (n->kind == Kind::variable && n->trainable) out.emplace_back(n.get());
  return out;
}

// ---- default graph and scopes ------------------------------------------------------------------------

namespace {
std::unique_ptr<Graph>& owned_default() {
  static std::unique_ptr<Graph> g = std::make_unique<Graph>();
  return g;
}
Graph* current_default = nullptr;
}  // namespace

Graph& default_graph() { return current_default ? *current_default : *owned_default(); }

void reset_default_graph() {
  if (current_default)
    throw Error("reset_default_graph() called inside a DefaultGraph block; leave the block first");
  owned_default() = std::make_unique<Graph>();
}

DefaultGraph::DefaultGraph(Graph& g) : previous_(current_default) { current_default = &g; }
DefaultGraph::~DefaultGraph() { current_default = previous_; }

NameScope::NameScope(const std::string& name, Graph& g) : graph_(g) {
  std::string prefix;
  for (const std::string& s : g.scopes) prefix += s + "/";
  // The scope itself is a name: re-entering "dense" at the same level gives "dense_1".
  const std::string unique = g.unique_name(prefix + name);
  g.scopes.push_back(unique.substr(prefix.size()));
}
NameScope::~NameScope() { graph_.scopes.pop_back(); }

ControlDependencies::ControlDependencies(const std::vector<Output>& deps, Graph& g) : graph_(g) {
  std::vector<Node*> nodes;
  for (const Output& d : deps) nodes.push_back(d.node());
  g.control_stack.push_back(std::move(nodes));
}
ControlDependencies::~ControlDependencies() { graph_.control_stack.pop_back(); }

}  // namespace tandem::graph

namespace tandem {
template class TensorMethods<graph::Output>;  // x.sum(), x.reshape(...) on graph outputs
}  // namespace tandem
