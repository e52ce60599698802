// optim/rmsprop_adagrad.cpp — RMSprop and Adagrad, in PyTorch's words (eager) and TensorFlow 1's
// (graph), side by side.
//
// The two are the adaptive optimizers that came before Adam: each weight's step is divided by a
// running measure of its gradient's size (core/ops/update_math.h has the formulas and the history).
// Unlike SGD and Adam, the two frameworks do not agree on them, and Tandem does not paper over it:
// eager mode computes PyTorch's formulas and graph mode TensorFlow's, each checked against its own
// framework (tests/test_optim_adaptive.cpp). What differs, at a glance:
//
//                          PyTorch (optim::)                 TensorFlow 1 (graph::train::)
//     RMSprop  v starts at  0 (big first steps)               1 (small first steps)
//              ε            outside √: g / (√v + ε)            inside √: g / √(v + ε)
//              lr           outside the velocity               inside it: mom = μ·mom + lr·g/√…
//              defaults     α = 0.99, ε = 1e-8                 decay = 0.9, ε = 1e-10
//     Adagrad  s starts at  0 (initial_accumulator_value)      0.1
//              ε            1e-10, outside √                   none
//              extras       lr_decay, weight_decay             —
//
// So a model trained with optim::RMSprop and with graph::train::RMSPropOptimizer takes different
// steps; with the same formula on both sides (SGD, Adam) the modes agree to the last bit.
//
// The eager half of each is a step() that runs one update op per parameter, as optim/optim.cpp's
// optimizers do; the graph half is an apply_one() that makes the slots and one update node, as
// optim/train.cpp's do. Their state_dicts are in optim/optim_state.cpp with the others'.
//
// Read next: core/ops/update.cpp (the ops), optim/optim_state.cpp (their state_dicts).
#include "autograd/grad_mode.h"
#include "core/factories.h"
#include "core/ops.h"
#include "optim/optim.h"
#include "optim/train.h"

