// graph/gradients.cpp — building the gradient graph with the shared derivative sheet.
#include "graph/gradients.h"

#include <algorithm>
#include <map>

#include "autograd/derivatives.h"
#include "core/factories.h"

namespace tandem::graph {

namespace {
bool fully_known(const Shape& s) {
  return std::none_of(s.begin(), s.end(), [](int64_t d) { return d == kUnknown; });
}
}  // namespace

// ---- the context ---------------------------------------------------------------------------------

GraphContext::GraphContext(Node& node, Output g, std::vector<bool> needs)
    : grad(std::move(g)), attrs(node.attrs), node_(node), needs_(std::move(needs)) {}

int64_t GraphContext::input_size(int i, int64_t d) const {
  const int64_t s = node_.inputs[i].shape()[d];
  if (s == kUnknown)
    throw Error(msg("gradients: the derivative of ", node_.describe(), " needs the size of dimension ",
                    d, " of its input ", i, ", which is unknown (?) in this graph; give that "
                    "dimension a known size"));
  return s;
}

// Static shapes are used whenever they are fully known; otherwise a shape-reading node defers the
// question to run time. Two identical static shapes are taken as equal even with `?` in them: a `?`
// in the gradient comes from the same `?` in the input (the batch size of one placeholder).
Output GraphContext::unbroadcast(const Output& x, int i) const {
  const Shape& s = node_.inputs[i].shape();
  if (x.shape() == s) return x;
  return fully_known(s) ? sum_to(x, s) : sum_to_like(x, node_.inputs[i]);
}

Output GraphContext::expand_to_input(const Output& x, int i) const {
  const Shape& s = node_.inputs[i].shape();
  if (x.shape() == s) return x;
  return fully_known(s) ? expand(x, s) : expand_like(x, node_.inputs[i]);
}

Output GraphContext::reshape_to_input(const Output& x, int i) const {
  const Shape& s = node_.inputs[i].shape();
  return fully_known(s) ? reshape(x, s) : reshape_like(x, node_.inputs[i]);
}

Output GraphContext::zeros_like_input(int i) const { return zeros_like(node_.inputs[i]); }

Output GraphContext::reduced_count() const {
  const Shape& in = node_.inputs[0].shape();
  const Shape& out = node_.meta.shape;
  if (fully_known(in) && fully_known(out)) {
    const double n_out = static_cast<double>(numel(out));
    return constant(n_out == 0 ? 0.0 : static_cast<double>(numel(in)) / n_out, kFloat64);
  }
  return count_ratio(node_.inputs[0], Output(&node_));
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
  std::map<int64_t, std::vector<Output>> partials;  // node id -> partial gradients of its output
  for (size_t i = 0; i < ys.size(); ++i) {
    Output seed = i < grad_ys.size() && grad_ys[i].defined() ? grad_ys[i] : ones_like(ys[i]);
    partials[ys[i].node()->id].push_back(seed);
  }
  // 2. Visit nodes from last to first; each one's gradient is complete when we reach it.
  for (size_t i = n_nodes; i-- > 0;) {
    Node& n = *g.nodes()[i];
    auto it = partials.find(n.id);
    if (it == partials.end() || !between(&n)) continue;
    const Output total = add_n(it->second);
    it->second = {total};
    // Only catalogue ops have derivatives: sources (placeholders, constants, variables) and state
    // changes pass nothing back; stop_gradient and the comparisons have no row in the sheet.
    if (n.kind != Kind::op) continue;
    const autograd::Derivative* rule = autograd::derivative_for(*n.op);
    if (!rule) continue;

    std::vector<bool> needs(n.inputs.size());
    bool any = false;
    for (size_t k = 0; k < n.inputs.size(); ++k) any |= needs[k] = n.inputs[k].defined() && between(n.inputs[k].node());
    if (!any) continue;

    const int64_t before = g.size();
    std::vector<Output> grads;
    {
      std::string local = n.name.substr(n.name.rfind('/') + 1);
      NameScope op_scope(local + "_grad", g);
      GraphContext ctx(n, total, needs);
      grads = rule->graph(ctx);  // the sheet's rule, run on graph outputs: it adds nodes
    }
    for (int64_t k = before; k < g.size(); ++k) {
      g.nodes()[k]->is_gradient = true;
      g.nodes()[k]->made_by = rule;
    }
    for (size_t k = 0; k < n.inputs.size() && k < grads.size(); ++k) {
      if (!needs[k] || !grads[k].defined()) continue;
      Output gk = grads[k];
      if (gk.dtype() != n.inputs[k].dtype()) gk = to(gk, n.inputs[k].dtype());
      partials[n.inputs[k].node()->id].push_back(gk);
    }
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
