// core/ops/update.cpp — the optimizer steps as ops: sgd_update, momentum_update, adam_update,
// rmsprop_update, adagrad_update, and TensorFlow's RMSProp and Adagrad.
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
//     rmsprop_update   (w, v, b, m, g)  attrs: lr, alpha, eps, weight_decay, momentum, centered
//     adagrad_update   (w, s, t, g)     attrs: lr, lr_decay, eps, weight_decay
//   TensorFlow 1's formulas, which differ (core/ops/update_math.h says how), for graph mode:
//     rmsprop_tf_update           (w, ms, mom, g)      attrs: lr, alpha (TF's decay), momentum, eps
//     centered_rmsprop_tf_update  (w, mg, ms, mom, g)  the same, centered (TF's two kernels)
//     adagrad_tf_update           (w, accum, g)        attrs: lr
// clang-format on
// where t is a 0-dim tensor counting the steps taken: the op reads it, takes step t + 1 and
// stores t + 1. Keeping t in a tensor, not in the attrs, lets graph mode keep it in a variable.
// PyTorch's RMSprop keeps a momentum buffer b only when momentum > 0, and m only when centered:
// for a state it does not keep, the caller passes an empty tensor (shape [0]), never read.
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

// Input `number` of `op` (its `role`: state or gradient) has the parameter w's shape and dtype.
void check_like_parameter(const Meta& w, const Meta& x, const char* op, const char* role, int number) {
  if (!same_shape(x.shape, w.shape))
    throw ShapeError(msg(op, ": the ", role, " (input ", number, ") has shape ", shape_str(x.shape),
                         " but the parameter has shape ", shape_str(w.shape), "; they must be the same"));
  if (x.dtype != w.dtype)
    throw DTypeError(msg(op, ": the ", role, " (input ", number, ") has dtype ", to_string(x.dtype),
                         " but the parameter has dtype ", to_string(w.dtype), "; they must be the same"));
}

void check_floating_parameter(const Meta& w, const char* op) {
  if (!is_floating(w.dtype))
    throw DTypeError(msg(op, ": expected a floating point parameter, but got dtype ", to_string(w.dtype)));
}

// Every state tensor and the gradient have the parameter's shape and dtype; t (adam) is a number.
// in[n_same - 1] is the gradient, which is input number `gradient_input` of the op.
Meta update_shape(std::span<const Meta> in, const char* op, int n_same, int gradient_input) {
  const Meta& w = in[0];
  check_floating_parameter(w, op);
  for (int k = 1; k < n_same; ++k) {
    const bool gradient = k == n_same - 1;
    check_like_parameter(w, in[k], op, gradient ? "gradient" : "state", gradient ? gradient_input : k);
  }
  return w;
}

// A step count t: a 0-dim floating point tensor (Adam's and Adagrad's).
void check_count(const Meta& t, const char* op, int number) {
  if (!t.shape.empty() || !is_floating(t.dtype))
    throw ShapeError(msg(op, ": the step count (input ", number, ") must be a 0-dim floating point tensor, got ",
                         to_string(t.dtype), " ", shape_str(t.shape)));
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
  check_count(in[3], "adam_update", 3);
  update_shape(same, "adam_update", 4, 4);
  return in[0];
}

Meta rmsprop_shape(std::span<const Meta> in, const Attrs& a) {
  // Inputs w, v, b, m, g. b and m fit the parameter when kept, else they are empty ([0]).
  const char* op = "rmsprop_update";
  check_floating_parameter(in[0], op);
  check_like_parameter(in[0], in[1], op, "state square_avg", 1);
  const bool kept[2] = {a.momentum > 0, a.centered};
  const char* const role[2] = {"state momentum_buffer", "state grad_avg"};
  const char* const when[2] = {"momentum > 0", "centered"};
  for (int k = 0; k < 2; ++k) {
    if (kept[k]) {
      check_like_parameter(in[0], in[2 + k], op, role[k], 2 + k);
    } else if (in[2 + k].shape != Shape{0}) {
      throw ShapeError(msg(op, ": the ", role[k], " (input ", 2 + k, ") is kept only when ", when[k],
                           "; pass an empty tensor (shape [0]) there, not one of shape ",
                           shape_str(in[2 + k].shape)));
    }
  }
  check_like_parameter(in[0], in[4], op, "gradient", 4);
  return in[0];
}

Meta adagrad_shape(std::span<const Meta> in, const Attrs&) {
  // Inputs w, s, t, g: w, s and g alike; t a 0-dim count.
  const Meta same[3] = {in[0], in[1], in[3]};
  check_count(in[2], "adagrad_update", 2);
  update_shape(same, "adagrad_update", 3, 3);
  return in[0];
}

