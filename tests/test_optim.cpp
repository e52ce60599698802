// tests/test_optim.cpp — optimizers in both modes: optim::SGD/Adam/AdamW and graph::train::*.
//
// The referee is torch.optim: tests/fixtures/optim.txt (scripts/fixtures/gen_optim.py) holds short
// training runs of a small softmax regression, each with one optimizer configuration. Here the
// same runs are taken in eager mode and, where TensorFlow 1 has the optimizer, in graph mode, and
// must give PyTorch's losses and final weights. Then the update rules are checked by hand on one
// weight, and the errors a user can run into.
#include <catch2/catch.hpp>
#include <functional>
#include <map>

#include "core/op.h"
#include "core/ops/update_math.h"
#include "io/graph_file.h"
#include "tandem.h"
#include "tests/fixture.h"
#if defined(TANDEM_HAVE_CUDA)
#include "cuda/cuda.h"
#endif

using namespace tandem;
namespace g = tandem::graph;

namespace {

constexpr int kSteps = 6;  // as STEPS in gen_optim.py

const std::vector<FixtureCase>& optim_cases() {
  static const std::vector<FixtureCase> cases = load_fixtures(fixture_path("optim.txt"));
  return cases;
}

// The losses before each step, then the final w and b flattened: the layout of a case's output.
Tensor trajectory(const std::vector<Tensor>& losses, const Tensor& w, const Tensor& b) {
  std::vector<Tensor> parts;
  for (const Tensor& l : losses) parts.push_back(l.reshape({1}));
  parts.push_back(w.reshape({-1}));
  parts.push_back(b.reshape({-1}));
  return cat(parts);
}

Tolerance optim_tolerance(DType dtype) {
  if (dtype == kFloat64) return {1e-10, 1e-12};
  return {1e-5, 1e-6};  // float32: six steps of rounding, in PyTorch's order of operations
}

// Case name -> the eager optimizer of gen_optim.py's configuration.
using MakeEager = std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>)>;
const std::map<std::string, MakeEager>& eager_optimizers() {
  static const std::map<std::string, MakeEager> table{
      {"sgd", [](auto p) { return std::make_unique<optim::SGD>(p, optim::SGDOptions{.lr = 0.5}); }},
      {"sgd_weight_decay",
       [](auto p) {
         return std::make_unique<optim::SGD>(p, optim::SGDOptions{.lr = 0.5, .weight_decay = 0.1});
       }},
      {"sgd_momentum",
       [](auto p) {
         return std::make_unique<optim::SGD>(p, optim::SGDOptions{.lr = 0.2, .momentum = 0.9});
       }},
      {"sgd_momentum_dampening",
       [](auto p) {
         return std::make_unique<optim::SGD>(
             p,
             optim::SGDOptions{.lr = 0.2, .momentum = 0.9, .dampening = 0.3, .weight_decay = 0.05});
       }},
      {"sgd_nesterov",
       [](auto p) {
         return std::make_unique<optim::SGD>(
             p, optim::SGDOptions{.lr = 0.2, .momentum = 0.9, .nesterov = true});
       }},
      {"adam",
       [](auto p) { return std::make_unique<optim::Adam>(p, optim::AdamOptions{.lr = 0.05}); }},
      {"adam_weight_decay",
       [](auto p) {
         return std::make_unique<optim::Adam>(
             p, optim::AdamOptions{
                    .lr = 0.05, .beta1 = 0.8, .beta2 = 0.99, .eps = 1e-6, .weight_decay = 0.1});
       }},
      {"adamw",
       [](auto p) {
         return std::make_unique<optim::AdamW>(
             p, optim::AdamWOptions{.lr = 0.05, .weight_decay = 0.1});
       }},
      {"adam_float32",
       [](auto p) { return std::make_unique<optim::Adam>(p, optim::AdamOptions{.lr = 0.05}); }},
  };
  return table;
}

