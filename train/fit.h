// train/fit.h — compile, fit, evaluate, predict: Keras's training loop, for both modes.
//
// The seed articles put two ways of training side by side. Keras:
//
//     model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
//     history = model.fit(x, y, epochs=5, batch_size=64, validation_split=0.1)
//
// and PyTorch's hand-written loop (zero_grad, forward, loss, backward, step). Here is the first,
// over any nn::Module:
//
//     keras::Model model = keras::compile(net, {.optimizer = optim::AdamOptions{.lr = 1e-3},
//                                               .loss = "cross_entropy", .metrics = {"accuracy"}});
//     keras::History history = keras::fit(model, x, y, {.epochs = 5, .batch_size = 64,
//                                                       .validation_split = 0.1});
//     history["val_accuracy"].back();
//     keras::evaluate(model, x_test, y_test);   // Logs: loss, accuracy
//     Tensor logits = keras::predict(model, x_test);
//
// WHICH MODE. compile's run_eagerly chooses, as in Keras (model.compile(run_eagerly=True)):
//   - false (the default, Keras's too): fit builds a graph ONCE — placeholders with an unknown
//     batch dimension, the training path (model in train mode: dropout on, batch statistics)
//     with its loss, metrics and train op, and the evaluation path (eval mode) — then only runs
//     the Session, batch after batch;
//   - true: each batch runs eagerly, PyTorch's tape loop.
//
// HOW LITTLE DIFFERS. fit() is one loop (train/fit.cpp) for both modes; what a mode changes is
// one object, the Steps (train/steps.h): train_step(x, y), test_step(x, y), predict_step(x).
// Eagerly a train_step is zero_grad / forward / loss / backward / step; in a graph it is
// session.run({train_op, loss, scores...}, feeds). Everything else — batches, epochs, validation,
// metrics, callbacks, History — is the same code. From the same seed both modes give the same
// History (tests/test_fit.cpp).
//
// Data comes as tensors (fit batches and shuffles them), a Dataset of {x, y} examples, or a
// ready DataLoader (its own batch size and order).
//
// The names live in namespace tandem::keras, beside layers/keras.h's Sequential and Dense, as
// tf.keras has them together (keras.callbacks.EarlyStopping, keras.metrics.Accuracy). (The folder
// is train/; a namespace tandem::train would collide with graph::train — tf.train — and with
// every `void train()` in a program that says `using namespace tandem`.)
//
// Read next: train/steps.h (the two modes' steps), train/callbacks.h, train/metrics.h.
#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "data/dataloader.h"
#include "graph/session.h"
#include "io/checkpoint.h"
#include "layers/module.h"
#include "optim/optim.h"
#include "train/callbacks.h"
#include "train/metrics.h"

namespace tandem::keras {

class Steps;

// ---- compile's pieces ---------------------------------------------------------------------------------

// The optimizer, by its eager options (optim/optim.h); graph mode builds optim/train.h's twin.
// RMSprop and Adagrad run eagerly only: graph mode's RMSPropOptimizer and AdagradOptimizer compute
// TensorFlow's formulas, not PyTorch's, so the two modes would train differently.
using OptimizerOptions = std::variant<optim::SGDOptions, optim::AdamOptions, optim::AdamWOptions,
                                      optim::RMSpropOptions, optim::AdagradOptions>;

// A loss for both modes: (output, target) -> a 0-dim loss, on Tensors and on graph Outputs.
// By name — "cross_entropy" (logits and int64 labels), "nll_loss" (log-probabilities),
// "mse_loss", "l1_loss", "binary_cross_entropy" (probabilities), "binary_cross_entropy_with_logits",
// and Keras's "sparse_categorical_crossentropy" (probabilities) — or any generic callable:
//     .loss = [](const auto& out, const auto& y) { return nn::functional::cross_entropy(out, y); }
class Loss {
 public:
  Loss() = default;
  Loss(const char* name);  // NOLINT: implicit, .loss = "cross_entropy"
  Loss(const std::string& name);  // NOLINT
  template <class F>
    requires(std::invocable<const F&, const Tensor&, const Tensor&> &&
             std::invocable<const F&, const graph::Output&, const graph::Output&> && !std::convertible_to<F, std::string>)
  Loss(F f)  // NOLINT: implicit
      : eager_([f](const Tensor& out, const Tensor& y) { return Tensor(f(out, y)); }),
        graph_([f](const graph::Output& out, const graph::Output& y) { return graph::Output(f(out, y)); }),
        name_("loss") {}
  Tensor operator()(const Tensor& output, const Tensor& target) const;
  graph::Output operator()(const graph::Output& output, const graph::Output& target) const;
  bool defined() const { return static_cast<bool>(eager_); }
  const std::string& name() const { return name_; }

