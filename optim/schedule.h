// optim/schedule.h — learning-rate schedules: one formula, both modes.
//
// A schedule is a function of a count t — epochs, or steps — and the starting rate:
//
//     StepLR             lr(t) = base · γ^⌊t / step_size⌋
//     ExponentialLR      lr(t) = base · γ^t
//     CosineAnnealingLR  lr(t) = η_min + (base − η_min) · (1 + cos(π·t / T_max)) / 2
//     LinearLR           lr(t) = base · (s + (e − s) · min(t, n) / n)      (linear warm-up: s < e = 1)
//     SequentialLR       the first schedule until t = milestone, then the second from its own t = 0
//     LambdaLR           lr(t) = base · λ(t), λ any C++ function
//
// EAGER MODE, PyTorch's way: a scheduler holds an optimizer and sets its learning rate.
//
//     optim::SGD opt(model->parameters(), {.lr = 0.1});
//     optim::StepLR scheduler(opt, {.step_size = 30, .gamma = 0.1});  // sets lr(0) now
//     for (int epoch = 0; epoch < 100; ++epoch) {
//       train_one_epoch();                                              // opt.step() per batch
//       scheduler.step();                                               // t += 1, opt.lr = lr(t)
//     }
//
// GRAPH MODE, TensorFlow 1's way: the schedule is ops on a step counter, and the optimizer reads
// the result on every run (optim/train.h takes a learning rate that is an Output):
//
//     g::Output global_step = g::Variable(tensor(int64_t{0}), false, "global_step");
//     g::Output lr = optim::CosineAnnealingLR({.T_max = 1000}).learning_rate(global_step, 0.1);
//     auto train_op = g::train::MomentumOptimizer(lr, 0.9).minimize(loss, global_step);
//
// THE FORMULA IS WRITTEN ONCE. Each schedule's formula is a template over the number type T —
// `double` for eager mode, `graph::Output` for graph mode — exactly like the layers' forward
// (layers/module.h): Schedule<Derived> turns the one template into the two virtual lr_at()s.
// The few functions the formulas need on both types (floor, cos, pow, min) are in lr_math below.
// So the same schedule gives the same sequence of rates in both modes (tests/test_schedule.cpp),
// and PyTorch's (tests/fixtures/schedules.txt, written by scripts/fixtures/gen_schedules.py).
//
// Read next: train/callbacks.h (LearningRateScheduler: a schedule per epoch inside fit()).
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <numbers>

#include "core/ops.h"
#include "graph/graph.h"
#include "optim/optim.h"

namespace tandem::optim {

// ---- the functions a formula needs, for double and for graph values ---------------------------------
namespace lr_math {
inline double floor(double x) { return std::floor(x); }
inline double cos(double x) { return std::cos(x); }
inline double pow(double base, double e) { return std::pow(base, e); }
inline double min(double a, double b) { return std::min(a, b); }
inline double where_less(double a, double b, double then, double otherwise) { return a < b ? then : otherwise; }

// A count is never negative, and the floor of a non-negative number is its truncation — which is
// what a cast to int64 does. (The catalogue has no floor op; this is the one place that needs it.)
template <TensorLike T> T floor(const T& x) { return to(to(x, kInt64), x.dtype()); }
template <TensorLike T> T cos(const T& x) { return tandem::cos(x); }
template <TensorLike T> T pow(double base, const T& e) { return tandem::pow(Scalar(base), e); }
template <TensorLike T> T min(const T& a, double b) { return minimum(a, scalar_like(b, a)); }
template <TensorLike T> T where_less(const T& a, double b, const T& then, const T& otherwise) {
  return where(lt(a, scalar_like(b, a)), then, otherwise);
}
}  // namespace lr_math

// ---- what every schedule is ---------------------------------------------------------------------------
class LRScheduler {
 public:
  virtual ~LRScheduler() = default;

  // The formula: the rate after t counts, starting from base_lr. t is a number (eager) or a 0-dim
  // floating graph value (graph mode).
  virtual double lr_at(double t, double base_lr) const = 0;
  virtual graph::Output lr_at(const graph::Output& t, double base_lr) const = 0;

  // Graph mode: the rate as nodes on a step counter (an int64 global_step, or any 0-dim number),
  // computed in float64.
  graph::Output learning_rate(const graph::Output& step, double base_lr) const;

  // Eager mode (PyTorch): one more count — t += 1 — and the optimizer's lr set to lr(t). Needs a
  // scheduler made with an optimizer.
  void step();
  double get_last_lr() const { return last_lr_; }   // the rate the optimizer has now
  int64_t last_epoch() const { return last_epoch_; }  // t: how many step()s so far
  double base_lr() const { return base_lr_; }        // the optimizer's rate when the scheduler was made

