// tests/test_schedule.cpp — learning-rate schedules: PyTorch's numbers, and the same numbers in both modes.
//
// tests/fixtures/schedules.txt (scripts/fixtures/gen_schedules.py) holds the rates PyTorch's
// schedulers set, after construction and after each step(). Each case is run here three ways:
// eagerly (the scheduler sets an optim::SGD's lr), as graph ops on a step counter (the formula's
// Output half), and by training — an SGD model in each mode, the graph one reading its rate from
// a schedule of global_step — which must end with the same weights.
//
// Read next: optim/schedule.h.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <numbers>

#include "fixture.h"
#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;

namespace {

constexpr double kBase = 0.1;

// The case's schedule, made with or without an optimizer.
std::shared_ptr<optim::LRScheduler> schedule_for(const std::string& name, optim::Optimizer* opt) {
  using namespace optim;
  auto make = [&](auto options, auto tag) -> std::shared_ptr<LRScheduler> {
    using S = typename decltype(tag)::type;
    return opt ? std::make_shared<S>(*opt, options) : std::make_shared<S>(options);
  };
  if (name == "step") return make(StepLROptions{.step_size = 3, .gamma = 0.5}, std::type_identity<StepLR>{});
  if (name == "exponential") return make(ExponentialLROptions{.gamma = 0.8}, std::type_identity<ExponentialLR>{});
  if (name == "cosine")
    return make(CosineAnnealingLROptions{.T_max = 10, .eta_min = 0.001}, std::type_identity<CosineAnnealingLR>{});
  if (name == "linear_warmup")
    return make(LinearLROptions{.start_factor = 0.25, .total_iters = 4}, std::type_identity<LinearLR>{});
  if (name == "warmup_then_cosine") {
    auto warmup = std::make_shared<LinearLR>(LinearLROptions{.start_factor = 0.25, .total_iters = 3});
    auto cosine = std::make_shared<CosineAnnealingLR>(CosineAnnealingLROptions{.T_max = 8});
    return opt ? std::make_shared<SequentialLR>(*opt, warmup, cosine, 3) : std::make_shared<SequentialLR>(warmup, cosine, 3);
  }
  if (name == "lambda") {
    auto lambda = [](int64_t e) { return 1.0 / static_cast<double>(1 + e); };
    return opt ? std::make_shared<LambdaLR>(*opt, lambda) : std::make_shared<LambdaLR>(lambda);
  }
  FAIL("no schedule for fixture case " << name);
  return nullptr;
}

}  // namespace

TEST_CASE("schedules: PyTorch's rates, eagerly through scheduler.step() and as graph ops on a step counter", "[schedule][optim]") {
  for (const FixtureCase& c : load_fixtures(fixture_path("schedules.txt"))) {
    INFO("case " << c.name << " (" << c.where() << "): " << c.expr);
    const std::vector<double> torch = c.output.to_vector<double>();
    // Eager: PyTorch's loop. The scheduler sets lr(0) when made, then lr(t) at each step().
    Tensor w = zeros({1}).requires_grad_();
    optim::SGD opt({w}, {.lr = kBase});
    auto scheduler = schedule_for(c.name, &opt);
    std::vector<double> eager = {opt.lr()};
    for (size_t t = 1; t < torch.size(); ++t) {
      scheduler->step();
      eager.push_back(opt.lr());
      CHECK(scheduler->get_last_lr() == opt.lr());
    }
    for (size_t t = 0; t < torch.size(); ++t) CHECK(eager[t] == Approx(torch[t]).epsilon(1e-12).margin(1e-15));
    if (c.name == "lambda") continue;  // C++ code, not ops: see the errors below
    // Graph: the same formula as nodes on a fed step count.
    g::Graph graph;
    g::DefaultGraph use(graph);
    const g::Output step = g::placeholder(kInt64, {}, "global_step");
    const g::Output lr = schedule_for(c.name, nullptr)->learning_rate(step, kBase);
    CHECK(lr.dtype() == kFloat64);
    g::Session session(graph);
    for (size_t t = 0; t < torch.size(); ++t) {
      const double got = session.run(lr, {{step, tensor(static_cast<int64_t>(t))}}).item();
      CHECK(got == Approx(eager[t]).epsilon(1e-14).margin(1e-16));
      CHECK(static_cast<float>(got) == static_cast<float>(eager[t]));  // what a float32 update uses
    }
  }
}

