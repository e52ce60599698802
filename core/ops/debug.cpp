// core/ops/debug.cpp — check_numerics and print: identities that look at the value on its way.
//
// Debugging a graph is debugging a program that runs later: `std::cout << y` in graph mode prints
// Tensor("add:0", shape=(?, 10), dtype=float32), never a number, because when that line runs there
// is no number yet. TensorFlow 1 answered with ops that *are* the debugging: values pass through
// them unchanged, and on the way they are checked or printed, when — and every time — the graph runs.
//
//   check_numerics(x, "logits")   tf.debugging.check_numerics: x, unless x holds a NaN or an Inf;
//                                 then the run stops with an error naming the message, what was
//                                 found where, and (in a graph) the node and the line that made it.
//   print(x, "h = ")              tf.Print: x, after writing "h = " and x's values to stderr.
//
// Both are ops of the catalogue, so the same call works in both modes: in eager mode the check or
// the print happens now (as a plain `if` or `std::cout` would); in a graph, on each run. Both are
// views (their value is x itself, no copy, no buffer) and both pass the gradient through unchanged
// — check_numerics checks it on its way back too, as TF's gradient does (autograd/derivatives.cpp).
//
// What the graph passes do with them (graph/passes/): print is `stateful` (core/op.h), so it is
// never folded into a constant nor merged with a twin; check_numerics is a pure function of x, so
// two equal checks of one value may be merged by CSE, and a check of a constant is done once, while
// planning (a constant cannot change; a failing check is left in place to fail the run). Like their
// TF originals they run only when something downstream needs their value: use the returned value.
//
// Read next: graph/control_flow.h (cond and while_loop), examples/09_dynamic_control_flow.cpp.
#include <cmath>
#include <iostream>

#include "core/op.h"
#include "core/ops.h"
#include "core/print.h"

namespace tandem {
namespace {

Meta same_meta(std::span<const Meta> in, const Attrs&) { return in[0]; }

// x itself, as a new handle with no history of its own (autograd gives the op's output one).
Tensor same_value(const Tensor& x) {
  auto same = std::make_shared<TensorImpl>(x.impl());
  same->autograd.reset();
  return Tensor(std::move(same));
}

// "[1, 2]": where the flat element `flat` of a tensor of shape `shape` sits ("[]" for 0-dim).
std::string index_of(const Shape& shape, int64_t flat) {
  Shape index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return shape_str(index);
}

// The check: count the NaNs and the Infs, and remember where the first bad element is. Integers and
// bools cannot hold either, so they always pass. (A GPU tensor is copied to the host to be read.)
Tensor check_numerics_view(std::span<const Tensor> in, const Attrs& a) {
  const Tensor& x = in[0];
  if (!is_floating(x.dtype())) return same_value(x);
  const Tensor host = x.cpu().contiguous().to(kFloat64);
  const double* p = host.data<double>();
  int64_t nans = 0, infs = 0, first = -1;
  for (int64_t k = 0; k < host.numel(); ++k) {
    const bool nan = std::isnan(p[k]), inf = std::isinf(p[k]);
    nans += nan;
    infs += inf;
    if ((nan || inf) && first < 0) first = k;
  }
  if (first < 0) return same_value(x);
  throw Error(msg("check_numerics: ", a.message, " : Tensor had ",
                  nans && infs ? "NaN and Inf" : nans ? "NaN" : "Inf", " values (", nans, " NaN, ", infs,
                  " Inf among ", host.numel(), " elements of a ", to_string(x.dtype()), " tensor of shape ",
                  shape_str(x.shape()), "; the first at ", index_of(x.shape(), first), " is ",
                  std::isnan(p[first]) ? std::string("nan") : p[first] > 0 ? "inf" : "-inf",
                  "). Look upstream of this value for a log of 0, a division by 0, an exp that overflows "
                  "or a learning rate that is too large"));
}

// The print: the message, then the values as `std::cout << x` prints them, on stderr (as TF does).
Tensor print_view(std::span<const Tensor> in, const Attrs& a) {
  std::cerr << a.message << repr(in[0]) << "\n";
  return same_value(in[0]);
}

}  // namespace

namespace ops {
TANDEM_OP(check_numerics, .shape = same_meta, .view = check_numerics_view);
TANDEM_OP(print, .shape = same_meta, .view = print_view, .stateful = true);
}  // namespace ops

}  // namespace tandem
