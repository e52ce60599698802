// graph/graph.h — the static graph: nodes declared now, computed later.
//
// In graph mode (TensorFlow 1's define-then-run) calling `mul(a, b)` computes nothing. It appends
// a Node to a Graph — "multiply whatever a and b will be" — and returns an Output, a handle that
// names the node's result. Values only exist inside Session::run (graph/session.h).
//
//     Graph g;   Output x = placeholder(kFloat32, {-1, 784});   // nothing computed yet
//     Output y = relu(matmul(x, W) + b);                        // three more nodes
//     Session s(g);  s.run(y, {{x, batch}});                    // now, and only now
//
// What a Node knows when it is created, without any value:
//   - its op (from the same catalogue eager mode uses: core/op.h) and attributes;
//   - its static shape and dtype, from the op's shape rule: a dimension may be unknown (-1, printed
//     `?`). A conflict between known dimensions is reported right here, naming the user's line;
//   - a unique name ("MatMul", "MatMul_1", "dense/MatMul") and where it was created (file:line).
//
// Nodes are kept in creation order. Since a node can only use nodes that already exist, creation
// order is already a topological order — the executor and gradients() need no sort (as in DyNet).
//
// Read next: graph/ops.h (the functions that add nodes), graph/session.h.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/call_site.h"
#include "core/op.h"
#include "core/tensor.h"

namespace tandem::autograd {
struct Derivative;
}

namespace tandem::graph {

class Graph;
struct Node;
struct Body;         // graph/control_flow.h: a branch of a cond, the body of a while_loop
struct ControlFlow;  // graph/control_flow.h: what a control node runs

// What a node does. Every computation is a catalogue op (core/op.h) — the same ops eager mode runs,
// identity, add_n and the shape-reading ops of gradients() included. The other kinds are what only
// a graph has: values that come from outside the computation, and state.
enum class Kind : uint8_t {
  op,           // a catalogue op (core/op.h): add, matmul, relu, identity, add_n...
  placeholder,  // a value fed at run time
  constant,     // a value stored in the graph
  variable,     // a value stored in the Session, persistent across runs
  assign,       // variable = value            (returns the new value)
  assign_add,   // variable += value           (returns the new value)
  update,       // an optimizer's update op (core/ops/update.cpp): writes its leading inputs,
                // which are variables, in place (returns the parameter's new value)
  no_op,        // computes nothing; groups control dependencies (group(), initializers)
  control,      // cond or while_loop: runs a subgraph of its own (graph/control_flow.h), whose
                // several results its `result` nodes hand out
  result,       // result number attrs.dim of the control node that is its one input
};

const char* kind_name(Kind k);

// A handle on a node's result: what graph-mode functions take and return. Like a TF1 tf.Tensor,
// it has a name ("add:0"), a static shape and a dtype — and no value.
//
// The Graph owns its nodes; an Output only points at one. So that an Output kept after its Graph
// is gone (a graph made in a function, or a thread's default graph after the thread ended) is an
// error and not a read of freed memory, the Output also holds a weak reference to a token the
// Graph owns (graph_alive_): node() checks that the token still exists before handing the node out.
class Output : public TensorMethods<Output> {
 public:
  Output() = default;
  explicit Output(Node* node);  // node may be null (an undefined Output)

  bool defined() const { return node_ != nullptr; }
  // The node; throws if its Graph has been destroyed since this Output was made.
  Node* node() const {
    if (node_ && graph_alive_.expired()) throw_graph_destroyed();
    return node_;
  }
  Graph& graph() const;
  const Shape& shape() const;  // static shape; kUnknown (-1) for unknown dims
  DType dtype() const;
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  int64_t size(int64_t d) const;  // one static size: kUnknown (-1) when unknown
  std::string name() const;  // "scope/Name:0"
  bool is_same(const Output& o) const { return node_ == o.node_; }
  // There is no value to read while a graph is being built: an Error that says to use cond /
  // while_loop (a C++ `if (x.item() > 0)` in a function being traced lands here: graph/trace.h).
  template <class T = double> T item() const { throw_no_value("item()"); }

