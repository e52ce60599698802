// bench/bench_mlp_step.cpp — one training step of a small MLP, eager and graph mode, timed.
//
// The step every beginner's training loop repeats: an MLP 784-256-128-10 with ReLU, forward,
// cross-entropy, backward, and a plain SGD update of the six parameters. At batch 1 the arithmetic
// is tiny (about 0.7 million multiply-adds, most of them streaming the 784x256 weight), so the
// time per step is dominated by *overhead*: per-op dispatch, allocation, recording the tape,
// walking it backward, starting thread teams. That is exactly where the two paradigms differ:
//   - eager mode pays the overhead on every op of every step (shape rule, allocation, tape node);
//   - graph mode pays it once, when the Session plans the graph, and then only runs kernels into
//     buffers it already has. With the passes on, it also fuses elementwise chains and reuses
//     memory by liveness.
// At batch 64 the arithmetic grows 64-fold and the GEMMs start to matter.
//
// The model is written once, as a template (as in examples/01_side_by_side.cpp), and instantiated
// with Tensor (eager) and graph::Output (graph). Cross-entropy (layers/simple_losses.h) is the gather form,
//     loss = -mean_b log_softmax(logits)[b, y_b]
// which is what PyTorch's F.cross_entropy computes (log_softmax, then nll_loss, a gather).
// The update is what torch.optim.SGD does: w -= lr * dL/dw, then the gradient is cleared.
//
// Method: the same initial weights and batch for every variant; warm-up steps (the first graph run
// plans, the first eager steps warm the allocator and the caches), then each step timed on its own
// for at least --min-time seconds (at least --min-reps steps), and the *median* step time (a shared
// machine has noisy neighbours; the median ignores the slow outliers a mean would average in).
// Peak memory: the high-water mark of tensor memory during one step, above what was in use before
// it (weights and the batch are not counted): eager via memory_stats(), graph via
// Session::last_run_stats().peak_bytes.
//
// Output: `RESULT <case> <value> <unit>` lines (see bench/README.md), e.g.
//     RESULT step_b1_eager 0.120 ms        RESULT peak_b1_graph 105.3 KB
//
//   usage: bench_mlp_step [--threads N (2)] [--min-time SECONDS (1)] [--min-reps N (100)]
//                         [--only eager|graph|graph_nopasses] [--sizes IN,H1,H2 (784,256,128)]
//                         [BATCH ...(1 64)]
//   (--only runs one variant, for profiling it alone: perf record -g bench_mlp_step --only eager 1)
//   (--sizes 8,8,8 runs the same ops on an MLP 8-8-8-10, whose arithmetic is negligible: what is
//    left of the step is the engine's per-op overhead — dispatch, allocation, tape, backward walk)
//
// Twins: bench/bench_mlp_step.py (PyTorch), bench/bench_mlp_libtorch.cpp (LibTorch, C++).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "core/threads.h"
#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;

namespace {

constexpr double kLearningRate = 0.01;

// ---- the model, written once for both modes ------------------------------------------------------

template <class T> T mlp(const T& x, const std::vector<T>& p) {
  T h1 = relu(matmul(x, p[0]) + p[1]);
  T h2 = relu(matmul(h1, p[2]) + p[3]);
  return matmul(h2, p[4]) + p[5];
}

// The loss is cross_entropy from layers/simple_losses.h (labels: int64 [B]).

// The layer sizes: input, first hidden, second hidden (the output is 10 classes).
struct Sizes {
  int64_t in = 784, h1 = 256, h2 = 128;
};

std::vector<Tensor> initial_weights(const Sizes& s) {
  manual_seed(0);
  std::vector<Tensor> p;
  for (auto [in, out] : {std::pair{s.in, s.h1}, {s.h1, s.h2}, {s.h2, int64_t{10}}}) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));  // nn.Linear's default
    p.push_back((rand({in, out}) * 2 - 1) * bound);
    p.push_back((rand({out}) * 2 - 1) * bound);
  }
  return p;
}

// ---- timing ----------------------------------------------------------------------------------

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

struct Timing {
  double median_s;
  size_t reps;
};

// Warm-up, then steps timed one by one until both min_time and min_reps are reached.
Timing time_steps(const std::function<double()>& step, double min_time, size_t min_reps) {
  for (int i = 0; i < 20; ++i) step();
  std::vector<double> times;
  double total = 0;
  volatile double sink = 0;  // the losses, so that nothing can be optimised away
  while (total < min_time || times.size() < min_reps) {
    const auto t0 = std::chrono::steady_clock::now();
    sink = sink + step();
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    times.push_back(dt);
    total += dt;
  }
  return {median(times), times.size()};
}

// ---- eager mode: PyTorch's loop ------------------------------------------------------------------

struct Eager {
  std::vector<Tensor> p;
  Tensor x, y;

  double step() const {
    Tensor loss = cross_entropy(mlp(x, p), y);
    loss.backward();
    {
      no_grad guard;  // optimizer.step(), by hand
      for (const Tensor& w : p) {
        w.sub_(w.grad(), kLearningRate);
        w.set_grad(Tensor());  // optimizer.zero_grad(set_to_none=True)
      }
    }
    return loss.item();
  }
};

// ---- graph mode: TensorFlow 1's loop -------------------------------------------------------------

struct GraphStep {
  g::Graph graph;
  g::Output x, y, loss, train;
  std::unique_ptr<g::Session> session;
  Tensor xb, yb;

