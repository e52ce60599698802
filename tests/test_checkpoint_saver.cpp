// tests/test_checkpoint_saver.cpp — graph mode's Saver, and checkpoints that cross between the modes.
//
// A Saver saves a Session's variables (slot variables too) under their names, to the file eager
// mode's StateDict uses; restore() gives them back without an initializer, or refuses — leaving
// the session as it was — when the file lacks a variable or holds it in another shape. save()
// with a global step numbers its files, keeps max_to_keep of them, and keeps TF's "checkpoint"
// state file up to date for latest_checkpoint(). Then the crossing: an eager model's state_dict
// restored into a graph, a graph's checkpoint loaded into an eager model — and optimizer state
// carried across through slot names.
//
// Read next: tests/test_checkpoint_resume.cpp (exact resume, both modes).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "io/saver.h"
#include "scratch_dir.h"
#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;
namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A 3-4-2 regression model in graph mode, trained with Adam: variables fc1/weight ... and their
// slots fc1/weight/Adam, fc1/weight/Adam_1, fc1/weight/Adam_step.
struct GraphModel {
  g::Graph graph;
  g::Output x, y, loss, train_op, global_step;
  std::vector<g::Output> params;
  explicit GraphModel(uint64_t seed) {
    g::DefaultGraph use(graph);
    manual_seed(seed);
    x = g::placeholder(kFloat32, {-1, 3}, "x");
    y = g::placeholder(kFloat32, {-1, 2}, "y");
    params = {g::Variable(randn({3, 4}) * 0.5, true, "fc1/weight"), g::Variable(zeros({4}), true, "fc1/bias"),
              g::Variable(randn({4, 2}) * 0.5, true, "fc2/weight"), g::Variable(zeros({2}), true, "fc2/bias")};
    const g::Output h = g::relu(g::matmul(x, params[0]) + params[1]);
    loss = g::mean(g::pow(g::matmul(h, params[2]) + params[3] - y, 2.0));
    global_step = g::Variable(tensor(int64_t{0}), false, "global_step");
    train_op = g::train::AdamOptimizer(0.05).minimize(loss, global_step);
  }
};

struct Batch {
  Tensor x, y;
};
Batch batch(uint64_t seed) {
  manual_seed(seed);
  return {randn({8, 3}), randn({8, 2})};
}

double train(g::Session& s, GraphModel& m, int steps, uint64_t seed) {
  double last = 0;
  for (int k = 0; k < steps; ++k) {
    const Batch b = batch(seed + k);
    last = s.run({m.loss, m.train_op}, {{m.x, b.x}, {m.y, b.y}})[0].item();
  }
  return last;
}

template <class T> T mlp(const T& x, const std::vector<T>& p) {
  return matmul(relu(matmul(x, p[0]) + p[1]), p[2]) + p[3];
}

}  // namespace

TEST_CASE("Saver: save, then restore into a fresh session of a new graph, slots and step included", "[checkpoint][saver]") {
  const ScratchDir dir("saver_roundtrip");
  GraphModel m(0);
  g::Session s(m.graph);
  s.run(g::global_variables_initializer(m.graph));
  g::train::Saver saver(m.graph);  // after minimize(): the slots exist, and are saved
  train(s, m, 5, 100);
  const std::string path = saver.save(s, dir / "model.ckpt", m.global_step);
  CHECK(path == dir / "model.ckpt-5");

  // What the file holds: every global variable, under its node name.
  const io::Checkpoint c = io::load_checkpoint(path);
  CHECK(c.step == 5);
  for (const char* name : {"fc1/weight", "fc1/weight/Adam", "fc1/weight/Adam_1", "fc1/weight/Adam_step",
                           "fc2/bias/Adam", "global_step"})
    CHECK(c.tensors.contains(name));
  CHECK(c.tensors.size() == m.graph.global_variables().size());
  CHECK(c.tensors.at("fc1/weight/Adam_step").item() == 5);

  // Another program builds the same graph (other initial values), restores — no initializer — and
  // continues: the same losses as the session that never stopped.
  GraphModel m2(99);
  g::Session s2(m2.graph);
  g::train::Saver saver2(m2.graph);
  const io::Checkpoint restored = saver2.restore(s2, path);
  CHECK(restored.step == 5);
  for (size_t k = 0; k < m.params.size(); ++k)
    CHECK(equal(s2.variable_value(m2.params[k]), s.variable_value(m.params[k])));
  CHECK(s2.variable_value(m2.global_step).item() == 5);
  const double a = train(s, m, 3, 200), b = train(s2, m2, 3, 200);
  CHECK(a == b);  // bit for bit: the Adam state came back too
}