// Case name -> the graph optimizer, for the configurations TensorFlow 1 has.
using MakeGraph = std::function<std::unique_ptr<g::train::Optimizer>()>;
const std::map<std::string, MakeGraph>& graph_optimizers() {
  static const std::map<std::string, MakeGraph> table{
      {"sgd", [] { return std::make_unique<g::train::GradientDescentOptimizer>(0.5); }},
      {"sgd_momentum", [] { return std::make_unique<g::train::MomentumOptimizer>(0.2, 0.9); }},
      {"sgd_nesterov",
       [] { return std::make_unique<g::train::MomentumOptimizer>(0.2, 0.9, true); }},
      {"adam", [] { return std::make_unique<g::train::AdamOptimizer>(0.05); }},
      {"adam_float32", [] { return std::make_unique<g::train::AdamOptimizer>(0.05); }},
  };
  return table;
}

// PyTorch's training loop, line for line (gen_optim.py's `case`).
Tensor train_eager(const FixtureCase& c, const MakeEager& make, Device device = Device::cpu()) {
  const Tensor x = c.inputs["x"].to(device), labels = c.inputs["labels"].to(device);
  Tensor w = c.inputs["w"].clone().to(device).requires_grad_();
  Tensor b = c.inputs["b"].clone().to(device).requires_grad_();
  auto opt = make({w, b});
  std::vector<Tensor> losses;
  for (int step = 0; step < kSteps; ++step) {
    opt->zero_grad();
    Tensor loss = cross_entropy(matmul(x, w) + b, labels);
    loss.backward();
    opt->step();
    losses.push_back(loss.detach().cpu());
  }
  return trajectory(losses, w.detach().cpu(), b.detach().cpu());
}

// TensorFlow 1's: the same model as a graph, minimize(), one session.run per step.
Tensor train_graph(const FixtureCase& c, const MakeGraph& make, g::SessionOptions options = {}) {
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output x = g::placeholder(c.inputs["x"].dtype(), {-1, 5}, "x");
  const g::Output labels = g::placeholder(kInt64, {-1}, "labels");
  const g::Output w = g::Variable(c.inputs["w"], true, "w");
  const g::Output b = g::Variable(c.inputs["b"], true, "b");
  const g::Output loss = cross_entropy(g::matmul(x, w) + b, labels);
  const g::Output train_op = make()->minimize(loss);
  g::Session session(graph, options);
  session.run(g::global_variables_initializer());
  std::vector<Tensor> losses;
  for (int step = 0; step < kSteps; ++step)
    losses.push_back(
        session.run({loss, train_op}, {{x, c.inputs["x"]}, {labels, c.inputs["labels"]}})[0].cpu());
  return trajectory(losses, session.variable_value(w).cpu(), session.variable_value(b).cpu());
}

}  // namespace

TEST_CASE("optim: eager optimizers take torch.optim's steps", "[optim]") {
  REQUIRE(optim_cases().size() == eager_optimizers().size());
  for (const FixtureCase& c : optim_cases()) {
    INFO("case " << c.name << " (" << c.expr << ") at " << c.where());
    REQUIRE(eager_optimizers().count(c.name) == 1);
    const Tensor got = train_eager(c, eager_optimizers().at(c.name));
    CHECK(compare_with_fixture(got, c.output, optim_tolerance(c.output.dtype())) == "");
  }
}

TEST_CASE("optim: graph optimizers take the same steps, with and without the passes",
          "[optim][graph]") {
  int checked = 0;
  for (const FixtureCase& c : optim_cases()) {
    auto it = graph_optimizers().find(c.name);
    if (it == graph_optimizers().end()) continue;  // weight decay, dampening, AdamW: eager only
    INFO("case " << c.name << " (" << c.expr << ") at " << c.where());
    CHECK(compare_with_fixture(train_graph(c, it->second), c.output,
                               optim_tolerance(c.output.dtype())) == "");
    CHECK(compare_with_fixture(train_graph(c, it->second, g::SessionOptions::no_passes()), c.output,
                               optim_tolerance(c.output.dtype())) == "");
    ++checked;
  }
  CHECK(checked == 5);
}

// ---- the rules by hand, on one weight -----------------------------------------------------------

