// train/metrics.cpp — adding up, the shape checks, and the metrics by name.
#include "train/metrics.h"

#include "autograd/grad_mode.h"
#include "core/error.h"

namespace tandem::keras {

void Mean::update(double value, double weight) {
  total_ += value * weight;
  count_ += weight;
}

void Mean::update(const Tensor& values) {
  no_grad reading;
  if (values.numel() == 0) return;
  total_ += sum(values.detach().to(kFloat64)).item();
  count_ += static_cast<double>(values.numel());
}

void PredictionMetric::add(const Tensor& scores) {
  if (!scores.defined()) throw Error(msg(name(), ".add: the scores are undefined"));
  no_grad reading;
  if (scores.numel() == 0) return;
  total_ += sum(scores.detach().cpu().to(kFloat64)).item();
  count_ += static_cast<double>(scores.numel());
}

void PredictionMetric::update(const Tensor& y_pred, const Tensor& y_true) {
  no_grad reading;
  add(scores(y_pred.detach(), y_true));
}

namespace detail {

namespace {
// Sizes that may still be unknown (-1) in a graph agree with anything.
bool same_size(int64_t a, int64_t b) { return a == b || a == kUnknown || b == kUnknown; }
}  // namespace

void check_class_labels(const Shape& y_pred, const Shape& y_true, DType labels, const std::string& metric) {
  if (labels != kInt64)
    throw DTypeError(msg(metric, ": the labels must be int64 class indices, got ", to_string(labels)));
  bool ok = y_pred.size() >= 2 && y_true.size() == y_pred.size() - 1 && same_size(y_true[0], y_pred[0]);
  for (size_t d = 1; ok && d < y_true.size(); ++d) ok = same_size(y_true[d], y_pred[d + 1]);
  if (!ok)
    throw ShapeError(msg(metric, ": predictions of shape ", shape_str(y_pred), " need class labels of shape ",
                         "[N] (the predictions' shape without the class dim 1), got labels of shape ", shape_str(y_true),
                         "; give one int64 label per example"));
}

void check_same_shape(const Shape& y_pred, const Shape& y_true, const std::string& metric) {
  bool ok = y_pred.size() == y_true.size();
  for (size_t d = 0; ok && d < y_pred.size(); ++d) ok = same_size(y_pred[d], y_true[d]);
  if (!ok)
    throw ShapeError(msg(metric, ": the predictions have shape ", shape_str(y_pred), " but the labels have shape ",
                         shape_str(y_true), "; they must be the same (reshape the labels, e.g. y.reshape({-1, 1}))"));
}

}  // namespace detail

TopKAccuracy::TopKAccuracy(int64_t k, std::string name) : MetricFormula(std::move(name)), k(k) {
  if (k < 1) throw Error(msg("TopKAccuracy: k must be at least 1, got ", k));
}

std::shared_ptr<PredictionMetric> metric_named(const std::string& name) {
  if (name == "accuracy" || name == "acc") return std::make_shared<Accuracy>();
  if (name == "binary_accuracy") return std::make_shared<BinaryAccuracy>();
  if (name == "sparse_top_k_categorical_accuracy") return std::make_shared<TopKAccuracy>();
  throw Error(msg("no metric named '", name, "'; the metrics by name are \"accuracy\", \"binary_accuracy\" and "
                  "\"sparse_top_k_categorical_accuracy\" (or pass a metric object, e.g. "
                  "std::make_shared<keras::TopKAccuracy>(3))"));
}

}  // namespace tandem::keras
