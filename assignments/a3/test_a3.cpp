// assignments/a3/test_a3.cpp — the tests of assignment 3 (graph mode, TensorFlow 1 style).
//
// [a3.t1] the executor loop (graph/session.cpp, graph/executor.cpp), [a3.t2] gradients()
// (graph/gradients.cpp), [a3.t3] constant folding (graph/passes/constant_folding.cpp).
// The t1 and t2 tests run sessions with every pass off (SessionOptions::no_passes(): the plain
// interpreter), so your executor and your gradients are graded without your folding pass; the t3
// tests check that folding changes the plan and never the values (run before and after, compare).
//
// Read next: assignments/a3/README.md.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "graph/passes.h"
#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;
using D = std::vector<double>;

namespace {
bool near(const std::vector<double>& a, const std::vector<double>& b, double tol = 1e-9) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::abs(a[i] - b[i]) > tol) return false;
  return true;
}
// float64 values (tensor() alone makes float32, PyTorch's default dtype).
Tensor v64(std::initializer_list<double> v) { return tensor(v, kFloat64); }
Tensor m64(std::initializer_list<std::initializer_list<double>> v) { return tensor(v, kFloat64); }
g::SessionOptions plain() { return g::SessionOptions::no_passes(); }
g::SessionOptions folding_only() {
  g::SessionOptions o = g::SessionOptions::no_passes();
  o.fold_constants = true;
  return o;
}
}  // namespace

// ---- t1: the executor loop -----------------------------------------------------------------------

TEST_CASE("a3.t1: a session computes what it is asked for, from the feeds", "[a3.t1]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat64, {2});
  g::Output y = g::exp(x) + x;  // e^x + x
  g::Session s(graph, plain());
  CHECK(near(s.run(y, {{x, v64({0., 1.})}}).to_vector<double>(), D{1.0, std::exp(1.0) + 1.0}));
  // Each step runs once per run: Exp and Add, two kernels (the fed x is not a step that runs).
  CHECK(s.last_run_stats().kernels_launched == 2);
  CHECK(s.last_run_stats().nodes_executed == 2);
}

TEST_CASE("a3.t1: several fetches share the steps they have in common", "[a3.t1]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output a = g::constant(m64({{1., 2.}, {3., 4.}}));
  g::Output b = g::matmul(a, a);  // [[7, 10], [15, 22]]
  g::Output c = g::sum(b);         // 54
  g::Session s(graph, plain());
  const auto out = s.run({b, c});
  CHECK(out[0].to_vector<double>() == D{7, 10, 15, 22});
  CHECK(out[1].item() == 54);
  CHECK(s.last_run_stats().kernels_launched == 2);  // b once, not once per fetch
}

TEST_CASE("a3.t1: variables keep their values across runs", "[a3.t1]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output v = g::Variable(v64({1., 2.}));
  g::Output step = g::assign_add(v, g::constant(v64({10., 10.})));
  g::Session s(graph, plain());
  s.run(g::global_variables_initializer(graph));
  s.run(step);
  s.run(step);
  CHECK(s.run(v).to_vector<double>() == D{21, 22});
}

// BEGIN HIDDEN TESTS
TEST_CASE("a3.t1: a missing feed names the placeholder", "[a3.t1][hidden]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {2}, "pixels");
  g::Session s(graph, plain());
  CHECK_THROWS_WITH(s.run(g::relu(x)), Catch::Contains("pixels"));
}
// END HIDDEN TESTS

// ---- t2: gradients() -----------------------------------------------------------------------------

TEST_CASE("a3.t2: gradients() adds nodes that compute dy/dx", "[a3.t2]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat64, {3});
  g::Output y = g::sum(x * x);  // dy/dx = 2x
  const int64_t before = graph.size();
  const std::vector<g::Output> grads = g::gradients({y}, {x});
  CHECK(graph.size() > before);  // the gradient is itself part of the graph
  g::Session s(graph, plain());
  CHECK(s.run(grads[0], {{x, v64({1., -2., 3.})}}).to_vector<double>() == D{2, -4, 6});
}

TEST_CASE("a3.t2: a value used twice gets the sum of both partial gradients", "[a3.t2]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat64, {2});
  g::Output e = g::exp(x);
  g::Output y = g::sum(e + e * x);  // dy/dx = e^x + (e^x x + e^x) = e^x (2 + x)
  g::Session s(graph, plain());
  const Tensor gx = s.run(g::gradients({y}, {x})[0], {{x, v64({0., 1.})}});
  CHECK(near(gx.to_vector<double>(), D{2.0, 3.0 * std::exp(1.0)}));
}

