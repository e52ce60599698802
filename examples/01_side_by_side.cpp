// examples/01_side_by_side.cpp — the same computations in both paradigms, side by side.
//
// Part 1: the seed articles' first examples. TensorFlow 1 builds a graph and runs it in a Session;
//         PyTorch computes at once. Same numbers, different moment of computation.
// Part 2: one model, defined once with layers (nn::Sequential), trained on Fashion-MNIST in both
//         modes from the same initial weights on the same batches. The losses agree to float
//         rounding; what differs is *when* work happens, how much memory it takes, and how fast it runs.
//
// Run it with `./build/01_side_by_side [FASHION_MNIST_DIR]` (`make demo` runs the same race at full size:
// examples/12_fashion_mnist.cpp). Read next: examples/02_eager_tape.cpp.
#include <algorithm>
#include <cstdlib>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "data/idx.h"
#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;

// The model, defined once: PyTorch's nn.Sequential. The same object runs on eager Tensors (it
// computes) and on graph Outputs (it adds nodes, its weights becoming graph Variables): each layer's
// forward is one template over the tensor type (layers/module.h).
nn::Sequential mlp() {
  manual_seed(0);  // PyTorch's default initialisation of each Linear, from seed 0
  return nn::Sequential(nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 128), nn::ReLU(), nn::Linear(128, 10));
}

// The loss is the library's cross_entropy (layers/simple_losses.h), itself a template over the tensor type:
// -mean over the batch of log_softmax(logits) at each label.

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void part1_seed_examples() {
  std::cout << "=== Part 1: the seed examples ===\n\n";
  std::cout << "TensorFlow 1 style: build a graph, then run it.\n";
  g::Graph graph;
  {
    g::DefaultGraph use(graph);
    g::Output a = g::constant(tensor({{3., 4., 8.}}));
    g::Output b = g::constant(tensor({{2.}, {3.}, {9.}}));
    g::Output output = g::mul(a, b);             // output = tf.multiply(a, b)
    std::cout << "  output           = " << output << "   <- a node, no value yet\n";
    g::Session s(graph);                           // s = tf.Session()
    std::cout << "  s.run(output)    = " << s.run(output) << "\n\n";  // print(s.run(output))
  }
  std::cout << "PyTorch style: compute now.\n";
  Tensor a = tensor({{3., 4., 8.}}), b = tensor({{2.}, {3.}, {9.}});
  std::cout << "  mul(a, b)        = " << mul(a, b) << "\n";
  std::cout << "  3. * 4.          = " << tensor(3.) * tensor(4.) << "\n";
  std::cout << "  mean([[1,2],[3,4]]) = " << mean(tensor({{1., 2.}, {3., 4.}})) << "\n\n";
}

