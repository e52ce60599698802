// tests/test_optim_adaptive.cpp — RMSprop and Adagrad: PyTorch's in eager mode, TensorFlow's in graph mode.
//
// Each mode answers to its own framework. Eager: tests/fixtures/optim_adaptive.txt
// (scripts/fixtures/gen_optim_adaptive.py) holds short torch.optim runs — the losses, the final
// weights and the optimizer's state_dict — and optim::RMSprop / optim::Adagrad must reproduce them.
// Graph: TensorFlow is not installed here, so RMSPropOptimizer and AdagradOptimizer are checked
// against TF's documented update rules, written out below in plain doubles, over several steps.
// A last test shows that the two frameworks' RMSprops really do take different steps.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <map>

#include "core/op.h"
#include "core/ops/update_math.h"
#include "tandem.h"
#include "tests/fixture.h"
#include "tests/scratch_dir.h"
#if defined(TANDEM_HAVE_CUDA)
#include "cuda/cuda.h"
#endif

using namespace tandem;
namespace g = tandem::graph;

namespace {

constexpr int kSteps = 6;  // as STEPS in gen_optim_adaptive.py

const std::vector<FixtureCase>& cases() {
  static const std::vector<FixtureCase> all = load_fixtures(fixture_path("optim_adaptive.txt"));
  return all;
}
const FixtureCase& case_named(const std::string& name) {
  for (const FixtureCase& c : cases())
    if (c.name == name) return c;
  throw Error("optim_adaptive.txt has no case " + name);
}
bool is_state_case(const FixtureCase& c) { return c.name.rfind("state_dict_", 0) == 0; }

Tolerance tolerance(DType dtype) { return dtype == kFloat64 ? Tolerance{1e-10, 1e-12} : Tolerance{1e-5, 1e-6}; }

// Case name -> the optimizer of gen_optim_adaptive.py's configuration.
using Make = std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>)>;
const std::map<std::string, Make>& optimizers() {
  using optim::RMSprop, optim::Adagrad;
  static const std::map<std::string, Make> table{
      {"rmsprop", [](auto p) { return std::make_unique<RMSprop>(p, optim::RMSpropOptions{.lr = 0.01}); }},
      {"rmsprop_momentum_weight_decay",
       [](auto p) {
         return std::make_unique<RMSprop>(
             p, optim::RMSpropOptions{.lr = 0.01, .alpha = 0.9, .eps = 1e-6, .weight_decay = 0.1, .momentum = 0.8});
       }},
      {"rmsprop_centered",
       [](auto p) { return std::make_unique<RMSprop>(p, optim::RMSpropOptions{.lr = 0.01, .centered = true}); }},
      {"rmsprop_centered_momentum",
       [](auto p) {
         return std::make_unique<RMSprop>(
             p, optim::RMSpropOptions{.lr = 0.005, .alpha = 0.95, .momentum = 0.9, .centered = true});
       }},
      {"rmsprop_float32", [](auto p) { return std::make_unique<RMSprop>(p, optim::RMSpropOptions{.lr = 0.01}); }},
      {"adagrad", [](auto p) { return std::make_unique<Adagrad>(p, optim::AdagradOptions{.lr = 0.1}); }},
      {"adagrad_decay",
       [](auto p) {
         return std::make_unique<Adagrad>(p, optim::AdagradOptions{.lr = 0.2,
                                                                   .lr_decay = 0.05,
                                                                   .weight_decay = 0.1,
                                                                   .initial_accumulator_value = 0.3,
                                                                   .eps = 1e-6});
       }},
      {"adagrad_float32", [](auto p) { return std::make_unique<Adagrad>(p, optim::AdagradOptions{.lr = 0.1}); }},
  };
  return table;
}

// PyTorch's loop, line for line; `steps` of them from the case's start, on an optimizer `make`s.
struct Run {
  Tensor w, b;
  std::unique_ptr<optim::Optimizer> opt;
  std::vector<Tensor> losses;
};
Run start(const FixtureCase& c, Device device = Device::cpu()) {
  Run r;
  r.w = c.inputs["w"].clone().to(device).requires_grad_();
  r.b = c.inputs["b"].clone().to(device).requires_grad_();
  r.opt = optimizers().at(c.name)({r.w, r.b});
  return r;
}
void train(Run& r, const FixtureCase& c, int steps, Device device = Device::cpu()) {
  const Tensor x = c.inputs["x"].to(device), labels = c.inputs["labels"].to(device);
  for (int s = 0; s < steps; ++s) {
    r.opt->zero_grad();
    Tensor loss = cross_entropy(matmul(x, r.w) + r.b, labels);
    loss.backward();
    r.opt->step();
    r.losses.push_back(loss.detach().cpu().reshape({1}));
  }
}
Tensor trajectory(const Run& r) {
  std::vector<Tensor> parts = r.losses;
  parts.push_back(r.w.detach().cpu().reshape({-1}));
  parts.push_back(r.b.detach().cpu().reshape({-1}));
  return cat(parts);
}

}  // namespace

