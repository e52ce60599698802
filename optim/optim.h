// optim/optim.h — optimizers for eager mode, as torch.optim has them: SGD, Adam, AdamW, RMSprop,
// Adagrad; and gradient clipping (optim/clip.h).
//
// Training is a loop of four lines, the same in every PyTorch program:
//
//     optim::Adam opt(params, {.lr = 1e-3});      // optimizer = optim.Adam(params, lr=1e-3)
//     for (...) {
//       opt.zero_grad();                           // optimizer.zero_grad()
//       Tensor loss = cross_entropy(model(x), y);  // loss = criterion(model(x), y)
//       loss.backward();                           // loss.backward()
//       opt.step();                                // optimizer.step()
//     }
//
// The hyper-parameters are a struct with defaults, so C++20's designated initializers read like
// Python's keyword arguments: `{.lr = 0.1, .momentum = 0.9}`.
//
// What an optimizer is: a list of parameters, plus per-parameter *state* it keeps between steps
// (a velocity for momentum, two running averages for Adam), plus the update rule. The rules are
// not written here: each is one op of the catalogue (core/ops/update.cpp) whose per-element math
// (core/ops/update_math.h) runs on the CPU and, unchanged, on the GPU. Graph mode's optimizers
// (optim/train.h) build nodes of the same ops, so the two modes take exactly the same steps.
//
// Resuming: state_dict() / load_state_dict() save and restore the state and the hyper-parameters
// (optim/optim_state.cpp), so a run continued from a checkpoint takes the very steps it would have.
//
// Read next: optim/train.h (graph mode: minimize), core/ops/update_math.h (the formulas),
// optim/rmsprop_adagrad.cpp (the two adaptive optimizers, both modes side by side).
#pragma once

#include <vector>

#include "core/tensor.h"
#include "io/state_dict.h"
#include "optim/clip.h"

namespace tandem::optim {

// What every optimizer shares: the parameters it updates, and zero_grad().
class Optimizer {
 public:
  virtual ~Optimizer() = default;

  // One update of every parameter that has a gradient (a parameter whose grad() is undefined —
  // it took no part in the loss — is skipped, its state untouched, as in PyTorch).
  virtual void step() = 0;

  // Forget the gradients before the next backward(), which would otherwise add to them. By default
  // they become undefined (PyTorch 2's set_to_none=True: nothing to fill, and a parameter that
  // gets no gradient next time is then skipped); set_to_none = false fills them with zeros.
  void zero_grad(bool set_to_none = true);

  const std::vector<Tensor>& params() const { return params_; }

  // The learning rate, read and set between steps: PyTorch's optimizer.param_groups[0]['lr'],
  // which its learning-rate schedulers write (optim/schedule.h). set_lr refuses a negative rate.
  virtual double lr() const = 0;
  virtual void set_lr(double lr) = 0;

  // The optimizer as named tensors, to checkpoint and resume (optim/optim_state.cpp). PyTorch's
  // layout, {'state': {0: {'exp_avg': ...}}, 'param_groups': [{'lr': 0.001, ...}]}, flattened into
  // dotted names: "state.0.exp_avg", "param_groups.0.lr" (a float64 scalar), and
  // "param_groups.0.params" (the parameters' indices, 0..n-1). A parameter that has taken no step
  // has no state entries. The state tensors are the optimizer's own (no copy, as in PyTorch):
  // save() them, or clone() the StateDict, for a snapshot.
  virtual StateDict state_dict() const = 0;
  // Takes all of it back — state and hyper-parameters (a learning rate a schedule had lowered is
  // lowered again) — after checking all of it: the parameter count, every name, shape and value.
  // On any error the optimizer is unchanged.
  virtual void load_state_dict(const StateDict& state_dict) = 0;

 protected:
  // Checks each parameter: defined, a leaf, floating point (PyTorch's checks and messages).
  Optimizer(std::vector<Tensor> params, const char* name);
  std::vector<Tensor> params_;
};

// ---- SGD: w -= lr · g, with optional momentum, Nesterov momentum and weight decay ---------------
struct SGDOptions {
  double lr = -1;  // required: there is no good default (PyTorch has none either)
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;  // needs momentum > 0 and dampening = 0
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, SGDOptions options);
  void step() override;
  StateDict state_dict() const override;
  void load_state_dict(const StateDict& state_dict) override;
  double lr() const override { return options.lr; }
  void set_lr(double lr) override;
  SGDOptions options;  // may be changed between steps (a learning-rate schedule sets options.lr)

