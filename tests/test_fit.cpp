// tests/test_fit.cpp — compile / fit / evaluate / predict, in both modes, with callbacks and resume.
//
// The central check: one model, compiled once to run eagerly and once as a graph, fitted from the
// same weights and the same seed — shuffled batches, dropout, a validation split, a learning-rate
// schedule — gives the same History, number for number. (The graph's updates read their rate
// from a Variable, so update fusion, which would round the weight update differently, does not
// apply: the two modes compute the very same floats.) Then: evaluate and predict against hand
// math, each callback doing what it says, a run stopped and resumed from ModelCheckpoint's file
// giving the losses of the run that never stopped, and bad input refused with a clear message.
//
// Read next: train/fit.h, train/steps.h.
#include <catch2/catch.hpp>

#include <filesystem>
#include <regex>

#include "scratch_dir.h"
#include "tandem.h"
#include "tests/run_program.h"

using namespace tandem;

namespace {

// A learnable three-class problem: the label is the largest of three fixed projections of x.
struct Problem {
  Tensor x, y;
};
Problem problem(int64_t n, uint64_t seed) {
  manual_seed(seed);
  const Tensor x = randn({n, 12});
  const Tensor y = argmax(matmul(x, randn({12, 3})), 1);
  return {x, y};
}

nn::Sequential make_net(uint64_t seed) {
  manual_seed(seed);
  return nn::Sequential(nn::Linear(12, 16), nn::ReLU(), nn::Dropout(0.2), nn::Linear(16, 3));
}

keras::CompileOptions recipe(bool eager) {
  return {.optimizer = optim::AdamOptions{.lr = 0.01}, .loss = "cross_entropy", .metrics = {"accuracy"}, .run_eagerly = eager};
}

// Records which callback method ran, in order.
struct Recorder : keras::Callback {
  std::vector<std::string> calls;
  void on_train_begin(keras::Logs&) override { calls.push_back("train_begin"); }
  void on_epoch_begin(int64_t e, keras::Logs&) override { calls.push_back("epoch_begin " + std::to_string(e)); }
  void on_train_batch_end(int64_t b, keras::Logs& logs) override {
    calls.push_back("batch_end " + std::to_string(b));
    CHECK(logs.contains("loss"));
  }
  void on_epoch_end(int64_t e, keras::Logs&) override { calls.push_back("epoch_end " + std::to_string(e)); }
  void on_train_end(keras::Logs&) override { calls.push_back("train_end"); }
};

// Writes a scripted value into the logs as "score" at each epoch's end (before the callbacks after it).
struct Script : keras::Callback {
  std::vector<double> values;
  std::vector<StateDict> weights;  // the model's weights at each epoch's end
  explicit Script(std::vector<double> v) : values(std::move(v)) {}
  void on_epoch_end(int64_t e, keras::Logs& logs) override {
    logs.set("score", values.at(static_cast<size_t>(e)));
    weights.push_back(model().get_weights());
  }
};

bool same_weights(const StateDict& a, const StateDict& b) {
  for (const auto& [name, t] : a)
    if (!equal(t, b.at(name))) return false;
  return a.size() == b.size();
}

}  // namespace

