// optim/clip.h — gradient clipping: keep one bad batch from throwing the weights far away.
//
// A step is lr · g. When a batch produces a huge gradient (an exploding RNN, a loss spike, a
// mislabelled example), that step can undo hours of training. Clipping by the *global norm*
// shrinks all the gradients of a model together, by one factor, whenever their combined length
//
//     ‖g‖ = (Σ over every gradient tensor, Σ over its elements |g|^p)^(1/p)    (p = 2 usually)
//
// exceeds a threshold; below it nothing changes. The direction of the step is kept, only its
// length is capped. Clipping each value on its own (clip_grad_value_) is cruder: it bends the
// direction.
//
//     eager (PyTorch)                                   graph (TensorFlow 1)
//     loss.backward();                                  auto gv = opt.compute_gradients(loss);
//     optim::clip_grad_norm_(params, 1.0);              auto [clipped, norm] =
//     opt.step();                                           g::train::clip_by_global_norm(gv, 1.0);
//                                                       auto train_op = opt.apply_gradients(clipped);
//
// The norm is written once, below, as a template over the tensor type: eager mode computes it now,
// graph mode gets nodes that compute it in every Session::run. What differs is each framework's
// scale factor (optim/clip.cpp):
//     PyTorch:    coef  = min(max_norm / (‖g‖ + 1e-6), 1)           (the 1e-6 guards ‖g‖ = 0)
//     TensorFlow: scale = clip_norm · min(1 / ‖g‖, 1 / clip_norm)   (NaN when ‖g‖ is inf or NaN)
// so with clipping active the two modes' steps differ by about 1e-6 / ‖g‖ relative — the tests
// check that, and no more.
//
// Read next: optim/clip.cpp, optim/train.h (compute_gradients / apply_gradients).
#pragma once

#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/ops.h"  // the generic ops; graph::Output is declared there (defined in graph/graph.h)

namespace tandem {

// The p-norm of all of x's elements, as one number (torch.linalg.vector_norm, tf.norm):
//     p = 2:   √(Σ x²)        p = inf: max |x|        other p > 0: (Σ |x|^p)^(1/p)
template <TensorLike T> T vector_norm(const T& x, double p = 2) {
  if (!(p > 0))
    throw Error(msg("vector_norm: the norm's order p must be positive or infinity, got ", p,
                    " (p = 0, counting non-zeros, is not a norm Tandem computes)"));
  if (std::isinf(p)) return max(abs(x));
  if (p == 2) return sqrt(sum(x * x));
  if (p == 1) return sum(abs(x));
  return pow(sum(pow(abs(x), p)), 1.0 / p);
}

// The norm of several tensors together, as if concatenated into one vector: the p-norm of their
// p-norms, ‖(‖x₁‖, ‖x₂‖, ...)‖ (torch.nn.utils.clip_grad_norm_'s way; tf.linalg.global_norm is
// this with p = 2). The tensors' norms are taken in the first one's dtype.
template <TensorLike T> T global_norm(const std::vector<T>& xs, double p = 2) {
  if (xs.empty()) throw Error("global_norm: no tensors given (a norm of nothing has no dtype to take)");
  std::vector<T> norms;
  for (const T& x : xs) norms.push_back(to(vector_norm(x, p), xs[0].dtype()));
  return vector_norm(stack(norms), p);
}

}  // namespace tandem

namespace tandem::optim {

inline constexpr double kInf = std::numeric_limits<double>::infinity();  // norm_type = kInf: max |g|

// torch.nn.utils.clip_grad_norm_: scales every parameter's gradient, in place, by
// min(max_norm / (‖g‖ + 1e-6), 1), where ‖g‖ is the global p-norm of all of them. Returns ‖g‖
// (before clipping, a 0-dim tensor; 0 when no parameter has a gradient). Parameters without a
// gradient are skipped. A norm that is inf or NaN scales the gradients to 0 or NaN, as PyTorch's
// does, unless error_if_nonfinite asks for an error instead.
Tensor clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type = 2,
                       bool error_if_nonfinite = false);

// torch.nn.utils.clip_grad_value_: clamps each gradient element into [−clip_value, clip_value],
// in place.
void clip_grad_value_(const std::vector<Tensor>& params, double clip_value);

}  // namespace tandem::optim

namespace tandem::graph {

// tf.clip_by_global_norm(t_list, clip_norm): the tensors, each times clip_norm / max(‖t‖, clip_norm)
// where ‖t‖ is their global 2-norm, and that norm. Undefined entries (a variable the loss does not
// reach, TF's None) stay undefined and are left out of the norm. Nodes, like every graph op:
// nothing is computed until Session::run.
std::pair<std::vector<Output>, Output> clip_by_global_norm(const std::vector<Output>& t_list, double clip_norm);

}  // namespace tandem::graph