TEST_CASE("Saver: max_to_keep, the checkpoint state file and latest_checkpoint", "[checkpoint][saver]") {
  const ScratchDir dir("saver_keep");
  GraphModel m(1);
  g::Session s(m.graph);
  s.run(g::global_variables_initializer(m.graph));
  g::train::Saver saver(m.graph, {.max_to_keep = 2});
  CHECK_FALSE(g::train::latest_checkpoint(dir.string()).has_value());  // nothing saved yet
  const std::string prefix = dir / "model.ckpt";
  for (int64_t step : {10, 20, 30}) {
    train(s, m, 1, step);
    saver.save(s, prefix, step);
  }
  CHECK_FALSE(fs::exists(prefix + "-10"));  // the oldest, beyond max_to_keep
  CHECK(fs::exists(prefix + "-20"));
  CHECK(fs::exists(prefix + "-30"));
  CHECK(saver.last_checkpoints() == std::vector<std::string>{prefix + "-20", prefix + "-30"});
  // TF's text format, paths relative to the folder.
  CHECK(read_text(dir / "checkpoint") ==
        "model_checkpoint_path: \"model.ckpt-30\"\n"
        "all_model_checkpoint_paths: \"model.ckpt-20\"\n"
        "all_model_checkpoint_paths: \"model.ckpt-30\"\n");
  CHECK(g::train::latest_checkpoint(dir.string()) == prefix + "-30");
  const auto state = g::train::get_checkpoint_state(dir.string());
  REQUIRE(state.has_value());
  CHECK(state->all_model_checkpoint_paths == saver.last_checkpoints());

  // A resumed run's Saver adopts them, so the count goes on across runs.
  g::train::Saver later(m.graph, {.max_to_keep = 2});
  later.recover_last_checkpoints(state->all_model_checkpoint_paths);
  later.save(s, prefix, 40);
  CHECK_FALSE(fs::exists(prefix + "-20"));
  CHECK(later.last_checkpoints() == std::vector<std::string>{prefix + "-30", prefix + "-40"});
  // Without a step, the path itself; max_to_keep 0 keeps everything.
  g::train::Saver all(m.graph, {.max_to_keep = 0});
  CHECK(all.save(s, dir / "final.ckpt") == dir / "final.ckpt");
  CHECK(g::train::latest_checkpoint(dir.string()) == dir / "final.ckpt");
  // The newest file gone: no latest checkpoint (TF's None), not an error.
  fs::remove(dir / "final.ckpt");
  CHECK_FALSE(g::train::latest_checkpoint(dir.string()).has_value());
  // A state file that is not one is an error naming it.
  std::ofstream(dir / "checkpoint") << "model_checkpoint_path: model.ckpt-30\n";
  REQUIRE_THROWS_WITH(g::train::latest_checkpoint(dir.string()),
                      Catch::Contains("line 1 of") && Catch::Contains("checkpoint'"));
}

TEST_CASE("Saver: a restore that cannot succeed changes nothing", "[checkpoint][saver][errors]") {
  const ScratchDir dir("saver_refuse");
  GraphModel m(2);
  g::Session s(m.graph);
  s.run(g::global_variables_initializer(m.graph));
  g::train::Saver saver(m.params);  // the four weights only
  const Tensor w_before = s.variable_value(m.params[0]);

  // A file that lacks fc2/bias and holds fc1/weight in another shape.
  io::Checkpoint wrong;
  wrong.tensors = {{"fc1/weight", zeros({3, 5})}, {"fc1/bias", zeros({4})}, {"fc2/weight", zeros({4, 2})}};
  io::save_checkpoint(wrong, dir / "wrong.ckpt");
  REQUIRE_THROWS_WITH(saver.restore(s, dir / "wrong.ckpt"),
                      Catch::Contains("Missing key(s) in state_dict: \"fc2/bias\"") &&
                          Catch::Contains("size mismatch for fc1/weight: copying a param with shape [3, 5]") &&
                          Catch::Contains("Nothing was restored"));
  CHECK(equal(s.variable_value(m.params[0]), w_before));
  CHECK(equal(s.variable_value(m.params[1]), zeros({4})));  // fc1/bias matched, and was not assigned
  // A damaged file is the loader's error, naming it.
  std::ofstream(dir / "junk.ckpt") << "not a checkpoint";
  REQUIRE_THROWS_WITH(saver.restore(s, dir / "junk.ckpt"),
                      Catch::Contains("junk.ckpt' is not a Tandem checkpoint file"));
  // Saving before initializing is TF's error, with the Saver named.
  GraphModel fresh(3);
  g::Session uninitialized(fresh.graph);
  g::train::Saver fresh_saver(fresh.graph);
  REQUIRE_THROWS_WITH(fresh_saver.save(uninitialized, dir / "x.ckpt"),
                      Catch::Contains("uninitialized value") && Catch::Contains("Saver::save"));
  // Misuse at construction.
  REQUIRE_THROWS_WITH(g::train::Saver(g::train::NamedVariables{{"a", m.params[0]}, {"a", m.params[1]}}),
                      Catch::Contains("'a' is empty or given twice"));
  REQUIRE_THROWS_WITH(g::train::Saver(std::vector<g::Output>{m.loss}), Catch::Contains("not a Variable"));
  REQUIRE_THROWS_WITH(g::train::Saver(std::vector<g::Output>{}), Catch::Contains("no variables to save"));
}

