// graph/control_flow.h — cond and while_loop: a graph that branches and loops on its own values.
//
// Eager mode branches with C++: `if (loss.item() > 1) ...`, `while (x.norm() < 10) x = x * 2;` —
// the value exists, so the C++ program looks at it and decides. A graph is built before any value
// exists, so a C++ `if` while building can only ever take one branch, for every run. To decide at
// run time the *graph* must hold the branches, and a node that picks one when the values are there.
// TensorFlow 1 gives two such nodes, and so does Tandem:
//
//   cond(pred, true_fn, false_fn)           tf.cond: both branches are built, as subgraphs, when
//                                           cond is called; each run computes only the one that
//                                           pred picks. They must give the same dtypes and shapes.
//   while_loop(cond, body, loop_vars)       tf.while_loop: loop_vars = body(loop_vars) while
//                                           cond(loop_vars) holds (and at most maximum_iterations
//                                           times). The body must keep each variable's dtype and
//                                           shape — unless the shape is declared with unknown dims
//                                           in shape_invariants, as in TF.
//
//     Output x = placeholder(kFloat32, {});
//     Output y = cond(x > 0.0, [&] { return x * x; }, [&] { return -x; });
//     auto [i, v] = while_loop([](auto& lv) { return lv[1] < 100.0; },
//                              [](auto& lv) { return std::vector<Output>{lv[0] + 1, lv[1] * 2.0}; },
//                              {constant(0, kInt64), x});   (written out in examples/09_dynamic_control_flow.cpp)
//
// HOW IT IS BUILT. A branch or a loop body is a Body: nodes of the same Graph, made while the user's
// function ran, and marked as belonging to that body (Node::body), so that the graph's own run
// loop never runs them. Each body is a function in the TF2 sense: values it uses from outside
// (`x` above, captured by the lambda) become *arguments* — an "Arg" node inside the body stands
// for each, and the control node takes the outside value as an input. So a control node's inputs
// are all it depends on, and every graph pass sees the dependency. Each body is lowered to a Plan
// of its own once, when declared (with the default passes: pruning, folding, CSE, fusion), and the
// control node's step runs that plan — through the very same run_step the Session uses — once
// for a cond, once per iteration for a loop (graph/control_flow_run.cpp). A control node has
// several results; a `result` node (TF's names: Merge for cond, Exit for while) hands out each.
//
// GRADIENTS (graph/control_flow_grad.cpp), with the derivative sheet as everywhere else:
//   - the gradient of a cond is a cond over the branches' gradients: the same pred picks the
//     gradient of the branch that ran;
//   - the gradient of a while_loop runs the body's derivative backward over the iterations. TF1
//     pushes each iteration's values on a stack during the forward loop. Tandem does the simpler
//     thing, described where it is done: the gradient step runs the forward loop again and keeps
//     every iteration's loop variables (the stack, inside one step), then walks them in reverse.
//   Both recompute the forward values they need (the forward runs twice): simple and exact, at
//   the cost of time; a random op inside a body would draw new numbers for its gradient.
//
// LIMITS, each an Error that says so: a body cannot create variables or placeholders or change a
// variable (build those outside; TF1 allows assignments, Tandem keeps state changes at top level);
// graph files do not hold control nodes (io::freeze refuses them); second derivatives through a
// while_loop are not built. A body is planned with the default passes, not the Session's options,
// and runs without a memory plan (and a graph whose control results have unknown dims is run
// without one too: their sizes are known only once the body has run).
//
// Read next: graph/control_flow_run.cpp (running bodies), graph/control_flow_grad.cpp, graph/trace.h.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "graph/ops.h"
#include "graph/plan.h"

