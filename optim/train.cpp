// optim/train.cpp — graph-mode optimizers: gradients() nodes, slot variables, update nodes.
//
// Everything here happens while the graph is built; nothing is computed. minimize() asks
// gradients() (graph/gradients.cpp) for the backward pass as nodes, then each optimizer's
// apply_one() adds what one variable's step needs: its slot variables, made once, zero-filled by
// the initializer, and one update node (graph::apply_update) that the Session will run in place.
// apply_gradients() groups those nodes, and adds global_step += 1 behind a control dependency on
// all of them, so the count moves only after every variable has taken its step.
//
// Read next: graph/session.cpp (case Kind::update: how a step runs, copy on write),
// graph/passes/update_fusion.cpp (how a plain SGD step folds into its gradient's GEMM).
#include "optim/train.h"

#include <utility>

#include "core/factories.h"
#include "graph/gradients.h"
#include "core/ops.h"

namespace tandem::graph::train {

namespace {

// Slot variables are named after their variable ("w/Adam"), whatever name scope or control
// dependencies are open where minimize() is called: both are set aside while a slot is made.
class OutsideScopes {
 public:
  explicit OutsideScopes(Graph& g)
      : graph_(g),
        scopes_(std::exchange(g.scopes, {})),
        control_(std::exchange(g.control_stack, {})) {}
  ~OutsideScopes() {
    graph_.scopes = std::move(scopes_);
    graph_.control_stack = std::move(control_);
  }
  OutsideScopes(const OutsideScopes&) = delete;
  OutsideScopes& operator=(const OutsideScopes&) = delete;

