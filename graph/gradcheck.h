// graph/gradcheck.h — checking graph mode's gradients by finite differences, shapes known or not.
//
// autograd::gradcheck checks eager mode's backward() against the definition of the derivative.
// Graph mode computes its gradients another way — gradients() adds nodes, a Session runs them —
// and it has a failure mode eager mode cannot have: shapes unknown (?) when the gradient graph is
// built. So this check builds the function as a graph whose inputs are placeholders, declared
// with their sizes known, with the batch dim unknown ([?, 3]), or with every dim unknown ([?, ?]),
// differentiates it with gradients(), and compares, entry by entry:
//
//   numerical:   Session::run of the forward graph at x ± eps·e_k   (the central difference)
//   analytical:  Session::run of the gradient nodes, fed the one-hot output gradient e_m
//
// with the tolerances of autograd::gradcheck (the comparison is the same code). It is the graph
// twin of TF1's tf.test.compute_gradient_error.
//
//   auto f = [](const std::vector<graph::Output>& x) { return std::vector<graph::Output>{x[0] * exp(x[1])}; };
//   auto r = graph::gradcheck(f, {a, b}, {}, graph::Dims::all_unknown);
//
// Read next: graph/gradients.cpp (how unknown shapes are handled), tests/test_unknown_dims.cpp.
#pragma once

#include <functional>
#include <vector>

#include "autograd/gradcheck.h"
#include "graph/ops.h"
#include "graph/session.h"

namespace tandem::graph {

// How the inputs' placeholders are declared.
enum class Dims {
  known,          // with the inputs' shapes
  batch_unknown,  // dim 0 unknown: [?, 3] for a [4, 3] input (0-dim inputs stay 0-dim)
  all_unknown,    // every dim unknown: [?, ?]
};
const char* dims_name(Dims d);

// The shape a placeholder for a value of shape `s` is declared with.
Shape declared_shape(const Shape& s, Dims dims);

using GraphFunction = std::function<std::vector<Output>(const std::vector<Output>&)>;

// Builds f over placeholders declared as `dims` says (one per input, in order), differentiates its
// floating outputs with gradients() with respect to the inputs that require grad, and checks the
// result as autograd::gradcheck does (the same rules for inputs and options).
autograd::GradcheckResult gradcheck(const GraphFunction& f, const std::vector<Tensor>& inputs,
                                    const autograd::GradcheckOptions& opts = {}, Dims dims = Dims::known,
                                    const SessionOptions& session = {});

}  // namespace tandem::graph
