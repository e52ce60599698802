// tests/test_graph_passes.cpp — the graph passes: constant folding, CSE, elementwise fusion.
//
// Two promises per pass, tested separately:
//   1. it never changes what the fetches compute: the same graph, run in a session with the pass
//      on and in one with every pass off, gives the same values and the same gradients — exactly,
//      bit for bit, since each pass runs the very same kernels or functors;
//   2. it does something: fewer steps in Session::last_plan(), fewer kernels in RunStats, a
//      "Fused[...]" step where a chain used to be.
#include <catch2/catch.hpp>

#include <cmath>

#include "graph/gradients.h"
#include "graph/ops.h"
#include "graph/passes.h"
#include "graph/session.h"
#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;

namespace {

std::vector<double> vals(const Tensor& t) { return t.to_vector<double>(); }

// The same tensor, value for value (NaN equals NaN here: a pass must keep NaNs where they were).
bool same_values(const Tensor& a, const Tensor& b) {
  if (a.defined() != b.defined()) return false;
  if (!a.defined()) return true;
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  const std::vector<double> x = vals(a), y = vals(b);
  for (size_t i = 0; i < x.size(); ++i)
    if (!(x[i] == y[i] || (std::isnan(x[i]) && std::isnan(y[i])))) return false;
  return true;
}

g::SessionOptions only(bool fold, bool cse, bool fuse) {
  g::SessionOptions o = g::SessionOptions::no_passes();
  o.fold_constants = fold;
  o.eliminate_common_subexpressions = cse;
  o.fuse_elementwise = fuse;
  return o;
}
const g::SessionOptions kFold = only(true, false, false);
const g::SessionOptions kCse = only(false, true, false);
const g::SessionOptions kFuse = only(false, false, true);

// Runs the fetches in a fresh session with `options` (initializing variables first, if any).
struct Run {
  std::vector<Tensor> values;
  g::RunStats stats;
  std::vector<std::string> labels;  // of the plan's steps
  std::vector<g::Kind> kinds;
};
Run run_with(g::Graph& graph, const g::SessionOptions& options, const std::vector<g::Output>& fetches,
             const g::FeedDict& feeds = {}) {
  g::Session s(graph, options);
  if (!graph.global_variables().empty()) s.run(g::global_variables_initializer(graph));
  Run r;
  r.values = s.run(fetches, feeds);
  r.stats = s.last_run_stats();
  for (const g::Step& step : s.last_plan().steps) {
    r.labels.push_back(step.label);
    r.kinds.push_back(step.kind);
  }
  return r;
}

void check_same(const Run& on, const Run& off) {
  REQUIRE(on.values.size() == off.values.size());
  for (size_t i = 0; i < on.values.size(); ++i) {
    INFO("fetch " << i);
    CHECK(same_values(on.values[i], off.values[i]));
  }
}

int count_fused(const Run& r) {
  int n = 0;
  for (const std::string& l : r.labels) n += l.rfind("Fused[", 0) == 0;
  return n;
}

// ---- the graphs every pass is checked on ----------------------------------------------------------

struct Case {
  std::string name;
  std::vector<g::Output> fetches;  // values and gradients
  g::FeedDict feeds;
};

// A two-layer MLP with a softmax cross-entropy loss, and the gradients of the loss.
Case mlp(g::Graph& graph) {
  g::DefaultGraph use(graph);
  manual_seed(7);
  g::Output x = g::placeholder(kFloat32, {-1, 4});
  g::Output y = g::placeholder(kFloat32, {-1, 3});  // one-hot labels
  g::Output w1 = g::Variable(randn({4, 8}) * 0.5, true, "w1");
  g::Output b1 = g::Variable(randn({8}) * 0.1, true, "b1");
  g::Output w2 = g::Variable(randn({8, 3}) * 0.5, true, "w2");
  g::Output b2 = g::Variable(randn({3}) * 0.1, true, "b2");
  g::Output h = g::relu(g::matmul(x, w1) + b1);
  g::Output z = g::matmul(h, w2) + b2;
  g::Output loss = -g::mean(g::sum(g::log_softmax(z, 1) * y, {1}));
  std::vector<g::Output> fetches{loss};
  for (const g::Output& gr : g::gradients({loss}, {w1, b1, w2, b2})) fetches.push_back(gr);
  const Tensor labels = tensor({{1.f, 0.f, 0.f}, {0.f, 1.f, 0.f}, {0.f, 0.f, 1.f}, {0.f, 1.f, 0.f}, {1.f, 0.f, 0.f}});
  return {"mlp", fetches, {{x, randn({5, 4})}, {y, labels}}};
}

// The same subexpressions written out more than once.
Case repeated(g::Graph& graph) {
  g::DefaultGraph use(graph);
  manual_seed(8);
  g::Output x = g::placeholder(kFloat32, {-1, 6});
  g::Output w = g::constant(randn({6}));
  g::Output out = g::tanh(x * w) * g::tanh(x * w) + g::exp(x - 1.0) / g::exp(x - 1.0) +
                  g::sum(x * 2.0, {1}, true) + g::sum(x * 2.0, {1}, true);
  return {"repeated", {out, g::gradients({out}, {x})[0]}, {{x, randn({3, 6})}}};
}

// Subgraphs of constants only: work that can be done once, while planning.
Case constant_subgraph(g::Graph& graph) {
  g::DefaultGraph use(graph);
  manual_seed(9);
  g::Output x = g::placeholder(kFloat64, {-1, 5});
  g::Output c = g::exp(g::constant(randn({5}, kFloat64)) * 0.5) + g::constant(randn({5}, kFloat64));
  g::Output k = g::sum(c * c);
  g::Output out = x * c + k * g::pow(x, 3.0);  // d/dx x^3 = 3 x^(3 - 1): the 3 - 1 folds
  return {"constants", {out, c, g::gradients({out}, {x})[0]}, {{x, randn({4, 5}, kFloat64)}}};
}

// A long elementwise chain with broadcasting, and its gradient.
Case chain(g::Graph& graph) {
  g::DefaultGraph use(graph);
  manual_seed(10);
  g::Output x = g::placeholder(kFloat32, {-1, 8});
  g::Output b = g::placeholder(kFloat32, {-1, 1});
  g::Output a = g::constant(randn({8}));
  g::Output c = g::constant(randn({1, 8}));
  g::Output y = g::relu(x * a + b) * c - 0.25;
  g::Output z = g::sigmoid(y) * g::tanh(y) + g::gelu(y) - g::exp(-g::abs(y));
  const std::vector<g::Output> grads = g::gradients({g::sum(z)}, {x, b});
  return {"chain", {z, grads[0], grads[1]}, {{x, randn({6, 8})}, {b, randn({6, 1})}}};
}

}  // namespace

