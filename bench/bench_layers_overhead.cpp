// bench/bench_layers_overhead.cpp — what writing a model with layers/ costs over writing it with raw ops.
//
// The same two networks twice: as the examples used to write them (a template over a list of
// weight tensors, p[0]...p[7], weights laid out [in, out]) and with layers (nn::Sequential of
// nn::Linear; the seed Net of tests/seed_models.h: nn::Conv2d, nn::Dropout2d, nn::Linear with
// PyTorch's [out, in] weights). A layer adds a virtual call, a name scope in graphs, and a
// transposed weight; the question is whether any of that shows in a training step.
//
//   mlp       784-256-128-10, relu, cross-entropy, SGD lr 0.1, batch 64 (bench_mlp_epoch's network)
//   convnet   the seed ConvNet with its two dropouts, NLL loss, SGD lr 0.01, batch 64
//
// Each in eager mode (optim::SGD) and in graph mode (GradientDescentOptimizer.minimize, one
// Session::run per step). The raw and the layers step alternate, on the same batches, so that a
// burst of load on a shared machine slows both; the median of each is reported, and their ratio —
// in wall time, and with one thread also in CPU time (steadier on a busy machine).
//
//   usage: bench_layers_overhead [--threads N (2)] [--steps N (200)]
//   The PyTorch side of these networks: bench_mlp_epoch.py, bench_convnet_epoch.py.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <functional>
#include <vector>

#include "bench/epoch_data.h"
#include "bench/seed_convnet.h"
#include "tests/seed_models.h"

using namespace tandem;
namespace g = tandem::graph;
namespace F = tandem::nn::functional;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Times the two step functions alternately, `steps` times each (after 5 warm-up steps each): the
// median wall time of each, and with one thread the median CPU time too.
void race(const char* name, int64_t steps, const std::function<void(int64_t)>& raw,
          const std::function<void(int64_t)>& layers) {
  std::vector<double> t_raw, t_layers, c_raw, c_layers;
  for (int64_t i = 0; i < steps + 5; ++i) {
    const double c0 = bench::cpu_seconds();
    auto t0 = std::chrono::steady_clock::now();
    raw(i);
    const double c1 = bench::cpu_seconds();
    auto t1 = std::chrono::steady_clock::now();
    layers(i);
    const double c2 = bench::cpu_seconds();
    auto t2 = std::chrono::steady_clock::now();
    if (i < 5) continue;
    t_raw.push_back(std::chrono::duration<double>(t1 - t0).count());
    t_layers.push_back(std::chrono::duration<double>(t2 - t1).count());
    c_raw.push_back(c1 - c0);
    c_layers.push_back(c2 - c1);
  }
  const double r = median(t_raw) * 1e3, l = median(t_layers) * 1e3;
  std::printf("RESULT %s_raw %.3f ms\n", name, r);
  std::printf("RESULT %s_layers %.3f ms\n", name, l);
  std::printf("# %s: layers / raw = %.3f (wall time)\n", name, l / r);
  if (get_num_threads() == 1) {
    const double cr = median(c_raw) * 1e3, cl = median(c_layers) * 1e3;
    std::printf("RESULT %s_cpu_raw %.3f ms\n", name, cr);
    std::printf("RESULT %s_cpu_layers %.3f ms\n", name, cl);
    std::printf("# %s: layers / raw = %.3f (CPU time)\n", name, cl / cr);
  }
}

// ---- the raw versions --------------------------------------------------------------------------------

