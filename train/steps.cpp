// train/steps.cpp — one step on one batch, eagerly (PyTorch's loop) and as a session run (TF1's).
//
// Read the two train_step()s side by side: the same four ideas — forward, loss, gradients, update —
// run now on tensors, or were built once as nodes and now only run.
#include "train/steps.h"

#include <algorithm>
#include <type_traits>

#include "autograd/grad_mode.h"
#include "core/factories.h"
#include "graph/ops.h"
#include "optim/train.h"

namespace tandem::keras {

namespace g = tandem::graph;

namespace {

// The eager optimizer of compile's options, over the module's parameters.
std::unique_ptr<optim::Optimizer> eager_optimizer(const OptimizerOptions& options, std::vector<Tensor> params) {
  return std::visit(
      [&](const auto& o) -> std::unique_ptr<optim::Optimizer> {
        using O = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<O, optim::SGDOptions>) return std::make_unique<optim::SGD>(params, o);
        else if constexpr (std::is_same_v<O, optim::AdamOptions>) return std::make_unique<optim::Adam>(params, o);
        else if constexpr (std::is_same_v<O, optim::AdamWOptions>) return std::make_unique<optim::AdamW>(params, o);
        else if constexpr (std::is_same_v<O, optim::RMSpropOptions>) return std::make_unique<optim::RMSprop>(params, o);
        else return std::make_unique<optim::Adagrad>(params, o);
      },
      options);
}

// What graph mode's optimizers (optim/train.h) cannot do — weight decay, dampening, AdamW — is
// refused by name when the model is compiled, rather than silently dropped.
void check_graph_optimizer(const OptimizerOptions& options) {
  auto refuse = [](const std::string& what) {
    throw Error(msg("compile: graph mode's optimizers (optim/train.h) have no ", what,
                    "; compile with run_eagerly = true to use it, or leave it out"));
  };
  if (const auto* o = std::get_if<optim::SGDOptions>(&options)) {
    if (o->weight_decay != 0) refuse("weight_decay");
    if (o->dampening != 0) refuse("dampening");
  } else if (const auto* o = std::get_if<optim::AdamOptions>(&options)) {
    if (o->weight_decay != 0) refuse("weight_decay for Adam");
  } else if (std::holds_alternative<optim::AdamWOptions>(options)) {
    refuse("AdamW");
  } else {
    refuse("PyTorch's RMSprop or Adagrad (RMSPropOptimizer and AdagradOptimizer compute TensorFlow's formulas, "
           "which train differently)");
  }
}

// The eager optimizer's graph-mode twin, reading the learning rate from the Variable `lr`.
std::unique_ptr<g::train::Optimizer> graph_optimizer(const OptimizerOptions& options, const g::Output& lr) {
  check_graph_optimizer(options);
  if (const auto* o = std::get_if<optim::SGDOptions>(&options)) {
    if (o->momentum == 0) return std::make_unique<g::train::GradientDescentOptimizer>(lr);
    return std::make_unique<g::train::MomentumOptimizer>(lr, o->momentum, o->nesterov);
  }
  const auto& o = std::get<optim::AdamOptions>(options);
  return std::make_unique<g::train::AdamOptimizer>(lr, o.beta1, o.beta2, o.eps);
}

double compiled_rate(const OptimizerOptions& options) {
  return std::visit([](const auto& o) { return o.lr; }, options);
}

// [?, d1, d2...]: the shape of a batch whose size is not known until it is fed.
Shape batch_shape(const Tensor& t) {
  Shape s = t.shape();
  if (s.empty())
    throw ShapeError("fit: a batch must have a batch dimension, but got a 0-dim tensor; give x and y with one "
                     "example per row");
  s[0] = kUnknown;
  return s;
}

}  // namespace

// ==== eager mode ============================================================================================

EagerSteps::EagerSteps(std::shared_ptr<nn::Module> module, const CompileOptions& options,
                       std::vector<std::shared_ptr<PredictionMetric>> metrics)
    : module_(std::move(module)),
      loss_(options.loss),
      metrics_(std::move(metrics)),
      optimizer_(eager_optimizer(options.optimizer, module_->parameters())) {}

std::vector<Tensor> EagerSteps::scores(const Tensor& out, const Tensor& y) const {
  no_grad scoring;
  std::vector<Tensor> s;
  for (const auto& m : metrics_) s.push_back(m->scores(out.detach(), y));
  return s;
}

