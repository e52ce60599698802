// train/steps.h — the only part of fit() that differs between the modes: one step on one batch.
//
// fit(), evaluate() and predict() (train/fit.cpp) are one loop for both modes. Each batch goes
// through one of three functions, and only they know the mode:
//
//                     EagerSteps (PyTorch's loop)            GraphSteps (TensorFlow 1's loop)
//   train_step(x, y)  opt.zero_grad()                        session.run({train_op, loss, scores},
//                     out = model(x); loss = criterion(out, y)             {{x_ph, x}, {y_ph, y}})
//                     loss.backward(); opt.step()
//   test_step(x, y)   model(x) in eval mode, no tape          session.run({eval_loss, eval_scores}, feeds)
//   predict_step(x)   model(x) in eval mode, no tape          session.run(eval_out, {{x_ph, x}})
//
// GraphSteps builds its graph once, on the first batch it sees (that is when the shapes of x and
// y are known, as Keras builds a model on its first call): placeholders with an unknown batch
// dimension, the training path — the module called in train mode, the loss, each metric's scores,
// minimize() with a learning rate that is a Variable — and the evaluation path (the module in eval
// mode, sharing the Variables). After that it only runs the session.
//
// The weights: eagerly they are the module's tensors. In graph mode the session holds them while
// fit runs; push() sends the module's current values in (copy_to), pull() writes the trained ones
// back (copy_from), so between calls the module is always up to date.
//
// Read next: train/fit.cpp (the one loop).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "graph/session.h"
#include "io/checkpoint.h"
#include "io/saver.h"
#include "layers/module.h"
#include "optim/optim.h"
#include "train/fit.h"

namespace tandem::keras {

// What a step returns: the batch's loss (a 0-dim tensor) and each metric's scores.
struct StepResult {
  Tensor loss;
  std::vector<Tensor> scores;
};

class Steps {
 public:
  virtual ~Steps() = default;
  virtual StepResult train_step(const Tensor& x, const Tensor& y) = 0;
  virtual StepResult test_step(const Tensor& x, const Tensor& y) = 0;
  virtual Tensor predict_step(const Tensor& x) = 0;

  // Graph mode's weights live in its session: push() sends the module's values in (at the start of
  // a fit, evaluate or predict, and after set_weights), pull() writes the session's back into the
  // module (at the end, and for get_weights). Eagerly the module's tensors are the weights: no-ops.
  virtual void push() {}
  virtual void pull() {}

  virtual double lr() const = 0;
  virtual void set_lr(double lr) = 0;
  // The optimizer's state (io/checkpoint.h's "optimizer." part) into a checkpoint, and back. The
  // model's weights go with them (the module's eagerly, the session's Variables in graph mode).
  virtual void save(const std::string& path, io::Checkpoint extra) = 0;
  virtual io::Checkpoint restore(const std::string& path) = 0;
};

// ---- eager mode -------------------------------------------------------------------------------------------
class EagerSteps : public Steps {
 public:
  EagerSteps(std::shared_ptr<nn::Module> module, const CompileOptions& options,
             std::vector<std::shared_ptr<PredictionMetric>> metrics);
  StepResult train_step(const Tensor& x, const Tensor& y) override;
  StepResult test_step(const Tensor& x, const Tensor& y) override;
  Tensor predict_step(const Tensor& x) override;
  double lr() const override { return optimizer_->lr(); }
  void set_lr(double lr) override { optimizer_->set_lr(lr); }
  void save(const std::string& path, io::Checkpoint extra) override;
  io::Checkpoint restore(const std::string& path) override;
  optim::Optimizer& optimizer() const { return *optimizer_; }

 private:
  std::vector<Tensor> scores(const Tensor& out, const Tensor& y) const;
  std::shared_ptr<nn::Module> module_;
  Loss loss_;
  std::vector<std::shared_ptr<PredictionMetric>> metrics_;
  std::unique_ptr<optim::Optimizer> optimizer_;
};

// ---- graph mode --------------------------------------------------------------------------------------------
class GraphSteps : public Steps {
 public:
  GraphSteps(std::shared_ptr<nn::Module> module, const CompileOptions& options,
             std::vector<std::shared_ptr<PredictionMetric>> metrics);
  ~GraphSteps() override;
  StepResult train_step(const Tensor& x, const Tensor& y) override;
  StepResult test_step(const Tensor& x, const Tensor& y) override;
  Tensor predict_step(const Tensor& x) override;
  void push() override;
  void pull() override;
  double lr() const override { return lr_; }
  void set_lr(double lr) override;
  void save(const std::string& path, io::Checkpoint extra) override;
  io::Checkpoint restore(const std::string& path) override;
  bool built() const { return session_ != nullptr; }
  graph::Graph& graph() { return graph_; }

 private:
  // The graph, from the first batch's shapes (y: none, for a predict before any fit).
  void build(const Tensor& x, const Tensor* y);
  graph::train::NamedVariables checkpoint_variables() const;
  graph::FeedDict feeds(const Tensor& x, const Tensor* y) const;

  std::shared_ptr<nn::Module> module_;
  CompileOptions options_;
  std::vector<std::shared_ptr<PredictionMetric>> metrics_;
  double lr_;

  graph::Graph graph_;
  graph::Output x_, y_;                       // placeholders, batch dimension unknown
  graph::Output learning_rate_, lr_feed_, assign_lr_;  // a float64 Variable the update nodes read
  graph::Output train_op_, train_loss_;       // the training path
  std::vector<graph::Output> train_scores_;
  graph::Output eval_out_, eval_loss_;        // the evaluation path
  std::vector<graph::Output> eval_scores_;
  std::unique_ptr<graph::Session> session_;
  std::unique_ptr<graph::train::Saver> saver_;
  std::optional<std::string> pending_restore_;  // a checkpoint loaded before the graph was built
};

}  // namespace tandem::keras
