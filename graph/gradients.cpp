// graph/gradients.cpp — building the gradient graph with the shared derivative sheet.
#include "graph/gradients.h"

#include <algorithm>
#include <map>

#include "autograd/derivatives.h"
#include "graph/control_flow.h"
#include "core/factories.h"
#include "graph/dim_names.h"

namespace tandem::graph {

namespace {
bool fully_known(const Shape& s) {
  return std::none_of(s.begin(), s.end(), [](int64_t d) { return d == kUnknown; });
}

// x, declared with the sizes that `s` knows and x's static shape does not, where x is known to
// have shape s at run time (a gradient has its input's shape, a seed its output's): a rule that
// follows may need them (unsqueeze's gradient squeezes a dim it must know to be 1). A node only
// when that adds something; the executor checks the promise when the values exist.
Output declared_as(const Output& x, const Shape& s) {
  if (x.shape().size() != s.size()) return x;
  Shape merged = x.shape();
  bool adds = false;
  for (size_t d = 0; d < s.size(); ++d)
    if (merged[d] == kUnknown && s[d] != kUnknown) {
      merged[d] = s[d];
      adds = true;
    }
  if (!adds) return x;
  // An identity op declared with the merged shape (make_op would give it x's own shape).
  Node* n = x.graph().add_node(Kind::op, "Identity", {x}, {merged, x.dtype()});
  n->op = &ops::identity;
  return Output(n);
}

// x summed down to the shape of `like` (see the lesson below): nothing to do when the shapes are
// surely equal, sum_to when like's shape is fully known, else sum_to_like, decided at run time.
Output unbroadcast_to(const Output& x, const Output& like, DimNames& names) {
  if (names.same_shape(x, like)) return x;
  return fully_known(like.shape()) ? sum_to(x, like.shape()) : sum_to_like(x, like);
}
}  // namespace

// ---- the context ---------------------------------------------------------------------------------
//
// SHAPES KNOWN ONLY AT RUN TIME — the lesson of symbolic gradients over dynamic shapes.
//
// A derivative rule often needs a shape: add's gradient must undo broadcasting, sum_to(g, shape of
// a); mean's divides by how many elements were averaged. Eager mode has every shape at hand. A
// graph may not: declare a = placeholder({-1, 3}), b = placeholder({-1, 3}) and y = a + b. Both
// static shapes read [?, 3], and they *look* equal — but the two ? are two unrelated unknowns.
// Feed a [1, 3] and b [4, 3]: y is [4, 3] (a broadcasts), and dy/da must be summed down to [1, 3].
// A rule that compared the static shapes and concluded "same shape, nothing to sum" would return
// a [4, 3] gradient for a [1, 3] input — or, when the shapes happen to come out equal, the right
// shape with the wrong numbers. Nothing about a `?` says which run-time size it will be.
//
// So the decision is taken only where it is safe:
//   - both shapes fully known: decide now, with plain ops (sum_to, expand, reshape, a constant);
//   - any ? involved: decide when the values exist. The rule adds a shape-reading node —
//     sum_to_like(x, a), expand_like, reshape_like, count_ratio, split_like — ops of the catalogue
//     that read a's shape at run time and do then what eager mode does at once (sum_to_like with
//     equal shapes is free: a view of x).
// That is what TF1 does with its Shape and BroadcastGradientArgs ops: the reduction axes of a
// broadcast gradient are computed by the graph, from the run-time shapes, not by the Python code
// that builds it.
//
// A ? can sometimes be proved equal to another without the values: sigmoid(y) * tanh(y) has y's
// batch size, whatever it is, so its gradient needs no sum on its way back to either factor. The
// dims' names (graph/dim_names.h) say when; only such a proof skips the run-time node, never a
// guess from two shapes that read alike.

GraphContext::GraphContext(Node& node, Output g, std::vector<bool> needs, DimNames& names)
    : grad(std::move(g)), attrs(node.attrs), node_(node), needs_(std::move(needs)), names_(names) {}

int64_t GraphContext::input_size(int i, int64_t d) const { return node_.inputs[i].shape()[d]; }

// Each of the three: nothing to do when x surely has input i's shape (equal known sizes, equal
// names of unknown ones); a plain op when input i's shape is fully known; else a run-time node.
Output GraphContext::unbroadcast(const Output& x, int i) const { return unbroadcast_to(x, node_.inputs[i], names_); }

Output GraphContext::expand_to_input(const Output& x, int i) const {
  if (names_.same_shape(x, node_.inputs[i])) return x;
  const Shape& s = node_.inputs[i].shape();
  return fully_known(s) ? expand(x, s) : expand_like(x, node_.inputs[i]);
}

Output GraphContext::reshape_to_input(const Output& x, int i) const {
  if (names_.same_shape(x, node_.inputs[i])) return x;
  const Shape& s = node_.inputs[i].shape();
  return fully_known(s) ? reshape(x, s) : reshape_like(x, node_.inputs[i]);
}

// The window of x that input i of a cat occupies: at a fixed offset when the sizes of inputs 0..i
// along d are known, else cut at run time by split_like, which adds up the sizes it is given then.
Output GraphContext::split_to_input(const Output& x, int64_t d, int i) const {
  for (int j = 0; j <= i; ++j)
    if (node_.inputs[j].shape()[d] == kUnknown) return split_like(x, node_.inputs, d, i);
  int64_t offset = 0;
  for (int j = 0; j < i; ++j) offset += node_.inputs[j].shape()[d];
  return slice(x, d, offset, offset + node_.inputs[i].shape()[d], 1);
}

Output GraphContext::zeros_like_input(int i) const { return zeros_like(node_.inputs[i]); }

Output GraphContext::reduced_count(DType dtype) const {
  const Shape& in = node_.inputs[0].shape();
  const Shape& out = node_.meta.shape;
  if (fully_known(in) && fully_known(out)) {
    const double n_out = static_cast<double>(numel(out));
    return constant(n_out == 0 ? 0.0 : static_cast<double>(numel(in)) / n_out, dtype);
  }
  const Output ratio = count_ratio(node_.inputs[0], Output(&node_));  // numel / numel, when the values exist
  return dtype == kFloat64 ? ratio : ratio.to(dtype);
}

Output GraphContext::zero() const { return constant(0, grad.dtype()); }

// ---- the walk --------------------------------------------------------------------------------------


std::vector<Output> gradients(const std::vector<Output>& ys, const std::vector<Output>& xs,
                              const std::vector<Output>& grad_ys, bool unconnected_zeros) {
  if (ys.empty()) throw Error("gradients: ys is empty");
  Graph& g = ys[0].graph();
  for (const Output& v : xs)
    if (&v.graph() != &g) throw Error("gradients: ys and xs must be from the same graph");
  const auto n_nodes = static_cast<size_t>(g.size());

  // 1. Which nodes lie between xs and ys? Forward from the xs (creation order is topological)...
  std::vector<bool> from_x(n_nodes, false), to_y(n_nodes, false);
  for (const Output& x : xs) from_x[x.node()->id] = true;
  for (size_t i = 0; i < n_nodes; ++i) {
    const Node& n = *g.nodes()[i];
    for (const Output& in : n.inputs)
      if (in.defined() && from_x[in.node()->id]) from_x[i] = true;
  }
  // ...and backward from the ys.
  for (const Output& y : ys) to_y[y.node()->id] = true;
  for (size_t i = n_nodes; i-- > 0;) {
    if (!to_y[i]) continue;
    for (const Output& in : g.nodes()[i]->inputs)
      if (in.defined()) to_y[in.node()->id] = true;
  }
  auto between = [&](const Node* n) { return from_x[n->id] && to_y[n->id]; };

  NameScope scope("gradients", g);
  DimNames names;  // which ? is which, for the rules' shape decisions
  std::map<int64_t, std::vector<Output>> partials;  // node id -> partial gradients of its output
  for (size_t i = 0; i < ys.size(); ++i) {
    const Output seed = i < grad_ys.size() && grad_ys[i].defined() ? grad_ys[i] : ones_like(ys[i]);
    partials[ys[i].node()->id].push_back(declared_as(seed, ys[i].shape()));  // [?, 3] fed for y's [1, 3]
  }
  // A cond's or while_loop's results (its Merge / Exit nodes) hand their gradients to the control
  // node, which differentiates its bodies with all of them at once (graph/control_flow_grad.cpp).
  std::map<int64_t, std::vector<Output>> result_grads;  // control node id -> dL/d(each result)

  // 2. Visit nodes from last to first; each one's gradient is complete when we reach it.
  for (size_t i = n_nodes; i-- > 0;) {
    Node& n = *g.nodes()[i];
    const bool control = n.kind == Kind::control && result_grads.count(n.id);
    auto it = partials.find(n.id);
    if ((it == partials.end() && !control) || !between(&n)) continue;
    Output total;  // the gradient flowing into n: the sum of its partials (a control node's come per result)
    if (!control) {
      total = add_n(it->second);  // SOLUTION a3.t2
      it->second = {total};
    }
    if (n.kind == Kind::result) {
      std::vector<Output>& r = result_grads[n.inputs[0].node()->id];
      r.resize(n.inputs[0].node()->flow->results.size());
      r[static_cast<size_t>(n.attrs.dim)] = total;
      continue;
    }
    // Only catalogue ops and control nodes have derivatives: sources (placeholders, constants,
    // variables) and state changes pass nothing back; stop_gradient and the comparisons have no
    // row in the sheet.
    if (n.kind != Kind::op && !control) continue;
    const autograd::Derivative* rule = control ? nullptr : autograd::derivative_for(*n.op);
    if (!rule && !control) continue;

    std::vector<bool> needs(n.inputs.size());
    bool any = false;
    for (size_t k = 0; k < n.inputs.size(); ++k) any |= needs[k] = n.inputs[k].defined() && between(n.inputs[k].node());
    if (!any) continue;

    const int64_t before = g.size();
    std::vector<Output> grads;
    {
      std::string local = n.name.substr(n.name.rfind('/') + 1);
      NameScope op_scope(local + "_grad", g);
      if (control) {
        grads = control_flow_gradients(n, result_grads[n.id], needs);
      } else {
        GraphContext ctx(n, total, needs, names);
        // The sheet's rule, run on graph outputs: it adds nodes.
        grads = rule->graph(ctx);  // SOLUTION a3.t2
      }
    }
    for (int64_t k = before; k < g.size(); ++k) {
      g.nodes()[k]->is_gradient = true;
      if (!g.nodes()[k]->made_by) g.nodes()[k]->made_by = rule;
      if (!g.nodes()[k]->gradient_of) g.nodes()[k]->gradient_of = Node::Forward{n.name, n.type, n.created_at};
    }
    // BEGIN SOLUTION a3.t2
    for (size_t k = 0; k < n.inputs.size() && k < grads.size(); ++k) {
      if (!needs[k] || !grads[k].defined()) continue;
      Output gk = declared_as(grads[k], n.inputs[k].shape());
      if (gk.dtype() != n.inputs[k].dtype()) gk = to(gk, n.inputs[k].dtype());
      partials[n.inputs[k].node()->id].push_back(gk);
    }
    // END SOLUTION
  }

  // 3. Collect the answers.
  std::vector<Output> result;
  for (const Output& x : xs) {
    auto it = partials.find(x.node()->id);
    if (it != partials.end() && !it->second.empty()) result.push_back(add_n(it->second));
    else result.push_back(unconnected_zeros ? zeros_like(x) : Output());
  }
  for (size_t k = n_nodes; k < static_cast<size_t>(g.size()); ++k) g.nodes()[k]->is_gradient = true;
  return result;
}

}  // namespace tandem::graph