 private:
  std::function<Tensor(const Tensor&, const Tensor&)> eager_;
  std::function<graph::Output(const graph::Output&, const graph::Output&)> graph_;
  std::string name_;
};

// A metric in compile: a Keras name ("accuracy") or a metric object.
class MetricSpec {
 public:
  MetricSpec(const char* name);         // NOLINT: implicit, .metrics = {"accuracy"}
  MetricSpec(const std::string& name);  // NOLINT
  template <class M>
    requires std::derived_from<M, PredictionMetric>
  MetricSpec(std::shared_ptr<M> metric) : metric_(std::move(metric)) {}  // NOLINT
  template <class M>
    requires std::derived_from<M, PredictionMetric>
  MetricSpec(M metric) : metric_(std::make_shared<M>(std::move(metric))) {}  // NOLINT
  const std::shared_ptr<PredictionMetric>& metric() const { return metric_; }

 private:
  std::shared_ptr<PredictionMetric> metric_;
};

struct CompileOptions {
  OptimizerOptions optimizer = optim::AdamOptions{};
  Loss loss;                        // required
  std::vector<MetricSpec> metrics = {};
  bool run_eagerly = false;         // false: graph mode (Keras's default); true: eager mode
  graph::SessionOptions session{};  // graph mode: the Session's passes (and device)
};

// ---- the compiled model --------------------------------------------------------------------------------
//
// A module with its optimizer, loss and metrics, and the mode to train it in. The module keeps
// its weights between calls: graph mode sends them into its session when a fit, evaluate or
// predict starts, and writes the trained ones back when it ends, so the module, a checkpoint or
// the other mode always sees the current weights.
class Model {
 public:
  Model(std::shared_ptr<nn::Module> module, CompileOptions options);
  ~Model();
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;

  nn::Module& module() const { return *module_; }
  bool run_eagerly() const { return options_.run_eagerly; }
  const std::vector<std::shared_ptr<PredictionMetric>>& metrics() const { return metrics_; }
  const CompileOptions& options() const { return options_; }
  Steps& steps() const { return *steps_; }

  // ---- what callbacks use (Keras: model.stop_training, model.optimizer.lr, get/set_weights) ------
  bool stop_training = false;
  double lr() const;                 // the optimizer's learning rate now
  void set_lr(double lr);
  double compiled_lr() const;        // the rate compile was given
  StateDict get_weights() const;     // a snapshot of the module's state (parameters and buffers)
  void set_weights(const StateDict& weights);  // all or nothing (load_state_dict, strict)

  // ---- checkpoints of the whole run (io/checkpoint.h) ---------------------------------------------
  // The model's weights under "model." (its state_dict names), the optimizer's state under
  // "optimizer." (eager: its state_dict; graph: its slot variables by node name), the epoch
  // (from 0), the default generator's state and the shuffle state of the loader fit is running.
  void save_checkpoint(const std::string& path, int64_t epoch) const;
  // Puts all of that back (all or nothing) and returns the number of epochs the run had done:
  // pass it to fit as initial_epoch to continue exactly where it stopped. The loader's shuffle
  // state is checked and applied by that next fit.
  int64_t load_checkpoint(const std::string& path);

