// examples/09_dynamic_control_flow.cpp — a branch and a loop that depend on the data, both ways.
//
// What eager mode can do that a graph cannot do on its own: look at a value and decide. In PyTorch
// a data-dependent loop is a Python `while`; in Tandem's eager mode a C++ `while`. A TensorFlow 1
// graph is built before any value exists, so the branch and the loop must be *nodes* —
// tf.cond and tf.while_loop — which decide when the Session runs them. This demo puts the two side
// by side, on one task: "keep doubling x until its norm exceeds a threshold; then, if it went past
// twice the threshold, scale it back".
//
//   1. the loop and the branch: a C++ `while` and `if` (eager) vs while_loop and cond (graph);
//   2. gradients through both: eager's tape records the iterations that ran; the graph
//      differentiates the loop node (its gradient loop runs the body's derivative backward);
//   3. tracing: a function written once, turned into a graph by running it on placeholders — and
//      what tracing misses (a C++ loop unrolled, a C++ `if` on a value refused with advice);
//   4. debugging: check_numerics catching a NaN (eager: at once; graph: in the run, naming your
//      line) and print inside the loop body, printing on every iteration.
//   5. the drawing of the graph: control_flow.dot (and .svg with Graphviz).
//
// Build and run (from the repository root):
//     cmake -S . -B build -G Ninja && ninja -C build 09_dynamic_control_flow
//     ./build/09_dynamic_control_flow
//
// Read next: graph/control_flow.h, graph/trace.h, docs/demos/09_dynamic_control_flow.md.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "graph/control_flow.h"
#include "graph/dot.h"
#include "graph/trace.h"
#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;
using Outputs = std::vector<g::Output>;

constexpr double kThreshold = 10.0;

// ---- eager: the control flow is C++ ----------------------------------------------------------------
// Returns the final x and the number of doublings.
std::pair<Tensor, int64_t> eager_grow(const Tensor& x0) {
  Tensor x = x0;
  int64_t steps = 0;
  while (x.pow(2).sum().sqrt().item<double>() <= kThreshold) {  // read the value, decide
    x = x * 2.0;
    ++steps;
  }
  if (x.pow(2).sum().sqrt().item<double>() > 2 * kThreshold) x = x * 0.5;
  return {x, steps};
}

// ---- graph: the control flow is nodes --------------------------------------------------------------
// The same, declared: a while_loop over (steps, x), then a cond. Nothing runs here.
Outputs graph_grow(const g::Output& x0) {
  auto norm = [](const g::Output& v) { return v.pow(2).sum().sqrt(); };
  const Outputs loop = g::while_loop([&](const Outputs& v) { return norm(v[1]) <= kThreshold; },
                                     [](const Outputs& v) { return Outputs{v[0] + 1, v[1] * 2.0}; },
                                     {g::constant(0, kInt64), x0}, {.name = "grow"});
  const g::Output x = loop[1];
  const g::Output y = g::cond(norm(x) > 2 * kThreshold, [&] { return x * 0.5; }, [&] { return x; }, "shrink");
  return {y, loop[0]};
}

void section(const char* title) { std::cout << "\n==== " << title << " ====\n\n"; }

