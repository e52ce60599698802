// bench/bench_convnet_epoch.cpp — training the seed article's ConvNet on Fashion-MNIST, both modes.
//
// The network of the PyTorch article (tests/test_seeds.cpp translates it line by line): conv 5x5
// (10 filters), max-pool 2, relu, conv 5x5 (20 filters), Dropout2d, max-pool 2, relu, a Linear
// 320-50 with relu and dropout, a Linear 50-10, log_softmax, NLL loss; SGD (lr 0.01).
// Batches of 64 training images, in order. Where a batch-1 MLP is bound by overhead and memory,
// this step is bound by arithmetic: about 0.5 million multiply-adds per image forward, most of
// them in the second convolution, i.e. in the GEMM that im2col turns it into (core/ops/conv.cpp).
//   eager   optim::SGD, loss.backward(), opt.step()
//   graph   the same function on placeholders (batch -1), GradientDescentOptimizer.minimize, one
//           Session::run per step (CPU only)
//
// Method: 10 warm-up steps, then --steps steps (default 300; --steps 0 runs the whole epoch of
// 938), each timed; the median step time, and the epoch time that makes at 938 steps; with one
// thread also the median CPU time per step, steadier on a busy machine.
//
// With --device cuda the network and the data live on the GPU (the images are copied there once);
// loss.item() at the end of each step waits for the GPU, so a step's time is its whole work.
//
// With --ablation, graph mode runs again with each of the session's passes turned off in turn
// (graph/passes/), and with all of them off: what each pass gives this network (graph_no_<pass>).
//
//   usage: bench_convnet_epoch [--device cpu|cuda (cpu)] [--threads N (2)] [--steps N (300)] [--ablation]
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
#include "bench/seed_convnet.h"

using namespace tandem;

namespace g = tandem::graph;

namespace {

constexpr int64_t kBatch = 64;
constexpr double kLearningRate = 0.01;

// F.nll_loss.
template <class T> T nll(const T& log_probs, const T& labels) { return -mean(gather(log_probs, 1, labels)); }

void report(const char* mode, const bench::Timing& t, int64_t per_epoch) {
  std::printf("RESULT convnet_step_%s %.3f ms\n", mode, t.wall_ms);
  std::printf("RESULT convnet_epoch_%s %.2f s\n", mode, t.wall_ms * static_cast<double>(per_epoch) / 1e3);
  if (get_num_threads() == 1) std::printf("RESULT convnet_step_cpu_%s %.3f ms\n", mode, t.cpu_ms);
}

// One graph-mode training run of `steps` timed steps under these session options.
bench::Timing time_graph(const bench::EpochData& data, int64_t steps, const g::SessionOptions& options) {
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output x = g::placeholder(kFloat32, {-1, 1, 28, 28}, "x");
  const g::Output y = g::placeholder(kInt64, {-1, 1}, "y");
  std::vector<g::Output> p;
  for (const Tensor& w : bench::convnet_weights()) p.push_back(g::Variable(w));
  const g::Output loss = nll(bench::convnet(x, p), y);
  const g::Output train = g::train::GradientDescentOptimizer(kLearningRate).minimize(loss);
  g::Session session(graph, options);
  session.run(g::global_variables_initializer(graph));
  double last = 0;
  const bench::Timing t = bench::time_steps(10, steps, [&](int64_t i) {
    auto [xb, yb] = data.at(i);
    last = session.run({loss, train}, {{x, xb}, {y, yb}})[0].item();
  });
  std::printf("# graph: last loss %.3f\n", last);
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  bench::EpochArgs args;
  args.steps = 300;
  bool ablation = false;
  std::vector<char*> rest;  // the arguments parse_epoch_args knows
  for (int i = 0; i < argc; ++i) {
    if (std::string(argv[i]) == "--ablation") ablation = true;
    else rest.push_back(argv[i]);
  }
  if (!bench::parse_epoch_args(static_cast<int>(rest.size()), rest.data(), args)) return 2;
  try {
    const Device device = args.device;
    const bench::EpochData data = bench::load_epoch_data(device, {1, 28, 28}, {1}, kBatch);
    const int64_t per_epoch = data.per_epoch;
    const int64_t steps = args.steps <= 0 || args.steps > per_epoch ? per_epoch : args.steps;
    std::printf("# Tandem seed ConvNet on Fashion-MNIST, batch %lld, on %s, %d threads, %lld steps timed\n",
                static_cast<long long>(kBatch), to_string(device).c_str(), get_num_threads(),
                static_cast<long long>(steps));
    {
      std::vector<Tensor> p = bench::convnet_weights();
      for (Tensor& w : p) w = w.to(device).requires_grad_();
      optim::SGD optimizer(p, {.lr = kLearningRate});
      double last = 0;
      const bench::Timing t = bench::time_steps(10, steps, [&](int64_t i) {
        auto [x, y] = data.at(i);
        optimizer.zero_grad();
        const Tensor loss = nll(bench::convnet(x, p), y);
        loss.backward();
        optimizer.step();
        last = loss.item();
      });
      std::printf("# eager: last loss %.3f\n", last);
      report("eager", t, per_epoch);
    }
    if (device.is_cpu()) report("graph", time_graph(data, steps, {}), per_epoch);
    if (device.is_cpu() && ablation) {
      using Switch = bool g::SessionOptions::*;
      const std::pair<const char*, Switch> passes[] = {
          {"fold_constants", &g::SessionOptions::fold_constants},
          {"eliminate_common_subexpressions", &g::SessionOptions::eliminate_common_subexpressions},
          {"fuse_elementwise", &g::SessionOptions::fuse_elementwise},
          {"plan_memory", &g::SessionOptions::plan_memory},
          {"fuse_updates", &g::SessionOptions::fuse_updates}};
      for (const auto& pass : passes) {
        g::SessionOptions options;
        options.*(pass.second) = false;
        report(("graph_no_" + std::string(pass.first)).c_str(), time_graph(data, steps, options), per_epoch);
      }
      report("graph_no_passes", time_graph(data, steps, g::SessionOptions::no_passes()), per_epoch);
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