TEST_CASE("optim: RMSprop and Adagrad take torch.optim's steps", "[optim]") {
  int checked = 0;
  for (const FixtureCase& c : cases()) {
    if (is_state_case(c)) continue;
    INFO("case " << c.name << " (" << c.expr << ") at " << c.where());
    REQUIRE(optimizers().count(c.name) == 1);
    Run r = start(c);
    train(r, c, kSteps);
    CHECK(compare_with_fixture(trajectory(r), c.output, tolerance(c.output.dtype())) == "");
    ++checked;
  }
  CHECK(checked == static_cast<int>(optimizers().size()));
}

TEST_CASE("optim: RMSprop's and Adagrad's state_dicts are PyTorch's, name for name", "[optim][checkpoint]") {
  int checked = 0;
  for (const FixtureCase& c : cases()) {
    if (!is_state_case(c)) continue;
    const FixtureCase& run_case = case_named(c.name.substr(std::string("state_dict_").size()));
    INFO("case " << c.name << " at " << c.where());
    Run r = start(run_case);
    train(r, run_case, kSteps);
    const StateDict sd = r.opt->state_dict();
    // The same names (PyTorch's, flattened), the same dtypes and shapes, the same values.
    std::vector<std::string> expected_names;
    for (const auto& [name, t] : c.inputs.items()) expected_names.push_back(name);
    std::vector<std::string> names = sd.names();
    std::sort(names.begin(), names.end());
    std::sort(expected_names.begin(), expected_names.end());
    CHECK(names == expected_names);
    for (const auto& [name, expected] : c.inputs.items()) {
      INFO("entry " << name);
      if (!sd.contains(name)) continue;  // reported just above
      CHECK(compare_with_fixture(sd.at(name).cpu(), expected, tolerance(kFloat64)) == "");
    }
    ++checked;
  }
  CHECK(checked == 4);
}

TEST_CASE("optim: RMSprop and Adagrad resume from a state_dict exactly", "[optim][checkpoint]") {
  const ScratchDir dir("optim_adaptive");
  for (const char* name : {"rmsprop_centered_momentum", "rmsprop_momentum_weight_decay", "adagrad_decay"}) {
    INFO(name);
    const FixtureCase& c = case_named(name);
    Run whole = start(c);
    train(whole, c, kSteps);
    // Three steps, the state saved to a file and read back into a fresh optimizer whose options
    // are other ones (load_state_dict brings them back), three more steps.
    Run first = start(c);
    train(first, c, 3);
    Run second = start(c);
    second.w.detach().copy_(first.w.detach());
    second.b.detach().copy_(first.b.detach());
    second.losses = first.losses;
    const std::string path = dir / (std::string(name) + ".tckpt");
    first.opt->state_dict().save(path);
    if (auto* rms = dynamic_cast<optim::RMSprop*>(second.opt.get())) rms->options = {.lr = 1.0};
    second.opt->load_state_dict(StateDict::load(path));
    train(second, c, 3);
    CHECK(equal(trajectory(second), trajectory(whole)));  // bit for bit
    // Without the state (a fresh optimizer), the last three steps differ.
    Run fresh = start(c);
    fresh.w.detach().copy_(first.w.detach());
    fresh.b.detach().copy_(first.b.detach());
    fresh.losses = first.losses;
    train(fresh, c, 3);
    CHECK_FALSE(equal(trajectory(fresh), trajectory(whole)));
  }
}