namespace tandem::graph {

// A branch of a cond or the body (or condition) of a while_loop: a function inside the graph.
struct Body {
  std::string role;              // "true branch", "false branch", "cond", "body": for errors and drawings
  std::vector<Node*> args;       // nodes fed when it runs, in the order the control node passes them
  std::vector<Output> results;   // what it returns, in order
  std::vector<Node*> nodes;      // every node its plan runs, args included, in a topological order
  Plan plan;                     // lowered once, when declared: args are fed, results fetched
};

// What a control node runs.
struct ControlFlow {
  enum class Form { cond, while_loop, while_grad };
  Form form = Form::cond;
  // cond: {true branch, false branch}. while_loop: {cond, body}. while_grad: {cond, body, the
  // body's derivative} (the first two are the forward loop's, run again).
  std::vector<std::shared_ptr<Body>> bodies;
  int64_t loop_vars = 0;             // while forms: how many of the inputs are loop variables
  int64_t maximum_iterations = -1;   // while forms: -1 for no limit
  std::vector<Node*> results;        // the result nodes (Merge / Exit), by result index
};

// ---- cond --------------------------------------------------------------------------------------
using BranchFn = std::function<std::vector<Output>()>;

// tf.cond(pred, true_fn, false_fn): the results of true_fn when the 0-dim bool pred is true, else
// false_fn's. Both functions are called now, once, to build their branches; they must return as
// many values as each other, with equal dtypes and static shapes (checked now: an Error names both).
std::vector<Output> cond(const Output& pred, const BranchFn& true_fn, const BranchFn& false_fn,
                         const std::string& name = "cond");
// The same for branches that return one value.
Output cond(const Output& pred, const std::function<Output()>& true_fn, const std::function<Output()>& false_fn,
            const std::string& name = "cond");

// ---- while_loop --------------------------------------------------------------------------------
using LoopCondFn = std::function<Output(const std::vector<Output>&)>;
using LoopBodyFn = std::function<std::vector<Output>(const std::vector<Output>&)>;

struct WhileOptions {
  // Per loop variable, the shape it keeps from one iteration to the next (TF's shape_invariants):
  // -1 for a dim the body may change. Empty: each variable keeps the static shape it starts with.
  std::vector<Shape> shape_invariants = {};
  int64_t maximum_iterations = -1;  // stop after this many iterations even if cond still holds
  std::string name = "while";
};

// tf.while_loop(cond, body, loop_vars): runs `loop_vars = body(loop_vars)` while cond(loop_vars),
// a 0-dim bool, is true; returns the final loop_vars. cond and body are called now, once each.
std::vector<Output> while_loop(const LoopCondFn& cond, const LoopBodyFn& body, const std::vector<Output>& loop_vars,
                               const WhileOptions& options = {});

// ---- what the executor and gradients() call (control_flow_run.cpp, control_flow_grad.cpp) --------
struct Run;
// Runs control step i (its inputs are ready in `in`): returns its results, which the result steps
// then hand out.
std::vector<Tensor> run_control(Run& run, size_t i, const std::vector<Tensor>& in);
// dL/d(each input of control node n), given dL/d(each of its results) (undefined where none flows)
// and which inputs want one. Adds the gradient nodes (a cond, or a while's gradient node).
std::vector<Output> control_flow_gradients(Node& n, const std::vector<Output>& result_grads,
                                           const std::vector<bool>& needs);

// ---- building blocks shared by the three files --------------------------------------------------
// Closes a body built from the nodes created since node id `first` (graph/control_flow.cpp): each
// value it uses from outside becomes an argument (appended to body.args, its outside value to
// `captured`), its nodes are marked as its own, and its plan is lowered. `extra` lists nodes of
// other bodies its plan must run too (a gradient body recomputes its forward body's values).
void close_body(Graph& g, Body& body, int64_t first, std::vector<Output>& captured,
                const std::vector<Node*>& extra = {});
// An argument node inside a body: a value that the control node feeds when the body runs.
Node* make_arg(Graph& g, const Meta& meta, const std::string& name);
// Adds the control node and its result nodes ("Merge" or "Exit"); returns the results.
std::vector<Output> add_control_node(Graph& g, std::shared_ptr<ControlFlow> flow, const std::string& type,
                                     const std::vector<Output>& inputs, const std::vector<Meta>& result_metas,
                                     const std::string& result_type);

}  // namespace tandem::graph