TEST_CASE("fit: both modes from the same seed give the same History", "[train][fit][graph]") {
  const Problem p = problem(96, 1);
  nn::Sequential net = make_net(2);
  const StateDict start = net->state_dict().clone();
  auto run = [&](bool eager) {
    net->load_state_dict(start);
    keras::Model model = keras::compile(net, recipe(eager));
    manual_seed(77);  // the dropout masks
    return keras::fit(model, p.x, p.y,
                      {.epochs = 4, .batch_size = 16, .validation_split = 0.25,
                       .callbacks = {keras::LearningRateScheduler(optim::StepLR({.step_size = 2, .gamma = 0.5}))},
                       .verbose = 0, .seed = 5});
  };
  const keras::History eager = run(true);
  const StateDict eager_weights = net->state_dict().clone();
  const keras::History graph = run(false);
  std::vector<std::string> keys;
  for (const auto& [k, v] : graph.history) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"loss", "accuracy", "val_loss", "val_accuracy", "lr"});
  CHECK(graph.epoch == std::vector<int64_t>{0, 1, 2, 3});
  // Bit for bit where both modes' products go through OpenBLAS's sgemm (the Release build); Eigen's
  // own GEMM (the sanitizer builds) may round a product of transposed operands differently in the
  // last bit, so the check allows float32's rounding and no more.
  for (const auto& [key, values] : eager.history) {
    INFO(key);
    REQUIRE(graph[key].size() == values.size());
    for (size_t k = 0; k < values.size(); ++k) CHECK(graph[key][k] == Approx(values[k]).epsilon(1e-6));
  }
  CHECK(eager["lr"] == std::vector<double>{0.01, 0.01, 0.005, 0.005});
  CHECK(eager["loss"].back() < eager["loss"].front());  // it learns
  CHECK(eager["val_accuracy"].back() > 0.5);
  for (const auto& [name, t] : net->state_dict())  // graph mode wrote its weights back into the module
    CHECK(allclose(t, eager_weights.at(name), 1e-5, 1e-7));
}

TEST_CASE("fit: evaluate and predict against hand math, from tensors, a Dataset or a DataLoader", "[train][fit]") {
  const Problem p = problem(40, 3);
  for (bool eager : {true, false}) {
    INFO((eager ? "eager" : "graph") << " mode");
    nn::Sequential net = make_net(4);
    keras::Model model = keras::compile(net, recipe(eager));
    // A DataLoader as the training data: its own batches and order.
    data::DataLoader loader(data::share(data::TensorDataset({p.x, p.y})), {.batch_size = 8, .shuffle = true});
    const keras::History h = keras::fit(model, loader, {.epochs = 2, .verbose = 0});
    CHECK(h["loss"].size() == 2);
    CHECK(loader.epoch() == 2);
    // predict: the module's eval-mode outputs, in batches of 16 (the last one short).
    const Tensor out = keras::predict(model, p.x, 16);
    CHECK(out.shape() == Shape{40, 3});
    net->eval();
    {
      no_grad guard;
      CHECK(allclose(out, net(p.x), 1e-5, 1e-6));
    }
    // evaluate, from a Dataset: the loss and accuracy computed by hand from predict's outputs.
    const keras::Logs logs = keras::evaluate(model, data::share(data::TensorDataset({p.x, p.y})), {.batch_size = 7});
    const double right = sum(eq(argmax(out, 1), p.y).to(kFloat64)).item();
    CHECK(logs.at("accuracy") == Approx(right / 40));
    CHECK(logs.at("loss") == Approx(cross_entropy(out, p.y).item()).epsilon(1e-5));
  }
}

