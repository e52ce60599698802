// tests/test_layers_module.cpp — Module (layers/module.h): what it holds, how it is named, switched,
// moved, saved and printed, and how one definition runs in both modes.
//
// Read these as examples of the API, next to their PyTorch lines: named_parameters() with dotted
// names, train()/eval() reaching every layer, requires_grad_(false) freezing, state_dict() and
// load_state_dict() (with PyTorch's error texts), print(model) compared with what PyTorch printed
// for the same models (tests/fixtures/layers_text.txt), and a model built in graph mode whose
// Variables are initialised from the module and written back to it.
#include <catch2/catch.hpp>

#include <sstream>

#include "autograd/grad_mode.h"
#include "graph/gradients.h"
#include "optim/optim.h"
#include "optim/train.h"
#include "tests/layers_check.h"
#include "tests/seed_models.h"
#ifdef TANDEM_HAVE_CUDA
#include "cuda/cuda.h"
#endif

using namespace tandem;
namespace g = tandem::graph;

namespace {

std::string str(const nn::Module& m) {
  std::ostringstream os;
  os << m;
  return os.str();
}

const std::map<std::string, std::string>& texts() {
  static const auto all = testing::load_text_fixtures("layers_text.txt");
  return all;
}

std::vector<std::string> names(const nn::NamedTensors& named) {
  std::vector<std::string> out;
  for (const auto& [n, t] : named) out.push_back(n);
  return out;
}

// A module with only an eager forward: it reads a value to decide (which a graph cannot).
struct GateImpl : nn::Module {
  Tensor forward(const Tensor& x) override { return x.sum().item() > 0 ? x : -x; }
};
TANDEM_MODULE(Gate);

}  // namespace

TEST_CASE("module: parameters, buffers and submodules under dotted names, in registration order", "[layers][module]") {
  manual_seed(0);
  seeds::ResNet resnet(std::array<int64_t, 3>{4, 8, 8});
  const auto params = names(resnet->named_parameters());
  // model.named_parameters(): own first, then each child's, depth first
  REQUIRE(params.size() >= 5);
  CHECK(params[0] == "conv1.weight");
  CHECK(params[1] == "bn1.weight");
  CHECK(params[2] == "bn1.bias");
  CHECK(params[3] == "layer1.conv1.weight");
  CHECK(params.back() == "fc.bias");
  CHECK(std::count(params.begin(), params.end(), "layer2.shortcut.0.weight") == 1);
  const auto buffers = names(resnet->named_buffers());
  CHECK(buffers[0] == "bn1.running_mean");
  CHECK(buffers[1] == "bn1.running_var");
  CHECK(buffers[2] == "bn1.num_batches_tracked");
  // state_dict: each module's parameters then its buffers (PyTorch's order)
  const auto state = resnet->state_dict().names();
  CHECK(std::vector<std::string>(state.begin(), state.begin() + 6) ==
        std::vector<std::string>{"conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
                                 "bn1.num_batches_tracked"});
  // children(): the direct submodules only
  const auto children = resnet->named_children();
  REQUIRE(children.size() == 7);
  CHECK(children[2].first == "layer1");
  CHECK(children[2].second->name() == "BasicBlock");
  // parameters() are the very tensors the layers hold: an optimizer updates the model
  CHECK(resnet->parameters()[0].is_same(resnet->conv1->weight));
  CHECK(resnet->conv1->weight.requires_grad());
  CHECK(!resnet->bn1->running_mean.requires_grad());
}

TEST_CASE("module: registering refuses bad and repeated names, and non-float parameters", "[layers][module]") {
  struct M : nn::Module {};
  M m;
  m.register_parameter("w", zeros({2}));
  CHECK_THROWS_WITH(m.register_parameter("w", zeros({2})), Catch::Contains("attribute 'w' already exists"));
  CHECK_THROWS_WITH(m.register_buffer("a.b", zeros({2})), Catch::Contains("can't contain \".\""));
  CHECK_THROWS_WITH(m.register_parameter("", zeros({2})), Catch::Contains("can't be empty"));
  CHECK_THROWS_AS(m.register_parameter("ids", zeros({2}, kInt64)), DTypeError);
  CHECK_THROWS_WITH(m.register_parameter("ids", zeros({2}, kInt64)), Catch::Contains("register it as a buffer"));
  nn::Linear empty{nullptr};
  CHECK(empty.is_empty());
  CHECK_THROWS_WITH(empty->forward(zeros({1, 2})), Catch::Contains("holder is empty") && Catch::Contains("Linear"));
  CHECK_THROWS_WITH(m.register_module("child", empty), Catch::Contains("empty holder"));
}