  // fit's bookkeeping (train/fit.cpp): the loader being trained on, a loaded loader state to apply.
  data::DataLoader* active_loader = nullptr;
  std::optional<io::LoaderState> pending_loader;

 private:
  std::shared_ptr<nn::Module> module_;
  CompileOptions options_;
  std::vector<std::shared_ptr<PredictionMetric>> metrics_;
  std::unique_ptr<Steps> steps_;
};

// model.compile(...): checks the options and makes the mode's Steps.
Model compile(std::shared_ptr<nn::Module> module, CompileOptions options);

// ---- data --------------------------------------------------------------------------------------------
// Training or validation data: tensors (x, y), a Dataset of {x, y} examples, or a DataLoader.
class Data {
 public:
  Data() = default;  // none
  Data(Tensor x, Tensor y);  // NOLINT: implicit, .validation_data = {x_val, y_val}
  Data(data::DatasetPtr dataset);  // NOLINT
  template <class D>
    requires std::derived_from<D, data::Dataset>
  Data(std::shared_ptr<const D> dataset) : Data(data::DatasetPtr(std::move(dataset))) {}  // NOLINT
  template <class D>
    requires std::derived_from<D, data::Dataset>
  Data(std::shared_ptr<D> dataset) : Data(data::DatasetPtr(std::move(dataset))) {}  // NOLINT
  Data(data::DataLoader& loader);  // NOLINT: a loader fit iterates as it is

  bool empty() const { return !dataset_ && !loader_; }
  const data::DatasetPtr& dataset() const { return dataset_; }
  data::DataLoader* loader() const { return loader_; }

 private:
  data::DatasetPtr dataset_;
  data::DataLoader* loader_ = nullptr;
};

// ---- fit ------------------------------------------------------------------------------------------------
struct FitOptions {
  int64_t epochs = 1;
  int64_t batch_size = 32;       // Keras's default; a DataLoader brings its own
  Data validation_data = {};     // evaluated after each epoch: val_loss, val_<metric>
  double validation_split = 0;   // or: this fraction of tensors/dataset, the LAST examples, held out
  std::vector<CallbackRef> callbacks = {};
  bool shuffle = true;           // a new order each epoch (Keras's default)
  int verbose = 1;               // 0 silent, 1 Keras's progress bar (train/progress.h), 2 one line per epoch
  int64_t initial_epoch = 0;     // the epoch to start at (resuming: load_checkpoint's answer)
  uint64_t seed = 0;             // of the shuffles: the same seed, the same orders
};

// Keras's History: per epoch, each logged value ("loss", "accuracy", "val_loss", ...).
struct History {
  std::vector<int64_t> epoch;
  std::vector<std::pair<std::string, std::vector<double>>> history;
  // history["val_loss"]; a missing key is an error listing the keys.
  const std::vector<double>& operator[](const std::string& key) const;
  bool contains(const std::string& key) const;
  void append(int64_t epoch, const Logs& logs);
};

History fit(Model& model, const Data& data, FitOptions options = {});
History fit(Model& model, const Tensor& x, const Tensor& y, FitOptions options = {});

// ---- evaluate and predict ---------------------------------------------------------------------------------
struct EvaluateOptions {
  int64_t batch_size = 32;
  int verbose = 0;  // 1: Keras's progress bar, 2: its final line
};
// The loss and metrics over the data, in eval mode (dropout off, batch norm's running statistics).
Logs evaluate(Model& model, const Data& data, EvaluateOptions options = {});
Logs evaluate(Model& model, const Tensor& x, const Tensor& y, EvaluateOptions options = {});
// The model's outputs for x, batch by batch, in eval mode, concatenated: [N, ...].
Tensor predict(Model& model, const Tensor& x, int64_t batch_size = 32);

}  // namespace tandem::keras