TEST_CASE("optim: the update rules, by hand", "[optim]") {
  SECTION("SGD: w - lr (g + wd w)") {
    double w = 2.0;
    math::SgdStep<double>{0.1, 0.5}(w, 3.0);
    CHECK(w == Approx(2.0 - 0.1 * (3.0 + 0.5 * 2.0)));
  }
  SECTION("momentum: the velocity remembers the last gradients") {
    double w = 1.0, b = 0.0;
    const math::MomentumStep<double> step{0.1, 0.9, 1.0, 0.0, false};
    step(w, b, 1.0);  // b = 1
    CHECK(b == Approx(1.0));
    CHECK(w == Approx(0.9));
    step(w, b, 0.0);  // no gradient now, but the weight keeps moving: b = 0.9
    CHECK(b == Approx(0.9));
    CHECK(w == Approx(0.9 - 0.09));
  }
  SECTION("Nesterov: the step adds the velocity to the gradient") {
    double w = 1.0, b = 0.5;
    math::MomentumStep<double>{0.1, 0.9, 1.0, 0.0, true}(w, b, 1.0);  // b = 0.45 + 1 = 1.45
    CHECK(b == Approx(1.45));
    CHECK(w == Approx(1.0 - 0.1 * (1.0 + 0.9 * 1.45)));
  }
  SECTION("Adam: the first step is lr times the gradient's sign, whatever its size") {
    // At t = 1 with m = v = 0: m̂ = g and v̂ = g², so the step is lr · g / (|g| + ε).
    for (double grad : {1e-4, 0.5, -3.0, 250.0}) {
      double w = 1.0, m = 0.0, v = 0.0;
      const auto step = math::AdamStep<double>::at(1, 0.01, 0.9, 0.999, 1e-8, 0.0, false);
      step(w, m, v, grad);
      CHECK(w == Approx(1.0 - 0.01 * grad / (std::abs(grad) + 1e-8)).epsilon(1e-12));
      CHECK(m == Approx(0.1 * grad));
      CHECK(v == Approx(0.001 * grad * grad));
    }
  }
  SECTION("AdamW shrinks the weight; Adam adds wd w to the gradient") {
    double w1 = 2.0, m1 = 0.0, v1 = 0.0, w2 = 2.0, m2 = 0.0, v2 = 0.0;
    math::AdamStep<double>::at(1, 0.1, 0.9, 0.999, 0.0, 0.5, true)(w1, m1, v1, 1.0);
    CHECK(w1 == Approx(2.0 * (1 - 0.1 * 0.5) - 0.1));  // shrink, then the sign step
    math::AdamStep<double>::at(1, 0.1, 0.9, 0.999, 0.0, 0.5, false)(w2, m2, v2, 1.0);
    CHECK(m2 == Approx(0.1 * (1.0 + 0.5 * 2.0)));  // the gradient became g + wd w = 2
    CHECK(w2 == Approx(2.0 - 0.1));
  }
}

// ---- what eager optimizers promise beyond the arithmetic ---------------------------------------

TEST_CASE("optim: zero_grad, skipped parameters, state", "[optim]") {
  Tensor w = tensor({1.0, 2.0}).requires_grad_();
  Tensor unused = tensor({5.0}).requires_grad_();
  optim::Adam opt({w, unused}, {.lr = 0.1});
  sum(w * w).backward();
  opt.step();
  CHECK(allclose(w.detach(), tensor({0.9, 1.9})));  // Adam's first step: lr · sign(g)
  CHECK(unused.grad().defined() == false);
  CHECK(allclose(unused.detach(), tensor({5.0})));  // no gradient: not touched
  CHECK(opt.state(0).step.item<float>() == 1.0f);
  CHECK_FALSE(opt.state(1).step.defined());  // state appears on a parameter's first step

  opt.zero_grad(/*set_to_none=*/false);
  REQUIRE(w.grad().defined());
  CHECK(allclose(w.grad(), zeros({2}, kFloat64)));
  opt.zero_grad();
  CHECK_FALSE(w.grad().defined());

  // A learning rate changed between steps is used by the next one (how a schedule works).
  optim::SGD sgd({w}, {.lr = 1.0});
  sum(w).backward();
  sgd.options.lr = 0.5;
  sgd.step();
  CHECK(allclose(w.detach(), tensor({0.4, 1.4})));
}

