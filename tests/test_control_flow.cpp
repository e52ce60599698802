// tests/test_control_flow.cpp — cond and while_loop in graphs: values, checks, passes, gradients.
//
// The gradients are checked by finite differences through a Session (graph::gradcheck), and the
// values against the same computation written as plain C++ on eager tensors.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <string>

#include "graph/control_flow.h"
#include "graph/dot.h"
#include "graph/gradcheck.h"
#include "io/graph_file.h"
#include "tandem.h"
#include "tests/run_program.h"

using namespace tandem;
namespace g = tandem::graph;
using g::Output;
using Outputs = std::vector<Output>;

namespace {
Tensor f64(std::initializer_list<double> v) { return tensor(v, kFloat64); }
}  // namespace

// ---- cond -------------------------------------------------------------------------------------------

TEST_CASE("cond runs the branch that pred picks, and only that one", "[control]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  Output x = g::placeholder(kFloat64, {-1});
  // The false branch would fail its check on any input (log of a negative number is NaN): it can
  // run only if cond ran both branches.
  Output y = g::cond(x.sum() > 0.0, [&] { return x * x; }, [&] { return check_numerics(log(-abs(x) - 1.0), "untaken"); });
  g::Session s(graph);
  CHECK(allclose(s.run(y, {{x, f64({1, 2})}}), f64({1, 4})));
  CHECK_THROWS_WITH(s.run(y, {{x, f64({-1, -2})}}), Catch::Contains("untaken") && Catch::Contains("NaN"));
  // Several values per branch, and a branch that returns a captured value as it is.
  Outputs both = g::cond(x.sum() > 0.0, g::BranchFn([&] { return Outputs{x, x.sum()}; }),
                         g::BranchFn([&] { return Outputs{-x, x.sum() * 0.0}; }));
  const std::vector<Tensor> v = s.run(both, {{x, f64({-3, 1})}});
  CHECK(allclose(v[0], f64({3, -1})));
  CHECK(v[1].item<double>() == 0.0);
}

TEST_CASE("cond checks its branches and its predicate when it is declared", "[control]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  Output x = g::placeholder(kFloat32, {2, 3});
  CHECK_THROWS_WITH(g::cond(x.sum() > 0.0, [&] { return x; }, [&] { return x.sum({0}); }),
                    Catch::Contains("same dtype and shape") && Catch::Contains("(2, 3)") && Catch::Contains("(3,)"));
  CHECK_THROWS_WITH(g::cond(x > 0.0, [&] { return x; }, [&] { return x; }),
                    Catch::Contains("0-dim bool") && Catch::Contains("(2, 3)"));
  CHECK_THROWS_WITH(g::cond(x.sum() > 0.0, [&] { return g::Variable(zeros({2, 3})); }, [&] { return x; }),
                    Catch::Contains("true branch") && Catch::Contains("variable"));
  // A value made inside a branch exists only while it runs.
  Output inside;
  Output y = g::cond(x.sum() > 0.0, [&] { return inside = x * 2.0; }, [&] { return x; });
  Output leak = inside + 1.0;
  g::Session s(graph);
  CHECK_THROWS_WITH(s.run(leak, {{x, ones({2, 3})}}), Catch::Contains("inside a branch of a cond"));
  CHECK_THROWS_WITH(s.run(inside, {{x, ones({2, 3})}}), Catch::Contains("inside a branch of a cond"));
  // (The graph now holds a node that can never run: every run names it, until it is built again.)
  CHECK_THROWS_WITH(s.run(y, {{x, ones({2, 3})}}), Catch::Contains("tests/test_control_flow.cpp"));
}