 private:
  [[noreturn]] static void throw_graph_destroyed();
  [[noreturn]] void throw_no_value(const char* what) const;
  Node* node_ = nullptr;
  std::weak_ptr<const int> graph_alive_;  // expires when the node's Graph is destroyed
};

struct Node {
  int64_t id = 0;  // index in the graph's creation order
  std::string name;
  std::string type;  // "MatMul", "Placeholder", "VariableV2", ... (shown in drawings and errors)
  Kind kind = Kind::op;
  const OpDef* op = nullptr;  // for Kind::op
  Attrs attrs;
  std::vector<Output> inputs;
  std::vector<Node*> control_inputs;  // must run before this node (control dependencies)
  Meta meta;                          // static shape and dtype of the output
  Tensor value;                       // constant: its value; variable: its initial value
  bool trainable = true;              // variables: included in trainable_variables()
  Node* initializer = nullptr;        // variables: the `name/Assign` node that sets the initial value
  bool is_gradient = false;           // created by gradients() (drawn apart from the forward)
  const autograd::Derivative* made_by = nullptr;  // gradient nodes: the sheet row that made them
  // Gradient nodes: the forward node they differentiate, kept to be described when an error needs it
  // (below; the call site is only turned into file:line then, as for created_at).
  struct Forward {
    std::string name, type;
    CallSite created_at;
  };
  std::optional<Forward> gradient_of;
  std::shared_ptr<ControlFlow> flow;  // control nodes: the branches or body they run
  const Body* body = nullptr;  // set for a node inside a cond's branch or a while_loop's body: it
                               // runs only when that body runs, never in the graph's own loop
  Graph* graph = nullptr;
  CallSite created_at;

  bool produces_value() const { return kind != Kind::no_op && kind != Kind::control; }
  // "node 'dense/MatMul' (MatMul) created at examples/03_mlp.cpp:41 (in main)"; a gradient node
  // adds the forward node it came from, whose line is the one to look at (gradients() made the
  // node, but the forward op is what the program wrote): "..., for the gradient of node 'Sqrt'
  // (Sqrt) created at train.cpp:30 (in main)"
  std::string describe() const;
};

class Graph {
 public:
  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  // Adds a node, giving it a unique name (type, or `name` when given) inside the current scope,
  // the current control dependencies, and its creation site. Checks that the graph is not finalized,
  // that all inputs and control dependencies belong to this graph, that the static shape is valid
  // (sizes >= 0 or -1 for unknown, no overflowing element count: check_shape), and that no other
  // thread is adding a node to this graph at the same moment (see "Threads" below).
  Node* add_node(Kind kind, std::string type, std::vector<Output> inputs, Meta meta,
                 const std::string& name = "");

  // Makes `node` run after `dep` (what group() and the initializer op do). `dep` must be a node of
  // this graph created before `node`: creation order is the execution order, so a dependency on a
  // later node could never be honoured — and is how a cycle would begin. An Error says so.
  void add_control_input(Node* node, const Output& dep);

  const std::vector<std::unique_ptr<Node>>& nodes() const { return nodes_; }
  // A number no other Graph of this process has (or had): something that remembers what it made
  // in a graph (a Module its variables, layers/module.h) keys it by this, never by the address,
  // which a later Graph may reuse.
  uint64_t serial() const { return serial_; }
  int64_t size() const { return static_cast<int64_t>(nodes_.size()); }
  Node* find(const std::string& name) const;  // by node name ("dense/MatMul") or output name ("dense/MatMul:0")

  // After finalize(), adding a node is an error: the classic guard against a training loop that
  // accidentally grows the graph by creating ops on every step.
  void finalize() { finalized_ = true; }
  bool finalized() const { return finalized_; }

  // Name scopes and control dependencies are stacks, entered with the RAII guards below.
  std::vector<std::string> scopes;
  std::vector<std::vector<Node*>> control_stack;

