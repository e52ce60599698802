// tests/test_clip.cpp — clipping gradients by their global norm, in both modes (optim/clip.h).
//
// Eager mode answers to torch.nn.utils: tests/fixtures/clip.txt (scripts/fixtures/gen_clip.py)
// holds clip_grad_norm_ with several norms, clip_grad_value_, and a short SGD run clipped at every
// step. Graph mode answers to tf.clip_by_global_norm's formula, written out by hand below; and a run
// clipped in graph mode must give the eager run's losses, to within the 1e-6 that PyTorch adds to
// the norm (and TensorFlow does not).
#include <catch2/catch.hpp>
#include <cmath>

#include "tandem.h"
#include "tests/fixture.h"

using namespace tandem;
namespace g = tandem::graph;

namespace {

const std::vector<FixtureCase>& cases() {
  static const std::vector<FixtureCase> all = load_fixtures(fixture_path("clip.txt"));
  return all;
}
const FixtureCase& case_named(const std::string& name) {
  for (const FixtureCase& c : cases())
    if (c.name == name) return c;
  throw Error("clip.txt has no case " + name);
}
Tolerance tolerance(DType dtype) { return dtype == kFloat64 ? Tolerance{1e-10, 1e-12} : Tolerance{1e-5, 1e-6}; }
double number(const FixtureCase& c, const std::string& name) { return c.inputs[name].item(); }

// Two parameters whose .grad are the case's g0 and g1 (copies: clipping writes them).
std::vector<Tensor> params_with_grads(const FixtureCase& c) {
  std::vector<Tensor> ps;
  for (const char* name : {"g0", "g1"}) {
    Tensor p = zeros_like(c.inputs[name]).requires_grad_();
    p.set_grad(c.inputs[name].clone());
    ps.push_back(p);
  }
  return ps;
}
Tensor flat_grads(const std::vector<Tensor>& ps) { return cat({ps[0].grad().reshape({-1}), ps[1].grad().reshape({-1})}); }

constexpr int kSteps = 6;  // as STEPS in gen_clip.py

// gen_clip.py's train case: SGD with clip_grad_norm_ between backward() and step().
Tensor train_eager(const FixtureCase& c, bool clip = true) {
  const Tensor x = c.inputs["x"], labels = c.inputs["labels"];
  Tensor w = c.inputs["w"].clone().requires_grad_(), b = c.inputs["b"].clone().requires_grad_();
  optim::SGD opt({w, b}, {.lr = 0.5});
  std::vector<Tensor> losses, norms;
  for (int step = 0; step < kSteps; ++step) {
    opt.zero_grad();
    Tensor loss = cross_entropy(matmul(x, w) + b, labels);
    loss.backward();
    norms.push_back(clip ? optim::clip_grad_norm_({w, b}, number(c, "max_norm")).reshape({1})
                         : tensor({0.0}, kFloat64));
    opt.step();
    losses.push_back(loss.detach().reshape({1}));
  }
  std::vector<Tensor> parts = losses;
  parts.insert(parts.end(), norms.begin(), norms.end());
  parts.push_back(w.detach().reshape({-1}));
  parts.push_back(b.detach().reshape({-1}));
  return cat(parts);
}

// The same in graph mode, as a TF1 program clips: compute_gradients, clip_by_global_norm,
// apply_gradients; the norm fetched beside the loss.
Tensor train_graph(const FixtureCase& c) {
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output x = g::placeholder(kFloat64, {-1, 5}, "x");
  const g::Output labels = g::placeholder(kInt64, {-1}, "labels");
  const g::Output w = g::Variable(c.inputs["w"], true, "w");
  const g::Output b = g::Variable(c.inputs["b"], true, "b");
  const g::Output loss = cross_entropy(g::matmul(x, w) + b, labels);
  g::train::GradientDescentOptimizer opt(0.5);
  auto [clipped, norm] = g::train::clip_by_global_norm(opt.compute_gradients(loss), number(c, "max_norm"));
  const g::Output train_op = opt.apply_gradients(clipped);
  g::Session session(graph);
  session.run(g::global_variables_initializer());
  std::vector<Tensor> losses, norms;
  for (int step = 0; step < kSteps; ++step) {
    const auto out = session.run({loss, norm, train_op}, {{x, c.inputs["x"]}, {labels, c.inputs["labels"]}});
    losses.push_back(out[0].reshape({1}));
    norms.push_back(out[1].reshape({1}));
  }
  std::vector<Tensor> parts = losses;
  parts.insert(parts.end(), norms.begin(), norms.end());
  parts.push_back(session.variable_value(w).reshape({-1}));
  parts.push_back(session.variable_value(b).reshape({-1}));
  return cat(parts);
}

}  // namespace