TEST_CASE("the gradient of a cond is a cond over the branches' gradients", "[control][gradcheck]") {
  // y = x² * w when sum(x) > 0, else sin(x) + w: both branches capture x and w.
  const g::GraphFunction f = [](const Outputs& in) {
    const Output &x = in[0], &w = in[1];
    return Outputs{g::cond(x.sum() > 0.0, [&] { return x * x * w; }, [&] { return sin(x) + w; })};
  };
  for (Tensor x : {f64({0.5, 1.5, -0.3}), f64({-0.5, -1.5, 0.3})}) {
    const Tensor w = f64({0.7, -1.2, 2.0}).requires_grad_();
    auto r = g::gradcheck(f, {x.requires_grad_(), w});
    INFO(r.message);
    CHECK(r.ok);
    r = g::gradcheck(f, {x, w}, {}, g::Dims::all_unknown);
    INFO(r.message);
    CHECK(r.ok);
  }
}

// ---- while_loop --------------------------------------------------------------------------------------

namespace {
// y = x^n by a loop: (i, y) -> (i + 1, y * x) while i < n.
Outputs power_loop(const Output& x, int64_t n) {
  return g::while_loop([n](const Outputs& v) { return v[0] < n; },
                       [&x](const Outputs& v) { return Outputs{v[0] + 1, v[1] * x}; },
                       {g::constant(0, kInt64), ones_like(x)});
}
}  // namespace

TEST_CASE("while_loop computes x^n, the loop written as plain C++ in eager mode", "[control]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  Output x = g::placeholder(kFloat64, {-1});
  const Outputs out = power_loop(x, 5);
  g::Session s(graph);
  const Tensor value = f64({1.5, -2.0, 0.5});
  Tensor eager = ones_like(value);
  for (int i = 0; i < 5; ++i) eager = eager * value;  // eager mode: the loop is C++
  const std::vector<Tensor> got = s.run(out, {{x, value}});
  CHECK(got[0].item<int64_t>() == 5);
  CHECK(allclose(got[1], eager));
  // maximum_iterations stops it early, as in TF.
  const Outputs capped = g::while_loop([](const Outputs& v) { return v[0] < 100; },
                                       [](const Outputs& v) { return Outputs{v[0] + 1}; },
                                       {g::constant(0, kInt64)}, {.maximum_iterations = 7});
  CHECK(s.run(capped[0]).item<int64_t>() == 7);
  // A data-dependent count: double v until its sum passes 100.
  const Outputs doubled = g::while_loop([](const Outputs& v) { return v[0].sum() < 100.0; },
                                        [](const Outputs& v) { return Outputs{v[0] * 2.0}; }, {x});
  CHECK(allclose(s.run(doubled[0], {{x, f64({1, 2})}}), f64({64, 128})));
  CHECK(allclose(s.run(doubled[0], {{x, f64({200})}}), f64({200})));  // no iteration at all
}

TEST_CASE("while_loop checks the loop variables' shapes, with TF's shape invariants", "[control]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  Output x = g::placeholder(kFloat32, {2});
  auto grow = [](const Outputs& v) { return Outputs{cat(std::vector{v[0], v[0]})}; };
  auto small = [](const Outputs& v) { return v[0].sum() < 100.0; };
  CHECK_THROWS_WITH(g::while_loop(small, grow, {x}),
                    Catch::Contains("loop variable 0") && Catch::Contains("'Placeholder:0'") &&
                        Catch::Contains("(2,)") && Catch::Contains("(4,)") && Catch::Contains("shape_invariants"));
  const Outputs grown = g::while_loop(small, grow, {x}, {.shape_invariants = {{-1}}});
  CHECK(grown[0].shape() == Shape{-1});
  g::Session s(graph);  // its result's size is known only after the run: no memory plan, same values
  const Tensor v = s.run(grown[0], {{x, ones({2})}});
  CHECK(v.shape() == Shape{128});
  CHECK_THROWS_WITH(g::while_loop(small, [](const Outputs& v) { return Outputs{v[0] > 0.0}; }, {x}),
                    Catch::Contains("float32") && Catch::Contains("bool"));
  CHECK_THROWS_WITH(g::while_loop([](const Outputs& v) { return v[0].sum(); }, grow, {x}, {.shape_invariants = {{-1}}}),
                    Catch::Contains("0-dim bool"));
}