  GraphStep(const std::vector<Tensor>& init, const Tensor& xv, const Tensor& yv, bool passes)
      : xb(xv), yb(yv) {
    const int64_t inputs = xv.size(1);
    g::DefaultGraph use(graph);
    x = g::placeholder(kFloat32, {-1, inputs}, "x");
    y = g::placeholder(kInt64, {-1}, "y");
    std::vector<g::Output> v;
    for (size_t k = 0; k < init.size(); ++k)
      v.push_back(g::Variable(init[k].clone(), true, "p" + std::to_string(k)));
    loss = cross_entropy(mlp(x, v), y);
    const std::vector<g::Output> grads = g::gradients({loss}, v);
    std::vector<g::Output> updates;
    for (size_t k = 0; k < v.size(); ++k) updates.push_back(g::assign_sub(v[k], grads[k] * kLearningRate));
    train = g::group(updates, "train");
    session = std::make_unique<g::Session>(graph, passes ? g::SessionOptions{} : g::SessionOptions::no_passes());
    session->run(g::global_variables_initializer(graph));
    graph.finalize();
  }

  double step() const {
    const std::vector<Tensor> out = session->run({train, loss}, {{x, xb}, {y, yb}});
    return out[1].item();
  }
};

// Peak tensor memory of one eager step, above what was in use before it.
int64_t eager_peak_bytes(const Eager& e) {
  reset_peak_memory_stats();
  const int64_t before = memory_stats().bytes_in_use;
  e.step();
  return memory_stats().peak_bytes - before;
}

void result(const std::string& name, double value, const char* unit) {
  std::printf("RESULT %s %.4g %s\n", name.c_str(), value, unit);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  double min_time = 1.0;
  size_t min_reps = 100;
  std::string only;
  std::vector<int64_t> batches;
  Sizes sizes;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (arg == "--min-time" && i + 1 < argc) min_time = std::atof(argv[++i]);
    else if (arg == "--min-reps" && i + 1 < argc) min_reps = static_cast<size_t>(std::atoll(argv[++i]));
    else if (arg == "--only" && i + 1 < argc) only = argv[++i];
    else if (arg == "--sizes" && i + 1 < argc) {
      long long in = 0, h1 = 0, h2 = 0;
      if (std::sscanf(argv[++i], "%lld,%lld,%lld", &in, &h1, &h2) != 3 || in < 1 || h1 < 1 || h2 < 1) {
        std::fprintf(stderr, "--sizes takes three positive sizes, IN,H1,H2 (e.g. 784,256,128), got '%s'\n", argv[i]);
        return 2;
      }
      sizes = {in, h1, h2};
    }
    else if (!arg.empty() && arg[0] != '-') batches.push_back(std::atoll(arg.c_str()));
    else {
      std::fprintf(stderr, "usage: %s [--threads N] [--min-time SECONDS] [--min-reps N] [--only VARIANT] "
                           "[--sizes IN,H1,H2] [BATCH ...]\n", argv[0]);
      return 2;
    }
  }
  if (batches.empty()) batches = {1, 64};
  try {
    set_num_threads(threads);
    std::printf("# Tandem MLP %lld-%lld-%lld-10 training step (forward, cross-entropy, backward, SGD), "
                "float32, %d threads\n", static_cast<long long>(sizes.in), static_cast<long long>(sizes.h1),
                static_cast<long long>(sizes.h2), get_num_threads());
    const std::vector<Tensor> init = initial_weights(sizes);
    for (const int64_t b : batches) {
      manual_seed(1);
      const Tensor x = randn({b, sizes.in});
      const Tensor y = randint(0, 10, {b});
      const std::string tag = "_b" + std::to_string(b);

      Eager eager;
      for (const Tensor& t : init) eager.p.push_back(t.clone().requires_grad_());
      eager.x = x;
      eager.y = y;
      GraphStep with_passes(init, x, y, true), no_passes(init, x, y, false);

      // Each variant: its median step time, then the peak memory of one more step.
      auto measure = [&](const std::string& variant, const std::function<double()>& step,
                         const std::function<int64_t()>& peak) {
        if (!only.empty() && only != variant) return;
        const Timing t = time_steps(step, min_time, min_reps);
        std::printf("# batch %lld, %s: %zu steps timed\n", static_cast<long long>(b), variant.c_str(), t.reps);
        result("step" + tag + "_" + variant, t.median_s * 1e3, "ms");
        result("peak" + tag + "_" + variant, static_cast<double>(peak()) / 1024.0, "KiB");
      };
      auto graph_peak = [&](const GraphStep& gs) {
        gs.step();
        const g::RunStats& st = gs.session->last_run_stats();
        std::printf("# graph: %lld nodes, %lld steps planned, %lld kernels launched per step\n",
                    static_cast<long long>(st.nodes_in_graph), static_cast<long long>(st.steps_planned),
                    static_cast<long long>(st.kernels_launched));
        return st.peak_bytes;
      };
      measure("eager", [&] { return eager.step(); }, [&] { return eager_peak_bytes(eager); });
      measure("graph", [&] { return with_passes.step(); }, [&] { return graph_peak(with_passes); });
      measure("graph_nopasses", [&] { return no_passes.step(); }, [&] { return graph_peak(no_passes); });
      std::fflush(stdout);
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