TEST_CASE("optim: a wrong RMSprop or Adagrad state_dict is refused, the optimizer unchanged", "[optim][errors]") {
  const FixtureCase& c = case_named("rmsprop_centered_momentum");
  Run r = start(c);
  train(r, c, 2);
  const StateDict before = r.opt->state_dict().clone();
  auto refused = [&](const StateDict& sd, const std::string& why) {
    CHECK_THROWS_WITH(r.opt->load_state_dict(sd), Catch::Contains(why) && Catch::Contains("the optimizer is unchanged"));
    const StateDict now = r.opt->state_dict();
    REQUIRE(now.size() == before.size());
    for (const auto& [name, t] : before) CHECK(equal(now.at(name), t));
  };
  // A state_dict without momentum: its hyper-parameters say so, but then the buffer is unexpected.
  StateDict no_momentum = before.clone();
  no_momentum.set("param_groups.0.momentum", tensor(0.0, kFloat64));
  refused(no_momentum, "unexpected key(s) \"state.0.momentum_buffer\"");
  // A square_avg of the wrong shape.
  StateDict wrong_shape = before.clone();
  wrong_shape.set("state.0.square_avg", zeros({3, 5}, kFloat64));
  refused(wrong_shape, "\"state.0.square_avg\" has shape [3, 5]");
  // Adagrad's state_dict into RMSprop.
  Tensor p = zeros({5, 3}, kFloat64).requires_grad_(), q = zeros({3}, kFloat64).requires_grad_();
  optim::Adagrad adagrad({p, q});
  refused(adagrad.state_dict(), "the state_dict has no \"param_groups.0.alpha\"");
  // A negative alpha.
  StateDict negative = before.clone();
  negative.set("param_groups.0.alpha", tensor(-0.5, kFloat64));
  refused(negative, "Invalid alpha value: -0.5");
  // Graph mode's RMSProp is TensorFlow's: the eager state has no slot twin to be carried into.
  CHECK_THROWS_WITH(g::train::to_slots(before, {"w", "b"}),
                    Catch::Contains("\"state.0.square_avg\" has no slot variable in graph mode"));
}

TEST_CASE("optim: Adagrad has its state from the start, RMSprop from a parameter's first step", "[optim]") {
  Tensor w = tensor({1.0, -2.0}).requires_grad_(), unused = tensor({3.0}).requires_grad_();
  optim::Adagrad adagrad({w, unused}, {.lr = 0.1, .initial_accumulator_value = 0.5});
  CHECK(adagrad.state_dict().contains("state.1.sum"));
  CHECK(allclose(adagrad.state(1).sum, tensor({0.5})));
  optim::RMSprop rmsprop({w, unused}, {.lr = 0.1});
  CHECK_FALSE(rmsprop.state_dict().contains("state.0.square_avg"));
  sum(w * w).backward();  // g = 2w = (2, -4)
  adagrad.step();
  rmsprop.step();
  // Adagrad by hand: s = 0.5 + g², w −= 0.1 · g / (√s + 1e-10); the unused parameter keeps step 0.
  CHECK(adagrad.state(0).step.item<float>() == 1.0f);
  CHECK(adagrad.state(1).step.item<float>() == 0.0f);
  CHECK(allclose(adagrad.state(0).sum, tensor({4.5, 16.5})));
  CHECK_FALSE(rmsprop.state_dict().contains("state.1.square_avg"));
  CHECK(rmsprop.state(0).step == 1);
  CHECK_FALSE(rmsprop.state(0).momentum_buffer.defined());  // no momentum: no buffer, as PyTorch
  CHECK(allclose(unused.detach(), tensor({3.0})));
}

// ---- the per-weight formulas, by hand ------------------------------------------------------------------