// ---- 1. semantic equivalence, for every pass on every graph -------------------------------------------

TEST_CASE("every pass leaves every fetched value and gradient unchanged", "[graph][passes]") {
  for (auto build : {mlp, repeated, constant_subgraph, chain}) {
    g::Graph graph;
    const Case c = build(graph);
    const Run off = run_with(graph, g::SessionOptions::no_passes(), c.fetches, c.feeds);
    const std::pair<const char*, g::SessionOptions> configs[] = {
        {"fold", kFold}, {"cse", kCse}, {"fuse", kFuse}, {"all", g::SessionOptions{}}};
    for (const auto& [pass, options] : configs) {
      INFO(c.name << " with " << pass);
      const Run on = run_with(graph, options, c.fetches, c.feeds);
      check_same(on, off);
      CHECK(on.stats.steps_planned <= off.stats.steps_planned);
      CHECK(on.stats.kernels_launched <= off.stats.kernels_launched);
    }
    // And each graph gives some pass real work to do.
    const Run all = run_with(graph, g::SessionOptions{}, c.fetches, c.feeds);
    INFO(c.name);
    CHECK(all.stats.steps_planned < off.stats.steps_planned);
    CHECK(all.stats.kernels_launched < off.stats.kernels_launched);
  }
}

TEST_CASE("training with every pass on follows training with none, step for step", "[graph][passes]") {
  g::Graph graph;
  const Case c = mlp(graph);
  std::vector<g::Output> updates;
  {
    g::DefaultGraph use(graph);
    const std::vector<g::Output> vars = graph.trainable_variables();
    for (size_t k = 0; k < vars.size(); ++k) updates.push_back(g::assign_sub(vars[k], c.fetches[k + 1] * 0.5));
  }
  g::Output train = g::group(updates);
  g::Session fast(graph), plain(graph, g::SessionOptions::no_passes());
  fast.run(g::global_variables_initializer(graph));
  plain.run(g::global_variables_initializer(graph));
  for (int step = 0; step < 5; ++step) {
    INFO("step " << step);
    const auto a = fast.run({c.fetches[0], train}, c.feeds);
    const auto b = plain.run({c.fetches[0], train}, c.feeds);
    CHECK(same_values(a[0], b[0]));
  }
  for (const g::Output& v : graph.trainable_variables())
    CHECK(same_values(fast.variable_value(v), plain.variable_value(v)));
}