TEST_CASE("clip: clip_grad_norm_ and clip_grad_value_ do what torch.nn.utils does", "[clip][optim]") {
  int checked = 0;
  for (const FixtureCase& c : cases()) {
    INFO("case " << c.name << " (" << c.expr << ") at " << c.where());
    if (c.name.rfind("norm_", 0) == 0) {
      const std::vector<Tensor> ps = params_with_grads(c);
      const Tensor total = optim::clip_grad_norm_(ps, number(c, "max_norm"), number(c, "norm_type"));
      CHECK(total.dtype() == c.inputs["g0"].dtype());
      CHECK(compare_with_fixture(cat({total.reshape({1}), flat_grads(ps)}), c.output, tolerance(c.output.dtype())) == "");
      ++checked;
    } else if (c.name.rfind("value", 0) == 0) {
      const std::vector<Tensor> ps = params_with_grads(c);
      optim::clip_grad_value_(ps, number(c, "clip_value"));
      CHECK(compare_with_fixture(flat_grads(ps), c.output, tolerance(c.output.dtype())) == "");
      ++checked;
    }
  }
  CHECK(checked == 8);
}

TEST_CASE("clip: SGD clipped by clip_grad_norm_ takes PyTorch's steps", "[clip][optim]") {
  const FixtureCase& c = case_named("train_sgd");
  CHECK(compare_with_fixture(train_eager(c), c.output, tolerance(kFloat64)) == "");
}

TEST_CASE("clip: training clipped in graph mode gives eager mode's losses", "[clip][optim][graph]") {
  const FixtureCase& c = case_named("train_sgd");
  const Tensor eager = train_eager(c), graph = train_graph(c);
  // The first norm is computed by the same generic global_norm from the same weights: equal to
  // rounding. After that the modes differ by PyTorch's 1e-6 guard: each clipped step is
  // lr · max_norm = 0.25 long, and its factor max_norm / (‖g‖ + 1e-6) is off TF's max_norm / ‖g‖ by
  // 1e-6 / ‖g‖ < 2e-6 relative (‖g‖ > max_norm = 0.5): at most 5e-7 per step, 3e-6 in six steps.
  // Not clipping at all changes the losses at the second decimal.
  CHECK(graph.select(0, kSteps).item() == Approx(eager.select(0, kSteps).item()).epsilon(1e-14));
  CHECK(compare_with_fixture(graph, eager, {1e-6, 3e-6}) == "");
  CHECK(compare_with_fixture(graph, c.output, {1e-6, 3e-6}) == "");
  const Tensor unclipped = train_eager(c, /*clip=*/false);
  CHECK(std::abs(unclipped.select(0, kSteps - 1).item() - eager.select(0, kSteps - 1).item()) > 1e-2);
}

TEST_CASE("clip: clip_by_global_norm computes TensorFlow's formula", "[clip][graph]") {
  const FixtureCase& c = case_named("norm_l2_clipped");
  const double norm = c.output.select(0, 0).item();  // PyTorch's global norm of g0 and g1
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output g0 = g::constant(c.inputs["g0"]), g1 = g::constant(c.inputs["g1"]);
  for (const double clip_norm : {1.0, 2 * norm}) {
    INFO("clip_norm " << clip_norm);
    // t · clip_norm · min(1/‖t‖, 1/clip_norm), with an undefined entry (TF's None) passed through.
    auto [clipped, global] = g::clip_by_global_norm({g0, g::Output(), g1}, clip_norm);
    REQUIRE(clipped.size() == 3);
    CHECK_FALSE(clipped[1].defined());
    g::Session s(graph);
    const auto out = s.run({clipped[0], clipped[2], global});
    CHECK(out[2].item() == Approx(norm).epsilon(1e-14));
    const double scale = clip_norm * std::min(1.0 / norm, 1.0 / clip_norm);
    CHECK(compare_with_fixture(out[0], c.inputs["g0"] * scale, {1e-14, 1e-15}) == "");
    CHECK(compare_with_fixture(out[1], c.inputs["g1"] * scale, {1e-14, 1e-15}) == "");
  }
  // An infinite norm makes every entry NaN (TF's documented choice: a diverged step shows).
  const g::Output bad = g::constant(tensor({1.0, optim::kInf}, kFloat64));
  auto [clipped, global] = g::clip_by_global_norm({bad, g0}, 1.0);
  g::Session s(graph);
  const auto out = s.run({clipped[0], clipped[1], global});
  CHECK(std::isinf(out[2].item()));
  for (double v : out[1].to_vector()) CHECK(std::isnan(v));
}