TEST_CASE("optim: the RMSprop and Adagrad rules by hand, in each framework's definition", "[optim]") {
  SECTION("PyTorch's RMSprop: v starts at 0, so the first step is lr / sqrt(1 - alpha), whatever g") {
    for (double grad : {1e-3, 0.5, -40.0}) {
      double w = 1.0, v = 0.0, b = 0.0, m = 0.0;
      const math::RmspropStep<double> step{0.01, 0.99, 1.0 - 0.99, 0.0, 0.0, 0.0, false};
      step(w, v, b, m, grad);
      CHECK(v == Approx(0.01 * grad * grad));
      CHECK(w == Approx(1.0 - 0.01 * grad / (0.1 * std::abs(grad))).epsilon(1e-12));  // a step of 0.1
    }
  }
  SECTION("PyTorch's centered RMSprop divides by the standard deviation of g") {
    double w = 0.0, v = 0.0, b = 0.0, m = 0.0;
    const math::RmspropStep<double> step{0.1, 0.5, 0.5, 0.0, 0.0, 0.9, true};
    step(w, v, b, m, 2.0);  // v = 2, m = 1, d = √(2 − 1) = 1, b = 2, w = −0.2
    CHECK(v == Approx(2.0));
    CHECK(m == Approx(1.0));
    CHECK(b == Approx(2.0));
    CHECK(w == Approx(-0.2));
  }
  SECTION("TensorFlow's RMSProp: ms starts at 1, eps inside the root, lr inside the velocity") {
    double w = 1.0, ms = 1.0, mom = 0.0, mg = 0.0;
    const math::TfRmsPropStep<double> step{0.01, 1.0 - 0.9, 0.5, 1e-10, false};
    step(w, ms, mom, mg, 3.0);  // ms = 0.9 + 0.1·9 = 1.8, mom = 0.01·3/√1.8
    CHECK(ms == Approx(1.8));
    CHECK(mom == Approx(0.03 / std::sqrt(1.8 + 1e-10)));
    CHECK(w == Approx(1.0 - 0.03 / std::sqrt(1.8)));
  }
  SECTION("PyTorch's Adagrad decays its learning rate with the step count") {
    double w = 1.0, s = 0.0;
    math::AdagradStep<double>::at(1, 0.1, 0.5, 0.0, 0.0)(w, s, 2.0);  // clr = 0.1, s = 4, step 0.1
    CHECK(w == Approx(0.9));
    math::AdagradStep<double>::at(3, 0.1, 0.5, 0.0, 0.0)(w, s, 0.0);  // a zero gradient: no step
    CHECK(w == Approx(0.9));
    math::AdagradStep<double>::at(3, 0.1, 0.5, 0.0, 0.0)(w, s, 3.0);  // clr = 0.1/2, s = 13
    CHECK(w == Approx(0.9 - 0.05 * 3.0 / std::sqrt(13.0)));
  }
  SECTION("TensorFlow's Adagrad: accum from 0.1, no eps") {
    double w = 1.0, accum = 0.1;
    math::TfAdagradStep<double>{0.5}(w, accum, 0.3);  // accum = 0.19
    CHECK(accum == Approx(0.19));
    CHECK(w == Approx(1.0 - 0.5 * 0.3 / std::sqrt(0.19)));
  }
}

// ---- graph mode: TensorFlow's formulas, several steps, checked against the documented rules --------------

namespace {

// The quadratic loss ½ Σ a·w², whose gradient is g = a·w: simple enough to follow by hand.
const std::vector<double> kA = {1.0, 4.0, 0.25}, kW0 = {1.0, -0.5, 2.0};
Tensor as_tensor(const std::vector<double>& v) { return tensor({v[0], v[1], v[2]}, kFloat64); }

// `steps` of `opt` in graph mode on that loss: the graph, its session, the final weights.
struct GraphRun {
  g::Graph graph;
  std::unique_ptr<g::Session> session;
  std::vector<double> w;
};
void train_graph(GraphRun& run, const g::train::Optimizer& opt, int steps) {
  g::DefaultGraph use(run.graph);
  const g::Output w = g::Variable(as_tensor(kW0), true, "w");
  const g::Output a = g::constant(as_tensor(kA));
  const g::Output train_op = opt.minimize(0.5 * g::sum(a * w * w));
  run.session = std::make_unique<g::Session>(run.graph);
  run.session->run(g::global_variables_initializer());
  for (int s = 0; s < steps; ++s) run.session->run(train_op);
  run.w = run.session->variable_value(w).to_vector();
}

// TF's RMSProp as its documentation writes it (tf.compat.v1.train.RMSPropOptimizer):
//     mean_square = decay · mean_square + (1 − decay) · g²          (starts at 1)
//     mean_grad   = decay · mean_grad + (1 − decay) · g             (centered; starts at 0)
//     mom = momentum · mom + lr · g / √(mean_square − mean_grad² + ε)
//     w = w − mom
std::vector<double> tf_rmsprop_by_hand(double lr, double decay, double momentum, double eps, bool centered, int steps) {
  std::vector<double> w = kW0, ms(3, 1.0), mg(3, 0.0), mom(3, 0.0);
  for (int s = 0; s < steps; ++s)
    for (size_t i = 0; i < 3; ++i) {
      const double grad = kA[i] * w[i];
      ms[i] = decay * ms[i] + (1 - decay) * grad * grad;
      if (centered) mg[i] = decay * mg[i] + (1 - decay) * grad;
      mom[i] = momentum * mom[i] + lr * grad / std::sqrt(ms[i] - (centered ? mg[i] * mg[i] : 0.0) + eps);
      w[i] -= mom[i];
    }
  return w;
}

// TF's Adagrad (tf.compat.v1.train.AdagradOptimizer): accum += g²; w −= lr · g / √accum.
std::vector<double> tf_adagrad_by_hand(double lr, double initial, int steps) {
  std::vector<double> w = kW0, accum(3, initial);
  for (int s = 0; s < steps; ++s)
    for (size_t i = 0; i < 3; ++i) {
      const double grad = kA[i] * w[i];
      accum[i] += grad * grad;
      w[i] -= lr * grad / std::sqrt(accum[i]);
    }
  return w;
}

void check_close(const std::vector<double>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == Approx(want[i]).epsilon(1e-12).margin(1e-14));
}

}  // namespace

