// graph/gradients.h — symbolic differentiation: gradients are new nodes of the same graph.
//
// In eager mode backward() walks a tape of values that already exist. In graph mode there are no
// values yet, so gradients(ys, xs) walks the *graph* backward from ys and, for each op, runs the
// op's derivative rule — the very same template from autograd/derivatives.h — on graph Outputs.
// The rule's `c.grad * c.input(1)` therefore adds a Mul node instead of multiplying numbers. The
// result is a bigger graph whose new nodes (under the "gradients/" scope) compute dL/dx when a
// Session runs them, and which can itself be differentiated again (second derivatives).
//
// The walk needs no sort: nodes are stored in creation order, which is topological, so visiting
// them from last to first reaches each node after all the nodes that consume it. Where a value
// feeds several consumers, its partial gradients are summed with one AddN node.
//
// Read next: graph/session.h (running the gradient nodes), autograd/derivatives.h (the rules).
#pragma once

#include <vector>

#include "graph/ops.h"

namespace tandem::graph {

class DimNames;  // graph/dim_names.h: which unknown dims are surely equal

// dL/dx for each x, where L = Σ_y sum(y * grad_y) (grad_y defaults to ones: dy/dx summed over y).
// An x that no y depends on gets an undefined Output, or zeros when unconnected_zeros is true.
// stop_gradient nodes block the flow.
std::vector<Output> gradients(const std::vector<Output>& ys, const std::vector<Output>& xs,
                              const std::vector<Output>& grad_ys = {}, bool unconnected_zeros = false);

// What a derivative rule sees in graph mode (the list is in autograd/derivatives.h).
class GraphContext {
 public:
  using T = Output;
  GraphContext(Node& node, Output grad, std::vector<bool> needs_grad, DimNames& names);

  Output grad;
  const Attrs& attrs;

  Output input(int i) const { return node_.inputs[i]; }
  Output output() const { return Output(&node_); }
  bool needs_grad(int i) const { return needs_[i]; }
  int64_t num_inputs() const { return static_cast<int64_t>(node_.inputs.size()); }
  int64_t input_rank(int i) const { return node_.inputs[i].dim(); }
  DType input_dtype(int i) const { return node_.inputs[i].dtype(); }
  int64_t input_size(int i, int64_t d) const;  // the static size: kUnknown (-1) when unknown
  DType grad_dtype() const { return grad.dtype(); }
  Output unbroadcast(const Output& x, int i) const;
  Output expand_to_input(const Output& x, int i) const;
  Output reshape_to_input(const Output& x, int i) const;
  Output split_to_input(const Output& x, int64_t d, int i) const;
  Output zeros_like_input(int i) const;
  Output reduced_count(DType dtype = kFloat64) const;
  Output zero() const;

 private:
  Node& node_;
  std::vector<bool> needs_;
  DimNames& names_;
};

}  // namespace tandem::graph
