// optim/train.h — optimizers for graph mode, as TensorFlow 1's tf.train has them.
//
//     auto train_op = g::train::AdamOptimizer(1e-3).minimize(loss);  // tf.train.AdamOptimizer
//     session.run(g::global_variables_initializer());  // after minimize(): it made variables too
//     for (...) session.run({train_op, loss}, {{x, batch}, {y, labels}});
//
// minimize(loss) = compute_gradients (gradients() for every trainable variable) + apply_gradients
// (one update node per variable, grouped into the one op you run). Nothing is updated when
// minimize() returns: it only adds nodes; each session.run of train_op takes one step.
//
// An optimizer's state lives in *slot variables* created beside each variable — "w/Momentum",
// "w/Adam" and "w/Adam_1", "w/RMSProp", "w/Adagrad" (TensorFlow's names), and "w/Adam_step", Tandem's own: TF keeps one
// pair of beta1_power/beta2_power variables for all of them, Tandem a step count per variable as
// PyTorch does — so it persists from run to run in the Session like any variable, and global_variables_initializer() must run after minimize() to create it
// (TF1's classic "Attempting to use uninitialized value w/Adam" when it ran before).
//
// The update nodes run the very ops eager mode's optimizers run (core/ops/update.cpp), so a
// model trained with graph::train::AdamOptimizer and with optim::Adam takes the same steps. One
// difference from TensorFlow: its Adam adds ε to √v̂·√(1−β2^t) ("epsilon hat"), PyTorch's to √v̂;
// Tandem uses PyTorch's formula in both modes. With the default ε = 1e-8 the two differ only where
// v is tiny.
//
// THE LEARNING RATE IS A NUMBER OR A TENSOR, as TF1's optimizers take either. A number is stored
// in each update node when minimize() makes it. An Output — a 0-dim floating placeholder fed on
// every run, a Variable that a callback assigns, or a schedule computed from global_step
// (optim/schedule.h: the formula of tf.train.cosine_decay as graph ops) — becomes one more input
// of every update node, read when the node runs (graph/executor.cpp, run_update), just as TF's
// ApplyGradientDescent(var, alpha, delta) takes alpha as an input:
//
//     g::Output lr = g::placeholder(kFloat64, {}, "lr");     // fed each run: {lr, tensor(0.01, kFloat64)}
//     auto train_op = g::train::GradientDescentOptimizer(lr).minimize(loss);
//
// (Update fusion, graph/passes/update_fusion.cpp, folds only steps whose rate is a number: its
// GEMM takes the rate when the plan is made.)
//
// RMSPropOptimizer and AdagradOptimizer follow TensorFlow's formulas, which are not PyTorch's:
// the same model trained with optim::RMSprop and with RMSPropOptimizer takes different steps, each
// mode its own framework's (optim/rmsprop_adagrad.cpp sets the two side by side).
//
// Read next: optim/optim.h (eager mode), graph/session.cpp (how an update node runs),
// optim/clip.h (clipping gradients between compute_gradients and apply_gradients).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "graph/ops.h"
#include "optim/clip.h"

namespace tandem::graph::train {

// (gradient, variable) pairs, as TF's compute_gradients returns them. The gradient is undefined
// for a variable the loss does not depend on.
using GradsAndVars = std::vector<std::pair<Output, Output>>;

// A learning rate: a number, or a 0-dim floating Output read on every run (see above).
class LearningRate {
 public:
  LearningRate(double value) : value_(value) {}  // NOLINT: implicit, so AdamOptimizer(1e-3) reads as always
  LearningRate(Output tensor);                   // NOLINT: and AdamOptimizer(lr_tensor) as in TF
  bool is_tensor() const { return tensor_.defined(); }
  double value() const { return value_; }  // the number (0 for a tensor)
  const Output& tensor() const { return tensor_; }
  // Checks a number (>= 0) for `optimizer`'s message.
  void check(const char* optimizer) const;

 private:
  double value_ = 0;
  Output tensor_;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;

  // d loss / d var for each var of var_list (empty: the graph's trainable variables).
  GradsAndVars compute_gradients(const Output& loss, std::vector<Output> var_list = {}) const;
  // One op that updates every variable with a gradient (undefined gradients are skipped; if all
  // are, that is an error) and then, if given, adds 1 to global_step.
  Output apply_gradients(const GradsAndVars& grads_and_vars, const Output& global_step = {},
                         const std::string& name = "") const;
  // Both of the above.
  Output minimize(const Output& loss, const Output& global_step = {},
                  std::vector<Output> var_list = {}, const std::string& name = "") const;

