// train/callbacks.h — callbacks: code fit() calls at the edges of epochs and batches (Keras's).
//
// fit() owns the loop, so a user who wants to act inside it — save the best model, stop when the
// validation loss stops improving, lower the learning rate — hands it objects whose methods it
// calls at fixed moments:
//
//     on_train_begin                          before the first epoch
//       on_epoch_begin(epoch)                 epochs count from 0, as Keras's do
//         on_train_batch_end(batch, logs)     after each step: logs["loss"] so far
//       on_epoch_end(epoch, logs)             logs: loss, metrics, val_loss, val_<metric>...
//     on_train_end
//
// A callback reaches the model through model(): the learning rate, the weights, the checkpoint,
// and stop_training — set it and fit() stops after this epoch (EarlyStopping does).
//
//     auto best = std::make_shared<keras::ModelCheckpoint>("run/best.tckpt",
//                                                          keras::ModelCheckpointOptions{.save_best_only = true});
//     keras::fit(model, x, y, {.epochs = 20, .validation_split = 0.1,
//                              .callbacks = {best, keras::EarlyStopping({.patience = 3}),
//                                            keras::LearningRateScheduler(optim::StepLR({.step_size = 5}))}});
//
// (A callback passed by value is copied into fit; pass a shared_ptr to read it afterwards.)
//
// Read next: train/fit.h.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "io/state_dict.h"
#include "optim/schedule.h"

namespace tandem::keras {

class Model;

// What an epoch reported: names and numbers, in the order they were set (Keras's logs dict).
class Logs {
 public:
  void set(const std::string& name, double value);  // adds, or replaces in place
  bool contains(const std::string& name) const;
  // The value of `name`; a missing one is an error listing the names there are.
  double at(const std::string& name) const;
  const std::vector<std::pair<std::string, double>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, double>> items_;
};

class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_train_begin(Logs&) {}
  virtual void on_train_end(Logs&) {}
  virtual void on_epoch_begin(int64_t /*epoch*/, Logs&) {}
  virtual void on_epoch_end(int64_t /*epoch*/, Logs&) {}
  virtual void on_train_batch_end(int64_t /*batch*/, Logs&) {}

  // fit() sets the model before on_train_begin (Keras's set_model).
  void set_model(Model* model) { model_ = model; }
  Model& model() const;

 private:
  Model* model_ = nullptr;
};

// A callback in FitOptions::callbacks: a shared_ptr (to read it after fit), or a callback by value.
class CallbackRef {
 public:
  CallbackRef(std::shared_ptr<Callback> callback);  // NOLINT: implicit
  template <class C>
    requires std::derived_from<std::remove_cvref_t<C>, Callback>
  CallbackRef(C&& callback)  // NOLINT: implicit
      : ptr_(std::make_shared<std::remove_cvref_t<C>>(std::forward<C>(callback))) {}
  template <class C>
    requires std::derived_from<C, Callback>
  CallbackRef(std::shared_ptr<C> callback) : CallbackRef(std::shared_ptr<Callback>(std::move(callback))) {}  // NOLINT
  Callback& operator*() const { return *ptr_; }
  Callback* operator->() const { return ptr_.get(); }

 private:
  std::shared_ptr<Callback> ptr_;
};

// ---- monitoring a value: "min", "max" or "auto" ---------------------------------------------------------
// Keras's rule for "auto": a monitored name with "acc" in it (accuracy, val_accuracy) is better
// higher; anything else (loss, val_loss) is better lower.
class Monitor {
 public:
  Monitor(std::string monitor, std::string mode, double min_delta, const char* owner);
  // Is `current` better than `reference` by more than min_delta?
  bool improves(double current, double reference) const;
  double worst() const { return higher_is_better_ ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity(); }
  // The monitored value from the logs; absent, an error naming the owner and listing what there is.
  double read(const Logs& logs) const;
  const std::string& name() const { return monitor_; }
  bool higher_is_better() const { return higher_is_better_; }

 private:
  std::string monitor_;
  double min_delta_;
  bool higher_is_better_;
  const char* owner_;
};

