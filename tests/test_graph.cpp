// tests/test_graph.cpp — graph mode: declare, then run. Placeholders, variables, sessions,
// names and scopes, construction-time shape errors, run-time errors that point at your line.
#include <catch2/catch.hpp>

#include <sstream>

#include "graph/gradients.h"
#include "graph/ops.h"
#include "graph/session.h"
#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;

namespace {
std::vector<double> vals(const Tensor& t) { return t.to_vector<double>(); }
std::string str(const g::Output& o) {
  std::ostringstream os;
  os << o;
  return os.str();
}
}  // namespace

TEST_CASE("seed example in TF1 style: tf.multiply then Session.run", "[graph][seed]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output a = g::constant(tensor({{3., 4., 8.}}));
  g::Output b = g::constant(tensor({{2.}, {3.}, {9.}}));
  g::Output output = g::mul(a, b);  // builds a node, computes nothing
  CHECK(str(output) == "Tensor(\"Mul:0\", shape=(3, 3), dtype=float32)");
  g::Session s(graph);
  Tensor value = s.run(output);
  CHECK(vals(value) == std::vector<double>{6, 8, 16, 9, 12, 24, 27, 36, 72});
}

TEST_CASE("printing an Output shows metadata, never a value", "[graph]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {-1, 784});
  CHECK(str(x) == "Tensor(\"Placeholder:0\", shape=(?, 784), dtype=float32)");
  g::Output w = g::Variable(zeros({784, 10}));
  g::Output y = g::add(g::matmul(x, w), g::constant(zeros({10})));
  CHECK(str(y) == "Tensor(\"Add:0\", shape=(?, 10), dtype=float32)");
  CHECK(str(g::placeholder(kInt64, {-1})) == "Tensor(\"Placeholder_1:0\", shape=(?,), dtype=int64)");
}

TEST_CASE("unique names and name scopes follow TF", "[graph]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output c = g::constant(1.0, kFloat32, "c");
  CHECK(c.node()->name == "c");
  CHECK(g::constant(1.0, kFloat32, "c").node()->name == "c_1");
  {
    g::NameScope outer("outer");
    CHECK(g::constant(1.0, kFloat32, "c").node()->name == "outer/c");
    {
      g::NameScope inner("inner");
      CHECK(g::constant(1.0, kFloat32, "c").node()->name == "outer/inner/c");
    }
    CHECK(g::constant(1.0, kFloat32, "c").node()->name == "outer/c_1");
    {
      g::NameScope inner("inner");
      CHECK(g::constant(1.0, kFloat32, "c").node()->name == "outer/inner_1/c");
    }
  }
  g::Output m = g::matmul(g::constant(ones({2, 2})), g::constant(ones({2, 2})));
  CHECK(m.node()->name == "MatMul");
  CHECK(g::matmul(m, m).node()->name == "MatMul_1");
}

TEST_CASE("a shape conflict between known dims is an error at construction, naming the line", "[graph][errors]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {-1, 3});
  g::Output w = g::constant(ones({4, 5}));
  REQUIRE_THROWS_WITH(g::matmul(x, w), Catch::Contains("'MatMul'") && Catch::Contains("test_graph.cpp:"));
  // Unknown dims are checked at run time instead, and still name the node and the line.
  g::Output v = g::placeholder(kFloat32, {-1, -1});
  g::Output bad = g::matmul(v, w);  // fine now: the inner size is unknown
  g::Session s(graph);
  REQUIRE_THROWS_WITH(s.run(bad, {{v, ones({2, 3})}}),
                      Catch::Contains("MatMul") && Catch::Contains("created at tests/test_graph.cpp:"));
}

TEST_CASE("feeds: unfed placeholders, wrong shapes and dtypes are TF's errors", "[graph][errors]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {-1, 784});
  g::Output y = g::relu(x);
  g::Session s(graph);
  REQUIRE_THROWS_WITH(s.run(y), Catch::Contains("You must feed a value for placeholder tensor 'Placeholder' "
                                                "with dtype float32 and shape [?, 784]") &&
                                    Catch::Contains("test_graph.cpp"));
  REQUIRE_THROWS_WITH(s.run(y, {{x, zeros({50, 2352})}}),
                      Catch::Contains("Cannot feed value of shape (50, 2352) for Tensor 'Placeholder:0', which "
                                      "has shape '(?, 784)'"));
  REQUIRE_THROWS_WITH(s.run(y, {{x, zeros({1, 784}, kFloat64)}}), Catch::Contains("Cannot feed value of dtype float64"));
  CHECK(s.run(y, {{x, ones({2, 784})}}).shape() == Shape{2, 784});
}