Meta rmsprop_tf_shape(std::span<const Meta> in, const Attrs&) {
  return update_shape(in, "rmsprop_tf_update", 4, 3);
}
Meta centered_rmsprop_tf_shape(std::span<const Meta> in, const Attrs&) {
  return update_shape(in, "centered_rmsprop_tf_update", 5, 4);
}
Meta adagrad_tf_shape(std::span<const Meta> in, const Attrs&) {
  return update_shape(in, "adagrad_tf_update", 3, 2);
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

// Reads a step count t, advances it by one and stores it back; returns the new t (this step's).
double advance_count(const Tensor& count) {
  return visit_floating(count.dtype(), [&]<typename S>() {
    S* c = ptr<S>(count);
    *c = *c + S(1);
    return static_cast<double>(*c);
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
  const double t = advance_count(in[3]);  // the step count: read, advanced by one, written back
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

void rmsprop_update_cpu(std::span<const Tensor> in, const Attrs& a, Tensor&) {
  visit_floating(in[0].dtype(), [&]<typename T>() {
    const math::RmspropStep<T> step{T(a.lr),  T(a.alpha),        T(1.0 - a.alpha), T(a.eps),
                                    T(a.weight_decay), T(a.momentum), a.centered};
    T* w = ptr<T>(in[0]);
    T* v = ptr<T>(in[1]);
    T* b = a.momentum > 0 ? ptr<T>(in[2]) : nullptr;  // null: a state this configuration keeps not
    T* m = a.centered ? ptr<T>(in[3]) : nullptr;
    const T* g = ptr<T>(in[4]);
    for_each_weight(in[0].numel(), [&](int64_t i) {
      T unused_b = 0, unused_m = 0;  // per weight, so that no two threads share a scratch number
      step(w[i], v[i], b ? b[i] : unused_b, m ? m[i] : unused_m, g[i]);
    });
  });
}

void adagrad_update_cpu(std::span<const Tensor> in, const Attrs& a, Tensor&) {
  const double t = advance_count(in[2]);
  visit_floating(in[0].dtype(), [&]<typename T>() {
    const auto step = math::AdagradStep<T>::at(t, a.lr, a.lr_decay, a.eps, a.weight_decay);
    T* w = ptr<T>(in[0]);
    T* s = ptr<T>(in[1]);
    const T* g = ptr<T>(in[3]);
    for_each_weight(in[0].numel(), [&](int64_t i) { step(w[i], s[i], g[i]); });
  });
}

// TensorFlow's RMSProp, both kernels: inputs (w, ms, mom, g), or (w, mg, ms, mom, g) when centered.
template <bool kCentered> void rmsprop_tf_update_cpu(std::span<const Tensor> in, const Attrs& a, Tensor&) {
  visit_floating(in[0].dtype(), [&]<typename T>() {
    const math::TfRmsPropStep<T> step{T(a.lr), T(1) - T(a.alpha), T(a.momentum), T(a.eps), kCentered};
    const int k = kCentered ? 1 : 0;  // where ms is
    T* w = ptr<T>(in[0]);
    T* mg = kCentered ? ptr<T>(in[1]) : nullptr;
    T* ms = ptr<T>(in[1 + k]);
    T* mom = ptr<T>(in[2 + k]);
    const T* g = ptr<T>(in[3 + k]);
    for_each_weight(in[0].numel(), [&](int64_t i) {
      T unused = 0;
      step(w[i], ms[i], mom[i], kCentered ? mg[i] : unused, g[i]);
    });
  });
}

void adagrad_tf_update_cpu(std::span<const Tensor> in, const Attrs& a, Tensor&) {
  visit_floating(in[0].dtype(), [&]<typename T>() {
    const math::TfAdagradStep<T> step{T(a.lr)};
    T* w = ptr<T>(in[0]);
    T* accum = ptr<T>(in[1]);
    const T* g = ptr<T>(in[2]);
    for_each_weight(in[0].numel(), [&](int64_t i) { step(w[i], accum[i], g[i]); });
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
TANDEM_OP(rmsprop_update, .arity = 5, .shape = rmsprop_shape, .cpu = rmsprop_update_cpu, .updates = 4,
          .no_derivative = kStep);
TANDEM_OP(adagrad_update, .arity = 4, .shape = adagrad_shape, .cpu = adagrad_update_cpu, .updates = 3,
          .no_derivative = kStep);
TANDEM_OP(rmsprop_tf_update, .arity = 4, .shape = rmsprop_tf_shape, .cpu = rmsprop_tf_update_cpu<false>,
          .updates = 3, .no_derivative = kStep);
TANDEM_OP(centered_rmsprop_tf_update, .arity = 5, .shape = centered_rmsprop_tf_shape,
          .cpu = rmsprop_tf_update_cpu<true>, .updates = 4, .no_derivative = kStep);
TANDEM_OP(adagrad_tf_update, .arity = 3, .shape = adagrad_tf_shape, .cpu = adagrad_tf_update_cpu, .updates = 2,
          .no_derivative = kStep);
}  // namespace ops

}  // namespace tandem
