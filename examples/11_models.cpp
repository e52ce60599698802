// examples/11_models.cpp — defining a model: Keras's Sequential beside PyTorch's Module subclass.
//
// The seed article's slide "Model Definition: Sequential vs. Module" (seed-004) defines one small
// Dense network, 10 -> 64 -> 32 -> 1, twice: as a tf.keras.Sequential of Dense layers, inspected
// with model.summary(), and as a PyTorch nn.Module subclass, inspected with print(model). Here:
//   1. the Keras way: keras::Sequential of Dense layers, and the same network as an nn::Sequential
//      of Linear layers, each with summary() — Keras's table, its shapes found without any data;
//   2. the PyTorch way: a Module subclass (layers registered in the constructor, one forward),
//      printed as PyTorch prints it; its parameters counted as PyTorch users count them;
//   3. ONE model object running in both modes: an eager Tensor in, numbers out at once; a graph
//      placeholder in, nodes out, numbers when a Session runs them — the same numbers;
//   4. seed-000's "skeleton neural network that can serve as starter code": a small Module to copy
//      into a program of your own, which builds and runs as given, and says where to grow it.
// The output ends with what differed between the two ways.
//
// Read next: layers/module.h (one forward for both modes), layers/summary.h (where summary()'s
// shapes come from), layers/keras.h (Dense and Keras's names), examples/12_fashion_mnist.cpp.
#include <cstdio>
#include <iostream>

#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;
namespace F = tandem::nn::functional;

// ---- the PyTorch way: a Module subclass (seed-004, line by line) ---------------------------------
// class PyTorchModel(nn.Module):
struct PyTorchModelImpl : nn::Layer<PyTorchModelImpl> {
  nn::Linear layer1{nullptr}, layer2{nullptr}, layer3{nullptr};
  nn::ReLU relu{nullptr};
  nn::Sigmoid sigmoid{nullptr};

  PyTorchModelImpl() {                                        // def __init__(self): super().__init__()
    layer1 = register_module("layer1", nn::Linear(10, 64));  //     self.layer1 = nn.Linear(10, 64)
    layer2 = register_module("layer2", nn::Linear(64, 32));  //     self.layer2 = nn.Linear(64, 32)
    layer3 = register_module("layer3", nn::Linear(32, 1));   //     self.layer3 = nn.Linear(32, 1)
    relu = register_module("relu", nn::ReLU());              //     self.relu = nn.ReLU()
    sigmoid = register_module("sigmoid", nn::Sigmoid());     //     self.sigmoid = nn.Sigmoid()
  }

  // def forward(self, x): — ONE template: T is Tensor (eager) or graph::Output (a graph).
  template <class T> T forward(T x) {
    x = relu(layer1(x));     // x = self.relu(self.layer1(x))
    x = relu(layer2(x));     // x = self.relu(self.layer2(x))
    x = sigmoid(layer3(x));  // x = self.sigmoid(self.layer3(x))
    return x;                // return x
  }
};
TANDEM_MODULE(PyTorchModel);  // torch_model = PyTorchModel() makes a holder of a shared PyTorchModelImpl

// ---- seed-000's skeleton network: starter code to copy -------------------------------------------
// Copy this struct into your own program (and TANDEM_MODULE below it). As given it is a working
// classifier of 28 x 28 images into 10 classes with one hidden layer; grow it in three places:
// declare a layer, create it in the constructor, call it in forward.
struct SkeletonNetImpl : nn::Layer<SkeletonNetImpl> {
  // 1. The layers: empty holders, filled in the constructor.
  nn::Flatten flatten{nullptr};
  nn::Linear input{nullptr}, output{nullptr};
  // (more layers here: nn::Linear hidden2{nullptr}; nn::Dropout drop{nullptr}; ...)