TEST_CASE("optim: graph RMSPropOptimizer takes TensorFlow's steps", "[optim][graph]") {
  struct Config {
    double lr, decay, momentum, eps;
    bool centered;
  };
  for (const Config& k : {Config{0.1, 0.9, 0.0, 1e-10, false}, Config{0.05, 0.8, 0.9, 1e-6, false},
                          Config{0.05, 0.9, 0.5, 1e-10, true}}) {
    INFO("lr " << k.lr << ", decay " << k.decay << ", momentum " << k.momentum << ", centered " << k.centered);
    GraphRun run;
    train_graph(run, g::train::RMSPropOptimizer(k.lr, k.decay, k.momentum, k.eps, k.centered), 7);
    check_close(run.w, tf_rmsprop_by_hand(k.lr, k.decay, k.momentum, k.eps, k.centered, 7));
    // The slots, named and ordered as TensorFlow's: rms, (mg), momentum.
    CHECK(run.graph.find("w/RMSProp") != nullptr);
    CHECK(run.graph.find("w/RMSProp_1") != nullptr);
    CHECK((run.graph.find("w/RMSProp_2") != nullptr) == k.centered);
    CHECK(run.graph.trainable_variables().size() == 1);
  }
}

TEST_CASE("optim: graph AdagradOptimizer takes TensorFlow's steps", "[optim][graph]") {
  for (double initial : {0.1, 2.0}) {
    INFO("initial_accumulator_value " << initial);
    GraphRun run;
    train_graph(run, g::train::AdagradOptimizer(0.3, initial), 6);
    check_close(run.w, tf_adagrad_by_hand(0.3, initial, 6));
    // The accumulator, "w/Adagrad": the initial value plus the six squared gradients.
    const g::Output accum(run.graph.find("w/Adagrad"));
    REQUIRE(accum.defined());
    double expected = initial;
    std::vector<double> w = kW0;
    for (int step = 0; step < 6; ++step) {
      const double grad = kA[0] * w[0];
      expected += grad * grad;
      w[0] -= 0.3 * grad / std::sqrt(expected);
    }
    CHECK(run.session->variable_value(accum).to_vector()[0] == Approx(expected).epsilon(1e-12));
  }
  CHECK_THROWS_WITH(g::train::AdagradOptimizer(0.1, 0.0), Catch::Contains("initial_accumulator_value must be positive"));
  CHECK_THROWS_WITH(g::train::RMSPropOptimizer(0.1, 1.5), Catch::Contains("Invalid decay"));
}

TEST_CASE("optim: PyTorch's and TensorFlow's RMSprop take different steps, each its own", "[optim][graph]") {
  // One step on the quadratic, alpha = decay = 0.9, lr = 0.01, no momentum. PyTorch: v = 0.1·g², a
  // step of lr·g/(√v + ε) ≈ lr/√0.1 = 0.0316 for every weight. TensorFlow: ms = 0.9 + 0.1·g², a
  // step of lr·g/√(ms + ε), smaller for small gradients.
  std::vector<Tensor> params = {as_tensor(kW0).requires_grad_()};
  optim::RMSprop eager(params, {.lr = 0.01, .alpha = 0.9, .eps = 1e-10});
  (0.5 * sum(as_tensor(kA) * params[0] * params[0])).backward();
  eager.step();
  GraphRun run;
  train_graph(run, g::train::RMSPropOptimizer(0.01, 0.9, 0.0, 1e-10), 1);
  const auto& tf = run.w;
  const auto torch = params[0].detach().to_vector();
  for (size_t i = 0; i < 3; ++i) {
    const double grad = kA[i] * kW0[i];
    CHECK(torch[i] == Approx(kW0[i] - 0.01 * grad / (std::sqrt(0.1 * grad * grad) + 1e-10)).epsilon(1e-12));
    CHECK(tf[i] == Approx(kW0[i] - 0.01 * grad / std::sqrt(0.9 + 0.1 * grad * grad + 1e-10)).epsilon(1e-12));
    CHECK(std::abs(torch[i] - tf[i]) > 1e-3);
  }
}

