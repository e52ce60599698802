// graph/dot.h — drawing a static graph (and the Plan a Session runs) as Graphviz DOT.
//
// A graph-mode program declares its whole computation before running it, so the computation can be
// drawn before a single number exists. The picture follows TensorBoard's shapes with torchviz's
// colours, the same DotStyle the eager tape's drawing uses (autograd/dot.h), so the two paradigms
// can be compared side by side:
//
//   placeholder   inverted house, light yellow: "x\n(?, 784) float32" — fed at run time
//   variable      light blue box: "W\n(784, 10) float32" — state that lives in the Session
//   constant      small circle: its value when it is one number ("2"), else its name
//   op            ellipse: "Type\nname" ("MatMul\nMatMul_1"), or just "MatMul" when the name
//                 says nothing more
//   data edge     labelled with the static shape and dtype of the value on it: "(?, 10) float32",
//                 `?` where the size is known only at run time (the batch)
//   control edge  dashed: "run this first" (an initializer's assigns, say)
//   output        green: the values the drawing is about (the loss, the gradients)
//   cond / while  a salmon diamond ("Cond") or double octagon ("While"): a control node
//                 (graph/control_flow.h). Its branches or body sit in their name scopes' boxes
//                 ("cond/true", "while/body"), their "Arg" inputs drawn as placeholders, and dotted
//                 edges labelled with each body's role lead from its results into the node
//
// Nodes made by gradients() (Node::is_gradient) are grey and sit together inside a box labelled
// "gradients" (`subgraph cluster_gradients`): the forward computation and its derivative, one
// graph, told apart at a glance. Name scopes ("dense/", "gradients/MatMul_grad/") become nested
// boxes, as TensorBoard shows them.
//
// A Session never runs the graph as declared: it lowers it to a Plan and lets passes rewrite the
// Plan (graph/plan.h). plan_to_dot draws that Plan, so a demo can show the graph before and
// after pruning, constant folding, CSE and fusion ("Fused[Add,Relu]" is one step, one loop).
//
// Node IDs are the node's creation index (n0, n1, ...) or the step's index (s0, s1, ...), never
// an address, so the same program always prints the same text.
//
// Read next: graph/dot.cpp (the drawing), examples/03_graph_vs_tape.cpp (both drawings of one
// model), docs/drawings.md (rendering by hand).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "autograd/dot.h"
#include "graph/graph.h"
#include "graph/plan.h"

namespace tandem::graph {

struct GraphDotOptions {
  // Outputs to highlight in green (the loss, the logits): what the drawing is about.
  std::vector<Output> outputs = {};
  // Names to show instead of the nodes' own: {{"dL/dW1", grads[0]}} labels that node "dL/dW1".
  std::vector<std::pair<std::string, Output>> names = {};
  // Draw only the nodes the `outputs` need (through data and control edges), not the whole graph.
  bool only_needed = false;
  // Draw the nodes made by gradients() (inside cluster_gradients); false draws the forward only.
  bool show_gradients = true;
  // Draw name scopes as nested boxes; false draws every node at top level with its full name.
  bool scopes = true;
  std::string title = {};  // a caption under the drawing; none when empty
  DotStyle style = kDotStyle;
};

// The graph as DOT text: every node in creation order (or the ones `outputs` need).
std::string graph_to_dot(const Graph& g, const GraphDotOptions& options = {});

// A Plan as DOT text: one node per step, labelled with the step's label ("Fused[Add,Relu]") and
// the name of the graph node it came from. Fetched steps are highlighted; fed steps are drawn as
// placeholders (their upstream is cut off). Of the options, only `scopes`, `title` and `style`
// apply: a Plan holds only what its fetches need, gradients included.
std::string plan_to_dot(const Plan& plan, const GraphDotOptions& options = {});

// The same, written to `path`.dot and rendered to `path`.svg when Graphviz is installed (never an
// error when it is not; see write_and_render in autograd/dot.h):
//   draw_graph(graph, "mlp_graph")                  ->  mlp_graph.dot, mlp_graph.svg
//   draw_plan(session.last_plan(), "mlp_plan")      ->  mlp_plan.dot, mlp_plan.svg
DotRender draw_graph(const Graph& g, const std::string& path, const GraphDotOptions& options = {});
DotRender draw_plan(const Plan& plan, const std::string& path, const GraphDotOptions& options = {});

}  // namespace tandem::graph