  // 2. Create them. Registering names each parameter: "input.weight", "output.bias".
  SkeletonNetImpl(int64_t in_features = 28 * 28, int64_t hidden = 128, int64_t classes = 10) {
    flatten = register_module("flatten", nn::Flatten());                 // [N, 1, 28, 28] -> [N, 784]
    input = register_module("input", nn::Linear(in_features, hidden));   // the input layer
    // (deep layers here: hidden2 = register_module("hidden2", nn::Linear(hidden, hidden));)
    output = register_module("output", nn::Linear(hidden, classes));     // the output layer
  }

  // 3. The forward pass, written once for both modes.
  template <class T> T forward(T x) {
    x = flatten(x);
    x = F::relu(input(x));  // a Linear has no activation of its own (Keras's Dense has one built in)
    // (deep layers here: x = F::relu(hidden2(x));)
    return output(x);       // logits [N, classes]; the softmax is inside the loss (cross_entropy)
  }
};
TANDEM_MODULE(SkeletonNet);

// The largest |a - b| over two tensors of one shape.
double largest_difference(const Tensor& a, const Tensor& b) { return (a - b).abs().max().item(); }

// sum(p.numel() for p in model.parameters()): PyTorch's way of counting.
int64_t count_parameters(const nn::Module& model) {
  int64_t n = 0;
  for (const Tensor& p : model.parameters()) n += p.numel();
  return n;
}

// A model run both ways on the same input: eagerly, then as a graph on a placeholder fed the same
// values. Prints both results and their largest difference.
template <class Model> void run_both_ways(Model& model, const Tensor& x, const char* what) {
  const Tensor eager = model(x);  // computes now
  g::Graph graph;
  g::DefaultGraph use(graph);
  Shape shape = x.shape();
  shape[0] = -1;  // the batch size left open, Keras's None
  const g::Output input = g::placeholder(kFloat32, shape, "x");
  const g::Output output = model(input);  // adds nodes; the weights become Variables
  g::Session session(graph);
  session.run(g::global_variables_initializer(graph));
  const Tensor from_graph = session.run(output, {{input, x}});
  std::cout << "  " << what << "\n";
  std::cout << "    eager:  model(x)            -> shape " << shape_str(eager.shape()) << ", first row "
            << eager[0].detach() << "\n";
  std::cout << "    graph:  model(placeholder)  -> " << output << "\n";
  std::cout << "            session.run(it, {x}) -> shape " << shape_str(from_graph.shape()) << ", first row "
            << from_graph[0] << "\n";
  std::printf("    largest difference between the two: %.1e (%lld graph nodes)\n\n",
              largest_difference(eager, from_graph), static_cast<long long>(graph.size()));
}

void part1_keras() {
  std::cout << "=== 1. The Keras way: Sequential, then model.summary() ===\n\n";
  namespace L = keras::layers;
  // tf_model = tf.keras.Sequential([
  //     tf.keras.layers.Dense(64, activation='relu', input_shape=(10,)),
  //     tf.keras.layers.Dense(32, activation='relu'),
  //     tf.keras.layers.Dense(1, activation='sigmoid')])
  manual_seed(0);
  keras::Sequential tf_model({L::Dense(64, "relu", Shape{10}), L::Dense(32, "relu"), L::Dense(1, "sigmoid")});
  std::cout << "print(\"TensorFlow model summary:\"); tf_model.summary()\n" << tf_model->summary() << "\n";

  // The same network as PyTorch's nn.Sequential; nn::summary() draws Keras's table for any Module.
  manual_seed(0);
  nn::Sequential seq(nn::Linear(10, 64), nn::ReLU(), nn::Linear(64, 32), nn::ReLU(), nn::Linear(32, 1), nn::Sigmoid());
  std::cout << "nn::Sequential(Linear(10, 64), ReLU(), Linear(64, 32), ReLU(), Linear(32, 1), Sigmoid()),\n"
            << "nn::summary(model, {10}):\n"
            << nn::summary(seq, {10}, kFloat32, "sequential") << "\n";
}

