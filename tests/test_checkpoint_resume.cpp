// tests/test_checkpoint_resume.cpp — exact resume: stop after epoch k, restore, continue; nothing changes.
//
// The promise of a checkpoint, tested the hard way. An MLP with dropout trains with Adam on the
// Fashion-MNIST sample, fed by a shuffling DataLoader, in two runs:
//   A. four epochs without stopping;
//   B. two epochs, a checkpoint, and then everything thrown away — weights, optimizer, loader,
//      even the random generator scrambled — as if the program had been killed; a new program
//      builds the model again (from other initial weights), loads the checkpoint and trains
//      epochs three and four.
// B's losses in epochs three and four must equal A's bit for bit. They can only if the checkpoint
// brought back all of it: the weights, Adam's averages and step counts, the dropout masks' random
// stream (the default generator's state) and the order of the batches (the loader's next epoch).
// Leave any one out, and a loss differs — each is shown below to matter. Then the same in graph
// mode, with a Saver and a Session.
//
// Read next: io/checkpoint.h, io/saver.h.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "data/data.h"
#include "io/saver.h"
#include "scratch_dir.h"
#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;
namespace fs = std::filesystem;

namespace {

const std::string kFashionSample = std::string(TANDEM_SOURCE_DIR) + "/tests/data/fashion-mnist-sample";
constexpr int kEpochs = 4, kStopAfter = 2;
constexpr double kDropout = 0.3, kLr = 2e-3;
const std::vector<std::string> kNames = {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"};

data::DatasetPtr fashion() {
  using namespace data;
  return share(FashionMnistDataset(FashionMnistDataset::Split::train,
                                   {.dir = kFashionSample, .validation_size = 60,
                                    .transform = transforms::Normalize({0.2860}, {0.3530})}));
}
data::DataLoader make_loader() { return data::DataLoader(fashion(), {.batch_size = 32, .shuffle = true, .seed = 4}); }

// [in, out] weights, uniform in ±1/sqrt(in), from `seed`.
std::vector<Tensor> initial_weights(uint64_t seed) {
  manual_seed(seed);
  std::vector<Tensor> p;
  for (auto [in, out] : {std::pair<int64_t, int64_t>{784, 32}, {32, 10}}) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    p.push_back((rand({in, out}) * 2 - 1) * bound);
    p.push_back((rand({out}) * 2 - 1) * bound);
  }
  return p;
}

// The model, once for both modes: dropout on the hidden layer, on in training.
template <class T> T mlp(const T& images, const std::vector<T>& p) {
  const T h = relu(matmul(reshape(images, {-1, 784}), p[0]) + p[1]);
  return matmul(dropout(h, kDropout, /*training=*/true), p[2]) + p[3];
}

// ---- eager mode ------------------------------------------------------------------------------------

struct EagerRun {
  std::vector<Tensor> params;
  optim::Adam opt;
  data::DataLoader loader = make_loader();
  explicit EagerRun(std::vector<Tensor> init) : params(requires_grad(std::move(init))), opt(params, {.lr = kLr}) {}
  static std::vector<Tensor> requires_grad(std::vector<Tensor> ps) {
    for (Tensor& p : ps) p = p.clone().requires_grad_();
    return ps;
  }
  // One pass over the loader (its next epoch): the losses, step by step.
  std::vector<double> epoch() {
    std::vector<double> losses;
    for (const data::Example& b : loader) {
      opt.zero_grad();
      Tensor loss = cross_entropy(mlp(b[0], params), b[1]);
      loss.backward();
      opt.step();
      losses.push_back(loss.item());
    }
    return losses;
  }
  StateDict model() const { return StateDict(kNames, params); }
  // The model under "model.", Adam under "optimizer.", the epoch, the generator's and loader's state.
  io::Checkpoint checkpoint(int64_t epoch) const {
    io::Checkpoint c = io::training_checkpoint(model(), &opt, epoch, &loader);
    c.notes = {{"lr", std::to_string(kLr)}, {"dropout", std::to_string(kDropout)}};
    return c;
  }
  // What a restarted program does with the file: restore_training, all of it. Or, part by part,
  // leaving one out, to see that each matters.
  struct Parts {
    bool optimizer = true, random = true, loader = true;
  };
  void restore(const io::Checkpoint& c, Parts parts) {
    if (parts.optimizer && parts.random && parts.loader) return io::restore_training(c, model(), &opt, &loader);
    load_state_dict(model(), c.tensors.under("model."));
    if (parts.optimizer) opt.load_state_dict(c.tensors.under("optimizer."));
    if (parts.random) set_rng_state(*c.generator);
    if (parts.loader) loader.set_epoch(c.loader->next_epoch);
  }
};

std::vector<double> concat(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

// Run B's second half, restored from `path` with `parts`: the losses of epochs 3 and 4.
std::vector<double> eager_resumed(const std::string& path, EagerRun::Parts parts) {
  manual_seed(777);  // the restarted program's generator is wherever it is
  EagerRun run(initial_weights(55));  // and its model starts from other weights
  run.restore(io::load_checkpoint(path), parts);
  std::vector<double> losses;
  for (int e = kStopAfter; e < kEpochs; ++e) losses = concat(losses, run.epoch());
  return losses;
}

}  // namespace

TEST_CASE("exact resume, eager: stopped after epoch 2 and restored, the same losses bit for bit", "[checkpoint][resume]") {
  const ScratchDir dir("resume_eager");
  const std::vector<Tensor> init = initial_weights(0);

  // A: four epochs, no stop.
  manual_seed(123);
  EagerRun a(init);
  std::vector<double> first, rest;
  for (int e = 0; e < kStopAfter; ++e) first = concat(first, a.epoch());
  for (int e = kStopAfter; e < kEpochs; ++e) rest = concat(rest, a.epoch());
  REQUIRE(rest.size() == 16);  // 240 images in batches of 32: 8 steps an epoch
  CHECK(rest.back() < first.front());  // it learns

  // B: two epochs, a checkpoint, and the program "dies".
  const std::string path = dir / "last.tckpt";
  {
    manual_seed(123);
    EagerRun b(init);
    std::vector<double> b_first;
    for (int e = 0; e < kStopAfter; ++e) b_first = concat(b_first, b.epoch());
    CHECK(b_first == first);
    io::save_checkpoint(b.checkpoint(kStopAfter - 1), path);
  }
  const io::Checkpoint c = io::load_checkpoint(path);
  CHECK(c.epoch == kStopAfter - 1);
  CHECK(c.loader->next_epoch == kStopAfter);
  CHECK(c.notes.at("dropout") == std::to_string(kDropout));

  // B continued by a new program: the same losses, bit for bit.
  CHECK(eager_resumed(path, {}) == rest);
  // Each part of the checkpoint matters: without it, the losses differ.
  CHECK(eager_resumed(path, {.optimizer = false}) != rest);  // Adam restarts its averages
  CHECK(eager_resumed(path, {.random = false}) != rest);     // other dropout masks
  CHECK(eager_resumed(path, {.loader = false}) != rest);     // epoch 0's order again
}

TEST_CASE("a checkpoint that does not fit leaves the model, the optimizer and the loader as they were", "[checkpoint][resume][errors]") {
  const ScratchDir dir("resume_refused");
  manual_seed(123);
  EagerRun trained(initial_weights(0));
  trained.epoch();
  const io::Checkpoint good = trained.checkpoint(0);
  const std::string bytes = io::serialize_checkpoint(good);

  EagerRun run(initial_weights(8));  // the program that tries to resume
  manual_seed(31);
  const std::vector<Tensor> before = [&] {
    std::vector<Tensor> v;
    for (const Tensor& p : run.params) v.push_back(p.detach().clone());
    return v;
  }();
  const Generator::State rng = get_rng_state();
  auto untouched = [&] {
    for (size_t k = 0; k < before.size(); ++k) CHECK(equal(run.params[k].detach(), before[k]));
    CHECK_FALSE(run.opt.state(0).step.defined());  // Adam as new: no state
    CHECK(run.loader.epoch() == 0);
    CHECK(get_rng_state().words == rng.words);
  };
  auto attempt = [&](const std::string& file_bytes, const std::string& error) {
    INFO(error);
    REQUIRE_THROWS_WITH(io::restore_training(io::parse_checkpoint(file_bytes, "run/last.tckpt"), run.model(),
                                             &run.opt, &run.loader),
                        Catch::Contains(error));
    untouched();
  };
  attempt(bytes.substr(0, bytes.size() / 2), "'run/last.tckpt' is truncated");
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x01;
  attempt(flipped, "CRC-32");
  std::string newer = bytes;
  newer[8] = 2;
  attempt(newer, "version 2 checkpoint file");

  // Whole files that do not fit: another model, another optimizer, another loader.
  io::Checkpoint wider = good;
  wider.tensors.set("model.fc1.bias", zeros({64}));
  attempt(io::serialize_checkpoint(wider), "size mismatch for fc1.bias");
  std::vector<Tensor> q = run.params;
  optim::SGD sgd(q, {.lr = 0.1, .momentum = 0.9});
  io::Checkpoint other_optimizer = io::training_checkpoint(trained.model(), &sgd, 0, &trained.loader);
  attempt(io::serialize_checkpoint(other_optimizer), "Adam.load_state_dict");  // the model matched: still untouched
  data::DataLoader reseeded(fashion(), {.batch_size = 32, .shuffle = true, .seed = 9});
  io::Checkpoint other_loader = io::training_checkpoint(trained.model(), &trained.opt, 0, &reseeded);
  attempt(io::serialize_checkpoint(other_loader), "seed");

  // The good one, from a file, restores all of it.
  io::save_checkpoint(good, dir / "last.tckpt");
  io::restore_training(io::load_checkpoint(dir / "last.tckpt"), run.model(), &run.opt, &run.loader);
  CHECK(equal(run.params[0].detach(), trained.params[0].detach()));
  CHECK(run.opt.state(0).step.item() == 8);
  CHECK(run.loader.epoch() == 1);
}

// ---- graph mode ------------------------------------------------------------------------------------

namespace {

// The model as a graph, trained with AdamOptimizer: the same recipe as the eager run.
struct GraphRun {
  g::Graph graph;
  g::Output x, y, loss, train_op, global_step;
  std::unique_ptr<g::Session> session;
  std::unique_ptr<g::train::Saver> saver;
  data::DataLoader loader = make_loader();