TEST_CASE("module: train() and eval() reach every layer, and dropout and batch norm follow", "[layers][module]") {
  manual_seed(1);
  seeds::Net net;
  CHECK(net->is_training());
  net->eval();  // model.eval()
  for (const auto& [name, m] : net->named_modules()) CHECK_FALSE(m->is_training());
  const Tensor x = rand({2, 1, 28, 28});
  CHECK(equal(net(x), net(x)));  // no dropout: a function
  net->train();
  CHECK(net->conv2_drop->is_training());
  CHECK_FALSE(equal(net(x), net(x)));  // two dropout masks
}

TEST_CASE("module: zero_grad, requires_grad_(false) to freeze, to(dtype) in place", "[layers][module]") {
  manual_seed(2);
  nn::Sequential model(nn::Linear(3, 4), nn::ReLU(), nn::Linear(4, 2));
  model(rand({5, 3})).sum().backward();
  for (const Tensor& p : model->parameters()) CHECK(p.grad().defined());
  model->zero_grad();  // PyTorch 2's default: set_to_none
  for (const Tensor& p : model->parameters()) CHECK_FALSE(p.grad().defined());
  model(rand({5, 3})).sum().backward();
  model->zero_grad(false);
  for (const Tensor& p : model->parameters()) CHECK(p.grad().sum().item() == 0.0);

  // Freeze the first layer: it gets no gradient, and in a graph its Variables are not trainable.
  model->at<nn::LinearImpl>(0)->requires_grad_(false);
  model->zero_grad();
  model(rand({5, 3})).sum().backward();
  CHECK_FALSE(model->at<nn::LinearImpl>(0)->weight.grad().defined());
  CHECK(model->at<nn::LinearImpl>(2)->weight.grad().defined());
  g::Graph graph;
  g::DefaultGraph use(graph);
  model(g::placeholder(kFloat32, {-1, 3}));
  CHECK(graph.trainable_variables().size() == 2);  // 2.weight, 2.bias
  CHECK(graph.global_variables().size() == 4);

  // to(kFloat64): the same tensors (an optimizer holding them sees the change), now float64
  const Tensor w = model->at<nn::LinearImpl>(2)->weight;
  const double before = w.at({0, 0});
  model->to(kFloat64);
  CHECK(w.dtype() == kFloat64);
  CHECK(w.at({0, 0}) == Approx(before));
  CHECK(model(rand({2, 3}, kFloat64)).dtype() == kFloat64);
}

TEST_CASE("module: state_dict and load_state_dict, with PyTorch's errors", "[layers][module]") {
  manual_seed(3);
  seeds::PyTorchModel a, b;
  CHECK_FALSE(equal(a->layer1->weight, b->layer1->weight));
  b->load_state_dict(a->state_dict());  // model.load_state_dict(other.state_dict())
  for (size_t i = 0; i < a->parameters().size(); ++i) CHECK(equal(a->parameters()[i], b->parameters()[i]));
  CHECK_FALSE(a->parameters()[0].is_same(b->parameters()[0]));  // copied, not shared

  StateDict state = a->state_dict();
  state.erase("layer3.bias");
  state.insert("layer4.weight", zeros({1}));
  CHECK_THROWS_WITH(b->load_state_dict(state), Catch::Contains("Error(s) in loading state_dict for PyTorchModel") &&
                                                   Catch::Contains("Missing key(s) in state_dict: \"layer3.bias\"") &&
                                                   Catch::Contains("Unexpected key(s) in state_dict: \"layer4.weight\""));
  const LoadReport report = b->load_state_dict(state, /*strict=*/false);  // the matching keys only
  CHECK(report.missing_keys == std::vector<std::string>{"layer3.bias"});
  CHECK(report.unexpected_keys == std::vector<std::string>{"layer4.weight"});
  // All or nothing: one wrong shape and not even the keys that fit are copied.
  const Tensor before = b->layer2->weight.detach().clone();
  StateDict wrong = a->state_dict().clone();
  wrong.set("layer1.weight", zeros({64, 11}));
  wrong.set("layer2.weight", zeros({32, 64}));
  CHECK_THROWS_WITH(b->load_state_dict(wrong, false),
                    Catch::Contains("size mismatch for layer1.weight: copying a param with shape [64, 11] from "
                                    "checkpoint, the shape in current model is [64, 10]") &&
                        Catch::Contains("Nothing was loaded"));
  CHECK(equal(b->layer2->weight.detach(), before));
}

