// examples/06_convnet.cpp — the seed article's ConvNet, trained on Fashion-MNIST in both modes.
//
// The article ("PyTorch vs TensorFlow for beginners") shows a ConvNet for MNIST in each framework.
// Here its PyTorch `class Net(nn.Module)` is written line by line with layers — conv1, conv2,
// conv2_drop (Dropout2d), fc1, fc2 and a forward with max-pool, relu, view, dropout and
// log_softmax — and the ONE model object is trained both ways from the same weights on the same
// batches:
//   - eager, as PyTorch runs it: each op computed at once, the tape walked by loss.backward();
//   - as a TensorFlow 1 graph: the same forward called on placeholders adds nodes, its weights
//     become Variables; GradientDescentOptimizer.minimize, Session::run.
// Even the dropout masks are the same: both modes draw them from one seeded generator in the same
// order, so the two loss columns agree — bit for bit here, because the session runs every pass but
// update fusion, whose one-GEMM weight update rounds differently from eager mode's two steps (see
// below). Then both are scored on test images, in eval mode (no dropout): in the graph,
// model->eval() builds a second path for the predictions.
//
// Fashion-MNIST comes from Debian's dataset-fashion-mnist (`make demo` installs it).
// Read next: layers/module.h (one forward for both modes), core/ops/conv.cpp (im2col).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "data/idx.h"
#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;

namespace F = tandem::nn::functional;

// class Net(nn.Module): the article's network. forward is one template: T is Tensor or g::Output.
struct NetImpl : nn::Layer<NetImpl> {
  nn::Conv2d conv1{nullptr}, conv2{nullptr};
  nn::Dropout2d conv2_drop{nullptr};
  nn::Linear fc1{nullptr}, fc2{nullptr};
  NetImpl() {
    conv1 = register_module("conv1", nn::Conv2d(1, 10, 5));    // nn.Conv2d(1, 10, kernel_size=5)
    conv2 = register_module("conv2", nn::Conv2d(10, 20, 5));   // nn.Conv2d(10, 20, kernel_size=5)
    conv2_drop = register_module("conv2_drop", nn::Dropout2d());
    fc1 = register_module("fc1", nn::Linear(320, 50));
    fc2 = register_module("fc2", nn::Linear(50, 10));
  }
  template <class T> T forward(T x) {
    x = F::relu(F::max_pool2d(conv1(x), {2, 2}));              // [N, 10, 12, 12]
    x = F::relu(F::max_pool2d(conv2_drop(conv2(x)), {2, 2}));  // [N, 20, 4, 4]
    x = x.view({-1, 320});
    x = F::dropout(F::relu(fc1(x)), 0.5, is_training());       // [N, 50]
    return F::log_softmax(fc2(x), 1);                           // [N, 10]
  }
};
TANDEM_MODULE(Net);