TEST_CASE("one file for both modes: eager state_dict into a graph, and a graph's variables into eager tensors", "[checkpoint][saver]") {
  const ScratchDir dir("saver_cross");
  manual_seed(4);
  const std::vector<std::string> names = {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"};
  std::vector<Tensor> eager = {randn({3, 4}), randn({4}), randn({4, 2}), randn({2})};
  StateDict(names, eager).save(dir / "eager.tckpt");

  // The graph names its variables TF's way; dotted_names() gives PyTorch's.
  GraphModel m(5);
  g::Session s(m.graph);
  g::train::Saver by_dots(g::train::dotted_names(m.params));
  CHECK(by_dots.variables()[0].first == "fc1.weight");
  by_dots.restore(s, dir / "eager.tckpt");
  const Tensor x = randn({5, 3});
  g::DefaultGraph use(m.graph);
  const g::Output predict = mlp(m.x, m.params);
  CHECK(allclose(s.run(predict, {{m.x, x}}), mlp(x, eager), 1e-6, 1e-6));

  // And back: the graph trains a little, saves; an eager model loads it and predicts the same.
  s.run(g::global_variables_initializer(m.graph));
  train(s, m, 3, 7);
  g::train::Saver everything(g::train::dotted_names(m.graph.global_variables()));
  const std::string path = everything.save(s, dir / "graph.ckpt");
  std::vector<Tensor> model = {zeros({3, 4}), zeros({4}), zeros({4, 2}), zeros({2})};
  const LoadReport r = load_state_dict(StateDict(names, model), StateDict::load(path), /*strict=*/false);
  CHECK(r.missing_keys.empty());
  CHECK(r.unexpected_keys.size() == 4 * 3 + 1);  // the Adam slots and global_step: not the model's
  CHECK(allclose(mlp(x, model), s.run(predict, {{m.x, x}}), 1e-6, 1e-6));
}

TEST_CASE("optimizer state crosses the modes through slot names", "[checkpoint][saver][optim]") {
  // Eager Adam trains 3 steps; its state, renamed to slots, goes with the weights into a graph,
  // which continues with AdamOptimizer; eager Adam continues too: the same losses (to rounding).
  const ScratchDir dir("saver_slots");
  const std::vector<std::string> names = {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"};
  GraphModel m(6);  // its initial values, for both
  g::Session s(m.graph);
  s.run(g::global_variables_initializer(m.graph));
  std::vector<Tensor> p;
  for (const g::Output& v : m.params) p.push_back(s.variable_value(v).clone().requires_grad_());
  optim::Adam adam(p, {.lr = 0.05});
  auto eager_step = [&](uint64_t seed) {
    const Batch b = batch(seed);
    adam.zero_grad();
    Tensor loss = mean(pow(mlp(b.x, p) - b.y, 2.0));
    loss.backward();
    adam.step();
    return loss.item();
  };
  for (uint64_t k = 0; k < 3; ++k) eager_step(300 + k);

  io::Checkpoint c;
  c.tensors = StateDict(names, p);
  c.tensors.update(g::train::to_slots(adam.state_dict(), names));
  CHECK(c.tensors.contains("fc1.weight.Adam"));
  CHECK(c.tensors.contains("fc2.bias.Adam_step"));
  io::save_checkpoint(c, dir / "eager.tckpt");

  std::vector<g::Output> trained = m.params;  // the weights and their slots, under dotted names
  for (const g::Output& v : m.graph.global_variables())
    if (v.node()->name.find("/Adam") != std::string::npos) trained.push_back(v);
  g::train::Saver(g::train::dotted_names(trained)).restore(s, dir / "eager.tckpt");
  for (uint64_t k = 3; k < 6; ++k) {
    const Batch b = batch(300 + k);
    const double graph_loss = s.run({m.loss, m.train_op}, {{m.x, b.x}, {m.y, b.y}})[0].item();
    CHECK(graph_loss == Approx(eager_step(300 + k)).epsilon(1e-5));
  }

  // And the way back: the graph's slots into a new eager Adam.
  g::train::Saver(g::train::dotted_names(trained)).save(s, dir / "graph.ckpt");
  const StateDict saved = StateDict::load(dir / "graph.ckpt");
  std::vector<Tensor> q = {zeros({3, 4}).requires_grad_(), zeros({4}).requires_grad_(),
                           zeros({4, 2}).requires_grad_(), zeros({2}).requires_grad_()};
  optim::Adam back(q, {.lr = 0.05});
  load_state_dict(StateDict(names, q), saved, /*strict=*/false);
  back.load_state_dict(g::train::from_slots(saved, names, back.state_dict()));
  CHECK(back.state(0).step.item() == 6);
  CHECK(equal(back.state(2).exp_avg, s.variable_value(g::Output(m.graph.find("fc2/weight/Adam")))));
}