TEST_CASE("clip: the global norm is one template for both modes", "[clip]") {
  const Tensor a = tensor({3.0, -4.0}, kFloat64), b = tensor({{12.0}}, kFloat64);
  // By hand: ‖(3, −4, 12)‖₂ = 13, ‖·‖₁ = 19, ‖·‖∞ = 12, ‖·‖₃ = (27 + 64 + 1728)^(1/3).
  CHECK(global_norm<Tensor>({a, b}).item() == Approx(13.0));
  CHECK(global_norm<Tensor>({a, b}, 1).item() == Approx(19.0));
  CHECK(global_norm<Tensor>({a, b}, optim::kInf).item() == Approx(12.0));
  CHECK(global_norm<Tensor>({a, b}, 3).item() == Approx(std::cbrt(27.0 + 64.0 + 1728.0)));
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output n = global_norm<g::Output>({g::constant(a), g::constant(b)}, 3);
  CHECK(g::Session(graph).run(n).item() == Approx(std::cbrt(27.0 + 64.0 + 1728.0)));
  CHECK_THROWS_WITH(vector_norm(a, 0), Catch::Contains("must be positive or infinity, got 0"));
  CHECK_THROWS_WITH(global_norm<Tensor>({}), Catch::Contains("no tensors given"));
}

TEST_CASE("clip: parameters without gradients, non-finite norms, and errors", "[clip][optim][errors]") {
  Tensor w = tensor({3.0, 4.0}, kFloat64).requires_grad_(), unused = tensor({1.0}, kFloat64).requires_grad_();
  // No gradient anywhere: nothing to clip, a norm of 0 (PyTorch's torch.tensor(0.)).
  CHECK(optim::clip_grad_norm_({w, unused}, 1.0).item() == 0.0);
  sum(w * w).backward();  // g = (6, 8), ‖g‖ = 10
  const Tensor total = optim::clip_grad_norm_({w, unused}, 5.0);
  CHECK(total.item() == Approx(10.0));
  CHECK(allclose(w.grad(), tensor({6.0, 8.0}, kFloat64) * (5.0 / (10.0 + 1e-6))));
  CHECK_FALSE(unused.grad().defined());
  // A norm within the limit leaves the gradients as they were (times min(…, 1) = 1).
  const Tensor before = w.grad().clone();
  optim::clip_grad_norm_({w}, 100.0);
  CHECK(equal(w.grad(), before));
  // An infinite gradient: an error if asked for one; else, as PyTorch, the finite ones become 0.
  w.set_grad(tensor({optim::kInf, 2.0}, kFloat64));
  CHECK_THROWS_WITH(optim::clip_grad_norm_({w}, 1.0, 2.0, /*error_if_nonfinite=*/true),
                    Catch::Contains("non-finite") && Catch::Contains("error_if_nonfinite = false"));
  CHECK(std::isinf(optim::clip_grad_norm_({w}, 1.0).item()));
  CHECK(w.grad().to_vector()[1] == 0.0);
  // Graph mode: nothing to clip is an error, as is a negative clip_norm.
  g::Graph graph;
  g::DefaultGraph use(graph);
  CHECK_THROWS_WITH(g::clip_by_global_norm({g::Output()}, 1.0), Catch::Contains("all 1 tensors are undefined"));
  CHECK_THROWS_WITH(g::clip_by_global_norm({g::constant(tensor({1.0}))}, -1.0),
                    Catch::Contains("clip_norm must be a number >= 0, got -1"));
}