// PyTorch's four lines.
StepResult EagerSteps::train_step(const Tensor& x, const Tensor& y) {
  if (!module_->is_training()) module_->train();
  optimizer_->zero_grad();                 // optimizer.zero_grad()
  const Tensor out = module_->call(x);     // output = model(x)
  const Tensor loss = loss_(out, y);       // loss = criterion(output, y)
  loss.backward();                         // loss.backward()
  optimizer_->step();                      // optimizer.step()
  return {loss.detach(), scores(out, y)};
}

StepResult EagerSteps::test_step(const Tensor& x, const Tensor& y) {
  if (module_->is_training()) module_->eval();  // model.eval()
  no_grad evaluating;                            // with torch.no_grad():
  const Tensor out = module_->call(x);
  return {loss_(out, y), scores(out, y)};
}

Tensor EagerSteps::predict_step(const Tensor& x) {
  if (module_->is_training()) module_->eval();
  no_grad predicting;
  return module_->call(x);
}

void EagerSteps::save(const std::string& path, io::Checkpoint extra) {
  extra.tensors.update(module_->state_dict().with_prefix("model."));
  extra.tensors.update(optimizer_->state_dict().with_prefix("optimizer."));
  io::save_checkpoint(extra, path);
}

io::Checkpoint EagerSteps::restore(const std::string& path) {
  io::Checkpoint c = io::load_checkpoint(path);
  io::restore_training(c, module_->state_dict(), optimizer_.get());  // model, optimizer, generator: all or nothing
  return c;
}

// ==== graph mode ============================================================================================

GraphSteps::GraphSteps(std::shared_ptr<nn::Module> module, const CompileOptions& options,
                       std::vector<std::shared_ptr<PredictionMetric>> metrics)
    : module_(std::move(module)), options_(options), metrics_(std::move(metrics)), lr_(compiled_rate(options.optimizer)) {
  check_graph_optimizer(options_.optimizer);
}

GraphSteps::~GraphSteps() { module_->unbind(graph_); }  // the module forgets this graph's Variables

// TensorFlow 1's program, written once: placeholders, the two paths, minimize(), a Session.
// Built into locals and kept only when all of it succeeded: a loss that refuses the labels' shape
// leaves the steps as they were (the nodes already added stay in the graph, unused).
void GraphSteps::build(const Tensor& x_batch, const Tensor* y) {
  g::DefaultGraph use(graph_);
  struct KeepMode {  // the module's train/eval flag, as the caller had it, however build() ends
    nn::Module& m;
    bool was = m.is_training();
    ~KeepMode() { m.train(was); }
  } keep{*module_};
  g::Output x = x_, learning_rate = learning_rate_, lr_feed = lr_feed_, assign_lr = assign_lr_, eval_out = eval_out_;
  if (!x.defined()) {
    x = g::placeholder(x_batch.dtype(), batch_shape(x_batch), "x");
    learning_rate = g::Variable(full({}, lr_, kFloat64), /*trainable=*/false, "learning_rate");
    lr_feed = g::placeholder(kFloat64, {}, "learning_rate_value");
    assign_lr = g::assign(learning_rate, lr_feed);
    module_->eval();  // the evaluation path: dropout off, batch norm's running statistics
    eval_out = module_->call(x);
  }
  g::Output y_ph, train_op, train_loss, eval_loss;
  std::vector<g::Output> train_scores, eval_scores;
  if (y) {
    y_ph = g::placeholder(y->dtype(), batch_shape(*y), "y");
    module_->train();  // the training path: dropout on, batch statistics, running-statistic updates
    const g::Output out = module_->call(x);
    train_loss = options_.loss(out, y_ph);
    for (const auto& m : metrics_) train_scores.push_back(m->scores(out, y_ph));
    train_op = graph_optimizer(options_.optimizer, learning_rate)->minimize(train_loss);
    eval_loss = options_.loss(eval_out, y_ph);
    for (const auto& m : metrics_) eval_scores.push_back(m->scores(eval_out, y_ph));
  }
  // All of it was built: keep it.
  x_ = x, learning_rate_ = learning_rate, lr_feed_ = lr_feed, assign_lr_ = assign_lr, eval_out_ = eval_out;
  if (y) {
    y_ = y_ph, train_op_ = train_op, train_loss_ = train_loss, eval_loss_ = eval_loss;
    train_scores_ = std::move(train_scores), eval_scores_ = std::move(eval_scores);
  }
  if (!session_) session_ = std::make_unique<g::Session>(graph_, options_.session);
  // Every variable starts from its initializer — the module's values when it was bound, the rate,
  // zero slots — and then takes the module's values now (they may have changed since).
  session_->run(g::global_variables_initializer(graph_));
  module_->copy_to(*session_);
  set_lr(lr_);
  saver_ = std::make_unique<g::train::Saver>(checkpoint_variables(), g::train::SaverOptions{.max_to_keep = 0});
  if (pending_restore_ && y_.defined()) {
    saver_->restore(*session_, *pending_restore_);  // the optimizer's slots too, now that they exist
    pending_restore_.reset();
  }
}

