// tests/test_checkpoint_modules.cpp — a Module's checkpoint, written in one mode, read in the other.
//
// Module::state_dict() is io/state_dict.h's StateDict, and Module::load_state_dict is its one load
// path (all or nothing, PyTorch's report). A model with parameters and buffers (batch norm's
// running statistics and its int64 batch count) is trained eagerly and saved; a new program
// builds the same model as a graph and restores the file with a train::Saver over the model's
// Variables (named_variables: the same dotted names), trains on in the session, saves with the
// Saver, and an eager model loads that file back. At each crossing the two modes compute the
// same outputs.
//
// Read next: io/saver.h, layers/module.h (copy_from / copy_to).
#include <catch2/catch.hpp>

#include "io/saver.h"
#include "scratch_dir.h"
#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;
namespace F = tandem::nn::functional;

namespace {
nn::Sequential make_model() { return nn::Sequential(nn::Linear(6, 8), nn::BatchNorm1d(8), nn::ReLU(), nn::Linear(8, 3)); }
}  // namespace

TEST_CASE("a Module saved eagerly restores into a graph session through a Saver, and back", "[checkpoint][saver][layers]") {
  const ScratchDir dir("module_modes");
  manual_seed(21);
  const Tensor x = randn({10, 6}), y = randint(0, 3, {10});

  // 1. Eager: two SGD steps (the batch statistics move), then torch.save(model.state_dict()).
  nn::Sequential eager = make_model();
  optim::SGD opt(eager->parameters(), {.lr = 0.1});
  for (int i = 0; i < 2; ++i) {
    opt.zero_grad();
    F::cross_entropy(eager(x), y).backward();
    opt.step();
  }
  eager->state_dict().save(dir / "eager.tckpt");
  eager->eval();
  const Tensor eager_out = eager(x).detach();

  // 2. Graph: the same model, other weights; the Saver restores the file into the session.
  manual_seed(22);
  nn::Sequential model = make_model();
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output xp = g::placeholder(kFloat32, {-1, 6}, "x"), yp = g::placeholder(kInt64, {-1}, "y");
  model->train();
  const g::Output loss = F::cross_entropy(model(xp), yp);
  model->eval();
  const g::Output out = model(xp);
  const g::Output train_op = g::train::GradientDescentOptimizer(0.1).minimize(loss);
  g::train::Saver saver(model->named_variables(graph));  // "0.weight", "1.running_mean", ...
  CHECK(saver.variables().size() == 9);  // two Linears (2 + 2), batch norm (2 parameters, 3 buffers)
  g::Session session(graph);
  saver.restore(session, dir / "eager.tckpt");  // no initializer needed: every variable is restored
  CHECK(allclose(session.run(out, {{xp, x}}), eager_out, 1e-6, 1e-6));

  // 3. Train on in the graph, save with the Saver; an eager model loads the file.
  session.run(train_op, {{xp, x}, {yp, y}});
  const Tensor graph_out = session.run(out, {{xp, x}});
  const std::string written = saver.save(session, dir / "graph.tckpt");
  manual_seed(23);
  nn::Sequential back = make_model();
  const LoadReport report = back->load_state_dict(StateDict::load(written));
  CHECK(report.all_keys_matched());
  back->eval();
  CHECK(allclose(back(x), graph_out, 1e-6, 1e-6));
  CHECK(back->at<nn::BatchNorm1dImpl>(1)->num_batches_tracked.item() == 3);  // two eager steps, one graph step

  // 4. A file of another model is refused whole, in both modes, and nothing changes.
  nn::Sequential wider(nn::Linear(6, 9), nn::BatchNorm1d(9), nn::ReLU(), nn::Linear(9, 3));
  wider->state_dict().save(dir / "wider.tckpt");
  CHECK_THROWS_WITH(back->load_state_dict(StateDict::load(dir / "wider.tckpt")),
                    Catch::Contains("size mismatch for 0.weight") && Catch::Contains("Nothing was loaded"));
  CHECK(allclose(back(x), graph_out, 1e-6, 1e-6));
  CHECK_THROWS_WITH(saver.restore(session, dir / "wider.tckpt"), Catch::Contains("size mismatch for 0.weight"));
  CHECK(equal(session.run(out, {{xp, x}}), graph_out));
}