TEST_CASE("gradients through while_loop: x^n and a matrix applied n times", "[control][gradcheck]") {
  const g::GraphFunction power = [](const Outputs& in) { return Outputs{power_loop(in[0], 4)[1]}; };
  auto r = g::gradcheck(power, {f64({1.5, -0.7, 0.4}).requires_grad_()});
  INFO(r.message);
  CHECK(r.ok);
  // Σ 4x³ by hand: d/dx x⁴ at x = 1.5 is 13.5.
  g::Graph graph;
  g::DefaultGraph use(graph);
  Output x = g::placeholder(kFloat64, {1});
  const Output dx = g::gradients({power_loop(x, 4)[1]}, {x})[0];
  g::Session s(graph);
  CHECK(s.run(dx, {{x, f64({1.5})}}).item<double>() == Approx(13.5));

  // v <- W v, three times (the count in a loop variable): gradients for W (captured) and v (a loop
  // variable), with the shapes known and unknown.
  const g::GraphFunction matrix = [](const Outputs& in) {
    const Output &w = in[0], &v0 = in[1];
    const Outputs out = g::while_loop([](const Outputs& v) { return v[0] < 3; },
                                      [&w](const Outputs& v) { return Outputs{v[0] + 1, matmul(w, v[1])}; },
                                      {g::constant(0, kInt64), v0});
    return Outputs{out[1]};
  };
  const Tensor w = tensor({{0.5, -0.3}, {0.8, 1.1}}, kFloat64).requires_grad_();
  const Tensor v = f64({1.0, -2.0}).requires_grad_();
  for (g::Dims dims : {g::Dims::known, g::Dims::all_unknown}) {
    r = g::gradcheck(matrix, {w, v}, {}, dims);
    INFO(g::dims_name(dims) << ": " << r.message);
    CHECK(r.ok);
  }
}

TEST_CASE("a cond inside a while_loop, and gradients through both", "[control][gradcheck]") {
  // while sum(x) < 20: x = sum(x) > 5 ? x * 1.5 : x * 3 + w        (w captured by the inner cond)
  const g::GraphFunction f = [](const Outputs& in) {
    const Output &x0 = in[0], &w = in[1];
    const Outputs out = g::while_loop(
        [](const Outputs& v) { return v[0].sum() < 20.0; },
        [&w](const Outputs& v) {
          const Output& x = v[0];
          return Outputs{g::cond(x.sum() > 5.0, [&] { return x * 1.5; }, [&] { return x * 3.0 + w; })};
        },
        {x0});
    return Outputs{out[0]};
  };
  g::Graph graph;
  {
    g::DefaultGraph use(graph);
    Output x = g::placeholder(kFloat64, {2}), w = g::placeholder(kFloat64, {2});
    const Output y = f({x, w})[0];
    g::Session s(graph);
    Tensor ex = f64({0.5, 1.0});  // eager: the same loop in C++
    const Tensor ew = f64({0.1, 0.2});
    while (ex.sum().item<double>() < 20) ex = ex.sum().item<double>() > 5 ? ex * 1.5 : ex * 3.0 + ew;
    CHECK(allclose(s.run(y, {{x, f64({0.5, 1.0})}, {w, ew}}), ex));
  }
  const auto r = g::gradcheck(f, {f64({0.5, 1.0}).requires_grad_(), f64({0.1, 0.2}).requires_grad_()});
  INFO(r.message);
  CHECK(r.ok);
}