TEST_CASE("any tensor can be fed, which cuts off its upstream", "[graph]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {2});
  g::Output h = g::mul(x, g::constant(tensor({10.f, 10.f})));
  g::Output y = g::add(h, g::constant(tensor({1.f, 1.f})));
  g::Session s(graph);
  CHECK(vals(s.run(y, {{h, tensor({5.f, 6.f})}})) == std::vector<double>{6, 7});  // x need not be fed
}

TEST_CASE("feeds the fetches do not need are ignored, in any order, and each value reaches its node", "[graph]") {
  // TF1 allows feeding more than a run needs: session.run(pred, {x: images, y: labels}) for a
  // prediction that reads x only. Pruning drops y's step, and x must still get the images.
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output x = g::placeholder(kFloat32, {-1, 2}, "x");
  const g::Output y = g::placeholder(kFloat32, {-1, 2}, "y");
  const g::Output pred = x * 2;
  const g::Output both = x * 2 + y;
  const Tensor xv = tensor({{1.f, 2.f}}), yv = tensor({{10.f, 20.f}});
  for (const g::SessionOptions& options : {g::SessionOptions{}, g::SessionOptions::no_passes()}) {
    g::Session s(graph, options);
    // By hand: pred = 2·x = [2, 4]; both = 2·x + y = [12, 24].
    CHECK(vals(s.run(pred, {{y, yv}, {x, xv}})) == std::vector<double>{2, 4});
    CHECK(vals(s.run(pred, {{x, xv}, {y, yv}})) == std::vector<double>{2, 4});
    // The same fed set in the other order, after the plan for it is cached.
    CHECK(vals(s.run(both, {{x, xv}, {y, yv}})) == std::vector<double>{12, 24});
    CHECK(vals(s.run(both, {{y, yv}, {x, xv}})) == std::vector<double>{12, 24});
  }
}

TEST_CASE("variables live in the session: initializer, assign, two independent sessions", "[graph]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output v = g::Variable(tensor({1.f, 2.f}), true, "v");
  g::Output bump = g::assign_add(v, g::constant(tensor({1.f, 1.f})));
  g::Output init = g::global_variables_initializer();
  CHECK(init.node()->name == "init");
  CHECK(graph.trainable_variables().size() == 1);
  g::Session s1(graph), s2(graph);
  REQUIRE_THROWS_WITH(s1.run(v), Catch::Contains("Attempting to use uninitialized value v") &&
                                     Catch::Contains("test_graph.cpp"));
  s1.run(init);
  s2.run(init);
  s1.run(bump);
  s1.run(bump);
  CHECK(vals(s1.run(v)) == std::vector<double>{3, 4});
  CHECK(vals(s2.run(v)) == std::vector<double>{1, 2});
  g::Output set = g::assign(v, g::constant(tensor({7.f, 8.f})));
  s2.run(set);
  CHECK(vals(s2.variable_value(v)) == std::vector<double>{7, 8});
  REQUIRE_THROWS_AS(g::assign(v, g::constant(zeros({3}))), ShapeError);
}

TEST_CASE("each node runs at most once per run, and only what the fetches need", "[graph]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {3});
  g::Output unfed = g::placeholder(kFloat32, {3});
  g::Output e = g::exp(x);
  g::Output a = g::add(e, e);
  g::Output b = g::mul(e, e);
  g::Output unused = g::relu(unfed);
  g::Session s(graph, g::SessionOptions::no_passes());
  auto out = s.run({a, b}, {{x, zeros({3})}});
  CHECK(vals(out[0]) == std::vector<double>{2, 2, 2});
  CHECK(vals(out[1]) == std::vector<double>{1, 1, 1});
  CHECK(s.last_run_stats().nodes_executed == 3);  // exp, add, mul (x was fed; `unused` pruned)
  CHECK(s.last_run_stats().kernels_launched == 3);
  (void)unused;
}

TEST_CASE("control dependencies and group order side effects", "[graph]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output v = g::Variable(tensor({0.f}));
  g::Output inc = g::assign_add(v, g::constant(tensor({1.f})));
  g::Output read;
  {
    g::ControlDependencies deps({inc});
    read = g::identity(v);  // runs after inc
  }
  g::Session s(graph);
  s.run(g::global_variables_initializer());
  CHECK(vals(s.run(read)) == std::vector<double>{1});
  CHECK(vals(s.run(read)) == std::vector<double>{2});
  s.run(g::group({inc, inc}));
  CHECK(vals(s.variable_value(v)) == std::vector<double>{3});
}