void part2_train_both_ways(const std::string& dir, int64_t steps) {
  std::cout << "=== Part 2: one MLP (784-256-128-10), defined once, trained both ways ===\n\n";
  data::FashionMnist train;
  try {
    train = data::load_fashion_mnist(/*train=*/true, dir);
  } catch (const Error& e) {
    std::cout << "  (skipped: " << e.what() << ")\n";
    return;
  }
  const int64_t batch = 64;
  const double lr = 0.1;
  const Tensor images = train.images.reshape({-1, 784});
  auto batch_at = [&](int64_t i) {
    const int64_t start = (i * batch) % (images.size(0) - batch);
    return std::pair{images.narrow(0, start, batch).contiguous(), train.labels.narrow(0, start, batch).contiguous()};
  };
  nn::Sequential model = mlp();
  const StateDict initial = model->state_dict().clone();  // the starting weights, kept to give the graph the same start
  std::cout << "  print(model):\n" << model << "\n\n";

  // ---- eager: PyTorch's loop --------------------------------------------------------------------
  optim::SGD optimizer(model->parameters(), {.lr = lr});  // torch.optim.SGD(model.parameters(), lr=0.1)
  std::vector<double> eager_losses;
  reset_peak_memory_stats();
  const int64_t eager_base = memory_stats().bytes_in_use;
  auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < steps; ++i) {
    auto [x, y] = batch_at(i);
    optimizer.zero_grad();
    Tensor loss = cross_entropy(model(x), y);   // forward: computed now, recorded on the tape
    loss.backward();                            // walk the tape backward: each w.grad() is set
    optimizer.step();                           // w -= lr * w.grad(), outside the tape
    eager_losses.push_back(loss.item());
  }
  const double eager_time = seconds_since(t0);
  const int64_t eager_peak = memory_stats().peak_bytes - eager_base;

  // ---- graph: TensorFlow 1's loop ---------------------------------------------------------------
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {-1, 784}, "x");
  g::Output y = g::placeholder(kInt64, {-1}, "y");
  model->load_state_dict(initial);                // back to the starting weights, for a fair race
  g::Output loss = cross_entropy(model(x), y);    // the same model, now adding nodes; its weights
                                                  // become Variables ("0/weight"...), starting from
                                                  // the module's values
  // tf.train.GradientDescentOptimizer(0.1).minimize(loss): gradients() adds the backward pass as
  // more nodes, then one ApplyGradientDescent node per variable, grouped into train_op.
  g::Output train_op = g::train::GradientDescentOptimizer(lr).minimize(loss);
  g::Session session(graph);
  session.run(g::global_variables_initializer());
  graph.finalize();  // nothing more may be added: the training loop only runs
  std::vector<double> graph_losses;
  int64_t graph_peak = 0;
  t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < steps; ++i) {
    auto [xb, yb] = batch_at(i);
    auto out = session.run({train_op, loss}, {{x, xb}, {y, yb}});
    graph_losses.push_back(out[1].item());
    graph_peak = std::max(graph_peak, session.last_run_stats().peak_bytes);
  }
  const double graph_time = seconds_since(t0);
  const g::RunStats& st = session.last_run_stats();

  std::cout << "  step   eager loss   graph loss\n";
  double worst = 0;
  for (int64_t i = 0; i < steps; ++i) {
    worst = std::max(worst, std::abs(eager_losses[i] - graph_losses[i]));
    if (i % 50 == 0 || i == steps - 1)
      std::printf("  %4lld   %10.6f   %10.6f\n", static_cast<long long>(i), eager_losses[i], graph_losses[i]);
  }
  std::printf("\n  largest difference between the two columns: %.2e (%s)\n\n", worst,
              worst < 1e-4 ? "float rounding"
                           : "float rounding, grown over the steps: a few images seen again and again, as in the\n"
                             "  300-image sample, make training chaotic, and tiny differences grow");
  std::printf("  graph: %lld nodes declared (%lld of them gradient nodes); one training step runs %lld\n",
              static_cast<long long>(graph.size()),
              static_cast<long long>(std::count_if(graph.nodes().begin(), graph.nodes().end(),
                                                   [](const auto& n) { return n->is_gradient; })),
              static_cast<long long>(st.nodes_executed));
  std::printf("         steps with %lld kernel launches after the graph passes\n",
              static_cast<long long>(st.kernels_launched));
  std::printf("  time per step:    eager %.3f ms   graph %.3f ms\n", 1e3 * eager_time / steps, 1e3 * graph_time / steps);
  std::printf("  peak memory:      eager %.2f MB   graph %.2f MB  (tensor memory above the weights)\n\n",
              eager_peak / 1e6, graph_peak / 1e6);

  // The graph trained its own Variables; copy_from brings their values back into the module, which
  // then computes eagerly what the session computes.
  model->copy_from(session);
  auto [xb, yb] = batch_at(0);
  const double eager_after = cross_entropy(model(xb), yb).item();
  const double graph_after = session.run(loss, {{x, xb}, {y, yb}}).item();
  std::printf("  model->copy_from(session): the module now gives the graph's loss on a batch: %.6f vs %.6f\n\n",
              eager_after, graph_after);
}

// ./build/01_side_by_side [FOLDER [STEPS]]: Fashion-MNIST's four files in FOLDER (default: Debian's
// dataset-fashion-mnist; the tests pass the small sample in tests/data/fashion-mnist-sample), and
// how many training steps each mode takes (300).
int main(int argc, char** argv) {
  try {
    part1_seed_examples();
    part2_train_both_ways(argc > 1 ? argv[1] : data::kFashionMnistDir, argc > 2 ? std::max(1, std::atoi(argv[2])) : 300);
  } catch (const Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