// ---- the update ops' own checks ----------------------------------------------------------------------------

TEST_CASE("optim: the RMSprop and Adagrad update ops check their operands", "[optim][errors]") {
  const Tensor w = zeros({2}, kFloat64), g = ones({2}, kFloat64), none = empty({0}, kFloat64);
  Attrs a;
  a.lr = 0.1;
  a.alpha = 0.9;
  // No momentum: the buffer must be the empty "not kept" tensor, not a full one (a likely mix-up).
  CHECK_THROWS_WITH(call_update(ops::rmsprop_update, {w, zeros({2}, kFloat64), zeros({2}, kFloat64), none, g}, a),
                    Catch::Contains("momentum_buffer (input 2) is kept only when momentum > 0"));
  a.momentum = 0.9;
  CHECK_THROWS_WITH(call_update(ops::rmsprop_update, {w, zeros({2}, kFloat64), none, none, g}, a),
                    Catch::Contains("the state momentum_buffer (input 2) has shape [0] but the parameter has shape [2]"));
  CHECK_THROWS_WITH(call_update(ops::adagrad_update, {w, zeros({2}, kFloat64), zeros({2}), g}, a),
                    Catch::Contains("adagrad_update: the step count (input 2) must be a 0-dim"));
  CHECK_THROWS_WITH(call_update(ops::adagrad_tf_update, {w, zeros({3}, kFloat64), g}, a),
                    Catch::Contains("the state (input 1) has shape [3]"));
  // With everything in order, one step of each runs.
  const Tensor v = zeros({2}, kFloat64), b = zeros({2}, kFloat64);
  call_update(ops::rmsprop_update, {w, v, b, none, g}, a);
  CHECK(allclose(v, full({2}, 0.1, kFloat64)));
}

// ---- on a GPU -----------------------------------------------------------------------------------------------

#if defined(TANDEM_HAVE_CUDA)

TEST_CASE("optim: on the GPU, RMSprop and Adagrad take torch.optim's steps, and TF's twins the CPU's", "[cuda][optim]") {
  if (!cuda::is_available()) {
    WARN("no CUDA device: skipping");
    return;
  }
  auto tol = [](DType d) { return d == kFloat64 ? Tolerance{1e-9, 1e-11} : Tolerance{1e-4, 1e-5}; };
  for (const FixtureCase& c : cases()) {
    if (is_state_case(c)) continue;
    INFO("case " << c.name << " at " << c.where());
    Run r = start(c, Device::cuda());
    train(r, c, kSteps, Device::cuda());
    CHECK(compare_with_fixture(trajectory(r), c.output, tol(c.output.dtype())) == "");
  }
  g::SessionOptions on_gpu;
  on_gpu.device = Device::cuda();
  for (bool centered : {false, true}) {
    GraphRun cpu;
    train_graph(cpu, g::train::RMSPropOptimizer(0.05, 0.9, 0.5, 1e-10, centered), 5);
    g::Graph gpu_graph;
    g::DefaultGraph use(gpu_graph);
    const g::Output w = g::Variable(as_tensor(kW0).to(Device::cuda()), true, "w");
    const g::Output a = g::constant(as_tensor(kA));
    const g::Output train_op = g::train::RMSPropOptimizer(0.05, 0.9, 0.5, 1e-10, centered).minimize(0.5 * g::sum(a * w * w));
    g::Session s(gpu_graph, on_gpu);
    s.run(g::global_variables_initializer());
    for (int k = 0; k < 5; ++k) s.run(train_op);
    const auto gpu = s.variable_value(w).cpu().to_vector();
    for (size_t i = 0; i < 3; ++i) CHECK(gpu[i] == Approx(cpu.w[i]).epsilon(1e-12));
  }
  {
    g::Graph gpu_graph;
    g::DefaultGraph use(gpu_graph);
    const g::Output w = g::Variable(as_tensor(kW0).to(Device::cuda()), true, "w");
    const g::Output a = g::constant(as_tensor(kA));
    const g::Output train_op = g::train::AdagradOptimizer(0.3, 0.1).minimize(0.5 * g::sum(a * w * w));
    g::Session s(gpu_graph, on_gpu);
    s.run(g::global_variables_initializer());
    for (int k = 0; k < 6; ++k) s.run(train_op);
    check_close(s.variable_value(w).cpu().to_vector(), tf_adagrad_by_hand(0.3, 0.1, 6));
  }
}

#endif