  // Variables, in creation order (TF's GLOBAL_VARIABLES / TRAINABLE_VARIABLES collections).
  std::vector<Output> global_variables() const;
  std::vector<Output> trainable_variables() const;

  // A unique name: "MatMul", then "MatMul_1", ... (used for nodes and for re-entered scopes).
  std::string unique_name(const std::string& base);

  // The token Outputs watch (see Output): it dies with the graph.
  const std::shared_ptr<const int>& alive_token() const { return alive_; }

  // Threads: a Graph is built by one thread at a time (TF1's rule too). Building it from two threads
  // at once is detected where it is cheap — add_node() counts the calls in progress (an atomic
  // counter: one increment and one decrement per node) and a second one at the same moment throws
  // instead of corrupting the node list. Once built, a graph may be run from many threads: Sessions
  // only read it.
 private:
  std::string unique_name_unguarded(const std::string& base);

  std::vector<std::unique_ptr<Node>> nodes_;
  std::set<std::string> used_names_;
  bool finalized_ = false;
  std::shared_ptr<const int> alive_ = std::make_shared<const int>(0);
  std::atomic<int> builders_{0};  // add_node / unique_name calls in progress
  uint64_t serial_ = next_serial();
  static uint64_t next_serial();
};

// The default graph: where graph-mode functions add nodes unless a scope says otherwise. As in TF1,
// the default graph is a property of the current *thread*: each thread starts with its own empty
// one (made on first use, destroyed when the thread ends), and a DefaultGraph block changes only
// the calling thread's. So two threads building their own graphs never meet. (TF1 also shares one
// global graph between threads that name none; Tandem gives each its own, so that two threads
// cannot build into one graph by accident.) reset_default_graph() replaces this thread's.
Graph& default_graph();
void reset_default_graph();

// `{ graph::DefaultGraph use(g); ... }` makes g the default graph inside the block, for this thread
// (TF's `with g.as_default():`).
class DefaultGraph {
 public:
  explicit DefaultGraph(Graph& g);
  ~DefaultGraph();
  DefaultGraph(const DefaultGraph&) = delete;
  DefaultGraph& operator=(const DefaultGraph&) = delete;

 private:
  Graph* previous_;
};

// `{ graph::NameScope s("dense"); ... }` prefixes node names with "dense/". Entering a scope name
// already used gives "dense_1/", as in TF.
class NameScope {
 public:
  explicit NameScope(const std::string& name, Graph& g = default_graph());
  ~NameScope();
  NameScope(const NameScope&) = delete;
  NameScope& operator=(const NameScope&) = delete;

 private:
  Graph& graph_;
};

// `{ graph::ControlDependencies deps({a, b}); Output y = identity(x); }` — nodes created inside the
// block run only after a and b. (Using an existing Output inside the block adds nothing: create a
// node, e.g. identity, as in TF.)
class ControlDependencies {
 public:
  explicit ControlDependencies(const std::vector<Output>& deps, Graph& g = default_graph());
  ~ControlDependencies();
  ControlDependencies(const ControlDependencies&) = delete;
  ControlDependencies& operator=(const ControlDependencies&) = delete;

 private:
  Graph& graph_;
};

// Values for placeholders (or for any other node, which cuts off its upstream): {{x, batch}, ...}.
using FeedDict = std::vector<std::pair<Output, Tensor>>;

// Prints metadata, never a value: Tensor("add:0", shape=(?, 10), dtype=float32), as TF1 does.
std::ostream& operator<<(std::ostream& os, const Output& o);

// "(?, 10)" — TF's spelling of a static shape.
std::string tf_shape_str(const Shape& s);

// Graph mode has no op functions of its own: g::relu, g::matmul, x + y on Outputs are the very
// functions of core/ops.h (templates over the tensor type), found here by this directive.
using namespace tandem;

}  // namespace tandem::graph

namespace tandem {
// Output's methods (x.sum(), x.reshape(...)) are compiled once, in graph/graph.cpp.
extern template class TensorMethods<graph::Output>;
}  // namespace tandem
