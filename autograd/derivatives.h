// autograd/derivatives.h — the derivative sheet: one rule per differentiable op, written once.
//
// Each rule answers: given g = dL/d(output), what are dL/d(input_i)? It is written as a template
// over a *context* C, and uses only operations that exist for both kinds of tensor:
//
//   eager mode:  C::T is tandem::Tensor       — the rule runs now, on numbers (autograd/engine.cpp);
//   graph mode:  C::T is a graph node output  — the same rule adds gradient nodes to the graph
//                                              (graph/gradients.cpp).
//
// So the line `c.unbroadcast(c.grad * c.input(1), 0)` is the derivative of mul in both paradigms:
// same math, different moment of execution. What a context offers (both modes):
//
//   c.grad                 g, the gradient flowing in
//   c.input(i), c.output() the op's saved input i / output (only those its row saves)
//   c.attrs                the op's attributes (dims, keepdim, dim...)
//   c.needs_grad(i)        whether input i wants a gradient at all (skip the work otherwise)
//   c.input_rank(i), c.input_dtype(i), c.input_size(i, d)   static facts about input i; in graph
//                          mode a size may be unknown (kUnknown, -1) until run time
//   c.unbroadcast(x, i)    sum x down to input i's shape (undoes broadcasting; sum_to)
//   c.expand_to_input(x,i) broadcast x up to input i's shape
//   c.reshape_to_input(x,i), c.zeros_like_input(i)
//   c.reduced_count(dt)    numel(input 0) / numel(output), a 0-dim value of dtype dt, float64 when
//                          not given (mean and var need it)
//   c.split_to_input(x,d,i) the window of x along d that input i occupies when the inputs are laid
//                          end to end (cat's gradient)
//
// The shape helpers are where the two modes differ: eager mode knows every shape as numbers; a
// graph may know them only at run time, and then asks the shape-reading ops (core/ops/like.cpp).
//
// The rules, and the sheet's table of them, are in autograd/derivatives.cpp: one page of formulas.
//
// Read next: autograd/derivatives.cpp, then autograd/engine.cpp (how backward() walks the tape and
// calls these rules).
#pragma once

#include <cstdint>
#include <vector>

#include "core/op.h"

namespace tandem::graph {
class Output;
class GraphContext;  // graph/gradients.h
}  // namespace tandem::graph

namespace tandem::autograd {

class EagerContext;  // autograd/engine.h
using EagerRule = std::vector<Tensor> (*)(EagerContext&);
using GraphRule = std::vector<graph::Output> (*)(graph::GraphContext&);

// One row of the sheet: which op, its formula, what eager mode must save for it, and the one rule
// template instantiated twice — for eager tensors and for graph nodes.
struct Derivative {
  const OpDef* op;
  const char* formula;
  uint32_t saves_inputs;  // bit i set: input i is saved for backward (eager mode)
  bool saves_output;
  EagerRule eager;        // rule<EagerContext>: runs on values, in backward()
  GraphRule graph;        // rule<GraphContext>: adds nodes, in graph::gradients()
  // Set for the few rows of the sheet's speed section: the plain rule, which `eager` replaces by a
  // fused kernel in eager mode (graph mode always runs the plain one). Tests check they agree.
  EagerRule eager_plain = nullptr;
};

// The row for `op`, or null when the op is not differentiable (OpDef::no_derivative says why).
const Derivative* derivative_for(const OpDef& op);
const std::vector<Derivative>& derivative_sheet();

}  // namespace tandem::autograd
