// optim/schedule.cpp — the schedulers' bookkeeping (the formulas are in optim/schedule.h) and their checks.
#include "optim/schedule.h"

#include "core/error.h"

namespace tandem::optim {

namespace {
void require(bool ok, const char* schedule, const std::string& what) {
  if (!ok) throw Error(msg(schedule, ": ", what));
}
}  // namespace

graph::Output LRScheduler::learning_rate(const graph::Output& step, double base_lr) const {
  if (!step.defined()) throw Error(msg(name_, ".learning_rate: the step counter is undefined"));
  if (step.dim() != 0)
    throw ShapeError(msg(name_, ".learning_rate: the step counter must be a 0-dim tensor (a global_step), got ",
                         shape_str(step.shape())));
  return lr_at(to(step, kFloat64), base_lr);
}

void LRScheduler::begin() {
  if (!optimizer_) return;
  base_lr_ = optimizer_->lr();
  last_lr_ = lr_at(0.0, base_lr_);
  optimizer_->set_lr(last_lr_);
}

void LRScheduler::step() {
  if (!optimizer_)
    throw Error(msg(name_, ".step(): this schedule was made without an optimizer, so it has no rate to set; make it "
                           "with one (", name_, "(optimizer, {...})), or use lr_at(t, base_lr) yourself"));
  ++last_epoch_;
  last_lr_ = lr_at(static_cast<double>(last_epoch_), base_lr_);
  optimizer_->set_lr(last_lr_);
}

// ---- StepLR, ExponentialLR, CosineAnnealingLR, LinearLR: checks, then begin() -------------------------

StepLR::StepLR(StepLROptions o) : Schedule(nullptr, "StepLR"), options(o) {
  require(o.step_size > 0, name_, msg("step_size must be a positive number of counts, got ", o.step_size,
                                      "; e.g. StepLR(opt, {.step_size = 30, .gamma = 0.1})"));
  require(o.gamma > 0, name_, msg("gamma must be positive, got ", o.gamma));
}
StepLR::StepLR(Optimizer& optimizer, StepLROptions o) : StepLR(o) {
  optimizer_ = &optimizer;
  begin();
}

ExponentialLR::ExponentialLR(ExponentialLROptions o) : Schedule(nullptr, "ExponentialLR"), options(o) {
  require(o.gamma > 0, name_, msg("gamma must be positive, got ", o.gamma, "; e.g. ExponentialLR(opt, {.gamma = 0.95})"));
}
ExponentialLR::ExponentialLR(Optimizer& optimizer, ExponentialLROptions o) : ExponentialLR(o) {
  optimizer_ = &optimizer;
  begin();
}

CosineAnnealingLR::CosineAnnealingLR(CosineAnnealingLROptions o) : Schedule(nullptr, "CosineAnnealingLR"), options(o) {
  require(o.T_max > 0, name_, msg("T_max must be a positive number of counts, got ", o.T_max,
                                  "; e.g. CosineAnnealingLR(opt, {.T_max = 10})"));
  require(o.eta_min >= 0, name_, msg("eta_min must not be negative, got ", o.eta_min));
}
CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, CosineAnnealingLROptions o) : CosineAnnealingLR(o) {
  optimizer_ = &optimizer;
  begin();
}

LinearLR::LinearLR(LinearLROptions o) : Schedule(nullptr, "LinearLR"), options(o) {
  // PyTorch's checks and words.
  require(o.start_factor > 0 && o.start_factor <= 1, name_,
          msg("Starting multiplicative factor expected to be greater than 0 and less or equal to 1, got ", o.start_factor));
  require(o.end_factor >= 0 && o.end_factor <= 1, name_,
          msg("Ending multiplicative factor expected to be between 0 and 1, got ", o.end_factor));
  require(o.total_iters > 0, name_, msg("total_iters must be positive, got ", o.total_iters));
}
LinearLR::LinearLR(Optimizer& optimizer, LinearLROptions o) : LinearLR(o) {
  optimizer_ = &optimizer;
  begin();
}

SequentialLR::SequentialLR(std::shared_ptr<const LRScheduler> first, std::shared_ptr<const LRScheduler> then,
                           int64_t milestone)
    : Schedule(nullptr, "SequentialLR"), first_(std::move(first)), then_(std::move(then)), milestone_(milestone) {
  require(first_ && then_, name_, "both schedules are needed (one is null)");
  require(milestone > 0, name_, msg("the milestone must be a positive count, got ", milestone));
}
SequentialLR::SequentialLR(Optimizer& optimizer, std::shared_ptr<const LRScheduler> first,
                           std::shared_ptr<const LRScheduler> then, int64_t milestone)
    : SequentialLR(std::move(first), std::move(then), milestone) {
  optimizer_ = &optimizer;
  begin();
}

// ---- LambdaLR -------------------------------------------------------------------------------------------

LambdaLR::LambdaLR(Lambda lr_lambda) : LRScheduler(nullptr, "LambdaLR"), lambda_(std::move(lr_lambda)) {
  require(static_cast<bool>(lambda_), name_, "the function is empty");
}
LambdaLR::LambdaLR(Optimizer& optimizer, Lambda lr_lambda) : LambdaLR(std::move(lr_lambda)) {
  optimizer_ = &optimizer;
  begin();
}

double LambdaLR::lr_at(double t, double base) const { return base * lambda_(static_cast<int64_t>(t)); }

graph::Output LambdaLR::lr_at(const graph::Output&, double) const {
  throw Error("LambdaLR: its function is C++ code that runs on the host, not graph ops; in graph mode feed its rate "
              "(a placeholder learning rate) or assign it to a Variable each epoch (keras::LearningRateScheduler does), "
              "or write the formula with a schedule of optim/schedule.h");
}

}  // namespace tandem::optim