// ---- 2. constant folding ---------------------------------------------------------------------------------

TEST_CASE("constant folding: a chain of constant steps becomes one constant", "[graph][passes]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output y = g::exp(g::constant(2.0, kFloat64) * g::constant(3.0, kFloat64)) + g::constant(1.0, kFloat64);
  const Run off = run_with(graph, g::SessionOptions::no_passes(), {y});
  const Run on = run_with(graph, kFold, {y});
  CHECK(off.values[0].item() == std::exp(6.0) + 1.0);
  CHECK(on.values[0].item() == std::exp(6.0) + 1.0);
  CHECK(off.stats.steps_planned == 6);  // three constants, Mul, Exp, Add
  CHECK(off.stats.kernels_launched == 3);
  CHECK(on.stats.steps_planned == 1);   // one constant, computed while planning
  CHECK(on.stats.kernels_launched == 0);
  CHECK(on.kinds == std::vector<g::Kind>{g::Kind::constant});

  // The pass itself reports how many steps it folded.
  g::Plan plan = g::lower(graph, {y}, {});
  g::prune(plan);
  CHECK(g::fold_constants(plan) == 3);
  CHECK(plan.steps.size() == 1);
}

TEST_CASE("constant folding stops at placeholders, variables and fed steps", "[graph][passes]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {2});
  g::Output v = g::Variable(tensor({1.f, 2.f}));
  g::Output k = g::constant(tensor({1.f, 2.f})) + g::constant(tensor({10.f, 20.f}));  // foldable: {11, 22}
  g::Output y = x * k + v;
  const g::FeedDict feeds{{x, tensor({3.f, 4.f})}};
  const Run off = run_with(graph, g::SessionOptions::no_passes(), {y}, feeds);
  const Run on = run_with(graph, kFold, {y}, feeds);
  CHECK(vals(on.values[0]) == std::vector<double>{3 * 11 + 1, 4 * 22 + 2});
  check_same(on, off);
  CHECK(off.stats.kernels_launched == 3);
  CHECK(on.stats.kernels_launched == 2);  // Mul and Add remain: they read x and v
  CHECK(on.stats.steps_planned == off.stats.steps_planned - 2);  // Add and one constant gone

  // A fed step is a source, whatever it was built from: the value fed in wins.
  const g::FeedDict feed_k{{x, tensor({3.f, 4.f})}, {k, tensor({100.f, 100.f})}};
  const Run fed = run_with(graph, kFold, {y}, feed_k);
  CHECK(vals(fed.values[0]) == std::vector<double>{301, 402});
}

TEST_CASE("constant folding keeps huge results and failing steps for run time", "[graph][passes]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  // 2048 x 1024 = 2M elements: more than the folding limit, so it is recomputed, not stored.
  g::Output big = g::constant(ones({2048, 1})) * g::constant(full({1, 1024}, 2.0));
  g::Output total = g::sum(big);
  // An index out of range: folding would fail, so the step stays and Session::run reports it.
  g::Output bad = g::index_select(g::constant(tensor({1.f, 2.f, 3.f})), 0, g::constant(tensor({0, 5})));

  g::Plan plan = g::lower(graph, {total}, {});
  g::prune(plan);
  CHECK(g::fold_constants(plan) == 0);
  const Run on = run_with(graph, kFold, {total});
  CHECK(on.values[0].item() == 2.0 * 2048 * 1024);
  CHECK(on.stats.kernels_launched == 2);

  for (const g::SessionOptions& options : {kFold, g::SessionOptions::no_passes()}) {
    g::Session s(graph, options);
    REQUIRE_THROWS_AS(s.run(bad), IndexError);
    REQUIRE_THROWS_WITH(s.run(bad), Catch::Contains("out of range") && Catch::Contains("test_graph_passes.cpp"));
  }
}

