// bench/bench_mlp_epoch.cpp — one epoch of the Fashion-MNIST MLP, on the CPU or on a GPU, both
// modes.
//
// The MLP of examples/01_side_by_side.cpp (784-256-128-10, relu, cross-entropy), batches of 64 in
// order, plain SGD (lr 0.1), one epoch of 937 steps — timed whole, data already on the device
// (the images are copied there once, as a DataLoader with pinned memory would hide the copies):
//   eager   optim::SGD, loss.backward(), opt.step()
//   graph   graph::train::GradientDescentOptimizer(0.1).minimize(loss), one Session::run per step,
//           the Session placed on the device (SessionOptions::device)
// Each epoch ends with the loss read back on the host, which waits for the GPU to finish.
//
//   usage: bench_mlp_epoch [--device cpu|cuda (cpu)] [--threads N (2)] [--steps N (0: an epoch)]
//   Twin: bench/bench_mlp_epoch.py (PyTorch, the same network, data and optimizer).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/epoch_data.h"

using namespace tandem;
namespace g = tandem::graph;

namespace {

constexpr int64_t kBatch = 64;
constexpr double kLearningRate = 0.1;

// nn.Linear's default initialisation, uniform in ±1/sqrt(fan_in), as [in, out] weights.
std::vector<Tensor> initial_weights() {
  manual_seed(0);
  std::vector<Tensor> p;
  for (auto [in, out] : {std::pair{784, 256}, {256, 128}, {128, 10}}) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    p.push_back((rand({in, out}) * 2 - 1) * bound);
    p.push_back((rand({out}) * 2 - 1) * bound);
  }
  return p;
}

template <class T> T mlp(const T& x, const std::vector<T>& p) {
  const T h1 = relu(matmul(x, p[0]) + p[1]);
  const T h2 = relu(matmul(h1, p[2]) + p[3]);
  return matmul(h2, p[4]) + p[5];
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  bench::EpochArgs args;
  if (!bench::parse_epoch_args(argc, argv, args)) return 2;
  try {
    const Device device = args.device;
    const bench::EpochData data = bench::load_epoch_data(device, {784}, {}, kBatch);
    const int64_t per_epoch = data.per_epoch;
    const int64_t steps = args.steps <= 0 || args.steps > per_epoch ? per_epoch : args.steps;
    auto batch = [&](int64_t i) { return data.at(i); };
    std::printf(
        "# Tandem MLP 784-256-128-10 on Fashion-MNIST, batch %lld, SGD lr %.1f, %lld steps, on "
        "%s%s\n",
        static_cast<long long>(kBatch), kLearningRate, static_cast<long long>(steps),
        to_string(device).c_str(),
        device.is_cpu() ? (", " + std::to_string(get_num_threads()) + " threads").c_str() : "");

    // ---- eager
    // -----------------------------------------------------------------------------------
    {
      std::vector<Tensor> p;
      for (const Tensor& w : initial_weights()) p.push_back(w.to(device).requires_grad_());
      optim::SGD opt(p, {.lr = kLearningRate});
      auto step = [&](int64_t i) {
        auto [x, y] = batch(i);
        opt.zero_grad();
        Tensor loss = cross_entropy(mlp(x, p), y);
        loss.backward();
        opt.step();
        return loss;
      };
      for (int64_t i = 0; i < 5; ++i) step(i).item();  // warm-up: caches, the allocator's pool
      const auto t0 = std::chrono::steady_clock::now();
      Tensor loss;
      for (int64_t i = 0; i < steps; ++i) loss = step(i);
      const double last = loss.item();  // waits for the device
      std::printf("# eager: last loss %.4f\n", last);
      std::printf("RESULT mlp_epoch_eager %.3f s\n",
                  seconds_since(t0) * static_cast<double>(per_epoch) / steps);
    }

    // ---- graph
    // -----------------------------------------------------------------------------------
    {
      g::Graph graph;
      g::DefaultGraph use(graph);
      const g::Output x = g::placeholder(kFloat32, {-1, 784}, "x");
      const g::Output y = g::placeholder(kInt64, {-1}, "y");
      std::vector<g::Output> p;
      for (const Tensor& w : initial_weights()) p.push_back(g::Variable(w));
      const g::Output loss = cross_entropy(mlp(x, p), y);
      const g::Output train_op = g::train::GradientDescentOptimizer(kLearningRate).minimize(loss);
      g::SessionOptions options;
      options.device = device;
      g::Session session(graph, options);
      session.run(g::global_variables_initializer());
      auto step = [&](int64_t i) {
        auto [xb, yb] = batch(i);
        return session.run({loss, train_op}, {{x, xb}, {y, yb}})[0];
      };
      for (int64_t i = 0; i < 5; ++i) step(i).item();
      const auto t0 = std::chrono::steady_clock::now();
      Tensor last;
      for (int64_t i = 0; i < steps; ++i) last = step(i);
      const double value = last.item();
      std::printf("# graph: last loss %.4f\n", value);
      std::printf("RESULT mlp_epoch_graph %.3f s\n",
                  seconds_since(t0) * static_cast<double>(per_epoch) / steps);
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