TEST_CASE("schedules: the same schedule trains the same weights in both modes, the graph's rate an op on global_step", "[schedule][optim][graph]") {
  manual_seed(8);
  const Tensor x = randn({16, 5}), y = randint(0, 3, {16}), w0 = randn({5, 3}) * 0.3;
  constexpr int kSteps = 9;
  // Eager: SGD with momentum, the schedule stepped after every optimizer step.
  Tensor w = w0.clone().requires_grad_();
  optim::SGD opt({w}, {.lr = kBase, .momentum = 0.9});
  optim::StepLR scheduler(opt, {.step_size = 4, .gamma = 0.3});
  std::vector<double> eager_lrs;
  for (int i = 0; i < kSteps; ++i) {
    eager_lrs.push_back(opt.lr());
    opt.zero_grad();
    cross_entropy(matmul(x, w), y).backward();
    opt.step();
    scheduler.step();
  }
  // Graph: TF1's program. The rate is ops on global_step; minimize() adds 1 to it after each step.
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output xp = g::placeholder(kFloat32, {-1, 5}), yp = g::placeholder(kInt64, {-1});
  const g::Output wv = g::Variable(w0, true, "w");
  const g::Output global_step = g::Variable(tensor(int64_t{0}), false, "global_step");
  const g::Output lr = optim::StepLR({.step_size = 4, .gamma = 0.3}).learning_rate(global_step, kBase);
  const g::Output train_op = g::train::MomentumOptimizer(lr, 0.9).minimize(cross_entropy(matmul(xp, wv), yp), global_step);
  g::Session session(graph);
  session.run(g::global_variables_initializer(graph));
  std::vector<double> graph_lrs;
  for (int i = 0; i < kSteps; ++i) graph_lrs.push_back(session.run({lr, train_op}, {{xp, x}, {yp, y}})[0].item());
  CHECK(graph_lrs == eager_lrs);
  CHECK(session.run(global_step).item() == kSteps);
  CHECK(allclose(session.run(wv), w.detach(), 1e-6, 1e-7));
  CHECK(eager_lrs.back() == Approx(kBase * 0.3 * 0.3));  // steps 8: two drops
}

TEST_CASE("schedules: a learning rate fed on every run, and TF1's exponential_decay and cosine_decay", "[schedule][optim][graph]") {
  // A placeholder rate: each run's feed is the rate of that run's update (w -= lr·g, g = 1 here).
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output lr = g::placeholder(kFloat64, {}, "lr");
  const g::Output w = g::Variable(tensor({1.0f}), true, "w");
  const g::Output train_op = g::train::GradientDescentOptimizer(lr).minimize(sum(w));
  g::Session session(graph);
  session.run(g::global_variables_initializer(graph));
  session.run(train_op, {{lr, full({}, 0.25, kFloat64)}});
  session.run(train_op, {{lr, full({}, 0.5, kFloat64)}});
  CHECK(session.run(w).item() == Approx(1.0 - 0.25 - 0.5));
  CHECK_THROWS_WITH(session.run(train_op), Catch::Contains("lr"));  // a fed rate must be fed

  // TF1's formulas, by hand: 0.1·0.5^(10/5) and, staircase, 0.1·0.5^⌊7/5⌋; the cosine at half way.
  CHECK(optim::exponential_decay(0.1, 10.0, 5, 0.5) == Approx(0.025));
  CHECK(optim::exponential_decay(0.1, 7.0, 5, 0.5, /*staircase=*/true) == Approx(0.05));
  CHECK(optim::cosine_decay(0.1, 5.0, 10) == Approx(0.05));
  CHECK(optim::cosine_decay(0.1, 20.0, 10, /*alpha=*/0.1) == Approx(0.01));  // past decay_steps: alpha · lr
  const g::Output step = g::placeholder(kFloat64, {}, "step");
  const g::Output decayed = optim::exponential_decay(0.1, step, 5, 0.5, true);
  const g::Output cosine = optim::cosine_decay(0.1, step, 10, 0.1);
  for (double t : {0.0, 3.0, 7.0, 12.0, 20.0}) {
    const auto got = session.run({decayed, cosine}, {{step, full({}, t, kFloat64)}});
    CHECK(got[0].item() == Approx(optim::exponential_decay(0.1, t, 5, 0.5, true)).epsilon(1e-14));
    CHECK(got[1].item() == Approx(optim::cosine_decay(0.1, t, 10, 0.1)).epsilon(1e-14));
  }
}

TEST_CASE("schedules: bad input is a clear error", "[schedule][optim][errors]") {
  Tensor w = zeros({1}).requires_grad_();
  optim::SGD opt({w}, {.lr = 0.1});
  CHECK_THROWS_WITH(optim::StepLR(opt, {}), Catch::Contains("StepLR: step_size must be a positive number"));
  CHECK_THROWS_WITH(optim::CosineAnnealingLR({.T_max = 0}), Catch::Contains("T_max must be a positive"));
  CHECK_THROWS_WITH(optim::ExponentialLR({}), Catch::Contains("gamma must be positive"));
  CHECK_THROWS_WITH(optim::LinearLR({.start_factor = 0}), Catch::Contains("Starting multiplicative factor"));
  optim::StepLR formula_only({.step_size = 2});
  CHECK_THROWS_WITH(formula_only.step(), Catch::Contains("made without an optimizer"));
  CHECK(formula_only.lr_at(4.0, 1.0) == Approx(0.01));
  CHECK(opt.lr() == 0.1);  // a refused scheduler changed nothing
  g::Graph graph;
  g::DefaultGraph use(graph);
  optim::LambdaLR lambda([](int64_t e) { return 0.5 * static_cast<double>(e); });
  CHECK_THROWS_WITH(lambda.learning_rate(g::placeholder(kInt64, {}), 0.1), Catch::Contains("not graph ops"));
  CHECK_THROWS_WITH(formula_only.learning_rate(g::placeholder(kInt64, {3}), 0.1), Catch::Contains("0-dim"));
  CHECK_THROWS_WITH(g::train::AdamOptimizer(g::placeholder(kFloat32, {2}, "lr")),
                    Catch::Contains("must be a 0-dim floating point tensor"));
  CHECK_THROWS_WITH(g::train::GradientDescentOptimizer(-1.0), Catch::Contains("Invalid learning rate: -1"));
  CHECK_THROWS_WITH(opt.set_lr(-0.5), Catch::Contains("SGD: Invalid learning rate: -0.5"));
}