TEST_CASE("control flow runs the same with every pass on or off, and errors name the inner node", "[control]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  Output x = g::placeholder(kFloat32, {3});
  const Output c = g::constant(tensor({1.0f, 2.0f, 3.0f}));
  Output y = g::cond(x.sum() > 0.0, [&] { return relu(x * c + c * 2.0) + exp(c * 0.0); },
                     [&] { return x - c; });
  const Output z = g::while_loop([](const Outputs& v) { return v[0].sum() < 50.0; },
                                 [&](const Outputs& v) { return Outputs{relu(v[0]) * 2.0 + c}; }, {y})[0];
  const Tensor in = tensor({0.5f, -1.0f, 2.0f});
  g::Session all(graph), none(graph, g::SessionOptions::no_passes());
  CHECK(allclose(all.run(z, {{x, in}}), none.run(z, {{x, in}})));
  CHECK(allclose(all.run(z, {{x, -in}}), none.run(z, {{x, -in}})));

  Output bad = g::while_loop([](const Outputs& v) { return v[0].sum() < 50.0; },
                             [&](const Outputs& v) { return Outputs{check_numerics(log(v[0]), "log in the loop")}; },
                             {x})[0];
  CHECK_THROWS_WITH(all.run(bad, {{x, -ones({3})}}),
                    Catch::Contains("log in the loop") && Catch::Contains("body/CheckNumerics") &&
                        Catch::Contains("test_control_flow.cpp") && Catch::Contains("While"));
}

TEST_CASE("control nodes are drawn, and graph files refuse them with a clear error", "[control][dot]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  Output x = g::placeholder(kFloat32, {});
  Output y = g::cond(x > 0.0f, [&] { return x * 2.0f; }, [&] { return -x; });
  Output z = g::while_loop([](const Outputs& v) { return v[0] < 10.0f; },
                           [](const Outputs& v) { return Outputs{v[0] + 1.0f}; }, {y})[0];
  const std::string dot = g::graph_to_dot(graph, {.outputs = {z}, .only_needed = true});
  CHECK(dot.find("shape=diamond") != std::string::npos);        // the Cond
  CHECK(dot.find("shape=doubleoctagon") != std::string::npos);  // the While
  CHECK(dot.find("label=\"true\"") != std::string::npos);       // the branches' scope boxes
  CHECK(dot.find("label=\"false\"") != std::string::npos);
  CHECK(dot.find("label=\"body\"") != std::string::npos);
  CHECK(dot.find("style=dotted, label=\" true branch\"") != std::string::npos);  // branch -> Cond
  CHECK(dot.find("style=dotted, label=\" body\"") != std::string::npos);
  CHECK(dot.find("Merge") != std::string::npos);
  CHECK(dot.find("Exit") != std::string::npos);

  g::Session s(graph);
  CHECK_THROWS_WITH(io::freeze(s, {z}), Catch::Contains("While") && Catch::Contains("graph file does not hold"));
}

TEST_CASE("examples/09_dynamic_control_flow runs both modes side by side and they agree", "[control][examples]") {
  const std::string out = run_ok("./09_dynamic_control_flow", TANDEM_BINARY_DIR);
  INFO(out);
  // Sections 1 and 2: each row's eager column equals its graph column.
  int rows = 0;
  for (size_t at = 0; (at = out.find("\n[", at)) != std::string::npos; ++at) {
    const size_t end = out.find('\n', at + 1);
    const std::string row = out.substr(at + 1, end - at - 1);
    const size_t a = row.find(" | "), b = row.find(" | ", a + 3);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string eager = row.substr(a + 3, b - a - 3), graph = row.substr(b + 3);
    while (!eager.empty() && eager.back() == ' ') eager.pop_back();
    while (!graph.empty() && graph.back() == ' ') graph.pop_back();
    CHECK(eager == graph);
    ++rows;
  }
  CHECK(rows == 8);
  CHECK(out.find("5 steps -> [9.6, 12.8]") != std::string::npos);
  CHECK(out.find("[32, 32]") != std::string::npos);
  CHECK(out.find("holds 3 Mul nodes") != std::string::npos);
  CHECK(out.find("graph::cond(pred, true_fn, false_fn)") != std::string::npos);
  CHECK(out.find("created at examples/09_dynamic_control_flow.cpp") != std::string::npos);
  CHECK(out.find("in the body: tensor([2., 4.]") != std::string::npos);
  CHECK(out.find("control_flow: ") != std::string::npos);
}
