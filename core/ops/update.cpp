// core/ops/update.cpp — the optimizer steps as ops: sgd_update, momentum_update, adam_update.
//
// Why make an optimizer step an op, when `w.sub_(w.grad(), lr)` already works? Because of what
// the step costs. Adam written with tensor ops — m.mul_(β1).add_(g, 1 − β1), v.mul_(β2)..., a sqrt,
// a division, another add — reads and writes each weight's memory a dozen times and launches a
// dozen kernels on a GPU. As one op, the loop reads w, g, m and v once, does all the arithmetic
// in registers (core/ops/update_math.h) and writes w, m and v once: the work of one kernel.
// PyTorch calls that a "fused" optimizer; TensorFlow's ApplyAdam is such an op too.
//
// An update op is unlike the rest of the catalogue in one way: it has no result of its own. It
// overwrites its first inputs — the parameter, then the optimizer's state for it — in place
// (OpDef::updates says how many). The inputs, in order:
// clang-format off
//     sgd_update       (w, g)           attrs: lr, weight_decay
//     momentum_update  (w, b, g)        attrs: lr, momentum, dampening, weight_decay, nesterov
//     adam_update      (w, m, v, t, g)  attrs: lr, beta1, beta2, eps, weight_decay,
//                                              decoupled_weight_decay (AdamW)
// clang-format on
// where t is a 0-dim tensor counting the steps taken: the op reads it, takes step t + 1 and
// stores t + 1. Keeping t in a tensor, not in the attrs, lets graph mode keep it in a variable.
//
// Eager mode runs these with call_update() (core/op.h); graph mode with update nodes, whose
// written inputs are variables (graph/ops.h, apply_update). The optimizers that use them
// are in optim/.
//
// Read next: optim/optim.h.
#include <algorithm>

#include "core/op.h"
#include "core/ops/loops.h"
#include "core/ops/update_math.h"