TEST_CASE("optim: zero_grad(false) keeps a parameter in the steps when it gets no gradient",
          "[optim]") {
  // PyTorch 1.x's default: the gradient is zero-filled, not dropped, so a parameter that took no
  // part in the loss still steps: its velocity carries it. By hand, momentum 0.5, lr 0.1:
  //   step 1, g = 1: b = 1, w = 1 - 0.1·1 = 0.9
  //   step 2, g = 0: b = 0.5·1 + 0 = 0.5, w = 0.9 - 0.05 = 0.85
  // With zero_grad() (set_to_none, PyTorch 2's default) step 2 skips it: w stays 0.9.
  for (const bool set_to_none : {false, true}) {
    INFO("set_to_none = " << set_to_none);
    const Tensor w = ones({1}, kFloat64).requires_grad_(), other = ones({1}, kFloat64).requires_grad_();
    optim::SGD opt({w, other}, {.lr = 0.1, .momentum = 0.5});
    opt.zero_grad(set_to_none);
    sum(w + other).backward();
    opt.step();
    opt.zero_grad(set_to_none);
    sum(other).backward();  // w takes no part
    opt.step();
    CHECK(w.detach().item<double>() == Approx(set_to_none ? 0.9 : 0.85).epsilon(1e-12));
  }
}

TEST_CASE("optim: a weight's version counter moves on each step", "[optim]") {
  // A value saved for backward before the step is stale after it: backward must refuse it.
  Tensor w = tensor({1.0, 2.0}).requires_grad_();
  optim::SGD opt({w}, {.lr = 0.1});
  Tensor y = sum(w * w);
  Tensor stale = sum(w * w);
  y.backward();
  opt.step();
  CHECK_THROWS_WITH(stale.backward(), Catch::Contains("modified by an inplace operation"));
}

TEST_CASE("optim: errors say what is wrong and what to do", "[optim]") {
  Tensor w = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  CHECK_THROWS_WITH(optim::SGD({w}, {}), Catch::Contains("a learning rate is required"));
  CHECK_THROWS_WITH(optim::SGD({w}, {.lr = -0.1}), Catch::Contains("Invalid learning rate: -0.1"));
  CHECK_THROWS_WITH(optim::SGD({w}, {.lr = 0.1, .nesterov = true}),
                    Catch::Contains("Nesterov momentum requires"));
  CHECK_THROWS_WITH(optim::Adam({w}, {.beta2 = 1.0}),
                    Catch::Contains("Invalid beta parameter at index 1"));
  CHECK_THROWS_WITH(optim::Adam({w * 2}), Catch::Contains("can't optimize a non-leaf Tensor"));
  CHECK_THROWS_WITH(optim::Adam({tensor({1, 2})}), Catch::Contains("only floating point tensors"));
  CHECK_THROWS_WITH(optim::Adam({}), Catch::Contains("empty parameter list"));

  // The update ops check their operands like any op, and cannot be called like other ops.
  Attrs a;
  a.lr = 0.1;
  CHECK_THROWS_WITH(
      call_update(ops::sgd_update, {w.detach(), zeros({3}, kFloat64)}, a),
      Catch::Contains("the gradient (input 1) has shape [3] but the parameter has shape [2]"));
  CHECK_THROWS_WITH(call_update(ops::sgd_update, {w.detach(), zeros({2})}, a),
                    Catch::Contains("has dtype float32 but the parameter has dtype float64"));
  CHECK_THROWS_WITH(call(ops::sgd_update, {w.detach(), zeros({2}, kFloat64)}, a),
                    Catch::Contains("run it with call_update()"));
  const Tensor wt = zeros({3, 2}).t();
  CHECK_THROWS_WITH(call_update(ops::sgd_update, {wt, zeros({2, 3})}, a),
                    Catch::Contains("must be contiguous"));
}