TEST_CASE("module: Sequential by index and by name, ModuleList, Functional, Residual", "[layers][module]") {
  manual_seed(4);
  nn::Sequential seq(nn::Linear(4, 8), nn::ReLU());
  seq->push_back(nn::Linear(8, 2));  // named "2"
  CHECK(seq->size() == 3);
  CHECK(seq[1]->name() == "ReLU");
  CHECK(seq->at<nn::LinearImpl>(2)->out_features == 2);
  CHECK_THROWS_WITH(seq->at<nn::LinearImpl>(1), Catch::Contains("is a ReLU, not a Linear"));
  CHECK_THROWS_WITH(seq[7], Catch::Contains("index 7 is out of range (it holds 3 modules)"));
  nn::Sequential named({{"conv1", nn::Conv2d(1, 2, 3)}, {"relu1", nn::ReLU()}});
  CHECK(names(named->named_parameters()) == std::vector<std::string>{"conv1.weight", "conv1.bias"});

  nn::ModuleList list(nn::Linear(2, 2), nn::Linear(2, 2));
  CHECK(list->parameters().size() == 4);
  CHECK_THROWS_WITH(list->forward(zeros({1, 2})), Catch::Contains("ModuleList has no forward"));

  // A generic lambda is a layer in both modes.
  auto squares = nn::Sequential(nn::Functional([](const auto& x) { return x * x; }), nn::Linear(2, 1));
  const Tensor x = tensor({{1.f, -2.f}});
  const Tensor eager = squares(x);
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output xp = g::placeholder(kFloat32, {-1, 2});
  g::Session s(graph);
  const g::Output y = squares(xp);
  s.run(g::global_variables_initializer(graph));
  CHECK(allclose(s.run(y, {{xp, x}}), eager));

  // Residual: body(x) + x
  nn::Residual res(nn::Sequential(nn::Linear(2, 2), nn::Tanh()));
  const Tensor body = res->body->call(x);
  CHECK(allclose(res(x), body + x));
}

TEST_CASE("module: a module with only an eager forward says so in graph mode", "[layers][module]") {
  Gate gate;
  CHECK(equal(gate(tensor({-1.f, -2.f})), tensor({1.f, 2.f})));
  g::Graph graph;
  g::DefaultGraph use(graph);
  CHECK_THROWS_WITH(gate(g::placeholder(kFloat32, {2})),
                    Catch::Contains("Gate has no graph-mode forward") && Catch::Contains("nn::Layer"));
}

TEST_CASE("module: print(model) writes what PyTorch prints for the same models", "[layers][module][print]") {
  manual_seed(5);
  CHECK(str(*seeds::Net()) == texts().at("print_seed_net"));
  CHECK(str(*seeds::PyTorchModel()) == texts().at("print_seed_mlp"));
  CHECK(str(*seeds::SentimentModel(10000, 100)) == texts().at("print_sentiment"));
  CHECK(str(*seeds::ResNet()) == texts().at("print_resnet"));
  nn::Sequential mlp(nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 128), nn::ReLU(), nn::Linear(128, 10));
  std::ostringstream os;
  os << mlp;  // std::cout << model, through the holder
  CHECK(os.str() == texts().at("print_sequential_mlp"));
  nn::ModuleList list(nn::Linear(2, 3), nn::Sequential(nn::ReLU(), nn::Linear(3, 1)));
  CHECK(str(*list) == texts().at("print_module_list"));

  nn::Sequential every(
      nn::Conv2d(nn::Conv2dOptions(3, 8, 3).stride(2).padding(1).bias(false)),
      nn::Conv2d(nn::Conv2dOptions(8, 8, 4).padding("same").dilation(2).groups(4)),
      nn::Conv2d(nn::Conv2dOptions(8, 4, nn::Size2(1, 3)).padding("valid")), nn::MaxPool2d(2),
      nn::MaxPool2d(nn::Size2(2, 3), 1, 1), nn::AvgPool2d(2), nn::AvgPool2d(3, 2, 1), nn::AdaptiveAvgPool2d(1),
      nn::AdaptiveAvgPool2d(nn::Size2(3, 2)), nn::BatchNorm1d(8), nn::BatchNorm2d(16, 1e-3, 0.01), nn::LayerNorm(10),
      nn::LayerNorm(Shape{4, 5}), nn::Embedding(10, 3), nn::Embedding(10, 3, 0), nn::Dropout(), nn::Dropout(0.25),
      nn::Dropout2d(0.1), nn::ReLU(), nn::LeakyReLU(), nn::LeakyReLU(0.2), nn::Sigmoid(), nn::Tanh(), nn::GELU(),
      nn::GELU("tanh"), nn::Softplus(), nn::Softplus(2.0), nn::Softmax(1), nn::LogSoftmax(-1), nn::Flatten(),
      nn::Flatten(0, 2), nn::Identity(), nn::Linear(3, 2, false), nn::CrossEntropyLoss(), nn::NLLLoss(),
      nn::MSELoss(), nn::L1Loss(), nn::SmoothL1Loss(), nn::BCELoss(), nn::BCEWithLogitsLoss());
  CHECK(str(*every) == texts().at("print_every_layer"));
}