namespace tandem {

namespace {
// PyTorch's checks of a hyper-parameter, with its messages ("Invalid learning rate: -0.1").
void check(bool ok, const char* optimizer, const char* what, double value) {
  if (!ok) throw Error(msg(optimizer, ": Invalid ", what, ": ", value));
}
}  // namespace

// ==== eager mode: torch.optim.RMSprop and torch.optim.Adagrad =====================================

namespace optim {

RMSprop::RMSprop(std::vector<Tensor> params, RMSpropOptions o)
    : Optimizer(std::move(params), "RMSprop"), options(o), state_(params_.size()) {
  check(o.lr >= 0, "RMSprop", "learning rate", o.lr);
  check(o.eps >= 0, "RMSprop", "epsilon value", o.eps);
  check(o.momentum >= 0, "RMSprop", "momentum value", o.momentum);
  check(o.weight_decay >= 0, "RMSprop", "weight_decay value", o.weight_decay);
  check(o.alpha >= 0, "RMSprop", "alpha value", o.alpha);
}

void RMSprop::set_lr(double lr) {
  check(lr >= 0, "RMSprop", "learning rate", lr);
  options.lr = lr;
}

void RMSprop::step() {
  no_grad updating;
  Attrs a;
  a.lr = options.lr;
  a.alpha = options.alpha;
  a.eps = options.eps;
  a.weight_decay = options.weight_decay;
  a.momentum = options.momentum;
  a.centered = options.centered;
  for (size_t k = 0; k < params_.size(); ++k) {
    const Tensor& p = params_[k];
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    State& s = state_[k];
    // State as PyTorch makes it on a parameter's first step: v always, the momentum buffer and the
    // mean gradient only when this configuration uses them. (Options changed later to need one it
    // lacks get it then, zero-filled, where PyTorch would fail with a KeyError.)
    auto zeros_like_p = [&] { return zeros(p.shape(), p.dtype(), p.device()); };
    if (!s.square_avg.defined()) s.square_avg = zeros_like_p();
    if (a.momentum > 0 && !s.momentum_buffer.defined()) s.momentum_buffer = zeros_like_p();
    if (a.centered && !s.grad_avg.defined()) s.grad_avg = zeros_like_p();
    // A state the op is not to use goes in as an empty tensor (core/ops/update.cpp).
    const Tensor none = empty({0}, p.dtype(), p.device());
    s.step += 1;
    call_update(ops::rmsprop_update,
                {p, s.square_avg, a.momentum > 0 ? s.momentum_buffer : none, a.centered ? s.grad_avg : none, g}, a);
  }
}

Adagrad::Adagrad(std::vector<Tensor> params, AdagradOptions o)
    : Optimizer(std::move(params), "Adagrad"), options(o) {
  check(o.lr >= 0, "Adagrad", "learning rate", o.lr);
  check(o.lr_decay >= 0, "Adagrad", "lr_decay value", o.lr_decay);
  check(o.weight_decay >= 0, "Adagrad", "weight_decay value", o.weight_decay);
  check(o.initial_accumulator_value >= 0, "Adagrad", "initial_accumulator_value value",
        o.initial_accumulator_value);
  check(o.eps >= 0, "Adagrad", "epsilon value", o.eps);
  // Every parameter's state, now (PyTorch's Adagrad does it in its constructor too).
  for (const Tensor& p : params_)
    state_.push_back({zeros({}, kFloat32, p.device()), full(p.shape(), o.initial_accumulator_value, p.dtype(), p.device())});
}

void Adagrad::set_lr(double lr) {
  check(lr >= 0, "Adagrad", "learning rate", lr);
  options.lr = lr;
}

void Adagrad::step() {
  no_grad updating;
  Attrs a;
  a.lr = options.lr;
  a.lr_decay = options.lr_decay;
  a.eps = options.eps;
  a.weight_decay = options.weight_decay;
  for (size_t k = 0; k < params_.size(); ++k) {
    const Tensor& p = params_[k];
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    call_update(ops::adagrad_update, {p, state_[k].sum, state_[k].step, g}, a);
  }
}

}  // namespace optim

// ==== graph mode: tf.train.RMSPropOptimizer and tf.train.AdagradOptimizer ===========================

namespace graph::train {

RMSPropOptimizer::RMSPropOptimizer(LearningRate learning_rate, double decay, double momentum, double epsilon,
                                   bool centered)
    : Optimizer("RMSProp", std::move(learning_rate)),
      decay_(decay),
      momentum_(momentum),
      epsilon_(epsilon),
      centered_(centered) {
  check(decay >= 0 && decay <= 1, "RMSPropOptimizer", "decay (it must be in [0, 1])", decay);
  check(momentum >= 0, "RMSPropOptimizer", "momentum value", momentum);
  check(epsilon >= 0, "RMSPropOptimizer", "epsilon value", epsilon);
}

Output RMSPropOptimizer::apply_one(const Output& grad, const Output& var) const {
  // The slots in TF's order, so they get TF's names: rms, then mg if centered, then momentum.
  const Output ms = slot(var, "RMSProp", var.shape(), var.dtype(), /*initial_value=*/1.0);
  const Output mg = centered_ ? slot(var, "RMSProp_1", var.shape(), var.dtype()) : Output();
  const Output mom = slot(var, centered_ ? "RMSProp_2" : "RMSProp_1", var.shape(), var.dtype());
  Attrs a;
  a.alpha = decay_;
  a.momentum = momentum_;
  a.eps = epsilon_;
  a.centered = centered_;
  if (centered_) return update(ops::centered_rmsprop_tf_update, {var, mg, ms, mom, grad}, a, var);
  return update(ops::rmsprop_tf_update, {var, ms, mom, grad}, a, var);
}

AdagradOptimizer::AdagradOptimizer(LearningRate learning_rate, double initial_accumulator_value)
    : Optimizer("Adagrad", std::move(learning_rate)), initial_accumulator_value_(initial_accumulator_value) {
  // TF's own check: with no ε, an accumulator that starts at 0 divides by zero on a zero gradient.
  if (!(initial_accumulator_value > 0))
    throw Error(msg("AdagradOptimizer: initial_accumulator_value must be positive: ", initial_accumulator_value,
                    " (TensorFlow's Adagrad has no epsilon; the accumulator's start keeps √accum from 0)"));
}

Output AdagradOptimizer::apply_one(const Output& grad, const Output& var) const {
  const Output accum = slot(var, "Adagrad", var.shape(), var.dtype(), initial_accumulator_value_);
  return update(ops::adagrad_tf_update, {var, accum, grad}, {}, var);
}

}  // namespace graph::train
}  // namespace tandem