g::FeedDict GraphSteps::feeds(const Tensor& x, const Tensor* y) const {
  g::FeedDict f = {{x_, x}};
  if (y) f.emplace_back(y_, *y);
  return f;
}

// TensorFlow 1's loop body: one run of the train op, fetching the loss and the metrics' scores.
StepResult GraphSteps::train_step(const Tensor& x, const Tensor& y) {
  if (!y_.defined()) build(x, &y);
  std::vector<g::Output> fetches = {train_op_, train_loss_};
  fetches.insert(fetches.end(), train_scores_.begin(), train_scores_.end());
  std::vector<Tensor> got = session_->run(fetches, feeds(x, &y));
  return {got[1], std::vector<Tensor>(got.begin() + 2, got.end())};
}

StepResult GraphSteps::test_step(const Tensor& x, const Tensor& y) {
  if (!y_.defined()) build(x, &y);
  std::vector<g::Output> fetches = {eval_loss_};
  fetches.insert(fetches.end(), eval_scores_.begin(), eval_scores_.end());
  std::vector<Tensor> got = session_->run(fetches, feeds(x, &y));
  return {got[0], std::vector<Tensor>(got.begin() + 1, got.end())};
}

Tensor GraphSteps::predict_step(const Tensor& x) {
  if (!x_.defined()) build(x, nullptr);
  return session_->run(eval_out_, feeds(x, nullptr));
}

void GraphSteps::pull() {
  if (session_) module_->copy_from(*session_);
}

void GraphSteps::push() {
  if (session_) module_->copy_to(*session_);
}

void GraphSteps::set_lr(double lr) {
  if (lr < 0) throw Error(msg("set_lr: Invalid learning rate: ", lr));
  lr_ = lr;
  if (session_) session_->run(assign_lr_, {{lr_feed_, full({}, lr, kFloat64)}});  // learning_rate = lr
}

// The model's Variables under "model." and their state_dict names; everything else the graph
// holds (the optimizer's slots, the rate) under "optimizer." and its node name.
g::train::NamedVariables GraphSteps::checkpoint_variables() const {
  g::train::NamedVariables out;
  std::vector<const g::Node*> mine;
  for (const auto& [name, v] : module_->named_variables(graph_)) {
    out.emplace_back("model." + name, v);
    mine.push_back(v.node());
  }
  for (const g::Output& v : graph_.global_variables())
    if (std::find(mine.begin(), mine.end(), v.node()) == mine.end()) out.emplace_back("optimizer." + v.node()->name, v);
  return out;
}

void GraphSteps::save(const std::string& path, io::Checkpoint extra) {
  if (!session_) {  // nothing built yet: the module's weights are all there is
    extra.tensors.update(module_->state_dict().with_prefix("model."));
    extra.tensors.insert("optimizer.learning_rate", full({}, lr_, kFloat64));
    return io::save_checkpoint(extra, path);
  }
  saver_->save(*session_, path, std::nullopt, std::move(extra));
}

io::Checkpoint GraphSteps::restore(const std::string& path) {
  io::Checkpoint c = io::load_checkpoint(path);
  if (y_.defined()) {
    saver_->restore(*session_, path);  // all or nothing
    module_->copy_from(*session_);
  } else {
    // Not built yet: the weights go into the module now (all or nothing); the optimizer's slots when
    // the training path exists (build()).
    module_->load_state_dict(c.tensors.under("model."));
    pending_restore_ = path;
    if (session_) module_->copy_to(*session_);
  }
  if (c.tensors.contains("optimizer.learning_rate")) lr_ = c.tensors.at("optimizer.learning_rate").item();
  if (c.generator) set_rng_state(*c.generator);
  return c;
}

}  // namespace tandem::keras