int main() {
  set_printoptions({.precision = 3});
  const std::vector<Tensor> starts = {tensor({0.3, 0.4}, kFloat64), tensor({3.0, 4.0}, kFloat64),
                                      tensor({0.9, 1.2}, kFloat64), tensor({12.0, 5.0}, kFloat64)};

  section("1. A data-dependent loop and branch");
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output x0 = g::placeholder(kFloat64, {2}, "x0");
  const Outputs grown = graph_grow(x0);
  g::Session session(graph);
  std::printf("%-16s | %-28s | %-28s\n", "x0", "eager: C++ while + if", "graph: while_loop + cond");
  for (const Tensor& s : starts) {
    const auto [ex, esteps] = eager_grow(s);
    const std::vector<Tensor> gv = session.run(grown, {{x0, s}});
    char a[64], b[64], c[64];
    std::snprintf(a, sizeof a, "[%g, %g]", s.at<double>({0}), s.at<double>({1}));
    std::snprintf(b, sizeof b, "%lld steps -> [%.3g, %.3g]", static_cast<long long>(esteps), ex.at<double>({0}),
                  ex.at<double>({1}));
    std::snprintf(c, sizeof c, "%lld steps -> [%.3g, %.3g]", static_cast<long long>(gv[1].item<int64_t>()),
                  gv[0].at<double>({0}), gv[0].at<double>({1}));
    std::printf("%-16s | %-28s | %-28s\n", a, b, c);
  }
  std::cout << "\nThe graph was built once; each run decided its own number of iterations and its branch.\n"
               "Static shapes: x0 " << x0 << ", result " << grown[0] << "\n";

  section("2. Gradients through the loop and the branch");
  // d(sum(y))/dx0 = 2^steps (times 0.5 when the cond shrank it): a step function of x0.
  const g::Output dx0 = g::gradients({grown[0].sum()}, {x0})[0];
  std::printf("%-16s | %-20s | %-20s\n", "x0", "eager: backward()", "graph: gradients()");
  for (const Tensor& s : starts) {
    Tensor x = s.detach().requires_grad_();
    eager_grow(x).first.sum().backward();  // the tape holds the iterations that ran
    const Tensor gg = session.run(dx0, {{x0, s}});
    char a[64], b[64], c[64];
    std::snprintf(a, sizeof a, "[%g, %g]", s.at<double>({0}), s.at<double>({1}));
    std::snprintf(b, sizeof b, "[%g, %g]", x.grad().at<double>({0}), x.grad().at<double>({1}));
    std::snprintf(c, sizeof c, "[%g, %g]", gg.at<double>({0}), gg.at<double>({1}));
    std::printf("%-16s | %-20s | %-20s\n", a, b, c);
  }

  section("3. Tracing: a function written once, run on placeholders");
  auto scale3 = [](const auto& x) {
    auto y = x;
    for (int i = 0; i < 3; ++i) y = y * 2.0;  // a C++ loop: traced as three Mul nodes
    return y;
  };
  g::TracedFunction traced = g::trace(scale3, {g::TensorSpec{kFloat64, {-1}}});
  int muls = 0;
  for (const auto& n : traced.graph().nodes()) muls += n->type == "Mul";
  std::cout << "eager scale3([1, 2])  = " << scale3(tensor({1.0, 2.0}, kFloat64)) << "\n"
            << "traced scale3([1, 2]) = " << traced(tensor({1.0, 2.0}, kFloat64)) << "\n"
            << "the traced graph holds " << muls << " Mul nodes: the C++ loop was unrolled while tracing\n\n";
  auto eager_only = [](const auto& x) {
    if (x.sum().template item<double>() > 0) return x * 2.0;  // a C++ if on a value
    return -x;
  };
  std::cout << "eager: a C++ `if` on the value works: " << eager_only(tensor({1.0, 2.0}, kFloat64)) << "\n";
  try {
    g::trace(eager_only, {g::TensorSpec{kFloat64, {2}}});
  } catch (const Error& e) {
    std::cout << "tracing it stops with:\n  " << e.what() << "\n";
  }
  g::TracedFunction with_cond = g::trace(
      [](const g::Output& x) { return g::cond(x.sum() > 0.0, [&] { return x * 2.0; }, [&] { return -x; }); },
      {g::TensorSpec{kFloat64, {2}}});
  std::cout << "written with cond, traced: f([1, 2]) = " << with_cond(tensor({1.0, 2.0}, kFloat64))
            << ", f([-1, -2]) = " << with_cond(tensor({-1.0, -2.0}, kFloat64)) << "\n";

  section("4. Debugging: check_numerics and print");
  try {
    Tensor bad = log(tensor({1.0, -1.0}, kFloat64));
    check_numerics(bad, "eager log(x)");
  } catch (const Error& e) {
    std::cout << "eager: fails at once, on this line:\n  " << e.what() << "\n\n";
  }
  const g::Output v = g::placeholder(kFloat64, {2}, "v");
  const g::Output checked = check_numerics(log(v), "graph log(v)") * 2.0;
  std::cout << "graph: declared fine: " << checked << "\n";
  try {
    session.run(checked, {{v, tensor({1.0, -1.0}, kFloat64)}});
  } catch (const Error& e) {
    std::cout << "graph: fails in the run, naming the node and its line:\n  " << e.what() << "\n\n";
  }
  // print inside the loop body: it prints on every iteration (to stderr, as tf.Print does).
  std::cout.flush();
  const Outputs printed = g::while_loop([](const Outputs& lv) { return lv[0].sum() < 10.0; },
                                        [](const Outputs& lv) { return Outputs{print(lv[0], "  in the body: ") * 2.0}; },
                                        {v}, {.name = "printing"});
  const Tensor result = session.run(printed[0], {{v, tensor({1.0, 2.0}, kFloat64)}});
  std::cerr.flush();
  std::cout << "graph: print inside while_loop printed each iteration; result " << result << "\n";

  section("5. The drawing");
  const DotRender r = g::draw_graph(graph, "control_flow", {.outputs = {grown[0], dx0}, .only_needed = true});
  std::cout << "control_flow: " << std::filesystem::absolute(r.rendered ? r.svg_path : r.dot_path).string()
            << (r.rendered ? "" : "  (" + r.message + ")") << "\n";
  return 0;
}