TEST_CASE("a3.t2: the same rules as eager mode: a matmul layer's gradients", "[a3.t2]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output A = g::placeholder(kFloat64, {2, 3});
  g::Output W = g::constant(m64({{1., 0.}, {2., 1.}, {0., 3.}}));
  g::Output y = g::sum(g::matmul(A, W));
  const auto grads = g::gradients({y}, {A, W});
  g::Session s(graph, plain());
  const auto out = s.run({grads[0], grads[1]}, {{A, m64({{1., 2., 3.}, {4., 5., 6.}})}});
  CHECK(out[0].to_vector<double>() == D{1, 3, 3, 1, 3, 3});  // row sums of W, per row of A
  CHECK(out[1].to_vector<double>() == D{5, 5, 7, 7, 9, 9});  // column sums of A, per column
}

// BEGIN HIDDEN TESTS
TEST_CASE("a3.t2: graph gradients equal eager gradients on an MLP-like expression", "[a3.t2][hidden]") {
  manual_seed(11);
  const Tensor xv = randn({4, 3}, kFloat64), wv = randn({3, 2}, kFloat64);
  const Tensor w = wv.clone();
  w.requires_grad_();
  log_softmax(relu(matmul(xv, w)), 1).sum().backward();
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat64, {4, 3});
  g::Output W = g::placeholder(kFloat64, {3, 2});
  g::Output loss = g::sum(log_softmax(g::relu(g::matmul(x, W)), 1));
  g::Session s(graph, plain());
  const Tensor gw = s.run(g::gradients({loss}, {W})[0], {{x, xv}, {W, wv}});
  CHECK(allclose(gw, w.grad(), 1e-12, 1e-12));
}
// END HIDDEN TESTS

// ---- t3: constant folding ------------------------------------------------------------------------

TEST_CASE("a3.t3: a chain of constant steps folds into one constant", "[a3.t3]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output y = g::exp(g::constant(2.0, kFloat64) * g::constant(3.0, kFloat64)) + g::constant(1.0, kFloat64);
  g::Plan plan = g::lower(graph, {y}, {});
  g::prune(plan);
  CHECK(plan.steps.size() == 6);           // three constants, Mul, Exp, Add
  CHECK(g::fold_constants(plan) == 3);     // Mul, then Exp, then Add: each folds as it is reached
  REQUIRE(plan.steps.size() == 1);
  CHECK(plan.steps[0].kind == g::Kind::constant);
  CHECK(plan.steps[0].value.item() == std::exp(6.0) + 1.0);
}

TEST_CASE("a3.t3: folding never changes a value: run with and without it", "[a3.t3]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat64, {2});
  g::Output k = g::constant(v64({1., 2.})) + g::constant(v64({10., 20.}));  // foldable: {11, 22}
  g::Output y = x * k + g::exp(g::constant(v64({0., 1.})));                     // x·k + {1, e}
  const g::FeedDict feeds{{x, v64({3., 4.})}};
  g::Session off(graph, plain()), on(graph, folding_only());
  const Tensor a = off.run(y, feeds), b = on.run(y, feeds);
  CHECK(near(a.to_vector<double>(), D{33 + 1.0, 88 + std::exp(1.0)}));
  CHECK(a.to_vector<double>() == b.to_vector<double>());  // bit for bit: the same kernels computed them
  CHECK(off.last_run_stats().kernels_launched == 4);  // Add (k), Mul, Exp, Add
  CHECK(on.last_run_stats().kernels_launched == 2);   // Mul and Add read x: they stay
}

// BEGIN HIDDEN TESTS
TEST_CASE("a3.t3: fed steps and variables are never folded", "[a3.t3][hidden]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output c = g::constant(v64({1., 2.}));
  g::Output k = c * g::constant(3.0, kFloat64);
  g::Output v = g::Variable(v64({5., 5.}));
  g::Output y = k + v;
  g::Session on(graph, folding_only());
  on.run(g::global_variables_initializer(graph));
  CHECK(on.run(y).to_vector<double>() == D{8, 11});
  CHECK(on.run(y, {{c, v64({10., 10.})}}).to_vector<double>() == D{35, 35});  // the fed value wins
}
// END HIDDEN TESTS
