// bench/bench_convnet_epoch.cpp — training the seed article's ConvNet on Fashion-MNIST, eager mode.
//
// The network of the PyTorch article (tests/test_seeds.cpp translates it line by line): conv 5x5
// (10 filters), max-pool 2, relu, conv 5x5 (20 filters), Dropout2d, max-pool 2, relu, a Linear
// 320-50 with relu and dropout, a Linear 50-10, log_softmax, NLL loss; optim::SGD (lr 0.01).
// Batches of 64 training images, in order. Where a batch-1 MLP is bound by overhead and memory,
// this step is bound by arithmetic: about 0.5 million multiply-adds per image forward, most of
// them in the second convolution, i.e. in the GEMM that im2col turns it into (core/ops/conv.cpp).
//
// Method: 10 warm-up steps, then --steps steps (default 300; --steps 0 runs the whole epoch of
// 938), each timed; the median step time, and the epoch time that makes at 938 steps.
//
// With --device cuda the network and the data live on the GPU (the images are copied there once);
// loss.item() at the end of each step waits for the GPU, so a step's time is its whole work.
//
//   usage: bench_convnet_epoch [--device cpu|cuda (cpu)] [--threads N (2)] [--steps N (300)]
//   Twin: bench/bench_convnet_epoch.py (PyTorch, the same network and data).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "bench/epoch_data.h"

using namespace tandem;

namespace {

constexpr int64_t kBatch = 64;
constexpr double kLearningRate = 0.01;

struct Net {
  std::vector<Tensor> p;  // conv1 w, b; conv2 w, b; fc1 w, b; fc2 w, b
  std::unique_ptr<optim::SGD> optimizer;  // made once the parameters exist

  // nn.Conv2d's and nn.Linear's default initialisation: uniform in ±1/sqrt(fan_in).
  static Tensor init(const Shape& shape, int64_t fan_in) {
    return ((rand(shape) * 2 - 1) * (1.0 / std::sqrt(static_cast<double>(fan_in)))).requires_grad_();
  }
  explicit Net(Device device) {
    manual_seed(0);
    p = {init({10, 1, 5, 5}, 25), init({10}, 25), init({20, 10, 5, 5}, 250), init({20}, 250),
         init({320, 50}, 320),    init({50}, 320), init({50, 10}, 50),        init({10}, 50)};
    for (Tensor& w : p) w = w.detach().to(device).requires_grad_();
    optimizer = std::make_unique<optim::SGD>(p, optim::SGDOptions{.lr = kLearningRate});
  }
  Tensor forward(Tensor x) const {
    x = relu(max_pool2d(conv2d(x, p[0], p[1]), {2, 2}));
    x = relu(max_pool2d(dropout2d(conv2d(x, p[2], p[3]), 0.5), {2, 2}));
    x = dropout(relu(matmul(x.reshape({-1, 320}), p[4]) + p[5]), 0.5);
    return log_softmax(matmul(x, p[6]) + p[7], 1);
  }
  double step(const Tensor& x, const Tensor& y) const {
    optimizer->zero_grad();
    const Tensor loss = -mean(gather(forward(x), 1, y));  // F.nll_loss
    loss.backward();
    optimizer->step();
    return loss.item();
  }
};

}  // namespace

int main(int argc, char** argv) {
  bench::EpochArgs args;
  args.steps = 300;
  if (!bench::parse_epoch_args(argc, argv, args)) return 2;
  try {
    const Device device = args.device;
    const bench::EpochData data = bench::load_epoch_data(device, {1, 28, 28}, {1}, kBatch);
    const int64_t per_epoch = data.per_epoch;
    const int64_t steps = args.steps <= 0 || args.steps > per_epoch ? per_epoch : args.steps;
    auto batch = [&](int64_t i) { return data.at(i); };
    Net net(device);
    for (int64_t i = 0; i < 10; ++i) {
      auto [x, y] = batch(i);
      net.step(x, y);
    }
    std::vector<double> times;
    double last_loss = 0;
    for (int64_t i = 0; i < steps; ++i) {
      auto [x, y] = batch(10 + i);
      const auto t0 = std::chrono::steady_clock::now();
      last_loss = net.step(x, y);
      times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(times.begin(), times.end());
    const double median_ms = 1e3 * times[times.size() / 2];
    std::printf("# Tandem seed ConvNet on Fashion-MNIST, batch %lld, on %s, %d threads, %lld steps timed, last loss %.3f\n",
                static_cast<long long>(kBatch), to_string(device).c_str(), get_num_threads(),
                static_cast<long long>(steps), last_loss);
    std::printf("RESULT convnet_step %.3f ms\n", median_ms);
    std::printf("RESULT convnet_epoch %.2f s\n", median_ms * static_cast<double>(per_epoch) / 1e3);
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