TEST_CASE("module: summary() prints Keras's table, its shapes inferred from a graph without data",
          "[layers][module][summary]") {
  manual_seed(6);
  seeds::Net net;
  CHECK(nn::summary(net, {1, 28, 28}) == texts().at("summary_seed_net") + "\n");
  seeds::PyTorchModel mlp;  // its relu is called twice, with two shapes: "multiple", as in Keras
  CHECK(nn::summary(mlp, {10}) == texts().at("summary_seed_mlp") + "\n");
  seeds::ResNet resnet;  // batch norm's running statistics are the non-trainable params
  const size_t params = resnet->parameters().size();
  CHECK(nn::summary(resnet, {1, 28, 28}) == texts().at("summary_resnet") + "\n");
  // summary() leaves the model as it found it: same mode, same parameters.
  CHECK(resnet->is_training());
  CHECK(resnet->parameters().size() == params);
  // An input the model cannot take is the graph's shape error, from the layer that refuses it.
  CHECK_THROWS_WITH(nn::summary(net, {3, 28, 28}), Catch::Contains("conv2d") && Catch::Contains("3 channels"));
}

TEST_CASE("module: in a graph the parameters are Variables initialised from the module, written back by copy_from",
          "[layers][module][graph]") {
  manual_seed(7);
  seeds::PyTorchModel model;
  const Tensor x = rand({16, 10}), y = (rand({16, 1}) > 0.5).to(kFloat32);
  const Tensor w_before = model->layer1->weight.clone();

  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output xp = g::placeholder(kFloat32, {-1, 10}, "x");
  const g::Output yp = g::placeholder(kFloat32, {-1, 1}, "y");
  const g::Output loss = nn::functional::binary_cross_entropy(model(xp), yp);
  // Variables named after the model: "layer1/weight"..., the ops in the layers' name scopes.
  const auto vars = model->named_variables(graph);
  REQUIRE(vars.size() == 6);
  CHECK(vars[0].first == "layer1.weight");
  CHECK(vars[0].second.node()->name == "layer1/weight");
  CHECK(graph.find("layer1/MatMul") != nullptr);
  const g::Output train = g::train::GradientDescentOptimizer(0.5).minimize(loss);
  g::Session session(graph);
  session.run(g::global_variables_initializer(graph));
  const double first = session.run(loss, {{xp, x}, {yp, y}}).item();
  // The graph's first loss is the eager model's: the Variables started from its tensors.
  CHECK(first == Approx(nn::functional::binary_cross_entropy(model(x), y).item()).epsilon(1e-6));
  for (int i = 0; i < 20; ++i) session.run(train, {{xp, x}, {yp, y}});
  CHECK(equal(model->layer1->weight, w_before));  // the session trained its own copy...
  model->copy_from(session);                      // ...until it is written back
  CHECK_FALSE(equal(model->layer1->weight, w_before));
  const double trained = session.run(loss, {{xp, x}, {yp, y}}).item();
  CHECK(trained < first);
  no_grad guard;
  CHECK(nn::functional::binary_cross_entropy(model(x), y).item() == Approx(trained).epsilon(1e-5));
}

TEST_CASE("module: a model trained eagerly goes into a graph session with copy_to", "[layers][module][graph]") {
  manual_seed(8);
  nn::Sequential model(nn::Linear(3, 8), nn::Tanh(), nn::Linear(8, 1));
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output xp = g::placeholder(kFloat32, {-1, 3});
  const g::Output yp = model(xp);  // Variables made now, from the untrained weights
  g::Session session(graph);
  session.run(g::global_variables_initializer(graph));
  // Train eagerly.
  const Tensor x = rand({32, 3}), target = x.sum({1}, true);
  optim::SGD opt(model->parameters(), {.lr = 0.1});
  for (int i = 0; i < 30; ++i) {
    opt.zero_grad();
    nn::functional::mse_loss(model(x), target).backward();
    opt.step();
  }
  no_grad guard;
  const Tensor eager = model(x);
  CHECK_FALSE(allclose(session.run(yp, {{xp, x}}), eager, 1e-5, 1e-6));  // the session is behind
  model->copy_to(session);  // TF1's Variable.load: every Variable takes the module's value
  CHECK(allclose(session.run(yp, {{xp, x}}), eager, 1e-5, 1e-6));
  // Errors: a graph the model never ran in.
  g::Graph other;
  g::Session elsewhere(other);
  CHECK_THROWS_WITH(model->copy_from(elsewhere), Catch::Contains("no Variables in the session's graph"));
}

