// autograd/engine.h — recording the tape, and walking it backward.
//
// Two halves, both short:
//   record()   — called by every eager op (core/op.cpp, `call`) when grad mode is on and an input
//                requires grad: makes a Node, saves what the derivative needs, and sets the
//                output's grad_fn.
//   backward() — starts from the loss, visits every Node after all the Nodes that consume its
//                output (a topological order), runs each Node's rule from the derivative sheet
//                and passes the resulting gradients along the edges, summing where paths meet.
//
// Read next: autograd/engine.cpp.
#pragma once

#include <span>
#include <vector>

#include "autograd/derivatives.h"
#include "autograd/node.h"

namespace tandem::autograd {

// True when some input requires grad (the cheap test call() makes before recording).
bool any_requires_grad(std::span<const Tensor> inputs);

// Records `op` applied to `inputs` giving `out` (sets out's grad_fn). No-op for ops that are not
// differentiable or outputs that are not floating point.
void record(const OpDef& op, std::span<const Tensor> inputs, const Attrs& attrs, Tensor& out);

// True when `t` is a view (reshape, slice, transpose...) of a leaf that requires grad, or a view
// of such a view: in-place ops refuse it (core/ops/inplace.cpp), as PyTorch does.
bool is_view_of_leaf(const Tensor& t);

// Backpropagates from `roots` (seeded with `grads`; an undefined seed means ones, allowed for
// one-element roots) and accumulates into the leaves' .grad.
void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads,
              bool retain_graph = false, bool create_graph = false);

// Returns d(sum of outputs)/d(input) for each input without touching any .grad (PyTorch's
// torch.autograd.grad). An input the outputs do not depend on is an error unless allow_unused,
// in which case its gradient is an undefined Tensor.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, bool retain_graph = false,
                         bool create_graph = false, bool allow_unused = false);

// What a derivative rule sees in eager mode (see the list in autograd/derivatives.h).
class EagerContext {
 public:
  using T = Tensor;
  EagerContext(Node& node, Tensor grad, bool create_graph);

  Tensor grad;
  const Attrs& attrs;

  Tensor input(int i) const;
  Tensor output() const;
  bool needs_grad(int i) const { return node_.next[i].needs_grad(); }
  int64_t num_inputs() const { return static_cast<int64_t>(node_.input_meta.size()); }
  int64_t input_rank(int i) const { return static_cast<int64_t>(node_.input_meta[i].shape.size()); }
  DType input_dtype(int i) const { return node_.input_meta[i].dtype; }
  int64_t input_size(int i, int64_t d) const { return node_.input_meta[i].shape[d]; }
  DType grad_dtype() const { return grad.dtype(); }
  Tensor unbroadcast(const Tensor& x, int i) const;
  Tensor expand_to_input(const Tensor& x, int i) const;
  Tensor reshape_to_input(const Tensor& x, int i) const;
  Tensor split_to_input(const Tensor& x, int64_t d, int i) const;
  Tensor zeros_like_input(int i) const;
  Tensor reduced_count(DType dtype = kFloat64) const;
  Tensor zero() const;

 private:
  Tensor unpack(const SavedTensor& saved, int index) const;
  Node& node_;
  bool create_graph_;
};

}  // namespace tandem::autograd