void part2_pytorch(PyTorchModel& torch_model) {
  std::cout << "=== 2. The PyTorch way: a Module subclass, then print(model) ===\n\n";
  std::cout << "print(\"PyTorch model structure:\"); print(torch_model)\n" << torch_model << "\n\n";
  // PyTorch prints no parameter count; its users count them themselves.
  std::cout << "sum(p.numel() for p in torch_model.parameters()) = " << count_parameters(*torch_model) << "\n";
  for (const auto& [name, p] : torch_model->named_parameters())
    std::printf("  %-14s %-10s %5lld\n", name.c_str(), shape_str(p.shape()).c_str(), static_cast<long long>(p.numel()));
  std::cout << "\nThe Module subclass has a Keras table too (nn::summary(torch_model, {10})):\n"
            << nn::summary(torch_model, {10}) << "\n";
}

void part3_both_modes(PyTorchModel& torch_model) {
  std::cout << "=== 3. One model object, both modes ===\n\n";
  manual_seed(1);
  const Tensor x = randn({4, 10});  // four samples of ten features
  run_both_ways(torch_model, x, "PyTorchModel on x = randn(4, 10):");
}

void part4_skeleton() {
  std::cout << "=== 4. seed-000's skeleton network: starter code to copy ===\n\n";
  manual_seed(0);
  SkeletonNet model;
  std::cout << model << "\n\n" << nn::summary(model, {1, 28, 28}) << "\n";
  std::cout << "parameters: " << count_parameters(*model) << "\n\n";
  manual_seed(2);
  const Tensor images = rand({8, 1, 28, 28});  // eight "images" of random pixels
  run_both_ways(model, images, "SkeletonNet on eight random 28 x 28 images:");
  // One training step, PyTorch's four lines, to show the starter code trains as given.
  const Tensor labels = randint(0, 10, {8});
  optim::SGD optimizer(model->parameters(), {.lr = 0.1});
  double before = 0, after = 0;
  for (int step = 0; step < 2; ++step) {
    optimizer.zero_grad();
    Tensor loss = F::cross_entropy(model(images), labels);
    (step == 0 ? before : after) = loss.item();
    loss.backward();
    optimizer.step();
  }
  std::printf("  one SGD step on those images (labels random): loss before it %.4f, after it %.4f\n\n", before, after);
}

void what_differed() {
  std::cout << "=== What differed ===\n\n"
            << "  - Keras's Dense takes no input size: it is built on its first input, here at once from\n"
            << "    input_shape=(10,), by shape inference on a graph placeholder. PyTorch's Linear is\n"
            << "    told both sizes: Linear(10, 64).\n"
            << "  - Dense has its activation built in (activation='relu'); Linear is only x·Wᵀ + b, and\n"
            << "    the nonlinearity is a layer or a function of its own (seed-000's point).\n"
            << "  - Dense's kernel is [in, units] (y = x·kernel + b); Linear's weight is [out, in]\n"
            << "    (y = x·weightᵀ + b). Same count, transposed layout.\n"
            << "  - summary() shows output shapes and parameter counts, found without any data;\n"
            << "    print(model) shows the modules' tree and their arguments, and no counts.\n"
            << "  - Keras names layers itself (dense, dense_1, dense_2); a Module names them by the\n"
            << "    attributes you registered (layer1, layer2, layer3): the names in its state_dict.\n"
            << "  - The forward is the same either way, and so are the numbers it computes, whether\n"
            << "    it runs now (eager) or in a Session later (graph).\n";
}

int main() {
  try {
    part1_keras();
    manual_seed(0);
    PyTorchModel torch_model;  // torch_model = PyTorchModel()
    part2_pytorch(torch_model);
    part3_both_modes(torch_model);
    part4_skeleton();
    what_differed();
  } catch (const Error& e) {
    std::fprintf(stderr, "11_models: %s\n", e.what());
    return 1;
  }
  return 0;
}
