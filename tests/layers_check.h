// tests/layers_check.h — what the layers' tests share: running a module or an expression the same
// way in both modes, checking a graph's gradients by central differences, reading text fixtures.
//
// A layer is checked twice from the same state: eagerly (forward, then backward with a given
// upstream gradient dL/dy) and as a graph (placeholder in, Variables bound to the module, the loss
// Σ y·upstream, gradients() for the input and every Variable, one Session::run). Both results —
// the output, the input's gradient, each parameter's gradient by its dotted name — are compared
// with PyTorch's (tests/test_layers_parity.cpp) or with each other.
//
// Read next: tests/test_layers_parity.cpp.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "graph/session.h"
#include "layers/nn.h"

namespace tandem::testing {

// What one forward + backward gave: the output, and gradients by name ("x", "weight", "0.bias"...).
struct Run {
  Tensor output;
  std::map<std::string, Tensor> grads;
};

// Eager: y = module(x); y.backward(upstream). x gets a gradient when it is floating point.
Run run_eager(nn::Module& module, const Tensor& x, const Tensor& upstream);
// Graph: the same on a placeholder of x's shape (batch dim unknown when unknown_batch), in a
// fresh graph; every trainable Variable of the module gets its gradient. The session is returned
// through `session_out` when given (to read updated buffers with copy_from).
Run run_graph(nn::Module& module, const Tensor& x, const Tensor& upstream, bool unknown_batch = true);

// Named values of one mode, for expressions written once: in("z"), in("y").
template <class T> struct Named {
  std::map<std::string, T> values;
  const T& operator()(const std::string& name) const;
};

// An expression written once, as a generic lambda, kept for both modes.
struct Expr {
  std::function<Tensor(const Named<Tensor>&)> eager;
  std::function<graph::Output(const Named<graph::Output>&)> graph;
};
template <class F> Expr both(F f) { return {f, f}; }

// Runs an expression in each mode: the floating inputs named in `with_grad` get gradients; a
// non-scalar output is reduced as Σ out·upstream (upstream given), a scalar one backpropagated as is.
Run run_expr_eager(const Expr& e, const std::map<std::string, Tensor>& inputs, const std::vector<std::string>& with_grad,
                   const Tensor& upstream);
Run run_expr_graph(const Expr& e, const std::map<std::string, Tensor>& inputs, const std::vector<std::string>& with_grad,
                   const Tensor& upstream);

// Graph mode's gradients() of Σ f(inputs)·w (w fixed random) against central differences through
// a session, for every float64 input in `with_grad`: "" when they agree (rtol 1e-5, atol 1e-7),
// else what differed. Also fails when every numerical derivative is zero (a check that can't fail).
std::string graph_gradcheck(const Expr& e, const std::map<std::string, Tensor>& inputs,
                            const std::vector<std::string>& with_grad);

// tests/fixtures/<file>: blocks "case <name>" ... "end" of plain text, by name.
std::map<std::string, std::string> load_text_fixtures(const std::string& file);

}  // namespace tandem::testing