TEST_CASE("fit: callbacks fire in Keras's order, EarlyStopping and ModelCheckpoint act on the monitored value", "[train][fit][callbacks]") {
  const ScratchDir dir("fit_callbacks");
  const Problem p = problem(24, 5);
  for (bool eager : {true, false}) {
    INFO((eager ? "eager" : "graph") << " mode");
    nn::Sequential net = make_net(6);
    keras::Model model = keras::compile(net, recipe(eager));
    // The order of the calls: 24 examples in batches of 12 make two batches an epoch.
    auto recorder = std::make_shared<Recorder>();
    keras::fit(model, p.x, p.y, {.epochs = 2, .batch_size = 12, .callbacks = {recorder}, .verbose = 0});
    CHECK(recorder->calls == std::vector<std::string>{"train_begin", "epoch_begin 0", "batch_end 0", "batch_end 1",
                                                      "epoch_end 0", "epoch_begin 1", "batch_end 0", "batch_end 1",
                                                      "epoch_end 1", "train_end"});

    // EarlyStopping, patience 2, min_delta 0.05 on a scripted score: 1.0, 0.9 (better), 0.88 (better
    // by less than 0.05: no), 0.7 (better), 0.69, 0.72 (two epochs without): stops after epoch 5,
    // and goes back to epoch 3's weights. ModelCheckpoint (best only) writes epochs 1, 2, 3, 4, 5 → the
    // files of those that improved on the best so far: 1.0, 0.9, 0.88, 0.7, 0.69.
    auto script = std::make_shared<Script>(std::vector<double>{1.0, 0.9, 0.88, 0.7, 0.69, 0.72, 0.5, 0.4});
    auto stopper = std::make_shared<keras::EarlyStopping>(keras::EarlyStoppingOptions{
        .monitor = "score", .min_delta = 0.05, .patience = 2, .restore_best_weights = true});
    auto best = std::make_shared<keras::ModelCheckpoint>(dir / (eager ? "e" : "g") + "_best_{epoch:02d}.tckpt",
                                                         keras::ModelCheckpointOptions{.monitor = "score", .save_best_only = true});
    const keras::History h = keras::fit(model, p.x, p.y, {.epochs = 8, .batch_size = 12, .callbacks = {script, best, stopper}, .verbose = 0});
    CHECK(h.epoch == std::vector<int64_t>{0, 1, 2, 3, 4, 5});
    CHECK(stopper->stopped_epoch() == 5);
    CHECK(stopper->best_epoch() == 3);
    CHECK(same_weights(model.get_weights(), script->weights[3]));  // restore_best_weights
    CHECK(same_weights(net->state_dict(), script->weights[3]));    // and the module holds them
    REQUIRE(best->saved().size() == 5);
    CHECK(best->saved()[0] == dir / (eager ? "e" : "g") + "_best_01.tckpt");
    CHECK(best->best() == 0.69);
    for (const std::string& path : best->saved()) CHECK(std::filesystem::exists(path));
    // A checkpoint's weights are the model's at that epoch.
    CHECK(same_weights(StateDict::load(best->saved()[3]).under("model."), script->weights[3]));
  }
}

TEST_CASE("fit: stopped after epoch 2 and resumed from ModelCheckpoint's file, the same losses bit for bit", "[train][fit][resume]") {
  const ScratchDir dir("fit_resume");
  const Problem p = problem(64, 7);
  for (bool eager : {true, false}) {
    INFO((eager ? "eager" : "graph") << " mode");
    const std::string pattern = dir / (eager ? "eager" : "graph") + "_epoch{epoch}.tckpt";
    // A: four epochs, a checkpoint after each.
    nn::Sequential net_a = make_net(8);
    keras::Model a = keras::compile(net_a, recipe(eager));
    manual_seed(99);
    const keras::History whole = keras::fit(
        a, p.x, p.y, {.epochs = 4, .batch_size = 16, .validation_split = 0.25, .callbacks = {keras::ModelCheckpoint(pattern)}, .verbose = 0, .seed = 3});
    // B: a new program — other weights, another generator state — loads epoch 2's file and goes on.
    nn::Sequential net_b = make_net(123);
    keras::Model b = keras::compile(net_b, recipe(eager));
    manual_seed(5555);
    const int64_t done = b.load_checkpoint(dir / (eager ? "eager" : "graph") + "_epoch2.tckpt");
    CHECK(done == 2);
    const keras::History rest =
        keras::fit(b, p.x, p.y, {.epochs = 4, .batch_size = 16, .validation_split = 0.25, .verbose = 0, .initial_epoch = done, .seed = 3});
    CHECK(rest.epoch == std::vector<int64_t>{2, 3});
    for (const std::string key : {"loss", "accuracy", "val_loss"}) {
      INFO(key);
      CHECK(rest[key] == std::vector<double>(whole[key].begin() + 2, whole[key].end()));
    }
    CHECK(same_weights(net_a->state_dict(), net_b->state_dict()));
    // Resuming with another shuffle seed, or from another epoch, is refused: the batches would differ.
    keras::Model c = keras::compile(make_net(9), recipe(eager));
    c.load_checkpoint(dir / (eager ? "eager" : "graph") + "_epoch2.tckpt");
    CHECK_THROWS_WITH(keras::fit(c, p.x, p.y, {.epochs = 4, .batch_size = 16, .validation_split = 0.25, .verbose = 0,
                                               .initial_epoch = 2, .seed = 4}),
                      Catch::Contains("shuffled with seed 3") && Catch::Contains("this fit uses seed 4"));
  }
  // A checkpoint keeps the optimizer as its mode keeps it: the other mode refuses it by name.
  keras::Model eager_model = keras::compile(make_net(10), recipe(true));
  CHECK_THROWS_WITH(eager_model.load_checkpoint(dir / "graph_epoch2.tckpt"),
                    Catch::Contains("trained in graph mode") && Catch::Contains("set_weights"));
}