TEST_CASE("constant folding precomputes the constant parts of gradients", "[graph][passes]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat64, {3});
  g::Output dx = g::gradients({g::sum(g::pow(x, 3.0))}, {x})[0];  // 3 x^(3 - 1)
  const g::FeedDict feeds{{x, tensor({1.0, 2.0, -3.0}, kFloat64)}};
  const Run on = run_with(graph, kFold, {dx}, feeds);
  const Run off = run_with(graph, g::SessionOptions::no_passes(), {dx}, feeds);
  CHECK(vals(on.values[0]) == std::vector<double>{3 * 1.0, 3 * 4.0, 3 * 9.0});
  check_same(on, off);
  CHECK(on.stats.kernels_launched < off.stats.kernels_launched);  // `3 - 1` is no longer a kernel
}

// ---- 3. common-subexpression elimination -------------------------------------------------------------------

TEST_CASE("CSE: a repeated expression is computed once, and both fetches still get it", "[graph][passes]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {3});
  g::Output w = g::constant(tensor({1.f, 2.f, 3.f}));
  g::Output m1 = g::exp(x) * w;
  g::Output m2 = g::exp(x) * w;
  g::Output y = m1 + m2;
  const g::FeedDict feeds{{x, tensor({0.f, 1.f, 2.f})}};
  const Run off = run_with(graph, g::SessionOptions::no_passes(), {y, m1, m2}, feeds);
  const Run on = run_with(graph, kCse, {y, m1, m2}, feeds);
  check_same(on, off);
  CHECK(vals(on.values[1]) == std::vector<double>{std::exp(0.f) * 1.f, std::exp(1.f) * 2.f, std::exp(2.f) * 3.f});
  CHECK(off.stats.kernels_launched == 5);  // Exp, Mul, Exp, Mul, Add
  CHECK(on.stats.kernels_launched == 3);   // Exp, Mul, Add
  CHECK(on.stats.steps_planned == off.stats.steps_planned - 2);

  g::Plan plan = g::lower(graph, {y, m1, m2}, {x.node()});
  g::prune(plan);
  CHECK(g::eliminate_common_subexpressions(plan) == 2);
  CHECK(plan.fetches[1] == plan.fetches[2]);  // both fetches now name the surviving step
}

TEST_CASE("CSE: equal constants merge, add and mul commute, sub does not", "[graph][passes]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {2});
  g::Output w = g::placeholder(kFloat32, {2});
  // x * 2 and x * 2: two scalar constants 2 (equal, so they merge), then two equal Muls.
  g::Output twice = x * 2.0 + x * 2.0;
  g::Output sym = x * w + w * x;          // w * x is x * w
  g::Output asym = (x - w) * (w - x);     // x - w is not w - x
  g::Output other = x * 3.0 + x * g::constant(2.0, kFloat32) + g::to(x * g::constant(2.0, kFloat64), kFloat32);
  const std::vector<g::Output> fetches{twice, sym, asym, other};
  const g::FeedDict feeds{{x, tensor({1.f, 2.f})}, {w, tensor({5.f, 7.f})}};
  const Run off = run_with(graph, g::SessionOptions::no_passes(), fetches, feeds);
  const Run on = run_with(graph, kCse, fetches, feeds);
  check_same(on, off);
  CHECK(vals(on.values[0]) == std::vector<double>{4, 8});
  CHECK(vals(on.values[1]) == std::vector<double>{10, 28});
  CHECK(vals(on.values[2]) == std::vector<double>{-16, -25});
  CHECK(vals(on.values[3]) == std::vector<double>{7, 14});

  g::Plan plan = g::lower(graph, fetches, {x.node(), w.node()});
  g::prune(plan);
  // Removed: the second float32 constant 2 (twice) and its Mul, w * x, and in `other` the float32
  // constant 2 and its Mul x * 2 (equal to those of `twice`). Kept apart: 3 vs 2, float64 vs
  // float32, x - w vs w - x.
  CHECK(g::eliminate_common_subexpressions(plan) == 5);
}

