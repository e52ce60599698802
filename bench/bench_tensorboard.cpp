// bench/bench_tensorboard.cpp — what logging a scalar every step costs a training loop.
//
// The question (issue 15's figure): does `writer.add_scalar("loss", loss, step)` on every step of
// an MLP 784-256-128-10 training loop cost more than 2% of the step? Both modes:
//   - eager: the tape step (forward, cross-entropy, backward, SGD), then add_scalar("loss", loss, step);
//   - graph: sess.run({train_op, loss}) against sess.run({train_op, loss_summary}) followed by
//     FileWriter::add_summary(record, step) — the summary op is part of the same run, as in TF1.
// The plain variant of each reads the loss as well (loss.item(), or fetching `loss`): a training
// loop prints it anyway, so what is measured is what logging adds on top.
//
// Method. A difference of a few microseconds on a step of about a millisecond is far below the
// noise of a shared machine, so it is measured two ways:
//   1. interleaved blocks in one process: 25 steps plain, 25 steps logged, plain, logged ... for
//      --rounds rounds; each block's median step time, then the median over blocks of each variant,
//      and their ratio (logged / plain) — a burst of outside load hits both variants alike;
//   2. the logging calls alone, many times in a loop (add_scalar; the summary op's extra run cost
//      is inside method 1 only), median per call, as a fraction of the plain step: the precise
//      figure, which the ratio of method 1 must agree with to within its noise.
// Plus what durability costs: one flush() (write + fsync of the queued events) — which, with
// PyTorch's defaults the writer keeps (flush_secs 120), happens once every two minutes.
// The event files go to --logdir (default: a folder under /tmp, removed at the end).
//
// Output: RESULT lines (bench/README.md), e.g. `RESULT eager_b64_logged_over_plain 1.002 x`.
//
//   usage: bench_tensorboard [--threads N (2)] [--rounds N (20)] [--logdir DIR] [BATCH ...(64 1)]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/threads.h"
#include "io/summary_ops.h"
#include "io/summary_writer.h"
#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;
namespace fs = std::filesystem;

