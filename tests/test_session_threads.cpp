// tests/test_session_threads.cpp — one Session, run from several threads at once (TF1's model).
//
// Runs that only read variables (inference) run side by side, each in its own buffers; runs that
// write variables (training steps) run one at a time. These tests would fail without that: two runs
// sharing one memory plan's buffers give each other's values back, and two training steps updating
// one variable in place race. Tagged [threads]: the ThreadSanitizer build runs them too.
#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <thread>

#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;

namespace {

// A small MLP classifier with a global step, built in its own graph.
struct Mlp {
  g::Graph graph;
  g::Output x, labels, logits, train, step, w1;
  Mlp() {
    g::DefaultGraph use(graph);
    manual_seed(1);
    x = g::placeholder(kFloat32, {-1, 8}, "x");
    labels = g::placeholder(kInt64, {-1}, "labels");
    w1 = g::Variable(randn({8, 16}) * 0.3, true, "w1");
    const g::Output b1 = g::Variable(zeros({16}), true, "b1");
    const g::Output w2 = g::Variable(randn({16, 3}) * 0.3, true, "w2");
    logits = matmul(relu(matmul(x, w1) + b1), w2);
    step = g::Variable(zeros({}, kInt64), false, "global_step");
    train = g::train::GradientDescentOptimizer(0.05).minimize(cross_entropy(logits, labels), step);
  }
};

Tensor batch(int seed, int64_t n) {
  manual_seed(static_cast<uint64_t>(seed));
  return randn({n, 8});
}

}  // namespace

TEST_CASE("one Session, four threads of inference: each gets its own answers", "[threads][graph]") {
  Mlp m;
  g::Session s(m.graph);
  s.run(g::global_variables_initializer(m.graph));
  // The expected answers, computed one at a time first (batch sizes differ: different shapes).
  std::vector<Tensor> inputs, expected;
  for (int k = 0; k < 8; ++k) {
    inputs.push_back(batch(100 + k, 3 + k % 3));
    expected.push_back(s.run(m.logits, {{m.x, inputs.back()}}).clone());
  }
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int r = 0; r < 50; ++r) {
        const int k = (t * 3 + r) % 8;
        const Tensor got = s.run(m.logits, {{m.x, inputs[k]}});
        if (!equal(got, expected[k])) ++wrong;
      }
    });
  for (auto& th : threads) th.join();
  CHECK(wrong == 0);
}

TEST_CASE("one Session, training from two threads: every step counts, nothing races", "[threads][graph]") {
  Mlp m;
  g::Session s(m.graph);
  s.run(g::global_variables_initializer(m.graph));
  const Tensor labels = tensor({0, 1, 2, 1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&, t] {
      for (int r = 0; r < 40; ++r) s.run(m.train, {{m.x, batch(t * 1000 + r, 4)}, {m.labels, labels}});
    });
  // A third thread reads while the others write: it waits for each step, never sees half of one.
  std::atomic<bool> finite{true};
  threads.emplace_back([&] {
    for (int r = 0; r < 40; ++r)
      for (float v : s.run(m.logits, {{m.x, batch(5, 2)}}).to_vector<float>())
        if (!std::isfinite(v)) finite = false;
  });
  for (auto& th : threads) th.join();
  CHECK(finite);
  CHECK(s.variable_value(m.step).item<int64_t>() == 80);  // each of the 80 steps incremented it once
  // Training moved the weights, and they are finite.
  for (float v : s.variable_value(m.w1).to_vector<float>()) CHECK(std::isfinite(v));
}