// ---- ModelCheckpoint: save the model (the whole run) after each epoch, or only the best ----------------
//
// Writes a training checkpoint (io/checkpoint.h, through the atomic save helper): the model, the
// optimizer's state, the epoch, the random generator and the loader's shuffle state — everything
// load_checkpoint() needs for an exact resume. "{epoch}" in the path becomes the epoch's number
// counted from 1, as Keras's "weights.{epoch:02d}.h5" does ("{epoch:02d}" is understood too).
// With save_best_only, a file is written only when the monitored value improves on the best so far.
struct ModelCheckpointOptions {
  std::string monitor = "val_loss";
  bool save_best_only = false;
  std::string mode = "auto";  // "min", "max" or "auto"
};
class ModelCheckpoint : public Callback {
 public:
  explicit ModelCheckpoint(std::string filepath, ModelCheckpointOptions options = {});
  void on_train_begin(Logs&) override;
  void on_epoch_end(int64_t epoch, Logs& logs) override;
  double best() const { return best_; }                              // the best value seen
  const std::vector<std::string>& saved() const { return saved_; }   // the files written, in order
  // The path for epoch `epoch` (from 0): "{epoch}" filled with epoch + 1.
  std::string path_for(int64_t epoch) const;

 private:
  std::string filepath_;
  ModelCheckpointOptions options_;
  Monitor monitor_;
  double best_;
  std::vector<std::string> saved_;
};

// ---- EarlyStopping: stop when the monitored value stops improving ------------------------------------
//
// After each epoch: an improvement by more than min_delta resets the count; otherwise the count
// grows, and when it reaches `patience` training stops (model.stop_training). With
// restore_best_weights the model gets back the weights of its best epoch when it stops
// (Keras 2's behaviour: a run that never stops keeps its last weights).
struct EarlyStoppingOptions {
  std::string monitor = "val_loss";
  double min_delta = 0;
  int64_t patience = 0;
  std::string mode = "auto";
  bool restore_best_weights = false;
};
class EarlyStopping : public Callback {
 public:
  explicit EarlyStopping(EarlyStoppingOptions options = {});
  void on_train_begin(Logs&) override;
  void on_epoch_end(int64_t epoch, Logs& logs) override;
  int64_t stopped_epoch() const { return stopped_epoch_; }  // the epoch it stopped after; -1: it did not
  int64_t best_epoch() const { return best_epoch_; }
  double best() const { return best_; }

 private:
  EarlyStoppingOptions options_;
  Monitor monitor_;
  double best_ = 0;
  int64_t wait_ = 0, best_epoch_ = -1, stopped_epoch_ = -1;
  std::optional<StateDict> best_weights_;
};

// ---- LearningRateScheduler: the learning rate for each epoch --------------------------------------------
//
// Keras's: at the start of epoch e (from 0) the optimizer's rate becomes schedule(e, rate now);
// the epoch's logs get "lr". Or a schedule of optim/schedule.h, counted in epochs from the rate
// the model was compiled with: lr(e) = schedule.lr_at(e, compiled lr). The same callback serves
// both modes: in graph mode the rate is a Variable that the update nodes read, and it is assigned.
class LearningRateScheduler : public Callback {
 public:
  using Function = std::function<double(int64_t epoch, double lr)>;
  explicit LearningRateScheduler(Function schedule);
  explicit LearningRateScheduler(std::shared_ptr<const optim::LRScheduler> schedule);
  // A schedule object by value: LearningRateScheduler(optim::CosineAnnealingLR({.T_max = 10})).
  template <class S>
    requires std::derived_from<S, optim::LRScheduler>
  explicit LearningRateScheduler(S schedule) : LearningRateScheduler(std::shared_ptr<const optim::LRScheduler>(
                                                   std::make_shared<S>(std::move(schedule)))) {}
  void on_epoch_begin(int64_t epoch, Logs&) override;
  void on_epoch_end(int64_t epoch, Logs& logs) override;

 private:
  Function function_;                                  // Keras's schedule(epoch, lr), or
  std::shared_ptr<const optim::LRScheduler> schedule_;  // a formula of optim/schedule.h
};

}  // namespace tandem::keras
