// tests/test_checkpoint_torch.cpp — a model trained by PyTorch, loaded by Tandem, in both modes.
//
// scripts/fixtures/gen_checkpoint.py trained nn.Sequential(Linear(4, 8), ReLU(), Linear(8, 3)) for
// three Adam steps and exported its state_dict and Adam's (scripts/tandem_checkpoint.py writes the
// format of docs/checkpoint_format.md in Python, from that page alone). Here Tandem reads that
// file: the weights under PyTorch's own names ("model.0.weight", [out, in] as nn.Linear keeps
// them), then computes what PyTorch computed with them (tests/fixtures/checkpoint.txt). And the
// optimizer: loaded into optim::Adam, a fourth step on a given batch lands where PyTorch's did —
// Adam's averages and step counts crossed over too.
//
// Read next: scripts/tandem_checkpoint.py (the export), io/checkpoint.h.
#include <catch2/catch.hpp>

#include "fixture.h"
#include "io/checkpoint.h"
#include "io/saver.h"
#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;

namespace {

const std::vector<std::string> kNames = {"0.weight", "0.bias", "2.weight", "2.bias"};

// nn.Linear: y = x Wᵀ + b, with W of shape [out, in].
template <class T> T linear(const T& x, const T& w, const T& b) { return matmul(x, transpose(w, 0, 1)) + b; }
template <class T> T sequential(const T& x, const std::vector<T>& p) { return linear(relu(linear(x, p[0], p[1])), p[2], p[3]); }

const FixtureCase& find_case(const std::vector<FixtureCase>& cases, const std::string& name) {
  for (const FixtureCase& c : cases)
    if (c.name == name) return c;
  throw Error("no fixture case " + name);
}

}  // namespace

TEST_CASE("a PyTorch state_dict, exported, loads into an eager model that computes what PyTorch did", "[checkpoint][torch]") {
  const io::Checkpoint c = io::load_checkpoint(fixture_path("torch_mlp.tckpt"));
  CHECK(c.step == 3);
  CHECK(c.notes.at("made_by") == "scripts/fixtures/gen_checkpoint.py");
  const std::vector<FixtureCase> cases = load_fixtures(fixture_path("checkpoint.txt"));

  // The model, built by the program; its values, from the file.
  std::vector<Tensor> p = {zeros({8, 4}).requires_grad_(), zeros({8}).requires_grad_(),
                           zeros({3, 8}).requires_grad_(), zeros({3}).requires_grad_()};
  const LoadReport r = load_state_dict(StateDict(kNames, p), c.tensors.under("model."), true, "Sequential");
  CHECK(r.all_keys_matched());
  const FixtureCase& forward = find_case(cases, "torch_mlp_forward");
  CHECK(compare_with_fixture(sequential(forward.inputs["x"], p), forward.output) == "");

  // The optimizer: PyTorch's Adam state_dict, flattened, is optim::Adam's.
  optim::Adam adam(p);
  adam.load_state_dict(c.tensors.under("optimizer."));
  CHECK(adam.options.lr == 0.05);
  CHECK(adam.options.beta1 == 0.8);
  CHECK(adam.options.weight_decay == 0.01);
  CHECK(adam.state(0).step.item() == 3);
  const FixtureCase& next = find_case(cases, "torch_mlp_next_step");
  adam.zero_grad();
  cross_entropy(sequential(next.inputs["x"], p), next.inputs["labels"]).backward();
  adam.step();
  std::vector<Tensor> flat;
  for (const Tensor& t : p) flat.push_back(t.detach().reshape({-1}));
  CHECK(compare_with_fixture(cat(flat, 0), next.output) == "");
}

TEST_CASE("the same PyTorch checkpoint restores into a graph by its dotted names", "[checkpoint][torch][saver]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output x = g::placeholder(kFloat32, {-1, 4}, "x");
  std::vector<g::Output> p;
  for (const auto& [name, shape] : std::vector<std::pair<std::string, Shape>>{
           {"0/weight", {8, 4}}, {"0/bias", {8}}, {"2/weight", {3, 8}}, {"2/bias", {3}}})
    p.push_back(g::Variable(zeros(shape), true, name));
  const g::Output logits = sequential(x, p);
  g::Session session(graph);
  // The file's model entries as their own checkpoint, then the Saver by PyTorch's dotted names.
  const std::string path = std::string(TANDEM_BINARY_DIR) + "/torch_mlp_model.tckpt";
  io::load_checkpoint(fixture_path("torch_mlp.tckpt")).tensors.under("model.").save(path);
  g::train::Saver saver(g::train::dotted_names(p));
  CHECK(saver.variables()[2].first == "2.weight");
  saver.restore(session, path);
  const std::vector<FixtureCase> cases = load_fixtures(fixture_path("checkpoint.txt"));
  const FixtureCase& forward = find_case(cases, "torch_mlp_forward");
  CHECK(compare_with_fixture(session.run(logits, {{x, forward.inputs["x"]}}), forward.output) == "");
}
