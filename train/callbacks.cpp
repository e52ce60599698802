// train/callbacks.cpp — Logs, the monitor rule, and the three callbacks.
#include "train/callbacks.h"

#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "train/fit.h"

namespace tandem::keras {

// ---- Logs -------------------------------------------------------------------------------------------------

void Logs::set(const std::string& name, double value) {
  for (auto& [n, v] : items_)
    if (n == name) {
      v = value;
      return;
    }
  items_.emplace_back(name, value);
}

bool Logs::contains(const std::string& name) const {
  for (const auto& [n, v] : items_)
    if (n == name) return true;
  return false;
}

double Logs::at(const std::string& name) const {
  for (const auto& [n, v] : items_)
    if (n == name) return v;
  std::string names;
  for (const auto& [n, v] : items_) names += (names.empty() ? "" : ", ") + n;
  throw Error(msg("Logs: no value named '", name, "'; the logs hold ", names.empty() ? "nothing" : names));
}

// ---- Callback, CallbackRef ---------------------------------------------------------------------------------

Model& Callback::model() const {
  if (!model_) throw Error("Callback::model(): this callback is not in a fit() (fit sets its model before training)");
  return *model_;
}

CallbackRef::CallbackRef(std::shared_ptr<Callback> callback) : ptr_(std::move(callback)) {
  if (!ptr_) throw Error("fit: a callback is null");
}

// ---- Monitor --------------------------------------------------------------------------------------------------

Monitor::Monitor(std::string monitor, std::string mode, double min_delta, const char* owner)
    : monitor_(std::move(monitor)), min_delta_(std::abs(min_delta)), owner_(owner) {
  if (mode == "auto") higher_is_better_ = monitor_.find("acc") != std::string::npos;
  else if (mode == "max") higher_is_better_ = true;
  else if (mode == "min") higher_is_better_ = false;
  else throw Error(msg(owner, ": mode must be \"auto\", \"min\" or \"max\", got \"", mode, "\""));
}

bool Monitor::improves(double current, double reference) const {
  return higher_is_better_ ? current - min_delta_ > reference : current + min_delta_ < reference;
}

double Monitor::read(const Logs& logs) const {
  if (!logs.contains(monitor_)) {
    std::string names;
    for (const auto& [n, v] : logs.items()) names += (names.empty() ? "" : ", ") + n;
    throw Error(msg(owner_, ": it monitors '", monitor_, "', which this fit does not log (it logs ", names,
                    "); a val_ value needs validation_data or validation_split"));
  }
  return logs.at(monitor_);
}

// ---- ModelCheckpoint ------------------------------------------------------------------------------------------

ModelCheckpoint::ModelCheckpoint(std::string filepath, ModelCheckpointOptions options)
    : filepath_(std::move(filepath)),
      options_(std::move(options)),
      monitor_(options_.monitor, options_.mode, 0, "ModelCheckpoint"),
      best_(monitor_.worst()) {
  if (filepath_.empty()) throw Error("ModelCheckpoint: the file path is empty; e.g. \"run/epoch{epoch}.tckpt\"");
}

std::string ModelCheckpoint::path_for(int64_t epoch) const {
  std::string path = filepath_;
  char number[32];
  for (const auto& [pattern, format] : {std::pair<std::string, const char*>{"{epoch:02d}", "%02lld"}, {"{epoch}", "%lld"}}) {
    std::snprintf(number, sizeof number, format, static_cast<long long>(epoch + 1));
    for (size_t at = path.find(pattern); at != std::string::npos; at = path.find(pattern))
      path.replace(at, pattern.size(), number);
  }
  return path;
}

void ModelCheckpoint::on_train_begin(Logs&) { best_ = monitor_.worst(); }

void ModelCheckpoint::on_epoch_end(int64_t epoch, Logs& logs) {
  if (options_.save_best_only) {
    const double current = monitor_.read(logs);
    if (!monitor_.improves(current, best_)) return;
    best_ = current;
  }
  const std::string path = path_for(epoch);
  model().save_checkpoint(path, epoch);
  saved_.push_back(path);
}

// ---- EarlyStopping ------------------------------------------------------------------------------------------

EarlyStopping::EarlyStopping(EarlyStoppingOptions options)
    : options_(std::move(options)), monitor_(options_.monitor, options_.mode, options_.min_delta, "EarlyStopping") {
  if (options_.patience < 0) throw Error(msg("EarlyStopping: patience must be >= 0, got ", options_.patience));
}

void EarlyStopping::on_train_begin(Logs&) {
  wait_ = 0;
  best_ = monitor_.worst();
  best_epoch_ = stopped_epoch_ = -1;
  best_weights_.reset();
}

// Keras's rule: count the epochs without an improvement by more than min_delta; at `patience` of
// them, stop (and, asked to, go back to the best epoch's weights).
void EarlyStopping::on_epoch_end(int64_t epoch, Logs& logs) {
  const double current = monitor_.read(logs);
  if (monitor_.improves(current, best_)) {
    best_ = current;
    best_epoch_ = epoch;
    wait_ = 0;
    if (options_.restore_best_weights) best_weights_ = model().get_weights();
    return;
  }
  if (++wait_ < options_.patience) return;
  stopped_epoch_ = epoch;
  model().stop_training = true;
  if (options_.restore_best_weights && best_weights_) model().set_weights(*best_weights_);
}

// ---- LearningRateScheduler ------------------------------------------------------------------------------------

LearningRateScheduler::LearningRateScheduler(Function schedule) : function_(std::move(schedule)) {
  if (!function_) throw Error("LearningRateScheduler: the schedule function is empty");
}

LearningRateScheduler::LearningRateScheduler(std::shared_ptr<const optim::LRScheduler> schedule)
    : schedule_(std::move(schedule)) {
  if (!schedule_) throw Error("LearningRateScheduler: the schedule is null");
}

void LearningRateScheduler::on_epoch_begin(int64_t epoch, Logs&) {
  const double lr = schedule_ ? schedule_->lr_at(static_cast<double>(epoch), model().compiled_lr())
                              : function_(epoch, model().lr());
  if (!std::isfinite(lr) || lr < 0)
    throw Error(msg("LearningRateScheduler: the schedule gave the learning rate ", lr, " for epoch ", epoch,
                    "; it must be a finite number >= 0"));
  model().set_lr(lr);
}

void LearningRateScheduler::on_epoch_end(int64_t, Logs& logs) { logs.set("lr", model().lr()); }

}  // namespace tandem::keras
