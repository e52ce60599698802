// bench/bench_resnet_epoch.cpp — a ResNet trained on Fashion-MNIST with layers/, both modes.
//
// The ResNet of tests/seed_models.h: a 3x3 stem with batch norm, three stages of one BasicBlock
// each (16, 32, 64 channels; the last two halve the image with a strided convolution and a 1x1
// shortcut), global average pooling, a Linear 64-10 — 78 thousand parameters, BatchNorm2d after
// every convolution. Cross-entropy, SGD lr 0.05, batches of 64 in order.
//   eager   optim::SGD, loss.backward(), opt.step()
//   graph   the same model object on placeholders, GradientDescentOptimizer.minimize, one
//           Session::run per step (the training path: batch statistics and running-stat updates)
// 3 warm-up steps, then --steps timed steps (default 40); the median step time and the epoch (937
// steps) it makes; with one thread also the median CPU time per step, steadier on a busy machine.
// Batch norm runs its fused ops (core/ops/batch_norm.cpp); where the time goes is in bench/RESULTS.md.
//
//   usage: bench_resnet_epoch [--threads N (2)] [--steps N (40)]
//   Twin: bench/bench_resnet_epoch.py (PyTorch, the same network, data and optimizer).
#include <cstdio>

#include "bench/epoch_data.h"
#include "tests/seed_models.h"

using namespace tandem;
namespace g = tandem::graph;
namespace F = tandem::nn::functional;

namespace {

constexpr int64_t kBatch = 64;
constexpr double kLearningRate = 0.05;

void report(const char* mode, const bench::Timing& t, int64_t per_epoch) {
  std::printf("RESULT resnet_step_%s %.2f ms\n", mode, t.wall_ms);
  std::printf("RESULT resnet_epoch_%s %.1f s\n", mode, t.wall_ms * static_cast<double>(per_epoch) / 1e3);
  if (get_num_threads() == 1) std::printf("RESULT resnet_step_cpu_%s %.2f ms\n", mode, t.cpu_ms);
}

}  // namespace

int main(int argc, char** argv) {
  bench::EpochArgs args;
  args.steps = 40;
  if (!bench::parse_epoch_args(argc, argv, args)) return 2;
  try {
    const bench::EpochData data = bench::load_epoch_data(Device::cpu(), {1, 28, 28}, {}, kBatch);
    std::printf("# Tandem ResNet 16-32-64 on Fashion-MNIST, batch %lld, SGD lr %.2f, %d threads, %lld steps timed\n",
                static_cast<long long>(kBatch), kLearningRate, get_num_threads(), static_cast<long long>(args.steps));
    manual_seed(0);
    seeds::ResNet model;
    const StateDict start = model->state_dict().clone();
    {
      optim::SGD opt(model->parameters(), {.lr = kLearningRate});
      double last = 0;
      const bench::Timing t = bench::time_steps(3, args.steps, [&](int64_t i) {
        auto [x, y] = data.at(i);
        opt.zero_grad();
        Tensor loss = F::cross_entropy(model(x), y);
        loss.backward();
        opt.step();
        last = loss.item();
      });
      std::printf("# eager: last loss %.3f\n", last);
      report("eager", t, data.per_epoch);
    }
    {
      model->load_state_dict(start);
      g::Graph graph;
      g::DefaultGraph use(graph);
      const g::Output x = g::placeholder(kFloat32, {-1, 1, 28, 28}, "x");
      const g::Output y = g::placeholder(kInt64, {-1}, "y");
      const g::Output loss = F::cross_entropy(model(x), y);
      const g::Output train = g::train::GradientDescentOptimizer(kLearningRate).minimize(loss);
      g::Session session(graph);
      session.run(g::global_variables_initializer(graph));
      double last = 0;
      const bench::Timing t = bench::time_steps(3, args.steps, [&](int64_t i) {
        auto [xb, yb] = data.at(i);
        last = session.run({loss, train}, {{x, xb}, {y, yb}})[0].item();
      });
      std::printf("# graph: last loss %.3f\n", last);
      report("graph", t, data.per_epoch);
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