namespace {

constexpr double kLearningRate = 0.01;
constexpr int kBlock = 25;

template <class T> T mlp(const T& x, const std::vector<T>& p) {
  T h1 = relu(matmul(x, p[0]) + p[1]);
  T h2 = relu(matmul(h1, p[2]) + p[3]);
  return matmul(h2, p[4]) + p[5];
}

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

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

// The median step of one block of kBlock steps.
double block(const std::function<void()>& step) {
  std::vector<double> t;
  for (int i = 0; i < kBlock; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    step();
    t.push_back(seconds_since(t0));
  }
  return median(t);
}

void result(const std::string& name, double value, const char* unit) {
  std::printf("RESULT %s %.4g %s\n", name.c_str(), value, unit);
}

// Method 1 for one pair of step functions: returns {plain median, logged median}.
std::pair<double, double> interleaved(const std::function<void()>& plain, const std::function<void()>& logged,
                                      int rounds) {
  for (int i = 0; i < 10; ++i) plain(), logged();  // warm-up: allocator, caches, the graph's plans
  std::vector<double> p, l;
  for (int r = 0; r < rounds; ++r) {
    p.push_back(block(plain));
    l.push_back(block(logged));
  }
  return {median(p), median(l)};
}

// Method 2: `call` alone, `n` times, median per call over 20 batches of n/20.
double per_call(const std::function<void()>& call, int n) {
  std::vector<double> t;
  for (int b = 0; b < 20; ++b) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n / 20; ++i) call();
    t.push_back(seconds_since(t0) / (n / 20));
  }
  return median(t);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2, rounds = 20;
  std::string logdir = (fs::temp_directory_path() / ("tandem_bench_tensorboard_" + std::to_string(getpid()))).string();
  std::vector<int64_t> batches;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (arg == "--rounds" && i + 1 < argc) rounds = std::atoi(argv[++i]);
    else if (arg == "--logdir" && i + 1 < argc) logdir = argv[++i];
    else if (!arg.empty() && arg[0] != '-') batches.push_back(std::atoll(arg.c_str()));
    else {
      std::fprintf(stderr, "usage: %s [--threads N] [--rounds N] [--logdir DIR] [BATCH ...]\n", argv[0]);
      return 2;
    }
  }
  if (batches.empty()) batches = {64, 1};
  try {
    set_num_threads(threads);
    std::printf("# logging a scalar every step of an MLP 784-256-128-10 training step, %d threads, "
                "%d rounds of %d + %d steps, event files in %s\n", get_num_threads(), rounds, kBlock, kBlock,
                logdir.c_str());
    const std::vector<Tensor> init = initial_weights();
    for (const int64_t b : batches) {
      manual_seed(1);
      const Tensor x = randn({b, 784}), y = randint(0, 10, {b});
      const std::string tag = "_b" + std::to_string(b);

      // ---- eager -------------------------------------------------------------------------------------
      std::vector<Tensor> p;
      for (const Tensor& w : init) p.push_back(w.clone().requires_grad_());
      optim::SGD opt(p, {.lr = kLearningRate});
      tensorboard::SummaryWriter writer(logdir + "/eager" + tag);
      int64_t step = 0;
      volatile double sink = 0;
      auto eager_step = [&] {
        opt.zero_grad();
        Tensor loss = cross_entropy(mlp(x, p), y);
        loss.backward();
        opt.step();
        return loss;
      };
      const auto [eager_plain, eager_logged] = interleaved([&] { sink = sink + eager_step().item(); },
                                                           [&] { writer.add_scalar("loss", eager_step(), step++); },
                                                           rounds);
      result("eager" + tag + "_plain", eager_plain * 1e3, "ms");
      result("eager" + tag + "_logged", eager_logged * 1e3, "ms");
      result("eager" + tag + "_logged_over_plain", eager_logged / eager_plain, "x");
      const Tensor loss_value = tensor(0.5f);
      const double call = per_call([&] { writer.add_scalar("loss", loss_value, step++); }, 200000);
      result("add_scalar", call * 1e6, "us");
      result("add_scalar_over_eager" + tag + "_step", 100 * call / eager_plain, "%");
      const double flush = per_call([&] {
        for (int i = 0; i < 10; ++i) writer.add_scalar("loss", 0.5, step++);
        writer.flush();
      }, 200);
      result("flush_10_events_fsync", flush * 1e3, "ms");
      writer.close();

      // ---- graph -------------------------------------------------------------------------------------
      g::Graph graph;
      g::DefaultGraph use(graph);
      const g::Output gx = g::placeholder(kFloat32, {-1, 784}, "x"), gy = g::placeholder(kInt64, {-1}, "y");
      std::vector<g::Output> v;
      for (const Tensor& w : init) v.push_back(g::Variable(w.clone()));
      const g::Output loss = cross_entropy(mlp(gx, v), gy);
      const g::Output train = g::train::GradientDescentOptimizer(kLearningRate).minimize(loss);
      const g::Output summary = g::summary::scalar("loss", loss);
      g::Session sess(graph);
      sess.run(g::global_variables_initializer(graph));
      graph.finalize();
      g::summary::FileWriter file_writer(logdir + "/graph" + tag, &graph);
      const g::FeedDict feeds = {{gx, x}, {gy, y}};
      const auto [graph_plain, graph_logged] = interleaved(
          [&] { sink = sink + sess.run({train, loss}, feeds)[1].item(); },
          [&] { file_writer.add_summary(sess.run({train, summary}, feeds)[1], step++); }, rounds);
      result("graph" + tag + "_plain", graph_plain * 1e3, "ms");
      result("graph" + tag + "_logged", graph_logged * 1e3, "ms");
      result("graph" + tag + "_logged_over_plain", graph_logged / graph_plain, "x");
      const Tensor record = sess.run(summary, feeds);
      const double add = per_call([&] { file_writer.add_summary(record, step++); }, 200000);
      result("add_summary", add * 1e6, "us");
      result("add_summary_over_graph" + tag + "_step", 100 * add / graph_plain, "%");
      file_writer.close();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_tensorboard: %s\n", e.what());
    return 1;
  }
  fs::remove_all(logdir);
  return 0;
}
