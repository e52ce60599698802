// train/metrics.h — metrics: running results with update / result / reset (Keras's tf.keras.metrics).
//
// A loss trains the model; a metric tells a person how it is doing. Keras keeps a metric as an
// object that accumulates over an epoch:
//
//     keras::Accuracy acc;                  // acc = tf.keras.metrics.SparseCategoricalAccuracy()
//     for (const auto& batch : loader) {
//       Tensor logits = model(batch[0]);
//       acc.update(logits, batch[1]);       // acc.update_state(y_true, y_pred)
//     }
//     std::cout << acc.result();            // the fraction right over every batch so far
//     acc.reset();                          // acc.reset_state(), for the next epoch
//
// (Keras's update_state takes y_true first; here the prediction comes first, as a PyTorch loss
// takes it: `criterion(output, target)`, `acc.update(output, target)`.)
//
// BOTH MODES. A prediction metric is one formula — a score per example, 1 for right and 0 for
// wrong — written once as a template over the tensor type (MetricFormula<Derived>, the pattern of
// nn::Layer). Eagerly, update() computes the scores now and adds them up. In a graph, scores()
// on Outputs adds the same formula as nodes; fit() builds them once beside the loss and fetches
// them on every run, then hands the fetched values to add(). A hand-written graph loop does the
// same — or fetches the predictions and calls update() on them:
//
//     g::Output correct = acc.scores(logits, y);                   // nodes, built once
//     for (...) acc.add(session.run({train_op, correct}, feeds)[1]);
//
// What result() returns is the mean of the scores seen: for accuracy the fraction right. Mean is
// the metric of any number — fit keeps the loss in one, weighted by the batch size, so the
// epoch's loss is the mean over examples as Keras reports it.
//
// Read next: train/fit.h (metrics by name: {"accuracy"}), train/callbacks.h.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/ops.h"
#include "graph/graph.h"

namespace tandem::keras {

// What every metric is: a running mean with a name (the key in History and in callbacks' logs).
class Metric {
 public:
  explicit Metric(std::string name) : name_(std::move(name)) {}
  virtual ~Metric() = default;
  const std::string& name() const { return name_; }
  // total / count of what was added since the last reset(); 0 before anything was (Keras's 0.0).
  double result() const { return count_ > 0 ? total_ / count_ : 0.0; }
  void reset() { total_ = count_ = 0; }
  double count() const { return count_; }

 protected:
  double total_ = 0, count_ = 0;