 protected:
  Optimizer(std::string name, LearningRate learning_rate);
  // The update node of one variable; creates the variable's slots if this optimizer needs any.
  virtual Output apply_one(const Output& grad, const Output& var) const = 0;
  // A slot variable for `var`, filled with initial_value (TF's slots start at 0, but RMSProp's
  // "rms" at 1 and Adagrad's accumulator at 0.1), named "<var>/<slot>", not trainable.
  Output slot(const Output& var, const std::string& slot_name, const Shape& shape, DType dtype,
              double initial_value = 0) const;
  // apply_update(op, inputs, attrs) for one variable, with the learning rate: attrs.lr when it is
  // a number, one more input when it is a tensor.
  Output update(const OpDef& op, std::vector<Output> inputs, Attrs attrs, const Output& var) const;
  std::string name_;
  LearningRate learning_rate_{0.0};
};

// w -= learning_rate · g   (tf.train.GradientDescentOptimizer)
class GradientDescentOptimizer : public Optimizer {
 public:
  explicit GradientDescentOptimizer(LearningRate learning_rate);

 private:
  Output apply_one(const Output& grad, const Output& var) const override;
};

// accumulation = momentum · accumulation + g; w -= learning_rate · accumulation
// (tf.train.MomentumOptimizer; with use_nesterov, w -= learning_rate · (g + momentum ·
// accumulation))
class MomentumOptimizer : public Optimizer {
 public:
  MomentumOptimizer(LearningRate learning_rate, double momentum, bool use_nesterov = false);

 private:
  Output apply_one(const Output& grad, const Output& var) const override;
  double momentum_;
  bool use_nesterov_;
};

// Adam (tf.train.AdamOptimizer), with PyTorch's placement of epsilon (see above).
class AdamOptimizer : public Optimizer {
 public:
  explicit AdamOptimizer(LearningRate learning_rate = 0.001, double beta1 = 0.9, double beta2 = 0.999,
                         double epsilon = 1e-8);

 private:
  Output apply_one(const Output& grad, const Output& var) const override;
  double beta1_, beta2_, epsilon_;
};

// RMSProp (tf.train.RMSPropOptimizer), TensorFlow's formula — not PyTorch's (optim/optim.h's
// RMSprop): the mean square starts at 1, ε sits inside the square root, lr inside the velocity:
//     ms = ms + (g² − ms)·(1 − decay);  mom = momentum·mom + lr·g / √(ms + ε);  w −= mom
// centered: ms − mg² in place of ms, with mg = mg + (g − mg)·(1 − decay).
// Slots, named as TF names them: "w/RMSProp" (ms), then "w/RMSProp_1" (mg, if centered), then the
// momentum, which TF always keeps ("w/RMSProp_1", or "w/RMSProp_2" when centered).
class RMSPropOptimizer : public Optimizer {
 public:
  explicit RMSPropOptimizer(LearningRate learning_rate, double decay = 0.9, double momentum = 0.0,
                            double epsilon = 1e-10, bool centered = false);

 private:
  Output apply_one(const Output& grad, const Output& var) const override;
  double decay_, momentum_, epsilon_;
  bool centered_;
};

// Adagrad (tf.train.AdagradOptimizer), TensorFlow's formula: accum += g²; w −= lr·g / √accum.
// The accumulator, slot "w/Adagrad", starts at initial_accumulator_value (0.1; PyTorch's default
// is 0 with an ε added to √s instead). No ε, no learning-rate decay, no weight decay.
class AdagradOptimizer : public Optimizer {
 public:
  explicit AdagradOptimizer(LearningRate learning_rate, double initial_accumulator_value = 0.1);

 private:
  Output apply_one(const Output& grad, const Output& var) const override;
  double initial_accumulator_value_;
};

// tf.clip_by_global_norm over compute_gradients' pairs, for apply_gradients: the same variables,
// their gradients clipped together (optim/clip.h), and the global norm before clipping.
//     auto [clipped, norm] = clip_by_global_norm(opt.compute_gradients(loss), 5.0);
//     Output train_op = opt.apply_gradients(clipped);
std::pair<GradsAndVars, Output> clip_by_global_norm(const GradsAndVars& grads_and_vars, double clip_norm);

}  // namespace tandem::graph::train