TEST_CASE("CSE compares every attribute", "[graph][passes]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {2, 3});
  const std::vector<g::Output> fetches{
      g::sum(x, {0}),        g::sum(x, {1}),        g::sum(x, {0}, true), g::mean(x, {0}),
      g::softmax(x, 0),      g::softmax(x, 1),      g::slice(x, 1, 0, 2), g::slice(x, 1, 1, 3),
      g::slice(x, 1, 0, 3, 2), g::var(x, {1}, 1),   g::var(x, {1}, 0),    g::sum(x, {0})};
  const g::FeedDict feeds{{x, tensor({{1.f, 2.f, 4.f}, {8.f, 16.f, 32.f}})}};
  const Run off = run_with(graph, g::SessionOptions::no_passes(), fetches, feeds);
  const Run on = run_with(graph, kCse, fetches, feeds);
  check_same(on, off);
  CHECK(on.stats.steps_planned == off.stats.steps_planned - 1);  // only the repeated sum(x, {0})
}

TEST_CASE("CSE never merges state: variables, assigns, placeholders", "[graph][passes]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output v = g::Variable(tensor({0.f}), true, "v");
  g::Output u = g::Variable(tensor({0.f}), true, "u");  // same initial value, another variable
  g::Output one = g::constant(tensor({1.f}));
  g::Output bump = g::group({g::assign_add(v, one), g::assign_add(v, one), g::assign_add(u, one)});
  g::Output p = g::placeholder(kFloat32, {1});
  g::Output q = g::placeholder(kFloat32, {1});
  g::Session s(graph, kCse);
  s.run(g::global_variables_initializer(graph));
  s.run(bump);
  CHECK(vals(s.variable_value(v)) == std::vector<double>{2});  // both assign_adds ran
  CHECK(vals(s.variable_value(u)) == std::vector<double>{1});
  CHECK(vals(s.run(g::add(p, q), {{p, tensor({1.f})}, {q, tensor({2.f})}})) == std::vector<double>{3});
}

TEST_CASE("CSE keeps a read before an assign apart from the same read after it", "[graph][passes]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output v = g::Variable(tensor({1.f}), true, "v");
  g::Output before = v * 2.0;
  g::Output set = g::assign(v, g::constant(tensor({5.f})));
  g::Output after = v * 2.0;  // the same expression, computed after the assign has run
  for (const g::SessionOptions& options : {kCse, g::SessionOptions::no_passes()}) {
    g::Session s(graph, options);
    s.run(g::global_variables_initializer(graph));
    const auto out = s.run({before, set, after});
    CHECK(vals(out[0]) == std::vector<double>{2});
    CHECK(vals(out[2]) == std::vector<double>{10});
    CHECK(s.last_run_stats().kernels_launched == 3);  // both multiplications ran, and the assign
  }
}

// ---- 4. elementwise fusion ---------------------------------------------------------------------------------

TEST_CASE("fusion: relu(x * a + b) * c - d becomes one step and one kernel", "[graph][passes]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {-1, 4});
  g::Output a = g::constant(tensor({1.f, -2.f, 3.f, 0.5f}));     // broadcast along rows
  g::Output b = g::placeholder(kFloat32, {-1, 1});               // broadcast along columns
  g::Output c = g::constant(tensor({{2.f, 2.f, 2.f, 2.f}}));
  g::Output d = g::constant(1.0, kFloat32);                      // a scalar
  g::Output y = g::relu(x * a + b) * c - d;
  const Tensor xv = tensor({{1.f, 2.f, 3.f, 4.f}, {-1.f, 0.f, 1.f, 2.f}, {0.5f, 0.5f, -0.5f, 9.f}});
  const Tensor bv = tensor({{0.f}, {1.f}, {-2.f}});
  const g::FeedDict feeds{{x, xv}, {b, bv}};
  const Run off = run_with(graph, g::SessionOptions::no_passes(), {y}, feeds);
  const Run on = run_with(graph, kFuse, {y}, feeds);
  check_same(on, off);
  // The reference, by hand: y[i][j] = max(x[i][j] * a[j] + b[i], 0) * 2 - 1.
  const float av[4] = {1.f, -2.f, 3.f, 0.5f};
  std::vector<double> expected;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j)
      expected.push_back(std::max(xv.at<float>({i, j}) * av[j] + bv.at<float>({i, 0}), 0.f) * 2.f - 1.f);
  CHECK(vals(on.values[0]) == expected);
  CHECK(on.values[0].shape() == Shape{3, 4});

  CHECK(off.stats.kernels_launched == 5);
  CHECK(on.stats.kernels_launched == 1);
  CHECK(on.stats.steps_planned == 6);  // x, a, b, c, d and the fused step
  CHECK(count_fused(on) == 1);
  CHECK(on.labels.back() == "Fused[Mul,Add,Relu,Mul,Sub]");
}

