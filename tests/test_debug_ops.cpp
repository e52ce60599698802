// tests/test_debug_ops.cpp — check_numerics and print, eager and in graphs, through the passes.
#include <catch2/catch.hpp>

#include <cmath>
#include <iostream>
#include <limits>
#include <sstream>

#include "io/graph_file.h"
#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;

namespace {
// Collects what is written to std::cerr while it lives (print writes there, as tf.Print does).
class CaptureStderr {
 public:
  CaptureStderr() : old_(std::cerr.rdbuf(text_.rdbuf())) {}
  ~CaptureStderr() { std::cerr.rdbuf(old_); }
  std::string text() const { return text_.str(); }

 private:
  std::ostringstream text_;
  std::streambuf* old_;
};

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}
}  // namespace

TEST_CASE("check_numerics: eager mode checks now, a graph on each run, naming the node's line", "[debug]") {
  const double inf = std::numeric_limits<double>::infinity();
  // Eager: the value itself when finite; an Error naming the message and what was found, at once.
  const Tensor ok = tensor({1.0, 2.0});
  CHECK(equal(check_numerics(ok, "fine"), ok));
  CHECK_THROWS_WITH(check_numerics(tensor({{1.0, std::nan("")}, {inf, 2.0}}), "logits"),
                    Catch::Contains("check_numerics: logits") && Catch::Contains("NaN and Inf") &&
                        Catch::Contains("1 NaN, 1 Inf") && Catch::Contains("first at [0, 1]"));
  CHECK(equal(check_numerics(tensor({int64_t{3}}), "ints pass"), tensor({int64_t{3}})));

  // Graph: nothing is checked when declared; the run that meets a NaN stops there.
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {-1});
  g::Output y = check_numerics(log(x), "log(x)") * 2.0f;
  g::Session s(graph);
  CHECK(allclose(s.run(y, {{x, tensor({1.0f})}}), tensor({0.0f})));
  CHECK_THROWS_WITH(s.run(y, {{x, tensor({1.0f, -1.0f})}}),
                    Catch::Contains("log(x)") && Catch::Contains("NaN") && Catch::Contains("CheckNumerics") &&
                        Catch::Contains("test_debug_ops.cpp"));
}

TEST_CASE("check_numerics passes the gradient through and checks it on its way back", "[debug]") {
  // Eager: d/dx of check_numerics(x)² is 2x; a gradient that is NaN is reported as one.
  Tensor x = tensor({1.0, -2.0}).requires_grad_();
  (check_numerics(x, "x") * check_numerics(x, "x")).sum().backward();
  CHECK(allclose(x.grad(), tensor({2.0, -4.0})));
  Tensor z = tensor({0.0}).requires_grad_();
  CHECK_THROWS_WITH((check_numerics(z, "z") * 0.0).sqrt().sum().backward(),
                    Catch::Contains("in gradient. z"));
  // Graph: the gradient nodes hold the check too.
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output a = g::placeholder(kFloat32, {2});
  const int forward_line = __LINE__ + 1;
  g::Output loss = sqrt(check_numerics(a, "a")).sum();
  g::Output da = g::gradients({loss}, {a})[0];
  g::Session s(graph);
  CHECK(allclose(s.run(da, {{a, tensor({1.0, 4.0})}}), tensor({0.5, 0.25})));
  CHECK_THROWS_WITH(s.run(da, {{a, tensor({0.0, 4.0})}}), Catch::Contains("in gradient. a"));
  // The failing node was made by gradients(); the error names the forward check's line too.
  CHECK_THROWS_WITH(s.run(da, {{a, tensor({0.0, 4.0})}}),
                    Catch::Contains("for the gradient of node 'CheckNumerics' (CheckNumerics) created at "
                                    "tests/test_debug_ops.cpp:" + std::to_string(forward_line)));
}

TEST_CASE("print writes its message and the value, eagerly now and in a graph on every run", "[debug]") {
  {
    CaptureStderr err;
    const Tensor t = print(tensor({1.0f, 2.0f}), "t = ");
    CHECK(equal(t, tensor({1.0f, 2.0f})));
    CHECK(err.text() == "t = tensor([1., 2.])\n");
  }
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {2});
  // Two identical prints of one value: both run (print is stateful: never merged, never folded).
  g::Output y = print(x, "x = ") + print(x, "x = ") + print(g::constant(tensor({5.0f})), "c = ");
  g::Session s(graph);
  CaptureStderr err;
  s.run(y, {{x, tensor({1.0f, 2.0f})}});
  s.run(y, {{x, tensor({3.0f, 4.0f})}});
  const std::string text = err.text();
  CHECK(count(text, "x = tensor([1., 2.])") == 2);
  CHECK(count(text, "x = tensor([3., 4.])") == 2);
  CHECK(count(text, "c = tensor([5.])") == 2);  // a print of a constant still prints on each run
}

TEST_CASE("the passes keep the checks: CSE merges twins, folding checks constants once", "[debug]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {2});
  g::Output twins = check_numerics(x, "same") + check_numerics(x, "same");
  g::Output two = check_numerics(x, "one") + check_numerics(x, "other");
  g::Session s(graph);
  s.run(twins, {{x, ones({2})}});
  int checks = 0;
  for (const g::Step& step : s.last_plan().steps) checks += step.op == &ops::check_numerics;
  CHECK(checks == 1);
  s.run(two, {{x, ones({2})}});
  checks = 0;
  for (const g::Step& step : s.last_plan().steps) checks += step.op == &ops::check_numerics;
  CHECK(checks == 2);
  // A check of a constant that passes is done while planning; one that fails stays, and fails the run.
  g::Output good = check_numerics(g::constant(tensor({1.0f})), "good") + x;
  g::Output bad = check_numerics(log(g::constant(tensor({-1.0f}))), "bad constant") + x;
  CHECK(allclose(s.run(good, {{x, ones({2})}}), full({2}, 2.0f)));
  CHECK_THROWS_WITH(s.run(bad, {{x, ones({2})}}), Catch::Contains("bad constant"));
}

TEST_CASE("a frozen graph file keeps check_numerics and print with their messages", "[debug][graph_file]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {-1}, "x");
  g::Output y = g::identity(print(check_numerics(sqrt(x), "sqrt(x)"), "y = "), "y");
  g::Session s(graph);
  io::FrozenGraph frozen = io::freeze(s, {y});
  io::FrozenGraph loaded = io::parse_graph(io::serialize_graph(frozen));
  g::Session t(*loaded.graph);
  CaptureStderr err;
  CHECK(allclose(t.run(loaded.output("y"), {{loaded.input("x"), tensor({4.0f})}}), tensor({2.0f})));
  CHECK(err.text() == "y = tensor([2.])\n");
  CHECK_THROWS_WITH(t.run(loaded.output("y"), {{loaded.input("x"), tensor({-4.0f})}}), Catch::Contains("sqrt(x)"));
}