 private:
  Graph& graph_;
  std::vector<std::string> scopes_;
  std::vector<std::vector<Node*>> control_;
};

std::string names_of(const std::vector<Output>& vars) {
  std::string s;
  for (const Output& v : vars) s += (s.empty() ? "" : ", ") + v.node()->name;
  return s;
}

}  // namespace

LearningRate::LearningRate(Output tensor) : tensor_(std::move(tensor)) {
  if (!tensor_.defined()) throw Error("LearningRate: the learning-rate tensor is undefined");
  if (tensor_.dim() != 0 || !is_floating(tensor_.dtype()))
    throw ShapeError(msg("LearningRate: the learning rate '", tensor_.name(), "' must be a 0-dim floating point tensor, got ",
                         to_string(tensor_.dtype()), " ", shape_str(tensor_.shape()),
                         "; e.g. g::placeholder(kFloat64, {}) or g::Variable(tensor(0.01), false, \"lr\")"));
}

void LearningRate::check(const char* optimizer) const {
  if (!is_tensor() && value_ < 0) throw Error(msg(optimizer, ": Invalid learning rate: ", value_));
}

Optimizer::Optimizer(std::string name, LearningRate learning_rate)
    : name_(std::move(name)), learning_rate_(std::move(learning_rate)) {
  learning_rate_.check((name_ + "Optimizer").c_str());
}

Output Optimizer::update(const OpDef& op, std::vector<Output> inputs, Attrs attrs, const Output& var) const {
  if (learning_rate_.is_tensor()) inputs.push_back(learning_rate_.tensor());  // read on every run
  else attrs.lr = learning_rate_.value();                                     // fixed now
  return apply_update(op, inputs, attrs, "update_" + var.node()->name);
}

GradsAndVars Optimizer::compute_gradients(const Output& loss, std::vector<Output> var_list) const {
  if (!loss.defined()) throw Error(msg(name_, ".compute_gradients: the loss is undefined"));
  if (var_list.empty()) var_list = loss.graph().trainable_variables();
  if (var_list.empty()) throw Error(msg(name_, ": No variables to optimize."));
  for (const Output& v : var_list)
    if (v.node()->kind != Kind::variable)
      throw Error(msg(name_, ": '", v.name(), "' is a ", v.node()->type,
                      ", not a Variable; only "
                      "variables can be optimized"));
  DefaultGraph use(loss.graph());
  const std::vector<Output> grads = gradients({loss}, var_list);
  GradsAndVars out;
  for (size_t k = 0; k < var_list.size(); ++k) out.emplace_back(grads[k], var_list[k]);
  return out;
}

Output Optimizer::apply_gradients(const GradsAndVars& grads_and_vars, const Output& global_step,
                                  const std::string& name) const {
  std::vector<Output> vars;
  for (const auto& [g, v] : grads_and_vars)
    if (g.defined()) vars.push_back(v);
  if (vars.empty()) {
    std::vector<Output> all;
    for (const auto& gv : grads_and_vars) all.push_back(gv.second);
    throw Error(
        msg("No gradients provided for any variable, check your graph for ops that do not support "
            "gradients, between variables [",
            names_of(all), "] and the loss"));
  }
  DefaultGraph use(vars[0].graph());
  std::vector<Output> updates;
  {
    NameScope scope(name.empty() ? name_ : name);
    for (const auto& [g, v] : grads_and_vars)
      if (g.defined()) updates.push_back(apply_one(g, v));
  }
  if (global_step.defined()) {
    ControlDependencies after(updates);
    updates.push_back(assign_add(global_step, constant(1, global_step.dtype())));
  }
  return group(updates, name.empty() ? name_ : name);
}

Output Optimizer::minimize(const Output& loss, const Output& global_step,
                           std::vector<Output> var_list, const std::string& name) const {
  return apply_gradients(compute_gradients(loss, std::move(var_list)), global_step, name);
}

Output Optimizer::slot(const Output& var, const std::string& slot_name, const Shape& shape,
                       DType dtype, double initial_value) const {
  OutsideScopes outside(var.graph());
  // On the variable's device, as TF places slots: a variable made from a GPU tensor gets GPU slots.
  return Variable(full(shape, initial_value, dtype, var.node()->value.device()), /*trainable=*/false,
                  var.node()->name + "/" + slot_name);
}

// ---- the three optimizers -----------------------------------------------------------------------

GradientDescentOptimizer::GradientDescentOptimizer(LearningRate learning_rate)
    : Optimizer("GradientDescent", std::move(learning_rate)) {}

Output GradientDescentOptimizer::apply_one(const Output& grad, const Output& var) const {
  return update(ops::sgd_update, {var, grad}, {}, var);
}

MomentumOptimizer::MomentumOptimizer(LearningRate learning_rate, double momentum, bool use_nesterov)
    : Optimizer("Momentum", std::move(learning_rate)), momentum_(momentum), use_nesterov_(use_nesterov) {
  if (momentum < 0) throw Error(msg("MomentumOptimizer: Invalid momentum value: ", momentum));
}

Output MomentumOptimizer::apply_one(const Output& grad, const Output& var) const {
  const Output accumulation = slot(var, "Momentum", var.shape(), var.dtype());
  Attrs a;
  a.momentum = momentum_;
  a.nesterov = use_nesterov_;
  return update(ops::momentum_update, {var, accumulation, grad}, a, var);
}

AdamOptimizer::AdamOptimizer(LearningRate learning_rate, double beta1, double beta2, double epsilon)
    : Optimizer("Adam", std::move(learning_rate)), beta1_(beta1), beta2_(beta2), epsilon_(epsilon) {
  if (beta1 < 0 || beta1 >= 1) throw Error(msg("AdamOptimizer: Invalid beta1: ", beta1));
  if (beta2 < 0 || beta2 >= 1) throw Error(msg("AdamOptimizer: Invalid beta2: ", beta2));
  if (epsilon < 0) throw Error(msg("AdamOptimizer: Invalid epsilon: ", epsilon));
}

Output AdamOptimizer::apply_one(const Output& grad, const Output& var) const {
  const Output m = slot(var, "Adam", var.shape(), var.dtype());
  const Output v = slot(var, "Adam_1", var.shape(), var.dtype());
  const Output t = slot(var, "Adam_step", {}, kFloat32);  // steps taken, as eager Adam counts them
  Attrs a;
  a.beta1 = beta1_;
  a.beta2 = beta2_;
  a.eps = epsilon_;
  return update(ops::adam_update, {var, m, v, t, grad}, a, var);
}

}  // namespace tandem::graph::train