std::vector<Tensor> mlp_weights() {
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

// ---- eager and graph training steps of either kind of model ----------------------------------------

struct EagerRaw {
  std::vector<Tensor> p;
  optim::SGD opt;
  EagerRaw(std::vector<Tensor> w, double lr) : p(leaves(std::move(w))), opt(p, {.lr = lr}) {}
  static std::vector<Tensor> leaves(std::vector<Tensor> w) {
    for (Tensor& t : w) t.requires_grad_();
    return w;
  }
};

template <class Loss> struct GraphStep {
  g::Graph graph;
  g::Output x, y, loss, train;
  std::unique_ptr<g::Session> session;
  GraphStep(Shape xs, const std::function<g::Output(const g::Output&)>& model, double lr, Loss loss_fn) {
    g::DefaultGraph use(graph);
    x = g::placeholder(kFloat32, xs, "x");
    y = g::placeholder(kInt64, {-1}, "y");
    loss = loss_fn(model(x), y);
    train = g::train::GradientDescentOptimizer(lr).minimize(loss);
    session = std::make_unique<g::Session>(graph);
    session->run(g::global_variables_initializer(graph));
  }
  void step(const std::pair<Tensor, Tensor>& b) { session->run({train, loss}, {{x, b.first}, {y, b.second}}); }
};

}  // namespace

int main(int argc, char** argv) {
  bench::EpochArgs args;
  args.steps = 200;
  if (!bench::parse_epoch_args(argc, argv, args)) return 2;
  try {
    std::printf("# layers/ against raw ops, %d threads, %lld alternating steps each, medians\n", get_num_threads(),
                static_cast<long long>(args.steps));
    auto ce = [](const auto& logits, const auto& labels) { return cross_entropy(logits, labels); };
    auto nll = [](const auto& log_probs, const auto& labels) { return nll_loss(log_probs, labels); };
    {
      const bench::EpochData data = bench::load_epoch_data(Device::cpu(), {784}, {}, 64);
      // eager
      EagerRaw raw(mlp_weights(), 0.1);
      manual_seed(0);
      nn::Sequential model(nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 128), nn::ReLU(), nn::Linear(128, 10));
      optim::SGD opt(model->parameters(), {.lr = 0.1});
      race(
          "mlp_step_eager", args.steps,
          [&](int64_t i) {
            auto [x, y] = data.at(i);
            raw.opt.zero_grad();
            Tensor loss = ce(mlp(x, raw.p), y);
            loss.backward();
            raw.opt.step();
          },
          [&](int64_t i) {
            auto [x, y] = data.at(i);
            opt.zero_grad();
            Tensor loss = ce(model(x), y);
            loss.backward();
            opt.step();
          });
      // graph
      std::vector<Tensor> w = mlp_weights();
      GraphStep raw_graph({-1, 784}, [&](const g::Output& x) {
        std::vector<g::Output> v;
        for (const Tensor& t : w) v.push_back(g::Variable(t));
        return mlp(x, v);
      }, 0.1, ce);
      GraphStep layers_graph({-1, 784}, [&](const g::Output& x) { return model(x); }, 0.1, ce);
      race("mlp_step_graph", args.steps, [&](int64_t i) { raw_graph.step(data.at(i)); },
           [&](int64_t i) { layers_graph.step(data.at(i)); });
    }
    {
      const bench::EpochData data = bench::load_epoch_data(Device::cpu(), {1, 28, 28}, {}, 64);
      EagerRaw raw(bench::convnet_weights(), 0.01);
      manual_seed(0);
      seeds::Net model;
      optim::SGD opt(model->parameters(), {.lr = 0.01});
      race(
          "convnet_step_eager", args.steps / 2,
          [&](int64_t i) {
            auto [x, y] = data.at(i);
            raw.opt.zero_grad();
            Tensor loss = nll(bench::convnet(x, raw.p), y);
            loss.backward();
            raw.opt.step();
          },
          [&](int64_t i) {
            auto [x, y] = data.at(i);
            opt.zero_grad();
            Tensor loss = nll(model(x), y);
            loss.backward();
            opt.step();
          });
      std::vector<Tensor> w = bench::convnet_weights();
      GraphStep raw_graph({-1, 1, 28, 28}, [&](const g::Output& x) {
        std::vector<g::Output> v;
        for (const Tensor& t : w) v.push_back(g::Variable(t));
        return bench::convnet(x, v);
      }, 0.01, nll);
      GraphStep layers_graph({-1, 1, 28, 28}, [&](const g::Output& x) { return model(x); }, 0.01, nll);
      race("convnet_step_graph", args.steps / 2, [&](int64_t i) { raw_graph.step(data.at(i)); },
           [&](int64_t i) { layers_graph.step(data.at(i)); });
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