  explicit GraphRun(const std::vector<Tensor>& init) {
    g::DefaultGraph use(graph);
    x = g::placeholder(kFloat32, {-1, 1, 28, 28}, "x");
    y = g::placeholder(kInt64, {-1}, "y");
    std::vector<g::Output> p;
    for (size_t k = 0; k < init.size(); ++k) {
      std::string name = kNames[k];
      std::replace(name.begin(), name.end(), '.', '/');  // fc1/weight: TF's spelling
      p.push_back(g::Variable(init[k], true, name));
    }
    loss = cross_entropy(mlp(x, p), y);
    global_step = g::Variable(tensor(int64_t{0}), false, "global_step");
    train_op = g::train::AdamOptimizer(kLr).minimize(loss, global_step);
    saver = std::make_unique<g::train::Saver>(graph);  // after minimize(): slots included
    session = std::make_unique<g::Session>(graph);
  }
  std::vector<double> epoch() {
    std::vector<double> losses;
    for (const data::Example& b : loader) losses.push_back(session->run({loss, train_op}, {{x, b[0]}, {y, b[1]}})[0].item());
    return losses;
  }
};

}  // namespace

TEST_CASE("exact resume, graph: Saver after epoch 2, a new graph restores it, the same losses bit for bit", "[checkpoint][resume][saver]") {
  const ScratchDir dir("resume_graph");
  const std::vector<Tensor> init = initial_weights(0);

  // A: four epochs.
  GraphRun a(init);
  a.session->run(g::global_variables_initializer(a.graph));
  manual_seed(123);
  std::vector<double> rest;
  for (int e = 0; e < kStopAfter; ++e) a.epoch();
  for (int e = kStopAfter; e < kEpochs; ++e) rest = concat(rest, a.epoch());

  // B: two epochs, then saver.save with the random state riding along.
  std::string path;
  {
    GraphRun b(init);
    b.session->run(g::global_variables_initializer(b.graph));
    manual_seed(123);
    for (int e = 0; e < kStopAfter; ++e) b.epoch();
    io::Checkpoint extra;
    extra.epoch = kStopAfter - 1;
    extra.record_random_state(&b.loader);
    path = b.saver->save(*b.session, dir / "model.ckpt", b.global_step, extra);
  }
  CHECK(path == dir / "model.ckpt-16");  // 2 epochs of 8 steps

  // A new program: a new graph (other initial weights, no initializer run), restore, continue.
  manual_seed(777);
  GraphRun resumed(initial_weights(55));
  const io::Checkpoint c = resumed.saver->restore(*resumed.session, *g::train::latest_checkpoint(dir.string()));
  c.restore_random_state(&resumed.loader);
  std::vector<double> losses;
  for (int e = kStopAfter; e < kEpochs; ++e) losses = concat(losses, resumed.epoch());
  CHECK(losses == rest);
  CHECK(resumed.session->run(resumed.global_step).item() == 32);

  // A loader of another seed would see other batches: refused, before anything changes.
  data::DataLoader other(fashion(), {.batch_size = 32, .shuffle = true, .seed = 5});
  REQUIRE_THROWS_WITH(c.restore_random_state(&other), Catch::Contains("the DataLoader's seed is 5") &&
                                                          Catch::Contains("{.seed = 4}"));
  CHECK(other.epoch() == 0);
}

TEST_CASE("the eager checkpoint and the graph's hold the same model under the same names", "[checkpoint][resume][saver]") {
  // Eager run B's checkpoint, as a graph would read it: the model's weights under dotted names.
  const ScratchDir dir("resume_both");
  const std::vector<Tensor> init = initial_weights(0);
  manual_seed(123);
  EagerRun eager(init);
  eager.epoch();
  io::save_checkpoint(eager.checkpoint(0), dir / "eager.tckpt");
  const StateDict model = io::load_checkpoint(dir / "eager.tckpt").tensors.under("model.");
  model.save(dir / "model.tckpt");

  GraphRun graph(initial_weights(9));
  std::vector<g::Output> weights;
  for (const g::Output& v : graph.graph.trainable_variables()) weights.push_back(v);
  g::train::Saver(g::train::dotted_names(weights)).restore(*graph.session, dir / "model.tckpt");
  for (size_t k = 0; k < weights.size(); ++k) CHECK(equal(graph.session->variable_value(weights[k]), eager.params[k].detach()));
}