// The loss is F.nll_loss (layers/losses.h): minus the mean log-probability of the right class.

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// ./build/06_convnet [FOLDER]: Fashion-MNIST's four files in FOLDER (default: Debian's
// dataset-fashion-mnist; the tests pass the small sample in tests/data/fashion-mnist-sample).
int main(int argc, char** argv) {
  try {
    const std::string dir = argc > 1 ? argv[1] : data::kFashionMnistDir;
    const data::FashionMnist train = data::load_fashion_mnist(true, dir), test = data::load_fashion_mnist(false, dir);
    const int64_t batch = 64, steps = std::min<int64_t>(150, train.images.size(0) / batch);
    const double lr = 0.05;
    const Tensor images = train.images.reshape({-1, 1, 28, 28}), labels = train.labels;
    auto batch_at = [&](int64_t i) {
      return std::pair{images.narrow(0, i * batch, batch).contiguous(), labels.narrow(0, i * batch, batch).contiguous()};
    };
    manual_seed(0);
    Net model;  // model = Net()
    const StateDict initial = model->state_dict().clone();  // its starting weights, to give the graph the same start
    std::cout << "The seed ConvNet on Fashion-MNIST: " << steps << " SGD steps of " << batch
              << " images, both ways, same weights, same batches, same dropout masks.\n\n"
              << "  print(model):\n" << model << "\n\n";

    // ---- eager: PyTorch's loop --------------------------------------------------------------------
    optim::SGD optimizer(model->parameters(), {.lr = lr});  // optim.SGD(model.parameters(), lr=0.05)
    std::vector<double> eager_losses;
    manual_seed(1);  // the dropout masks
    auto t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < steps; ++i) {
      auto [x, y] = batch_at(i);
      optimizer.zero_grad();
      Tensor loss = F::nll_loss(model(x), y);
      loss.backward();
      optimizer.step();
      eager_losses.push_back(loss.item());
    }
    const double eager_time = seconds_since(t0);

    // ---- graph: TensorFlow 1's loop ---------------------------------------------------------------
    g::Graph graph;
    g::DefaultGraph use(graph);
    const g::Output x = g::placeholder(kFloat32, {-1, 1, 28, 28}, "x");
    const g::Output y = g::placeholder(kInt64, {-1}, "y");
    const StateDict eager_weights = model->state_dict().clone();  // the eagerly trained weights, kept
    model->load_state_dict(initial);  // the graph starts where the eager run started
    model->train();
    const g::Output loss = F::nll_loss(model(x), y);  // the same model, adding nodes: the training path
    model->eval();
    const g::Output predict = argmax(model(x), 1);    // and the evaluation path: dropout off
    // tf.train.GradientDescentOptimizer(lr).minimize(loss): the gradients, then one update per
    // variable.
    const g::Output train_op = g::train::GradientDescentOptimizer(lr).minimize(loss);
    std::cout << "  the graph's loss node:  " << loss << "\n\n";
    // Update fusion (graph/passes/update_fusion.cpp) would fold each weight's SGD step into its
    // gradient's GEMM: the same math, rounded once instead of twice. Training this network is
    // chaotic — a ReLU or a max-pool window flips on a difference of one unit in the last place —
    // and after some 70 steps those roundings show in the loss. Off, both modes compute the very
    // same numbers, and the columns below are equal.
    g::SessionOptions options;
    options.fuse_updates = false;
    g::Session session(graph, options);
    session.run(g::global_variables_initializer(graph));
    std::vector<double> graph_losses;
    manual_seed(1);  // the same dropout masks, drawn in the same order
    t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < steps; ++i) {
      auto [xb, yb] = batch_at(i);
      graph_losses.push_back(session.run({train_op, loss}, {{x, xb}, {y, yb}})[1].item());
    }
    const double graph_time = seconds_since(t0);

    std::cout << "  step   eager loss   graph loss\n";
    double worst = 0;
    for (int64_t i = 0; i < steps; ++i) {
      worst = std::max(worst, std::abs(eager_losses[i] - graph_losses[i]));
      if (i % 25 == 0 || i == steps - 1)
        std::printf("  %4lld   %10.6f   %10.6f\n", static_cast<long long>(i), eager_losses[i], graph_losses[i]);
    }
    std::printf("\n  largest difference between the two columns: %.2e\n", worst);
    std::printf("  time per step: eager %.1f ms, graph %.1f ms\n\n", 1e3 * eager_time / steps, 1e3 * graph_time / steps);

    // ---- accuracy on 1000 test images, both ways ------------------------------------------------------
    const int64_t n_test = std::min<int64_t>(1000, test.images.size(0));
    const Tensor test_x = test.images.narrow(0, 0, n_test).reshape({-1, 1, 28, 28}).contiguous();
    const Tensor test_y = test.labels.narrow(0, 0, n_test);
    Tensor eager_pred;
    {
      no_grad guard;
      model->load_state_dict(eager_weights);  // the eagerly trained weights (the graph's are in its session)
      eager_pred = argmax(model(test_x), 1);   // still in eval mode
    }
    const Tensor graph_pred = session.run(predict, {{x, test_x}});
    auto accuracy = [&](const Tensor& pred) { return mean(to(eq(pred, test_y), kFloat32)).item(); };
    std::printf("  test accuracy (%lld images): eager %.1f%%, graph %.1f%%, same predictions: %s\n",
                static_cast<long long>(n_test), 100 * accuracy(eager_pred), 100 * accuracy(graph_pred), equal(eager_pred, graph_pred) ? "yes" : "no");

    // ---- the graph's weights, written back into the model -----------------------------------------
    model->copy_from(session);  // the session's Variables -> the module's tensors
    double largest = 0;
    for (const auto& [name, t] : model->state_dict())
      largest = std::max(largest, (t - eager_weights.at(name)).abs().max().item());
    std::printf("  model->copy_from(session): the graph-trained weights differ from the eager ones by at most %.1e\n",
                largest);
  } catch (const Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
