// train/fit.cpp — fit(), evaluate() and predict(): ONE loop for both modes.
//
// Read fit() below: epochs, batches, metrics, validation, callbacks, History. The mode appears in
// one line — `steps.train_step(x, y)` — where EagerSteps runs PyTorch's four lines and GraphSteps
// runs a session (train/steps.h). That is the whole difference between the two ways of training.
#include "train/fit.h"

#include <cmath>
#include <cstdio>
#include <iostream>
#include <numeric>

#include "autograd/grad_mode.h"
#include "layers/keras.h"
#include "layers/losses.h"
#include "train/progress.h"
#include "train/steps.h"

namespace tandem::keras {

namespace F = nn::functional;

// ==== compile's pieces =====================================================================================

namespace {
// The losses by name, each one generic lambda for both modes.
Loss loss_named(const std::string& name) {
  if (name == "cross_entropy") return [](const auto& out, const auto& y) { return F::cross_entropy(out, y); };
  if (name == "nll_loss") return [](const auto& out, const auto& y) { return F::nll_loss(out, y); };
  if (name == "mse_loss") return [](const auto& out, const auto& y) { return F::mse_loss(out, y); };
  if (name == "l1_loss") return [](const auto& out, const auto& y) { return F::l1_loss(out, y); };
  if (name == "binary_cross_entropy")
    return [](const auto& out, const auto& y) { return F::binary_cross_entropy(out, y); };
  if (name == "binary_cross_entropy_with_logits")
    return [](const auto& out, const auto& y) { return F::binary_cross_entropy_with_logits(out, y); };
  if (name == "sparse_categorical_crossentropy")  // Keras's: (y_true, y_pred), one loss per example, then the mean
    return [](const auto& out, const auto& y) { return mean(keras::losses::sparse_categorical_crossentropy(y, out)); };
  throw Error(msg("compile: no loss named '", name, "'; the losses by name are \"cross_entropy\", \"nll_loss\", "
                  "\"mse_loss\", \"l1_loss\", \"binary_cross_entropy\", \"binary_cross_entropy_with_logits\" and "
                  "\"sparse_categorical_crossentropy\" — or pass a function: "
                  ".loss = [](const auto& out, const auto& y) { return ...; }"));
}
}  // namespace

Loss::Loss(const char* name) : Loss(std::string(name)) {}
Loss::Loss(const std::string& name) {
  *this = loss_named(name);
  name_ = name;
}

Tensor Loss::operator()(const Tensor& output, const Tensor& target) const {
  if (!eager_) throw Error("compile: no loss was given; e.g. .loss = \"cross_entropy\"");
  return eager_(output, target);
}
graph::Output Loss::operator()(const graph::Output& output, const graph::Output& target) const {
  if (!graph_) throw Error("compile: no loss was given; e.g. .loss = \"cross_entropy\"");
  return graph_(output, target);
}

MetricSpec::MetricSpec(const char* name) : metric_(metric_named(name)) {}
MetricSpec::MetricSpec(const std::string& name) : metric_(metric_named(name)) {}

// ==== the compiled model ===================================================================================

Model::Model(std::shared_ptr<nn::Module> module, CompileOptions options)
    : module_(std::move(module)), options_(std::move(options)) {
  if (!module_) throw Error("compile: the module is empty (a null holder); build the model first");
  if (!options_.loss.defined())
    throw Error("compile: a loss is required, e.g. .loss = \"cross_entropy\" (logits and int64 labels)");
  const double lr = std::visit([](const auto& o) { return o.lr; }, options_.optimizer);
  if (lr < 0)
    throw Error(msg("compile: the optimizer needs a learning rate >= 0, got ", lr,
                    std::holds_alternative<optim::SGDOptions>(options_.optimizer) ? " (SGD has no default: "
                                                                                    "optim::SGDOptions{.lr = 0.1})"
                                                                                  : ""));
  for (const MetricSpec& m : options_.metrics) metrics_.push_back(m.metric());
  if (options_.run_eagerly) steps_ = std::make_unique<EagerSteps>(module_, options_, metrics_);
  else steps_ = std::make_unique<GraphSteps>(module_, options_, metrics_);
}

Model::~Model() = default;
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;

Model compile(std::shared_ptr<nn::Module> module, CompileOptions options) {
  return Model(std::move(module), std::move(options));
}

double Model::lr() const { return steps_->lr(); }
void Model::set_lr(double lr) { steps_->set_lr(lr); }
double Model::compiled_lr() const { return std::visit([](const auto& o) { return o.lr; }, options_.optimizer); }

StateDict Model::get_weights() const {
  steps_->pull();
  return module_->state_dict().clone();
}

void Model::set_weights(const StateDict& weights) {
  module_->load_state_dict(weights);  // all or nothing
  steps_->push();
}

void Model::save_checkpoint(const std::string& path, int64_t epoch) const {
  io::Checkpoint extra;
  extra.epoch = epoch;
  extra.record_random_state(active_loader);  // the generator, and the loader's seed and next epoch
  extra.notes["mode"] = run_eagerly() ? "eager" : "graph";
  steps_->save(path, std::move(extra));
}

int64_t Model::load_checkpoint(const std::string& path) {
  // The optimizer's state is kept as each mode keeps it (eager: its state_dict; graph: its slot
  // Variables), so a run resumes in the mode it was saved in. Its weights load anywhere.
  const std::string mode = run_eagerly() ? "eager" : "graph";
  const io::Checkpoint peek = io::load_checkpoint(path);
  if (peek.notes.count("mode") && peek.notes.at("mode") != mode)
    throw Error(msg("load_checkpoint: '", path, "' was written by a model trained in ", peek.notes.at("mode"),
                    " mode, and this one is compiled for ", mode, " mode: its optimizer state does not carry over. "
                    "Resume in ", peek.notes.at("mode"), " mode, or take the weights alone: "
                    "model.set_weights(StateDict::load(path).under(\"model.\"))"));
  const io::Checkpoint c = steps_->restore(path);
  pending_loader = c.loader;
  return c.epoch < 0 ? 0 : c.epoch + 1;
}

// ==== data =================================================================================================

Data::Data(Tensor x, Tensor y) {
  if (!x.defined() || !y.defined()) throw Error("fit: x and y must both be defined tensors");
  if (x.dim() == 0 || y.dim() == 0)
    throw ShapeError(msg("fit: x and y need a first (batch) dimension; got x of shape ", shape_str(x.shape()),
                         " and y of shape ", shape_str(y.shape())));
  if (x.size(0) != y.size(0))
    throw ShapeError(msg("fit: x has ", x.size(0), " examples (shape ", shape_str(x.shape()), ") but y has ", y.size(0),
                         " (shape ", shape_str(y.shape()), "); give one label per example"));
  dataset_ = data::share(data::TensorDataset({std::move(x), std::move(y)}));
}
Data::Data(data::DatasetPtr dataset) : dataset_(std::move(dataset)) {
  if (!dataset_) throw Error("fit: the dataset is null");
}
Data::Data(data::DataLoader& loader) : loader_(&loader) {}

namespace {

// Keras's validation_split: the LAST fraction of the examples, before any shuffling.
std::pair<data::DatasetPtr, data::DatasetPtr> split(const data::DatasetPtr& all, double fraction) {
  const int64_t n = all->size();
  const int64_t split_at = static_cast<int64_t>(std::floor(static_cast<double>(n) * (1.0 - fraction)));
  if (split_at == 0 || split_at == n)
    throw Error(msg("fit: validation_split = ", fraction, " of ", n, " examples leaves ",
                    split_at == 0 ? "no training examples" : "no validation examples", "; choose a fraction between ",
                    "1/n and 1 - 1/n"));
  std::vector<int64_t> head(static_cast<size_t>(split_at)), tail(static_cast<size_t>(n - split_at));
  std::iota(head.begin(), head.end(), 0);
  std::iota(tail.begin(), tail.end(), split_at);
  return {data::share(data::Subset(all, head)), data::share(data::Subset(all, tail))};
}

data::DataLoader loader_for(const data::DatasetPtr& dataset, int64_t batch_size, bool shuffle, uint64_t seed) {
  return data::DataLoader(dataset, {.batch_size = batch_size, .shuffle = shuffle, .seed = seed});
}

void check_batch(const data::Example& batch, const char* who) {
  if (batch.size() != 2)
    throw Error(msg(who, ": a batch has ", batch.size(), " fields, but fit trains on {x, y} examples (two fields)"));
  if (batch[0].dim() == 0 || batch[0].size(0) != batch[1].size(0))
    throw ShapeError(msg(who, ": a batch's x has shape ", shape_str(batch[0].shape()), " and its y ",
                         shape_str(batch[1].shape()), "; both need the same first (batch) dimension"));
}

// One pass over `loader` adding the loss (weighted by batch size) and the metrics' scores.
struct EpochMeans {
  Mean loss{"loss"};
  void reset(const Model& model) {
    loss.reset();
    for (const auto& m : model.metrics()) m->reset();
  }
  void add(const Model& model, const StepResult& r, int64_t batch_size) {
    loss.update(r.loss.item(), static_cast<double>(batch_size));
    for (size_t k = 0; k < r.scores.size(); ++k) model.metrics()[k]->add(r.scores[k]);
  }
  // loss, then each metric, under `prefix` ("" or "val_").
  void write(const Model& model, Logs& logs, const std::string& prefix) const {
    logs.set(prefix + "loss", loss.result());
    for (const auto& m : model.metrics()) logs.set(prefix + m->name(), m->result());
  }
};

// The batches a loader will make this epoch, for the progress bar; 0 (unknown) for a stream.
int64_t steps_of(const data::DataLoader& loader) {
  try {
    return loader.size();
  } catch (const Error&) {
    return 0;
  }
}

// Keras's progress bar (train/progress.h) for one epoch of `loader`, when verbose asks for one.
std::optional<ProgressBar> progress_bar(const data::DataLoader& loader, int verbose, int64_t epoch, int64_t epochs) {
  if (verbose <= 0) return std::nullopt;
  return std::optional<ProgressBar>(std::in_place, steps_of(loader),
                                    ProgressBarOptions{.epoch = static_cast<int>(epoch + 1),
                                                       .epochs = static_cast<int>(epochs), .verbose = verbose});
}

// evaluate's loop, also fit's validation (silent there: fit's bar shows the val_ values).
Logs evaluation(Model& model, data::DataLoader& loader, int verbose = 0) {
  EpochMeans means;
  means.reset(model);
  std::optional<ProgressBar> bar = progress_bar(loader, verbose, 0, 0);
  int64_t batches = 0;
  for (const data::Example& b : loader) {
    check_batch(b, "evaluate");
    means.add(model, model.steps().test_step(b[0], b[1]), b[0].size(0));
    ++batches;
    if (bar) {
      Logs so_far;
      means.write(model, so_far, "");
      bar->update(batches, so_far.items());
    }
  }
  if (batches == 0) throw Error("evaluate: the data is empty (0 batches)");
  Logs logs;
  means.write(model, logs, "");
  if (bar) bar->finish(logs.items());
  return logs;
}

// Restores the model's bookkeeping however fit ends (an exception from a callback, say).
struct FitScope {
  Model& model;
  ~FitScope() {
    model.active_loader = nullptr;
    try {
      model.steps().pull();  // graph mode: the trained weights, back into the module
    } catch (...) {  // a destructor must not throw; the original error is the one to report
    }
  }
};

}  // namespace

// ==== fit ==================================================================================================

History fit(Model& model, const Data& data, FitOptions o) {
  // 1. Check the options and make the loaders.
  if (data.empty()) throw Error("fit: no training data was given");
  if (o.epochs < 0) throw Error(msg("fit: epochs must be >= 0, got ", o.epochs));
  if (o.batch_size < 1) throw Error(msg("fit: batch_size must be >= 1, got ", o.batch_size));
  if (o.initial_epoch < 0) throw Error(msg("fit: initial_epoch must be >= 0, got ", o.initial_epoch));
  if (o.validation_split < 0 || o.validation_split >= 1)
    throw Error(msg("fit: validation_split must be in [0, 1), got ", o.validation_split,
                    " (it is the fraction of the examples held out for validation)"));
  if (o.validation_split > 0 && !o.validation_data.empty())
    throw Error("fit: give validation_data or validation_split, not both");
  data::DatasetPtr train_set = data.dataset(), val_set = o.validation_data.dataset();
  if (o.validation_split > 0) {
    if (!train_set)
      throw Error("fit: validation_split needs tensors or a Dataset; a DataLoader's batches cannot be split "
                  "(give validation_data instead)");
    std::tie(train_set, val_set) = split(train_set, o.validation_split);
  }
  if (train_set && train_set->size() == 0) throw Error("fit: the training data is empty (0 examples)");
  std::optional<data::DataLoader> own, own_val;
  if (train_set) own.emplace(loader_for(train_set, o.batch_size, o.shuffle, o.seed));
  data::DataLoader& loader = own ? *own : *data.loader();
  data::DataLoader* val_loader = o.validation_data.loader();
  if (val_set) val_loader = &own_val.emplace(loader_for(val_set, o.batch_size, false, 0));
  if (own) loader.set_epoch(o.initial_epoch);  // a resumed run sees the orders the whole run would have
  if (model.pending_loader) {  // a loaded checkpoint: its batches must be these
    if (model.pending_loader->seed != loader.options().seed || model.pending_loader->next_epoch != o.initial_epoch)
      throw Error(msg("fit: the loaded checkpoint's run shuffled with seed ", model.pending_loader->seed,
                      " and stopped before epoch ", model.pending_loader->next_epoch, ", but this fit uses seed ",
                      loader.options().seed, " from epoch ", o.initial_epoch,
                      "; pass the same seed and initial_epoch = load_checkpoint(path) to resume exactly"));
    loader.set_epoch(model.pending_loader->next_epoch);
    model.pending_loader.reset();
  }

  // 2. The loop. Only steps.train_step / test_step know the mode.
  Steps& steps = model.steps();
  steps.push();  // graph mode: the module's current weights into the session
  FitScope scope{model};
  model.active_loader = &loader;
  model.stop_training = false;
  std::vector<CallbackRef>& callbacks = o.callbacks;
  for (CallbackRef& c : callbacks) c->set_model(&model);
  Logs train_logs;
  for (CallbackRef& c : callbacks) c->on_train_begin(train_logs);

  History history;
  EpochMeans means;
  for (int64_t epoch = o.initial_epoch; epoch < o.epochs && !model.stop_training; ++epoch) {
    Logs logs;
    for (CallbackRef& c : callbacks) c->on_epoch_begin(epoch, logs);
    std::optional<ProgressBar> bar = progress_bar(loader, o.verbose, epoch, o.epochs);
    means.reset(model);
    int64_t batch = 0;
    for (const data::Example& b : loader) {
      check_batch(b, "fit");
      means.add(model, steps.train_step(b[0], b[1]), b[0].size(0));  // the one mode-specific line
      Logs batch_logs;
      means.write(model, batch_logs, "");
      for (CallbackRef& c : callbacks) c->on_train_batch_end(batch, batch_logs);
      ++batch;
      if (bar) bar->update(batch, batch_logs.items());
    }
    if (batch == 0) throw Error("fit: the training data gave no batches (is the DataLoader's dataset empty?)");
    means.write(model, logs, "");
    if (val_loader) {
      const Logs val = evaluation(model, *val_loader);
      for (const auto& [name, value] : val.items()) logs.set("val_" + name, value);
    }
    for (CallbackRef& c : callbacks) c->on_epoch_end(epoch, logs);
    history.append(epoch, logs);
    if (bar) bar->finish(logs.items());
  }
  for (CallbackRef& c : callbacks) c->on_train_end(train_logs);
  return history;
}

History fit(Model& model, const Tensor& x, const Tensor& y, FitOptions options) {
  return fit(model, Data(x, y), std::move(options));
}

// ==== evaluate, predict ====================================================================================

Logs evaluate(Model& model, const Data& data, EvaluateOptions o) {
  if (data.empty()) throw Error("evaluate: no data was given");
  if (o.batch_size < 1) throw Error(msg("evaluate: batch_size must be >= 1, got ", o.batch_size));
  std::optional<data::DataLoader> own;
  if (data.dataset()) {
    if (data.dataset()->size() == 0) throw Error("evaluate: the data is empty (0 examples)");
    own.emplace(loader_for(data.dataset(), o.batch_size, false, 0));
  }
  model.steps().push();
  return evaluation(model, own ? *own : *data.loader(), o.verbose);
}

Logs evaluate(Model& model, const Tensor& x, const Tensor& y, EvaluateOptions options) {
  return evaluate(model, Data(x, y), options);
}

Tensor predict(Model& model, const Tensor& x, int64_t batch_size) {
  if (!x.defined() || x.dim() == 0)
    throw ShapeError("predict: x needs a first (batch) dimension, one example per row");
  if (x.size(0) == 0) throw Error("predict: x is empty (0 examples)");
  if (batch_size < 1) throw Error(msg("predict: batch_size must be >= 1, got ", batch_size));
  model.steps().push();
  std::vector<Tensor> outs;
  for (int64_t start = 0; start < x.size(0); start += batch_size) {
    const int64_t n = std::min(batch_size, x.size(0) - start);
    outs.push_back(model.steps().predict_step(x.narrow(0, start, n).contiguous()));
  }
  return outs.size() == 1 ? outs[0] : cat(outs, 0);
}

// ==== History ==============================================================================================

const std::vector<double>& History::operator[](const std::string& key) const {
  for (const auto& [name, values] : history)
    if (name == key) return values;
  std::string keys;
  for (const auto& [name, values] : history) keys += (keys.empty() ? "" : ", ") + name;
  throw Error(msg("History: no '", key, "' was logged; the keys are ", keys.empty() ? "none (no epoch ran)" : keys));
}

bool History::contains(const std::string& key) const {
  for (const auto& [name, values] : history)
    if (name == key) return true;
  return false;
}

void History::append(int64_t e, const Logs& logs) {
  epoch.push_back(e);
  for (const auto& [name, value] : logs.items()) {
    auto it = std::find_if(history.begin(), history.end(), [&key = name](const auto& h) { return h.first == key; });
    if (it == history.end()) it = history.insert(history.end(), {name, {}});
    it->second.push_back(value);
  }
}

}  // namespace tandem::keras