 private:
  std::string name_;
};

// tf.keras.metrics.Mean: the (weighted) mean of the values given.
class Mean : public Metric {
 public:
  explicit Mean(std::string name = "mean") : Metric(std::move(name)) {}
  void update(double value, double weight = 1.0);  // total += value · weight, count += weight
  void update(const Tensor& values);               // every element, weight 1
};

// A metric of predictions against labels: the mean of a score per example.
class PredictionMetric : public Metric {
 public:
  using Metric::Metric;
  // The scores of a batch, one per example (float32, [N] — or [N, d] for per-element metrics):
  // computed now (eager), or as graph nodes (fetch them, then add()).
  virtual Tensor scores(const Tensor& y_pred, const Tensor& y_true) const = 0;
  virtual graph::Output scores(const graph::Output& y_pred, const graph::Output& y_true) const = 0;
  // Adds scores computed elsewhere (fetched from a session): total += Σ scores, count += their number.
  void add(const Tensor& scores);
  // update = add(scores(y_pred, y_true)), outside the tape: y_pred may require grad.
  void update(const Tensor& y_pred, const Tensor& y_true);
};

// The one formula, `template <class T> T score(const T& y_pred, const T& y_true) const`, as both
// virtual scores() (the curiously recurring template pattern, as in nn::Layer).
template <class Derived> class MetricFormula : public PredictionMetric {
 public:
  using PredictionMetric::PredictionMetric;
  Tensor scores(const Tensor& y_pred, const Tensor& y_true) const override { return self().score(y_pred, y_true); }
  graph::Output scores(const graph::Output& y_pred, const graph::Output& y_true) const override {
    return self().score(y_pred, y_true);
  }

 private:
  const Derived& self() const { return static_cast<const Derived&>(*this); }
};

namespace detail {
// The checks every prediction metric makes, when its nodes are built or its scores computed:
// labels int64 class indices [N] (or [N, d...]) for scores [N, C] (or [N, C, d...])... see each.
void check_class_labels(const Shape& y_pred, const Shape& y_true, DType labels, const std::string& metric);
void check_same_shape(const Shape& y_pred, const Shape& y_true, const std::string& metric);
}  // namespace detail

// "accuracy": is the highest score the label's class? y_pred [N, C] scores (logits, probabilities
// or log-probabilities: any monotone form), y_true int64 [N] (Keras's SparseCategoricalAccuracy,
// PyTorch's (output.argmax(1) == target)); or y_true one-hot / probabilities [N, C]: is it the
// class with the highest y_true (Keras's CategoricalAccuracy).
//     score = [argmax_c y_pred[n, c] == y_true[n]]
class Accuracy : public MetricFormula<Accuracy> {
 public:
  explicit Accuracy(std::string name = "accuracy") : MetricFormula(std::move(name)) {}
  template <class T> T score(const T& y_pred, const T& y_true) const {
    if (y_true.dtype() == kInt64) {
      detail::check_class_labels(y_pred.shape(), y_true.shape(), y_true.dtype(), name());
      return to(eq(argmax(y_pred, 1), y_true), kFloat32);
    }
    detail::check_same_shape(y_pred.shape(), y_true.shape(), name());
    return to(eq(argmax(y_pred, 1), argmax(y_true, 1)), kFloat32);
  }
};

// "binary_accuracy": per element, is (y_pred > threshold) the label (0 or 1)? y_pred and y_true
// of one shape. threshold 0.5 for probabilities (after a sigmoid, Keras's default); 0 for logits.
//     score = [(y_pred > threshold) == (y_true > 0.5)]
class BinaryAccuracy : public MetricFormula<BinaryAccuracy> {
 public:
  explicit BinaryAccuracy(double threshold = 0.5, std::string name = "binary_accuracy")
      : MetricFormula(std::move(name)), threshold(threshold) {}
  template <class T> T score(const T& y_pred, const T& y_true) const {
    detail::check_same_shape(y_pred.shape(), y_true.shape(), name());
    return to(eq(gt(y_pred, threshold), gt(to(y_true, kFloat32), 0.5)), kFloat32);
  }
  const double threshold;
};

// "sparse_top_k_categorical_accuracy": is the label among the k highest scores? y_pred [N, C],
// y_true int64 [N]. A class is in the top k when fewer than k classes score strictly higher —
// so ties at the boundary count as in, as tf.math.in_top_k counts them.
//     score = [#{c : y_pred[n, c] > y_pred[n, y_true[n]]} < k]
class TopKAccuracy : public MetricFormula<TopKAccuracy> {
 public:
  explicit TopKAccuracy(int64_t k = 5, std::string name = "sparse_top_k_categorical_accuracy");
  template <class T> T score(const T& y_pred, const T& y_true) const {
    detail::check_class_labels(y_pred.shape(), y_true.shape(), y_true.dtype(), name());
    const T label_score = gather(y_pred, 1, unsqueeze(y_true, 1));  // [N, 1]
    const T higher = sum(to(gt(y_pred, label_score), kFloat32), {1});  // [N]
    return to(lt(higher, static_cast<double>(k)), kFloat32);
  }
  const int64_t k;
};

// A metric by its Keras name: "accuracy" (or "acc"), "binary_accuracy",
// "sparse_top_k_categorical_accuracy" (k = 5); anything else is an error listing these.
std::shared_ptr<PredictionMetric> metric_named(const std::string& name);

}  // namespace tandem::keras
