// optim/optim.cpp — the eager optimizers: keep the state, call the update op once per parameter.
//
// Each step() is a loop over the parameters that runs one update op (core/ops/update.cpp) per
// parameter, under no_grad: the update is not part of any computation to differentiate. The state
// tensors are created on a parameter's first step, on the parameter's device and in its dtype, so
// an optimizer works on the GPU as on the CPU without knowing it.
//
// Read next: optim/train.h (the same optimizers in graph mode), core/ops/update_math.h (the
// per-weight arithmetic of each step).
#include "optim/optim.h"

#include "autograd/grad_mode.h"
#include "core/factories.h"
#include "core/ops.h"

namespace tandem::optim {

namespace {

// PyTorch's checks of a hyper-parameter, with its messages ("Invalid learning rate: -0.1").
void check(bool ok, const char* optimizer, const char* what, double value) {
  if (!ok) throw Error(msg(optimizer, ": Invalid ", what, ": ", value));
}

}  // namespace

Optimizer::Optimizer(std::vector<Tensor> params, const char* name) : params_(std::move(params)) {
  if (params_.empty()) throw Error(msg(name, ": optimizer got an empty parameter list"));
  for (size_t k = 0; k < params_.size(); ++k) {
    const Tensor& p = params_[k];
    if (!p.defined()) throw Error(msg(name, ": parameter ", k, " is an undefined tensor"));
    if (!p.is_floating_point())
      throw DTypeError(msg(name, ": parameter ", k, " has dtype ", to_string(p.dtype()),
                           "; only floating point tensors can be optimized"));
    if (!p.is_leaf())
      throw Error(msg(name, ": can't optimize a non-leaf Tensor (parameter ", k,
                      " was computed by an op; "
                      "optimize the tensor it was computed from, or a detached copy: "
                      "p.detach().requires_grad_())"));
  }
}

void Optimizer::zero_grad(bool set_to_none) {
  for (const Tensor& p : params_) {
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    if (set_to_none)
      p.set_grad(Tensor());
    else
      g.zero_();
  }
}

// ---- SGD ----------------------------------------------------------------------------------------

SGD::SGD(std::vector<Tensor> params, SGDOptions o)
    : Optimizer(std::move(params), "SGD"), options(o), momentum_buffer_(params_.size()) {
  if (o.lr == -1)
    throw Error("SGD: a learning rate is required, e.g. optim::SGD(params, {.lr = 0.1})");
  check(o.lr >= 0, "SGD", "learning rate", o.lr);
  check(o.momentum >= 0, "SGD", "momentum value", o.momentum);
  check(o.weight_decay >= 0, "SGD", "weight_decay value", o.weight_decay);
  if (o.nesterov && (o.momentum <= 0 || o.dampening != 0))
    throw Error("SGD: Nesterov momentum requires a momentum and zero dampening");
}

void SGD::set_lr(double lr) {
  check(lr >= 0, "SGD", "learning rate", lr);
  options.lr = lr;
}

void SGD::step() {
  no_grad updating;
  Attrs a;
  a.lr = options.lr;
  a.momentum = options.momentum;
  a.weight_decay = options.weight_decay;
  a.nesterov = options.nesterov;
  for (size_t k = 0; k < params_.size(); ++k) {
    const Tensor& p = params_[k];
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    if (options.momentum == 0) {
      call_update(ops::sgd_update, {p, g}, a);
      continue;
    }
    // The first step starts the velocity at the gradient itself (b = d, PyTorch's rule): with a
    // zero buffer and no dampening, b = μ·0 + (1 − 0)·d is exactly that.
    Tensor& buffer = momentum_buffer_[k];
    const bool first = !buffer.defined();
    if (first) buffer = zeros(p.shape(), p.dtype(), p.device());
    a.dampening = first ? 0.0 : options.dampening;
    call_update(ops::momentum_update, {p, buffer, g}, a);
  }
}

// ---- Adam, AdamW --------------------------------------------------------------------------------

Adam::Adam(std::vector<Tensor> params, AdamOptions o) : Adam(std::move(params), o, false, "Adam") {}

Adam::Adam(std::vector<Tensor> params, AdamOptions o, bool decoupled, const char* name)
    : Optimizer(std::move(params), name),
      options(o),
      decoupled_(decoupled),
      state_(params_.size()) {
  check(o.lr >= 0, name, "learning rate", o.lr);
  check(o.eps >= 0, name, "epsilon value", o.eps);
  check(o.beta1 >= 0 && o.beta1 < 1, name, "beta parameter at index 0", o.beta1);
  check(o.beta2 >= 0 && o.beta2 < 1, name, "beta parameter at index 1", o.beta2);
  check(o.weight_decay >= 0, name, "weight_decay value", o.weight_decay);
}

void Adam::set_lr(double lr) {
  check(lr >= 0, decoupled_ ? "AdamW" : "Adam", "learning rate", lr);
  options.lr = lr;
}

void Adam::step() {
  no_grad updating;
  Attrs a;
  a.lr = options.lr;
  a.beta1 = options.beta1;
  a.beta2 = options.beta2;
  a.eps = options.eps;
  a.weight_decay = options.weight_decay;
  a.decoupled_weight_decay = decoupled_;
  for (size_t k = 0; k < params_.size(); ++k) {
    const Tensor& p = params_[k];
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    State& s = state_[k];
    // The first step: state as PyTorch creates it (step is a float32 count).
    if (!s.step.defined()) {
      s.step = zeros({}, kFloat32, p.device());
      s.exp_avg = zeros(p.shape(), p.dtype(), p.device());
      s.exp_avg_sq = zeros(p.shape(), p.dtype(), p.device());
    }
    call_update(ops::adam_update, {p, s.exp_avg, s.exp_avg_sq, s.step, g}, a);
  }
}

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions o)
    : Adam(std::move(params), {o.lr, o.beta1, o.beta2, o.eps, o.weight_decay}, true, "AdamW") {}

}  // namespace tandem::optim