// ---- graph mode: slots, global_step, snapshots, errors ------------------------------------------

TEST_CASE("optim: graph optimizers make slot variables named as TensorFlow names them",
          "[optim][graph]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output w = g::Variable(tensor({1.0, -2.0}, kFloat64), true, "w");
  const g::Output step = g::Variable(zeros({}, kInt64), false, "global_step");
  const g::Output loss = g::sum(w * w);
  const g::Output train = g::train::AdamOptimizer(0.1).minimize(loss, step);
  CHECK(graph.find("w/Adam") != nullptr);
  CHECK(graph.find("w/Adam_1") != nullptr);
  CHECK(graph.find("w/Adam_step") != nullptr);
  CHECK(graph.trainable_variables().size() == 1);  // slots are not trainable

  g::Session s(graph);
  s.run(g::global_variables_initializer());
  const Tensor before = s.variable_value(w);
  s.run(train);
  s.run(train);
  CHECK(s.variable_value(step).item<int64_t>() == 2);      // global_step counts the runs
  CHECK(allclose(before, tensor({1.0, -2.0}, kFloat64)));  // a value fetched earlier is a snapshot
  // The two steps by hand, for w[0] = 1 (g = 2w): the first moves it by lr (sign step), the
  // second by lr · m̂/√v̂ with the averages of the two gradients 2 and 1.8.
  const double g1 = 2.0, w1 = 1.0 - 0.1 * g1 / (g1 + 1e-8), g2 = 2 * w1;
  const double m = 0.9 * (0.1 * g1) + 0.1 * g2, v = 0.999 * (0.001 * g1 * g1) + 0.001 * g2 * g2;
  const double m_hat = m / (1 - 0.9 * 0.9), v_hat = v / (1 - 0.999 * 0.999);
  const double w2 = w1 - 0.1 * m_hat / (std::sqrt(v_hat) + 1e-8);
  CHECK(s.variable_value(w).select(0, 0).item<double>() == Approx(w2).epsilon(1e-12));
}

TEST_CASE("optim: graph optimizers fail with TensorFlow's messages", "[optim][graph]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output w = g::Variable(tensor({1.0}), true, "w");
  const g::Output x = g::placeholder(kFloat64, {1}, "x");

  // Every gradient is None: nothing to apply.
  CHECK_THROWS_WITH(
      g::train::GradientDescentOptimizer(0.1).minimize(g::sum(x * x)),
      Catch::Contains("No gradients provided for any variable") && Catch::Contains("[w]"));
  // The initializer ran before minimize() made the slots.
  g::Session s(graph);
  s.run(g::global_variables_initializer());
  const g::Output train = g::train::MomentumOptimizer(0.1, 0.9).minimize(g::sum(w * w));
  CHECK_THROWS_WITH(s.run(train),
                    Catch::Contains("Attempting to use uninitialized value w/Momentum"));
  s.run(g::global_variables_initializer());
  CHECK_NOTHROW(s.run(train));
  // An update writes variables only.
  Attrs a;
  a.lr = 0.1;
  CHECK_THROWS_WITH(g::apply_update(ops::sgd_update, {x, x}, a),
                    Catch::Contains("must be a Variable"));
  CHECK_THROWS_WITH(g::train::AdamOptimizer(0.1, 1.5), Catch::Contains("Invalid beta1"));
  // An update op is not an ordinary graph op: make_op refuses it.
  CHECK_THROWS_WITH(g::make_op(ops::sgd_update, {w, x}, a), Catch::Contains("apply_update"));
  // An update cannot be frozen: a frozen graph holds no state.
  const g::Output update = g::apply_update(ops::sgd_update, {w, g::constant(tensor({0.5}))}, a);
  CHECK_THROWS_WITH(io::freeze(s, {update}), Catch::Contains("changes a variable"));
  // A variable that is fed but was never initialized in this session cannot be updated.
  g::Session fresh(graph);
  CHECK_THROWS_WITH(fresh.run(train, {{w, tensor({1.0})}}),
                    Catch::Contains("uninitialized value"));
}