TEST_CASE("fusion: a DAG whose intermediate is read twice fuses whole", "[graph][passes]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat64, {3});
  g::Output y = g::placeholder(kFloat64, {3});
  g::Output t = x + y;
  g::Output v = t * t - t;
  const g::FeedDict feeds{{x, tensor({1.0, 2.0, 3.0}, kFloat64)}, {y, tensor({0.5, -4.0, 0.0}, kFloat64)}};
  const Run on = run_with(graph, kFuse, {v}, feeds);
  CHECK(vals(on.values[0]) == std::vector<double>{1.5 * 1.5 - 1.5, 4.0 + 2.0, 9.0 - 3.0});
  CHECK(on.labels.back() == "Fused[Add,Mul,Sub]");
  CHECK(on.stats.kernels_launched == 1);
  CHECK(on.stats.steps_planned == 3);  // x, y and the fused step: t is never stored

  // The diamond b = a + a, c = b + b: its gradient is two AddNs (dc/db = g + g, dc/da = that
  // twice), which fuse with each other, and dc/da = 4.
  g::Output a = g::placeholder(kFloat64, {});
  g::Output b = a + a;
  g::Output da = g::gradients({b + b}, {a})[0];
  const Run d = run_with(graph, kFuse, {da}, {{a, tensor(3.0, kFloat64)}});
  CHECK(d.values[0].item() == 4.0);
  CHECK(d.labels.back() == "Fused[AddN,AddN]");
}

TEST_CASE("fusion stops where a value is needed outside the group", "[graph][passes]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {2, 3});
  g::Output t = g::exp(x) * 2.0;       // t is fetched, and read by sum (not elementwise)
  g::Output s = g::sum(t);
  g::Output y = g::tanh(t + 1.0) - s;  // s broadcasts: an input of the group, not a member
  g::Output i = g::placeholder(kInt64, {2});
  g::Output iy = g::abs(-i);           // int64: not fused
  g::Output m = g::sqrt(g::to(x, kFloat64)) + 1.0;  // the cast ends the group
  const std::vector<g::Output> fetches{y, t, iy, m};
  const g::FeedDict feeds{{x, tensor({{0.f, 1.f, 2.f}, {-1.f, 0.5f, 3.f}})}, {i, tensor({3, -4})}};
  const Run off = run_with(graph, g::SessionOptions::no_passes(), fetches, feeds);
  const Run on = run_with(graph, kFuse, fetches, feeds);
  check_same(on, off);
  CHECK(vals(on.values[2]) == std::vector<double>{3, 4});
  std::vector<std::string> fused;
  for (const std::string& l : on.labels)
    if (l.rfind("Fused[", 0) == 0) fused.push_back(l);
  CHECK(fused == std::vector<std::string>{"Fused[Exp,Mul]", "Fused[Add,Tanh,Sub]", "Fused[Sqrt,Add]"});
  CHECK(on.stats.kernels_launched == off.stats.kernels_launched - 4);
}

