// examples/06_convnet.cpp — the seed article's ConvNet, trained on Fashion-MNIST in both modes.
//
// The article ("PyTorch vs TensorFlow for beginners") shows a ConvNet for MNIST in each framework.
// Here its PyTorch network — conv 5x5 (10 filters), max-pool, relu, conv 5x5 (20 filters),
// Dropout2d, max-pool, relu, Linear 320-50, relu, dropout, Linear 50-10, log_softmax — is written
// once as a template, then trained both ways from the same weights on the same batches:
//   - eager, as PyTorch runs it: each op computed at once, the tape walked by loss.backward();
//   - as a TensorFlow 1 graph: placeholders, GradientDescentOptimizer.minimize, Session::run.
// Even the dropout masks are the same: both modes draw them from one seeded generator in the same
// order, so the two loss columns agree to float rounding. Then both are scored on test images.
//
// Fashion-MNIST comes from Debian's dataset-fashion-mnist (`make demo` installs it).
// Read next: core/ops/conv.cpp (im2col), core/dropout.h.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "data/idx.h"
#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;

// The network, once for both modes. p: conv1 w, b; conv2 w, b; fc1 w, b; fc2 w, b.
template <class T> T convnet(T x, const std::vector<T>& p, bool training) {
  x = relu(max_pool2d(conv2d(x, p[0], p[1]), {2, 2}));                            // [N, 10, 12, 12]
  x = relu(max_pool2d(dropout2d(conv2d(x, p[2], p[3]), 0.5, training), {2, 2}));  // [N, 20, 4, 4]
  x = dropout(relu(matmul(reshape(x, {-1, 320}), p[4]) + p[5]), 0.5, training);   // [N, 50]
  return log_softmax(matmul(x, p[6]) + p[7], 1);                                   // [N, 10]
}

// The loss is F.nll_loss, core/losses.h: minus the mean log-probability of the right class.

std::vector<Tensor> initial_weights() {
  manual_seed(0);
  auto init = [](const Shape& shape, int64_t fan_in) {  // nn.Conv2d / nn.Linear default: ±1/sqrt(fan_in)
    return (rand(shape) * 2 - 1) * (1.0 / std::sqrt(static_cast<double>(fan_in)));
  };
  return {init({10, 1, 5, 5}, 25), init({10}, 25), init({20, 10, 5, 5}, 250), init({20}, 250),
          init({320, 50}, 320),    init({50}, 320), init({50, 10}, 50),        init({10}, 50)};
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int main() {
  try {
    const data::FashionMnist train = data::load_fashion_mnist(true), test = data::load_fashion_mnist(false);
    const int64_t batch = 64, steps = 150;
    const double lr = 0.05;
    const Tensor images = train.images.reshape({-1, 1, 28, 28}), labels = train.labels;
    auto batch_at = [&](int64_t i) {
      return std::pair{images.narrow(0, i * batch, batch).contiguous(), labels.narrow(0, i * batch, batch).contiguous()};
    };
    const std::vector<Tensor> init = initial_weights();
    std::cout << "The seed ConvNet on Fashion-MNIST: " << steps << " SGD steps of " << batch
              << " images, both ways, same weights, same batches, same dropout masks.\n\n";

    // ---- eager: PyTorch's loop --------------------------------------------------------------------
    std::vector<Tensor> p;
    for (const Tensor& t : init) p.push_back(t.clone().requires_grad_());
    optim::SGD optimizer(p, {.lr = lr});  // optim.SGD(model.parameters(), lr=0.01)
    std::vector<double> eager_losses;
    manual_seed(1);  // the dropout masks
    auto t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < steps; ++i) {
      auto [x, y] = batch_at(i);
      optimizer.zero_grad();
      Tensor loss = nll_loss(convnet(x, p, true), y);
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
    std::vector<g::Output> v;
    for (size_t k = 0; k < init.size(); ++k) v.push_back(g::Variable(init[k], true, "p" + std::to_string(k)));
    const g::Output loss = nll_loss(convnet(x, v, true), y);
    const g::Output predict = argmax(convnet(x, v, false), 1);  // evaluation: dropout off
    // tf.train.GradientDescentOptimizer(lr).minimize(loss): the gradients, then one update per
    // variable.
    const g::Output train_op = g::train::GradientDescentOptimizer(lr).minimize(loss);
    std::cout << "  the graph's loss node:  " << loss << "\n\n";
    g::Session session(graph);
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
    const Tensor test_x = test.images.narrow(0, 0, 1000).reshape({-1, 1, 28, 28}).contiguous();
    const Tensor test_y = test.labels.narrow(0, 0, 1000);
    Tensor eager_pred;
    {
      no_grad guard;
      eager_pred = argmax(convnet(test_x, p, false), 1);
    }
    const Tensor graph_pred = session.run(predict, {{x, test_x}});
    auto accuracy = [&](const Tensor& pred) { return mean(to(eq(pred, test_y), kFloat32)).item(); };
    std::printf("  test accuracy (1000 images): eager %.1f%%, graph %.1f%%, same predictions: %s\n",
                100 * accuracy(eager_pred), 100 * accuracy(graph_pred), equal(eager_pred, graph_pred) ? "yes" : "no");
  } catch (const Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