TEST_CASE("fit: bad input is a clear error", "[train][fit][errors]") {
  const Problem p = problem(10, 11);
  for (bool eager : {true, false}) {
    INFO((eager ? "eager" : "graph") << " mode");
    keras::Model model = keras::compile(make_net(12), recipe(eager));
    CHECK_THROWS_WITH(keras::fit(model, p.x, p.y.narrow(0, 0, 9)),
                      Catch::Contains("x has 10 examples (shape [10, 12]) but y has 9"));
    CHECK_THROWS_WITH(keras::fit(model, zeros({0, 12}), zeros({0}, kInt64)), Catch::Contains("the training data is empty"));
    CHECK_THROWS_WITH(keras::fit(model, p.x, p.y, {.validation_split = 1.5}),
                      Catch::Contains("validation_split must be in [0, 1), got 1.5"));
    CHECK_THROWS_WITH(keras::fit(model, p.x, p.y, {.validation_split = 0.95}),  // ⌊10 · 0.05⌋ = 0 to train on
                      Catch::Contains("validation_split = 0.95 of 10 examples leaves no training examples"));
    CHECK_THROWS_WITH(keras::fit(model, p.x, p.y, {.validation_data = {p.x, p.y}, .validation_split = 0.5}),
                      Catch::Contains("not both"));
    CHECK_THROWS_WITH(keras::fit(model, p.x, p.y, {.batch_size = 0}), Catch::Contains("batch_size must be >= 1"));
    // Labels that do not fit the model's output: the loss names itself and the shapes.
    CHECK_THROWS_WITH(keras::fit(model, p.x, zeros({10, 2}), {.verbose = 0}), Catch::Contains("cross_entropy"));
    CHECK_THROWS_WITH(keras::fit(model, p.x, p.y, {.callbacks = {keras::EarlyStopping()}, .verbose = 0}),
                      Catch::Contains("EarlyStopping: it monitors 'val_loss', which this fit does not log"));
    CHECK_THROWS_WITH(keras::predict(model, zeros({0, 12})), Catch::Contains("predict: x is empty"));
    data::DataLoader loader(data::share(data::TensorDataset({p.x, p.y})), {.batch_size = 4});
    CHECK_THROWS_WITH(keras::fit(model, loader, {.validation_split = 0.2}), Catch::Contains("a DataLoader's batches cannot be split"));
  }
  CHECK_THROWS_WITH(keras::compile(make_net(13), {}), Catch::Contains("compile: a loss is required"));
  CHECK_THROWS_WITH(keras::compile(make_net(13), {.loss = "hinge"}), Catch::Contains("no loss named 'hinge'"));
  CHECK_THROWS_WITH(keras::compile(make_net(13), {.optimizer = optim::SGDOptions{}, .loss = "cross_entropy"}),
                    Catch::Contains("SGD has no default"));
  CHECK_THROWS_WITH(keras::compile(make_net(13), {.optimizer = optim::AdamWOptions{}, .loss = "cross_entropy"}),
                    Catch::Contains("graph mode's optimizers (optim/train.h) have no AdamW") &&
                        Catch::Contains("run_eagerly = true"));
  CHECK_NOTHROW(keras::compile(make_net(13), {.optimizer = optim::AdamWOptions{}, .loss = "cross_entropy", .run_eagerly = true}));
  CHECK_THROWS_WITH(keras::compile(make_net(13), {.optimizer = optim::RMSpropOptions{}, .loss = "cross_entropy"}),
                    Catch::Contains("TensorFlow's formulas"));
  // Eagerly, RMSprop trains (and a schedule sets its rate through the same set_lr).
  const Problem q = problem(32, 14);
  keras::Model rms = keras::compile(make_net(15), {.optimizer = optim::RMSpropOptions{.lr = 0.01}, .loss = "cross_entropy",
                                                   .run_eagerly = true});
  const keras::History h = keras::fit(rms, q.x, q.y, {.epochs = 3, .callbacks = {keras::LearningRateScheduler(
      [](int64_t epoch, double lr) { return epoch == 0 ? lr : lr / 2; })}, .verbose = 0});
  CHECK(h["loss"].back() < h["loss"].front());
  CHECK(h["lr"] == std::vector<double>{0.01, 0.005, 0.0025});
}