TEST_CASE("fusion: run-time shapes, broadcasting, strided inputs and sizes", "[graph][passes]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {-1, -1});
  g::Output r = g::placeholder(kFloat32, {-1, 1});
  g::Output col = g::placeholder(kFloat32, {-1});
  g::Output y = g::sigmoid(x * r - col) * 3.0 + g::tanh(x);
  g::Session fused(graph, kFuse), plain(graph, g::SessionOptions::no_passes());
  manual_seed(11);
  // Shapes known only at run time; one session, several shapes; rows longer than a block, blocks
  // split between threads; a transposed (strided) input; broadcast in both directions; empty.
  struct Feed {
    Tensor x, r, col;
  };
  const Feed cases[] = {
      {randn({3, 5}), randn({3, 1}), randn({5})},
      {randn({1, 7}), randn({4, 1}), randn({7})},            // x broadcasts along rows, too
      {randn({600, 700}), randn({600, 1}), randn({700})},    // 420000 elements: threads, blocks
      {randn({70, 90}).t(), randn({90, 1}), randn({70})},    // a transposed view
      {randn({1, 1}), randn({1, 1}), randn({1})},
      {randn({0, 4}), randn({0, 1}), randn({4})},
  };
  for (const Feed& f : cases) {
    INFO("x " << shape_str(f.x.shape()) << ", r " << shape_str(f.r.shape()));
    const g::FeedDict feeds{{x, f.x}, {r, f.r}, {col, f.col}};
    const Tensor a = fused.run(y, feeds), b = plain.run(y, feeds);
    CHECK(same_values(a, b));
    CHECK(fused.last_run_stats().kernels_launched == 1);
  }
  // 0-dim tensors fuse too.
  g::Output s = g::placeholder(kFloat64, {});
  g::Output t = g::exp(s) * s - 1.0;
  CHECK(fused.run(t, {{s, tensor(2.0, kFloat64)}}).item() == std::exp(2.0) * 2.0 - 1.0);
  CHECK(fused.last_run_stats().kernels_launched == 1);
}

TEST_CASE("fusion runs every fusable op as its own kernel would, NaNs included", "[graph][passes]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat64, {-1});  // values in (0.5, 2.5): every op is defined
  g::Output y = g::placeholder(kFloat64, {-1});
  g::Output u = g::sqrt(x) + g::log(x) - g::exp(-y) * g::sin(x) / g::cos(y);
  g::Output v = g::pow(g::abs(u), y) + g::tanh(u) * g::sigmoid(-u) - g::gelu(u) + g::relu(u) * g::sign(u);
  g::Output w = g::maximum(v, x) - g::minimum(v, y);
  g::Output z = g::relu_backward(w, v) + g::sigmoid_backward(w, u) + g::tanh_backward(u, w) +
                g::gelu_backward(v, w);
  manual_seed(12);
  const Tensor xv = rand({1000}, kFloat64) * 2.0 + 0.5;
  Tensor yv = rand({1000}, kFloat64) * 2.0 + 0.5;
  yv.data<double>()[3] = std::nan("");  // maximum and minimum must propagate it
  const g::FeedDict feeds{{x, xv}, {y, yv}};
  const Run off = run_with(graph, g::SessionOptions::no_passes(), {z}, feeds);
  const Run on = run_with(graph, kFuse, {z}, feeds);
  check_same(on, off);
  CHECK(std::isnan(vals(on.values[0])[3]));
  CHECK_FALSE(std::isnan(vals(on.values[0])[4]));
  CHECK(on.stats.kernels_launched == 1);
  CHECK(off.stats.kernels_launched == 33);
  CHECK(count_fused(on) == 1);
}

TEST_CASE("fusion: the gradient graph of a chain fuses too", "[graph][passes]") {
  g::Graph graph;
  const Case c = chain(graph);
  const Run off = run_with(graph, g::SessionOptions::no_passes(), c.fetches, c.feeds);
  const Run on = run_with(graph, kFuse, c.fetches, c.feeds);
  check_same(on, off);
  // The forward chain fuses in pieces (tanh(y) and sigmoid(y) are also read by the backward), and
  // the backward from the incoming gradient to relu's derivative — including the AddN that sums
  // the four paths through y — fuses into one step.
  CHECK(count_fused(on) >= 4);
  CHECK(on.stats.kernels_launched * 2 < off.stats.kernels_launched);
  bool addn_fused = false;
  for (const std::string& l : on.labels) addn_fused |= l.find("AddN") != std::string::npos && l.rfind("Fused[", 0) == 0;
  CHECK(addn_fused);

  g::Plan plan = g::lower(graph, c.fetches, {c.feeds[0].first.node(), c.feeds[1].first.node()});
  g::prune(plan);
  CHECK(g::fuse_elementwise(plan) == count_fused(on));
}
