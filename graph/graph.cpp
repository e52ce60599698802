// graph/graph.cpp — nodes, names, scopes and the default graph.
#include "graph/graph.h"

#include <atomic>
#include <ostream>
#include <string_view>

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
    case Kind::control: return "control";
    case Kind::result: return "result";
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

Output::Output(Node* node) : node_(node) {
  if (node && node->graph) graph_alive_ = node->graph->alive_token();
}

void Output::throw_graph_destroyed() {
  throw Error("this graph Output belongs to a Graph that no longer exists (it went out of scope, "
              "reset_default_graph() replaced it, or it was the default graph of a thread that has "
              "ended); keep the Graph alive as long as its Outputs are used, or build them again");
}

void Output::throw_no_value(const char* what) const {
  throw Error(msg(what, ": '", defined() ? name() : std::string("undefined"), "' is a graph node; it has no "
                  "value while the graph is being built (nor while a function is traced: graph::trace runs "
                  "it on placeholders). A C++ `if` or loop on a value cannot become part of a graph: branch "
                  "with graph::cond(pred, true_fn, false_fn) and loop with graph::while_loop(cond, body, "
                  "loop_vars), which decide when the graph runs; or run the value with Session::run first"));
}

Graph& Output::graph() const { return *deref(node()).graph; }
const Shape& Output::shape() const { return deref(node()).meta.shape; }
DType Output::dtype() const { return deref(node()).meta.dtype; }
std::string Output::name() const { return deref(node()).name + ":0"; }
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
  const std::string self = msg("node '", name, "' (", type, ") created at ", tandem::describe(created_at));
  if (!gradient_of) return self;
  return msg(self, ", for the gradient of node '", gradient_of->name, "' (", gradient_of->type, ") created at ",
             tandem::describe(gradient_of->created_at));
}

// ---- Graph ----------------------------------------------------------------------------------------

namespace {
// Counts one add_node/unique_name call in progress on a graph, for as long as it lives; finding
// another already in progress means a second thread is building the same graph right now.
class BuildGuard {
 public:
  // `doing` and `what` only go into the message ("adding a node", "MatMul").
  BuildGuard(std::atomic<int>& builders, std::string_view doing, std::string_view what)
      : builders_(builders) {
    if (builders_.fetch_add(1, std::memory_order_acq_rel) != 0) {
      builders_.fetch_sub(1, std::memory_order_acq_rel);
      throw Error(msg("Graph: two threads are adding nodes to one graph at the same time (this one ",
                      "was ", doing, " '", what, "'). A Graph is built by one thread at a time: build "
                      "it in one thread (each thread has its own default graph; DefaultGraph picks "
                      "another), or take turns with a mutex. Running a finished graph from many "
                      "threads is fine"));
    }
  }
  ~BuildGuard() { builders_.fetch_sub(1, std::memory_order_acq_rel); }
  BuildGuard(const BuildGuard&) = delete;
  BuildGuard& operator=(const BuildGuard&) = delete;

 private:
  std::atomic<int>& builders_;
};
}  // namespace
uint64_t Graph::next_serial() {
  static std::atomic<uint64_t> counter{0};
  return ++counter;
}

std::string Graph::unique_name(const std::string& base) {
  BuildGuard guard(builders_, "choosing the name", base);
  return unique_name_unguarded(base);
}

std::string Graph::unique_name_unguarded(const std::string& base) {
  std::string name = base;
  for (int i = 1; used_names_.count(name); ++i) name = base + "_" + std::to_string(i);
  used_names_.insert(name);
  return name;
}

Node* Graph::add_node(Kind kind, std::string type, std::vector<Output> inputs, Meta meta,
                      const std::string& name) {
  BuildGuard guard(builders_, "adding a node of type", type);
  if (finalized_)
    throw Error(msg("Graph is finalized and cannot be modified: tried to add a ", type,
                    " node. Build every op before the training loop; creating ops inside the loop "
                    "makes the graph grow on every step"));
  for (const Output& in : inputs)
    if (in.defined() && in.node()->graph != this)
      throw Error(msg(type, ": input '", in.name(), "' must be from the same graph as this node; "
                      "create every node of a computation in one graph (see DefaultGraph)"));
  for (const auto& deps : control_stack)
    for (const Node* d : deps)
      if (d->graph != this)
        throw Error(msg(type, ": the control dependency '", d->name, "' (from a ControlDependencies "
                        "block) is a node of another graph; a node can only wait for nodes of its own"));
  check_shape(meta.shape, itemsize(meta.dtype), type.c_str(), /*allow_unknown=*/true);
  auto node = std::make_unique<Node>();
  node->id = size();
  node->kind = kind;
  std::string prefix;
  for (const std::string& s : scopes) prefix += s + "/";
  node->name = unique_name_unguarded(prefix + (name.empty() ? type : name));
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

void Graph::add_control_input(Node* node, const Output& dep) {
  if (!dep.defined())
    throw Error(msg(node->type, " '", node->name, "': a control dependency is undefined (a missing "
                    "gradient?); pass nodes that exist"));
  const Node* d = dep.node();
  if (node->graph != this || d->graph != this)
    throw Error(msg(node->type, " '", node->name, "': the control dependency '", d->name,
                    "' is a node of another graph; a node can only wait for nodes of its own graph"));
  if (d->id >= node->id)
    throw Error(msg(node->type, " '", node->name, "': cannot depend on '", d->name, "', created after it"
                    " (or on itself): nodes run in creation order, so this would be a cycle. Create the "
                    "dependency first, then the node that waits for it"));
  node->control_inputs.push_back(const_cast<Node*>(d));
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
// Per thread (see graph.h): this thread's own default graph, made on first use, and the graph a
// DefaultGraph block made the default, if any.
std::unique_ptr<Graph>& owned_default() {
  thread_local std::unique_ptr<Graph> g = std::make_unique<Graph>();
  return g;
}
thread_local Graph* current_default = nullptr;
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
  for (const Output& d : deps) {
    if (!d.defined())
      throw Error("ControlDependencies: a dependency is undefined (a missing gradient?); pass nodes "
                  "that exist");
    if (d.node()->graph != &g)
      throw Error(msg("ControlDependencies: '", d.node()->name, "' is a node of another graph than "
                      "the one the block adds to; a node can only wait for nodes of its own graph"));
    nodes.push_back(d.node());
  }
  g.control_stack.push_back(std::move(nodes));
}
ControlDependencies::~ControlDependencies() { graph_.control_stack.pop_back(); }

}  // namespace tandem::graph

namespace tandem {
template class TensorMethods<graph::Output>;  // x.sum(), x.reshape(...) on graph outputs
}  // namespace tandem