namespace tandem {
namespace {

// Equal shapes, where a dimension a graph does not know yet (-1) matches any size.
bool same_shape(const Shape& a, const Shape& b) {
  if (a.size() != b.size()) return false;
  for (size_t d = 0; d < a.size(); ++d)
    if (a[d] != b[d] && a[d] != -1 && b[d] != -1) return false;
  return true;
}

// Every state tensor and the gradient have the parameter's shape and dtype; t (adam) is a number.
// in[n_same - 1] is the gradient, which is input number `gradient_input` of the op.
Meta update_shape(std::span<const Meta> in, const char* op, int n_same, int gradient_input) {
  const Meta& w = in[0];
  if (!is_floating(w.dtype))
    throw DTypeError(
        msg(op, ": expected a floating point parameter, but got dtype ", to_string(w.dtype)));
  static const char* const kRoles[] = {"parameter", "state", "state", "state"};
  for (int k = 1; k < n_same; ++k) {
    const bool gradient = k == n_same - 1;
    const char* role = gradient ? "gradient" : kRoles[k];
    const int number = gradient ? gradient_input : k;
    if (!same_shape(in[k].shape, w.shape))
      throw ShapeError(msg(op, ": the ", role, " (input ", number, ") has shape ",
                           shape_str(in[k].shape), " but the parameter has shape ",
                           shape_str(w.shape), "; they must be the same"));
    if (in[k].dtype != w.dtype)
      throw DTypeError(msg(op, ": the ", role, " (input ", number, ") has dtype ",
                           to_string(in[k].dtype), " but the parameter has dtype ",
                           to_string(w.dtype), "; they must be the same"));
  }
  return w;
}

Meta sgd_shape(std::span<const Meta> in, const Attrs&) {
  return update_shape(in, "sgd_update", 2, 1);
}
Meta momentum_shape(std::span<const Meta> in, const Attrs&) {
  return update_shape(in, "momentum_update", 3, 2);
}
Meta adam_shape(std::span<const Meta> in, const Attrs&) {
  // Inputs w, m, v, t, g: w, m, v and g alike; t a 0-dim count.
  const Meta same[4] = {in[0], in[1], in[2], in[4]};
  if (!in[3].shape.empty() || !is_floating(in[3].dtype))
    throw ShapeError(
        msg("adam_update: the step count (input 3) must be a 0-dim floating point tensor, "
            "got ",
            to_string(in[3].dtype), " ", shape_str(in[3].shape)));
  update_shape(same, "adam_update", 4, 4);
  return in[0];
}

template <typename T> T* ptr(const Tensor& t) { return static_cast<T*>(t.raw_data()); }

// for (i in [0, n)) body(i): in pieces across the threads for a large parameter, each piece one
// `omp simd` loop (the functors are branch-free per element, so they vectorise).
template <typename F> void for_each_weight(int64_t n, F body) {
  const int64_t pieces = (n + loops::kRowPiece - 1) / loops::kRowPiece;
  loops::parallel_for(pieces, n >= loops::kParallelGrain, [&](int64_t c) {
    const int64_t lo = c * loops::kRowPiece, hi = std::min(n, lo + loops::kRowPiece);
#pragma omp simd
    for (int64_t i = lo; i < hi; ++i) body(i);
  });
}

void sgd_update_cpu(std::span<const Tensor> in, const Attrs& a, Tensor&) {
  visit_floating(in[0].dtype(), [&]<typename T>() {
    const math::SgdStep<T> step{T(a.lr), T(a.weight_decay)};
    T* w = ptr<T>(in[0]);
    const T* g = ptr<T>(in[1]);
    for_each_weight(in[0].numel(), [&](int64_t i) { step(w[i], g[i]); });
  });
}

void momentum_update_cpu(std::span<const Tensor> in, const Attrs& a, Tensor&) {
  visit_floating(in[0].dtype(), [&]<typename T>() {
    const math::MomentumStep<T> step{T(a.lr), T(a.momentum), T(1.0 - a.dampening),
                                     T(a.weight_decay), a.nesterov};
    T* w = ptr<T>(in[0]);
    T* b = ptr<T>(in[1]);
    const T* g = ptr<T>(in[2]);
    for_each_weight(in[0].numel(), [&](int64_t i) { step(w[i], b[i], g[i]); });
  });
}

void adam_update_cpu(std::span<const Tensor> in, const Attrs& a, Tensor&) {
  // The step count: read, advanced by one, written back.
  const double t = visit_floating(in[3].dtype(), [&]<typename S>() {
    S* count = ptr<S>(in[3]);
    *count = *count + S(1);
    return static_cast<double>(*count);
  });
  visit_floating(in[0].dtype(), [&]<typename T>() {
    const auto step = math::AdamStep<T>::at(t, a.lr, a.beta1, a.beta2, a.eps, a.weight_decay,
                                            a.decoupled_weight_decay);
    T* w = ptr<T>(in[0]);
    T* m = ptr<T>(in[1]);
    T* v = ptr<T>(in[2]);
    const T* g = ptr<T>(in[4]);
    for_each_weight(in[0].numel(), [&](int64_t i) { step(w[i], m[i], v[i], g[i]); });
  });
}

}  // namespace

namespace ops {
// An optimizer's step is applied to values; nothing differentiates through it.
constexpr const char* kStep = "an optimizer step: it updates variables in place and is never differentiated";
TANDEM_OP(sgd_update, .arity = 2, .shape = sgd_shape, .cpu = sgd_update_cpu, .updates = 1, .no_derivative = kStep);
TANDEM_OP(momentum_update, .arity = 3, .shape = momentum_shape, .cpu = momentum_update_cpu, .updates = 2,
          .no_derivative = kStep);
TANDEM_OP(adam_update, .arity = 5, .shape = adam_shape, .cpu = adam_update_cpu, .updates = 4,
          .no_derivative = kStep);
}  // namespace ops

}  // namespace tandem