TEST_CASE("examples/10_fit: the hand loop, fit eagerly and fit as a graph print the same epoch losses", "[train][fit][examples]") {
  const std::string sample = std::string(TANDEM_SOURCE_DIR) + "/tests/data/fashion-mnist-sample";
  const std::string out = run_ok(std::string(TANDEM_BINARY_DIR) + "/10_fit " + sample);
  INFO(out);
  int rows = 0;
  for (size_t at = out.find("train accuracy\n"); at != std::string::npos && at + 1 < out.size();) {
    const size_t end = out.find('\n', at + 1);
    if (end == std::string::npos) break;
    unsigned epoch = 0;
    char hand[32], eager[32], graph[32];
    if (std::sscanf(out.c_str() + at + 1, "%u %31s %31s %31s", &epoch, hand, eager, graph) == 4) {
      CHECK(std::string(hand) == eager);  // printed to six decimals: the same numbers
      CHECK(std::string(eager) == graph);
      ++rows;
    }
    at = end;
  }
  CHECK(rows == 3);
  CHECK(out.find("eager mode: test loss") != std::string::npos);
  CHECK(out.find("predict(x_test[:5]).argmax(1)") != std::string::npos);

  // Part 4: evaluate() by hand (model.eval(), no_grad) gives evaluate()'s accuracy, since the hand
  // loop trained the same weights; and what the train()/eval() switch changes.
  auto number_after = [&](const std::string& prefix) {
    const size_t at = out.find(prefix);
    REQUIRE(at != std::string::npos);
    return std::strtod(out.c_str() + at + prefix.size(), nullptr);
  };
  CHECK(number_after("by hand, model.eval() and no_grad: test accuracy ") ==
        number_after("(evaluate() after fit eagerly: "));
  CHECK(number_after("dropout, two forwards of the same 5 images: train() differ by ") > 0);
  CHECK(number_after(", eval() by ") == 0);
  CHECK(number_after("eval path vs eager eval() ") <= 1e-5);
  CHECK(number_after("train path vs eager train() ") <= 1e-5);
  // Batch norm: the train() call moved the running mean, the eval() call left it where it was.
  const std::regex running(R"(running_mean after the train\(\) call (.*), after the eval\(\) call (.*) \(unchanged\))");
  std::smatch m;
  REQUIRE(std::regex_search(out, m, running));
  CHECK(m[1] == m[2]);
  CHECK(m[1] != "tensor([0., 0., 0.])");
}