TEST_CASE("a finalized graph refuses new nodes, fetches must come from the session's graph", "[graph][errors]") {
  g::Graph g1, g2;
  g::Output a;
  {
    g::DefaultGraph use(g1);
    a = g::constant(ones({1}));
  }
  g::Output b;
  {
    g::DefaultGraph use(g2);
    b = g::constant(ones({1}));
    REQUIRE_THROWS_WITH(g::add(a, b), Catch::Contains("must be from the same graph"));
  }
  g::Session s(g2);
  REQUIRE_THROWS_WITH(s.run(a), Catch::Contains("is not an element of this graph"));
  g1.finalize();
  REQUIRE_THROWS_WITH(g::relu(a), Catch::Contains("Graph is finalized and cannot be modified"));
}

TEST_CASE("gradients() adds nodes under gradients/ and computes what eager backward computes", "[graph][gradients]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  manual_seed(0);
  const Tensor w0 = randn({4, 3}), b0 = randn({3}), xv = randn({5, 4});
  g::Output x = g::placeholder(kFloat32, {-1, 4});
  g::Output w = g::Variable(w0, true, "w");
  g::Output b = g::Variable(b0, true, "b");
  g::Output loss = g::mean(g::tanh(g::matmul(x, w) + b));
  auto grads = g::gradients({loss}, {w, b});
  CHECK(grads[0].node()->name.rfind("gradients/", 0) == 0);
  CHECK(grads[0].node()->is_gradient);
  g::Session s(graph);
  s.run(g::global_variables_initializer());
  auto out = s.run({loss, grads[0], grads[1]}, {{x, xv}});

  Tensor we = w0.clone().requires_grad_(), be = b0.clone().requires_grad_();
  Tensor le = mean(tanh(matmul(xv, we) + be));
  le.backward();
  CHECK(allclose(out[0], le, 1e-5, 1e-6));
  CHECK(allclose(out[1], we.grad(), 1e-5, 1e-6));
  CHECK(allclose(out[2], be.grad(), 1e-5, 1e-6));
}

TEST_CASE("diamond, stop_gradient and unconnected inputs in graph gradients", "[graph][gradients]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output a = g::placeholder(kFloat32, {});
  g::Output b = g::add(a, a);
  g::Output c = g::add(b, b);
  g::Output other = g::placeholder(kFloat32, {});
  auto gr = g::gradients({c}, {a, other});
  CHECK(gr[0].defined());
  CHECK_FALSE(gr[1].defined());
  CHECK(g::gradients({c}, {other}, {}, /*unconnected_zeros=*/true)[0].defined());
  g::Session s(graph);
  CHECK(s.run(gr[0], {{a, tensor(3.f)}}).item() == 4.0);
  // TF's example: with b2 = 2a, d(a + b2)/d[a, b2] = [3, 1]; stop_gradient(b2) gives [1, 1].
  g::Output b2 = g::mul(a, g::constant(2.0, kFloat32));
  auto full = g::gradients({g::add(a, b2)}, {a, b2});
  auto stopped = g::gradients({g::add(a, g::stop_gradient(b2))}, {a});
  auto v = s.run({full[0], full[1], stopped[0]}, {{a, tensor(1.f)}});
  CHECK(v[0].item() == 3.0);
  CHECK(v[1].item() == 1.0);
  CHECK(v[2].item() == 1.0);
}

TEST_CASE("gradient of a gradient: second derivatives in graph mode", "[graph][gradients]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat64, {});
  g::Output y = g::mul(g::mul(x, x), x);       // x³
  g::Output dy = g::gradients({y}, {x})[0];     // 3x²
  g::Output d2y = g::gradients({dy}, {x})[0];   // 6x
  g::Output t = g::tanh(x);
  g::Output d2t = g::gradients({g::gradients({t}, {x})[0]}, {x})[0];  // -2 tanh (1 - tanh²)
  g::Session s(graph);
  auto v = s.run({dy, d2y, d2t}, {{x, tensor(2.0, kFloat64)}});
  CHECK(v[0].item() == 12.0);
  CHECK(v[1].item() == 12.0);
  const double th = std::tanh(2.0);
  CHECK(v[2].item() == Approx(-2 * th * (1 - th * th)).epsilon(1e-12));
}

TEST_CASE("one derivative sheet: the same rule row serves eager backward and graph gradients", "[graph][gradients]") {
  const autograd::Derivative* row = autograd::derivative_for(ops::mul);
  REQUIRE(row);
  REQUIRE(row->eager);
  REQUIRE(row->graph);
  // Eager: the tape node of a multiplication points at this row.
  Tensor a = tensor({1.f}).requires_grad_();
  CHECK((a * a).grad_fn()->rule == row);
  // Graph: the gradient nodes of a multiplication were made by this row.
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {1});
  g::Output dx = g::gradients({g::mul(x, x)}, {x})[0];
  bool made_by_row = false;
  for (const auto& n : graph.nodes()) made_by_row |= n->made_by == row;
  CHECK(made_by_row);
  (void)dx;
}