 protected:
  // optimizer: null for a schedule that is only a formula (graph mode, fit's callbacks).
  LRScheduler(Optimizer* optimizer, const char* name) : optimizer_(optimizer), name_(name) {}
  // PyTorch's constructor: base_lr = the optimizer's rate, and the rate set to lr(0) at once.
  // Each schedule's constructor calls it last, when its options are in place.
  void begin();
  Optimizer* optimizer_;
  const char* name_;
  int64_t last_epoch_ = 0;
  double base_lr_ = 0, last_lr_ = 0;
};

// The one formula, `template <class T> T formula(const T& t, double base_lr) const`, made into
// both lr_at()s (the curiously recurring template pattern, as nn::Layer does for forward).
template <class Derived> class Schedule : public LRScheduler {
 public:
  double lr_at(double t, double base_lr) const override { return self().formula(t, base_lr); }
  graph::Output lr_at(const graph::Output& t, double base_lr) const override { return self().formula(t, base_lr); }

 protected:
  using LRScheduler::LRScheduler;

 private:
  const Derived& self() const { return static_cast<const Derived&>(*this); }
};

// ---- the schedules --------------------------------------------------------------------------------

struct StepLROptions {
  int64_t step_size = 0;  // required: the rate drops every step_size counts
  double gamma = 0.1;     // by this factor
};
class StepLR : public Schedule<StepLR> {
 public:
  StepLR(Optimizer& optimizer, StepLROptions options);
  explicit StepLR(StepLROptions options);  // the formula alone
  template <class T> T formula(const T& t, double base) const {
    return base * lr_math::pow(options.gamma, lr_math::floor(t / static_cast<double>(options.step_size)));
  }
  StepLROptions options;
};

struct ExponentialLROptions {
  double gamma = -1;  // required: the factor per count
};
class ExponentialLR : public Schedule<ExponentialLR> {
 public:
  ExponentialLR(Optimizer& optimizer, ExponentialLROptions options);
  explicit ExponentialLR(ExponentialLROptions options);
  template <class T> T formula(const T& t, double base) const { return base * lr_math::pow(options.gamma, t); }
  ExponentialLROptions options;
};

struct CosineAnnealingLROptions {
  int64_t T_max = 0;   // required: counts from base_lr down to eta_min (half a cosine)
  double eta_min = 0;  // the lowest rate
};
class CosineAnnealingLR : public Schedule<CosineAnnealingLR> {
 public:
  CosineAnnealingLR(Optimizer& optimizer, CosineAnnealingLROptions options);
  explicit CosineAnnealingLR(CosineAnnealingLROptions options);
  // PyTorch's closed form (its step() computes the same numbers recursively, to rounding).
  template <class T> T formula(const T& t, double base) const {
    const double pi = std::numbers::pi, T_max = static_cast<double>(options.T_max);
    return options.eta_min + (base - options.eta_min) * (lr_math::cos(t * (pi / T_max)) + 1.0) * 0.5;
  }
  CosineAnnealingLROptions options;
};

// Linear warm-up (PyTorch's LinearLR): from start_factor · base to end_factor · base over
// total_iters counts, then constant.
struct LinearLROptions {
  double start_factor = 1.0 / 3;
  double end_factor = 1.0;
  int64_t total_iters = 5;
};
class LinearLR : public Schedule<LinearLR> {
 public:
  LinearLR(Optimizer& optimizer, LinearLROptions options);
  explicit LinearLR(LinearLROptions options);
  template <class T> T formula(const T& t, double base) const {
    const double s = options.start_factor, e = options.end_factor, n = static_cast<double>(options.total_iters);
    return base * (s + (e - s) * lr_math::min(t, n) / n);
  }
  LinearLROptions options;
};

// One schedule until `milestone` counts, then another, restarted at its own t = 0 (PyTorch's
// SequentialLR with two schedules): linear warm-up, then cosine annealing.
class SequentialLR : public Schedule<SequentialLR> {
 public:
  SequentialLR(Optimizer& optimizer, std::shared_ptr<const LRScheduler> first, std::shared_ptr<const LRScheduler> then,
               int64_t milestone);
  SequentialLR(std::shared_ptr<const LRScheduler> first, std::shared_ptr<const LRScheduler> then, int64_t milestone);
  template <class T> T formula(const T& t, double base) const {
    const double m = static_cast<double>(milestone_);
    return lr_math::where_less(t, m, first_->lr_at(t, base), then_->lr_at(t - m, base));
  }

 private:
  std::shared_ptr<const LRScheduler> first_, then_;
  int64_t milestone_;
};

// lr(t) = base · λ(t), for any C++ function λ. It runs on the host, so in graph mode its rate is
// fed or assigned (keras::LearningRateScheduler assigns it), not computed by the graph.
class LambdaLR : public LRScheduler {
 public:
  using Lambda = std::function<double(int64_t)>;
  LambdaLR(Optimizer& optimizer, Lambda lr_lambda);
  explicit LambdaLR(Lambda lr_lambda);
  double lr_at(double t, double base) const override;
  graph::Output lr_at(const graph::Output& t, double base) const override;  // an error, saying the above

 private:
  Lambda lambda_;
};

// ---- TensorFlow 1's spellings, the same idea -------------------------------------------------------
// tf.train.exponential_decay(learning_rate, global_step, decay_steps, decay_rate, staircase):
//     lr · rate^(step / decay_steps), the exponent floored when staircase.
// tf.train.cosine_decay(learning_rate, global_step, decay_steps, alpha):
//     lr · ((1 − α) · (1 + cos(π · min(step, decay_steps) / decay_steps)) / 2 + α).
// T is double or a 0-dim floating graph::Output (cast an int64 global_step with to(step, kFloat64)).
template <class T>
T exponential_decay(double learning_rate, const T& global_step, int64_t decay_steps, double decay_rate,
                    bool staircase = false) {
  T p = global_step / static_cast<double>(decay_steps);
  if (staircase) p = lr_math::floor(p);
  return learning_rate * lr_math::pow(decay_rate, p);
}
template <class T> T cosine_decay(double learning_rate, const T& global_step, int64_t decay_steps, double alpha = 0) {
  const double n = static_cast<double>(decay_steps);
  const T cosine = (lr_math::cos(lr_math::min(global_step, n) * (std::numbers::pi / n)) + 1.0) * 0.5;
  return learning_rate * (cosine * (1 - alpha) + alpha);
}

}  // namespace tandem::optim