TEST_CASE("module: train() and eval() build two paths in one graph, sharing the Variables", "[layers][module][graph]") {
  manual_seed(9);
  nn::Sequential model(nn::Linear(4, 4), nn::BatchNorm1d(4), nn::Dropout(0.5));
  const StateDict start = model->state_dict().clone();
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output xp = g::placeholder(kFloat32, {-1, 4});
  model->train();
  const g::Output train_out = model(xp);  // batch statistics, running-stat updates, dropout
  model->eval();
  const g::Output eval_out = model(xp);   // running statistics, no dropout
  CHECK(graph.global_variables().size() == 7);  // made once: 2 of the Linear, 5 of the batch norm
  g::Session session(graph);
  session.run(g::global_variables_initializer(graph));
  const Tensor x = rand({8, 4});
  const Tensor e1 = session.run(eval_out, {{xp, x}});
  session.run(train_out, {{xp, x}});  // updates the running statistics
  const Tensor e2 = session.run(eval_out, {{xp, x}});
  CHECK_FALSE(allclose(e1, e2));  // the evaluation path reads the updated statistics
  CHECK(equal(session.run(eval_out, {{xp, x}}), e2));  // and is a function of x
  // The same training forward in eager mode, from the same start, updates the statistics alike.
  model->copy_from(session);
  const auto bn = model->at<nn::BatchNorm1dImpl>(1);
  const Tensor graph_mean = bn->running_mean.clone(), graph_var = bn->running_var.clone();
  CHECK(bn->num_batches_tracked.item() == 1.0);
  model->load_state_dict(start);
  model->train();
  model(x);
  CHECK(allclose(bn->running_mean, graph_mean, 1e-5, 1e-6));
  CHECK(allclose(bn->running_var, graph_var, 1e-5, 1e-6));
  CHECK(bn->num_batches_tracked.item() == 1.0);
}

TEST_CASE("module: to(Device::cuda()) moves the model in place, the GPU gives the CPU's losses in both modes",
          "[cuda][layers][module]") {
#ifndef TANDEM_HAVE_CUDA
  WARN("no CUDA device: skipping (this build has no CUDA backend; configure with -DTANDEM_CUDA=ON)");
#else
  if (!cuda::is_available()) {
    WARN("no CUDA device: skipping");
    return;
  }
  namespace F = nn::functional;
  manual_seed(10);
  seeds::ResNet cpu_model(std::array<int64_t, 3>{4, 8, 8}), gpu_model(std::array<int64_t, 3>{4, 8, 8});
  gpu_model->load_state_dict(cpu_model->state_dict());
  const Tensor w = gpu_model->conv1->weight;
  gpu_model->to(Device::cuda());
  CHECK(w.device().is_cuda());  // the handle the layer holds was moved, not replaced
  const Tensor x = rand({4, 1, 12, 12}), y = randint(0, 10, {4});
  const Tensor l_cpu = F::cross_entropy(cpu_model(x), y);
  const Tensor l_gpu = F::cross_entropy(gpu_model(x.to(Device::cuda())), y.to(Device::cuda()));
  CHECK(l_gpu.cpu().item() == Approx(l_cpu.item()).epsilon(1e-4));
  l_cpu.backward();
  l_gpu.backward();
  CHECK(allclose(gpu_model->fc->weight.grad().cpu(), cpu_model->fc->weight.grad(), 1e-3, 1e-4));
  // A graph session placed on the GPU, built from the CPU model (its Variables go to the device).
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output xp = g::placeholder(kFloat32, {-1, 1, 12, 12}), yp = g::placeholder(kInt64, {-1});
  const g::Output loss = F::cross_entropy(cpu_model(xp), yp);
  g::SessionOptions options;
  options.device = Device::cuda();
  g::Session session(graph, options);
  session.run(g::global_variables_initializer(graph));
  CHECK(session.run(loss, {{xp, x}, {yp, y}}).cpu().item() == Approx(l_cpu.item()).epsilon(1e-4));
#endif
}