// ---- on a GPU: the same runs, in both modes -----------------------------------------------------

#if defined(TANDEM_HAVE_CUDA)

TEST_CASE("optim: on the GPU, both modes take torch.optim's steps", "[cuda][optim]") {
  if (!cuda::is_available()) {
    WARN("no CUDA device: skipping");
    return;
  }
  // The GPU contracts a·b + c into one rounding (FMA) where the CPU may not: float32 gets a
  // little more room than on the CPU.
  auto tol = [](DType d) { return d == kFloat64 ? Tolerance{1e-9, 1e-11} : Tolerance{1e-4, 1e-5}; };
  g::SessionOptions on_gpu;
  on_gpu.device = Device::cuda();
  for (const FixtureCase& c : optim_cases()) {
    INFO("case " << c.name << " (" << c.expr << ") at " << c.where());
    CHECK(compare_with_fixture(train_eager(c, eager_optimizers().at(c.name), Device::cuda()),
                               c.output, tol(c.output.dtype())) == "");
    auto it = graph_optimizers().find(c.name);
    if (it != graph_optimizers().end())
      CHECK(compare_with_fixture(train_graph(c, it->second, on_gpu), c.output,
                                 tol(c.output.dtype())) == "");
  }
}

TEST_CASE("optim: a session placed on the GPU keeps everything there", "[cuda][graph]") {
  if (!cuda::is_available()) {
    WARN("no CUDA device: skipping");
    return;
  }
  const FixtureCase& c = optim_cases().front();
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output x = g::placeholder(kFloat64, {-1, 5}, "x");
  const g::Output labels = g::placeholder(kInt64, {-1}, "labels");
  const g::Output w = g::Variable(c.inputs["w"], true, "w");
  const g::Output b = g::Variable(c.inputs["b"], true, "b");
  const g::Output loss = cross_entropy(g::matmul(x, w) + b, labels);
  const g::Output train_op = g::train::AdamOptimizer(0.05).minimize(loss);
  g::SessionOptions options;
  options.device = Device::cuda();
  g::Session s(graph, options);
  s.run(g::global_variables_initializer());
  const auto out =
      s.run({loss, train_op}, {{x, c.inputs["x"]}, {labels, c.inputs["labels"]}});  // CPU feeds
  CHECK(out[0].device() == Device::cuda());
  CHECK(s.variable_value(w).device() == Device::cuda());
  CHECK(s.variable_value(g::Output(graph.find("w/Adam"))).device() == Device::cuda());
}

TEST_CASE("optim: slot variables live on their variable's device", "[cuda][graph]") {
  if (!cuda::is_available()) {
    WARN("no CUDA device: skipping");
    return;
  }
  // No SessionOptions::device: the variable lives where its initial value does, and so do the
  // optimizer's slots for it, as TensorFlow places them.
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output w = g::Variable(tensor({1.0, 2.0}).to(Device::cuda()), true, "w");
  const g::Output train_op = g::train::AdamOptimizer(0.1).minimize(g::sum(w * w));
  g::Session s(graph);
  s.run(g::global_variables_initializer());
  s.run(train_op);
  for (const char* slot : {"w/Adam", "w/Adam_1", "w/Adam_step"})
    CHECK(s.variable_value(g::Output(graph.find(slot))).device() == Device::cuda());
  // Adam's first step moves each weight by lr against the sign of its gradient.
  CHECK(allclose(s.variable_value(w).cpu(), tensor({0.9, 1.9}), 1e-5, 1e-6));
}

#else

TEST_CASE("optim: a session placed on a GPU that this build lacks says so", "[optim][graph]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Variable(tensor({1.0}), true, "w");
  g::SessionOptions options;
  options.device = Device::cuda();
  g::Session s(graph, options);
  CHECK_THROWS_WITH(s.run(g::global_variables_initializer()), Catch::Contains("no CUDA backend"));
}

#endif
