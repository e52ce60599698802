// tests/test_metrics.cpp — metrics against hand math, in eager loops and in graph loops.
//
// Each expected value below is counted by hand in a comment. The same metric object serves a
// hand-written eager loop (update on tensors), a hand-written graph loop (its scores built as
// nodes once, fetched, then add()) and fit (tests/test_fit.cpp).
//
// Read next: train/metrics.h.
#include <catch2/catch.hpp>

#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;

TEST_CASE("metrics: accuracy, binary accuracy, top-k and mean, by hand", "[train][metrics]") {
  // Accuracy. Row maxima: class 1, 0, 2, 1; labels 1, 0, 1, 2: right, right, wrong, wrong → 2/4.
  keras::Accuracy acc;
  const Tensor logits = tensor({{0.1f, 0.9f, 0.0f}, {2.0f, 1.0f, 0.0f}, {0.0f, 0.0f, 5.0f}, {1.0f, 3.0f, 2.0f}});
  acc.update(logits, tensor({1, 0, 1, 2}));
  CHECK(acc.result() == 0.5);
  // A second batch of two, both right: (2 + 2) / 6.
  acc.update(tensor({{0.0f, 1.0f, 0.0f}, {0.0f, 0.0f, 1.0f}}), tensor({1, 2}));
  CHECK(acc.result() == Approx(4.0 / 6.0));
  CHECK(acc.count() == 6);
  acc.reset();
  CHECK(acc.result() == 0.0);  // Keras's value before any update
  // One-hot labels (Keras's categorical accuracy): argmax 1, 0, 2, 1 against 1, 2, 2, 0 → 2/4.
  acc.update(logits, tensor({{0.f, 1.f, 0.f}, {0.f, 0.f, 1.f}, {0.f, 0.f, 1.f}, {1.f, 0.f, 0.f}}));
  CHECK(acc.result() == 0.5);

  // Binary accuracy. p > 0.5: 0, 1, 0, 1 against labels 0, 1, 1, 0 → right, right, wrong, wrong.
  keras::BinaryAccuracy bin;
  bin.update(tensor({{0.2f}, {0.7f}, {0.5f}, {0.9f}}), tensor({{0.f}, {1.f}, {1.f}, {0.f}}));
  CHECK(bin.result() == 0.5);
  keras::BinaryAccuracy logit_bin(/*threshold=*/0.0);  // on logits: x > 0
  logit_bin.update(tensor({{-1.f}, {2.f}, {0.5f}}), tensor({{0.f}, {1.f}, {0.f}}));
  CHECK(logit_bin.result() == Approx(2.0 / 3.0));

  // Top-2. Row 0: label 2 scores 0.4, one class (0.5) higher → in. Row 1: label 0 scores 0.3,
  // one higher (0.4), one tied (0.3: not higher) → in. Row 2: label 1 scores 0.02, two higher → out.
  keras::TopKAccuracy top2(2);
  top2.update(tensor({{0.1f, 0.5f, 0.4f}, {0.3f, 0.3f, 0.4f}, {0.9f, 0.02f, 0.08f}}), tensor({2, 0, 1}));
  CHECK(top2.result() == Approx(2.0 / 3.0));

  // Mean, weighted: (2·3 + 4·1) / (3 + 1); then every element of a tensor, weight 1 each.
  keras::Mean loss("loss");
  loss.update(2.0, 3.0);
  loss.update(4.0, 1.0);
  CHECK(loss.result() == 2.5);
  loss.update(tensor({1.0f, 1.0f}));
  CHECK(loss.result() == Approx(12.0 / 6.0));
  CHECK(loss.name() == "loss");
}

TEST_CASE("metrics: the same metric in a hand-written graph loop, its scores built once and fetched", "[train][metrics][graph]") {
  manual_seed(4);
  const Tensor w0 = randn({6, 4});
  std::vector<std::pair<Tensor, Tensor>> batches;
  for (int i = 0; i < 3; ++i) batches.emplace_back(randn({5, 6}), randint(0, 4, {5}));
  // Eager: update on the logits.
  keras::Accuracy eager_acc;
  keras::TopKAccuracy eager_top(2);
  for (const auto& [x, y] : batches) {
    eager_acc.update(matmul(x, w0), y);
    eager_top.update(matmul(x, w0), y);
  }
  // Graph: the scores as nodes beside the logits; each run fetches them; add() sums them up.
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output x = g::placeholder(kFloat32, {-1, 6}), y = g::placeholder(kInt64, {-1});
  const g::Output logits = matmul(x, g::Variable(w0, true, "w"));
  keras::Accuracy graph_acc;
  keras::TopKAccuracy graph_top(2);
  const g::Output correct = graph_acc.scores(logits, y), in_top = graph_top.scores(logits, y);
  CHECK(correct.shape() == Shape{kUnknown});
  g::Session session(graph);
  session.run(g::global_variables_initializer(graph));
  for (const auto& [xb, yb] : batches) {
    const auto got = session.run({correct, in_top}, {{x, xb}, {y, yb}});
    graph_acc.add(got[0]);
    graph_top.add(got[1]);
  }
  CHECK(graph_acc.result() == eager_acc.result());
  CHECK(graph_top.result() == eager_top.result());
  CHECK(eager_acc.count() == 15);
  // And by hand, from the logits.
  double right = 0;
  for (const auto& [xb, yb] : batches) right += sum(eq(argmax(matmul(xb, w0), 1), yb).to(kFloat64)).item();
  CHECK(eager_acc.result() == Approx(right / 15.0));
}

TEST_CASE("metrics: labels that do not fit the predictions are clear errors, in both modes", "[train][metrics][errors]") {
  keras::Accuracy acc;
  CHECK_THROWS_WITH(acc.update(zeros({4, 3}), tensor({0, 1, 2})),
                    Catch::Contains("accuracy: predictions of shape [4, 3] need class labels of shape [N]") &&
                        Catch::Contains("got labels of shape [3]"));
  CHECK_THROWS_WITH(acc.update(zeros({4, 3}), zeros({4, 2})), Catch::Contains("the predictions have shape [4, 3]"));
  keras::BinaryAccuracy bin;
  CHECK_THROWS_WITH(bin.update(zeros({4, 1}), zeros({4})), Catch::Contains("reshape the labels"));
  keras::TopKAccuracy top(2);
  CHECK_THROWS_WITH(top.update(zeros({4, 3}), zeros({4})), Catch::Contains("must be int64 class indices"));
  CHECK_THROWS_WITH(keras::TopKAccuracy(0), Catch::Contains("k must be at least 1"));
  CHECK_THROWS_WITH(keras::metric_named("f1"), Catch::Contains("no metric named 'f1'"));
  CHECK(acc.count() == 0);  // nothing was added by the refused updates
  g::Graph graph;
  g::DefaultGraph use(graph);
  CHECK_THROWS_WITH(acc.scores(g::placeholder(kFloat32, {-1, 10}), g::placeholder(kInt64, {-1, 10})),
                    Catch::Contains("need class labels of shape [N]"));
}