 private:
  std::vector<Tensor> momentum_buffer_;  // per parameter; undefined until its first step
};

// ---- Adam and AdamW -----------------------------------------------------------------------------
struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;  // PyTorch's betas=(0.9, 0.999)
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;  // Adam: an L2 penalty added to the gradient
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, AdamOptions options = {});
  void step() override;
  StateDict state_dict() const override;
  void load_state_dict(const StateDict& state_dict) override;
  double lr() const override { return options.lr; }
  void set_lr(double lr) override;
  AdamOptions options;

  // A parameter's state, as PyTorch's optimizer.state[p] holds it: the number of steps taken and
  // the running averages exp_avg (m) and exp_avg_sq (v). Undefined tensors before the first step.
  struct State {
    Tensor step, exp_avg, exp_avg_sq;
  };
  const State& state(size_t param_index) const { return state_.at(param_index); }

 protected:
  Adam(std::vector<Tensor> params, AdamOptions options, bool decoupled, const char* name);

 private:
  bool decoupled_;
  std::vector<State> state_;
};

// AdamW (Loshchilov & Hutter, 2019): Adam whose weight decay shrinks the weights directly,
// w ← w·(1 − lr·wd), instead of adding wd·w to the gradient — where Adam's scaling would weaken it
// for weights with large gradients. PyTorch's default weight_decay for AdamW is 0.01.
struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;
};

class AdamW : public Adam {
 public:
  AdamW(std::vector<Tensor> params, AdamWOptions options = {});
};

// ---- RMSprop and Adagrad: each weight's step divided by its gradients' running size -------------
// (optim/rmsprop_adagrad.cpp; the formulas in core/ops/update_math.h.) PyTorch's definitions,
// which are not TensorFlow's: graph mode's RMSPropOptimizer and AdagradOptimizer (optim/train.h)
// follow TF's, and say where they differ.

// torch.optim.RMSprop: v = α·v + (1 − α)·g², w −= lr·g / (√v + ε), with optional momentum, a
// centered variant (divide by the standard deviation of g) and weight decay.
struct RMSpropOptions {
  double lr = 1e-2;
  double alpha = 0.99;  // the smoothing constant of the running mean of g²
  double eps = 1e-8;
  double weight_decay = 0;
  double momentum = 0;
  bool centered = false;
};

class RMSprop : public Optimizer {
 public:
  RMSprop(std::vector<Tensor> params, RMSpropOptions options = {});
  void step() override;
  StateDict state_dict() const override;
  void load_state_dict(const StateDict& state_dict) override;
  double lr() const override { return options.lr; }
  void set_lr(double lr) override;
  RMSpropOptions options;

  // A parameter's state, as PyTorch's optimizer.state[p]: the steps taken, square_avg (v), and
  // momentum_buffer / grad_avg only when momentum > 0 / centered (undefined otherwise). Nothing
  // (square_avg undefined) before the parameter's first step.
  struct State {
    double step = 0;  // a Python number in PyTorch 1.13; state_dict writes it as a float32 tensor
    Tensor square_avg, momentum_buffer, grad_avg;
  };
  const State& state(size_t param_index) const { return state_.at(param_index); }

 private:
  std::vector<State> state_;
};

// torch.optim.Adagrad: s += g², w −= clr·g / (√s + ε) with clr = lr / (1 + (t − 1)·lr_decay).
struct AdagradOptions {
  double lr = 1e-2;
  double lr_decay = 0;
  double weight_decay = 0;
  double initial_accumulator_value = 0;  // where s starts (TensorFlow's default is 0.1)
  double eps = 1e-10;
};

class Adagrad : public Optimizer {
 public:
  Adagrad(std::vector<Tensor> params, AdagradOptions options = {});
  void step() override;
  StateDict state_dict() const override;
  void load_state_dict(const StateDict& state_dict) override;
  double lr() const override { return options.lr; }
  void set_lr(double lr) override;
  AdagradOptions options;  // initial_accumulator_value acts at construction only, as in PyTorch

  // step (a float32 count) and sum (s). Unlike the others, Adagrad makes every parameter's state
  // in its constructor (as PyTorch does): its state_dict has it before the first step.
  struct State {
    Tensor step, sum;
  };
  const State& state(size_t param_index) const { return state_.at(param_index); }

 private:
  std::vector<State> state_;
};

}  // namespace tandem::optim
