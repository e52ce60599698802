// bench/bench_op_cost.cpp — what one eager op call costs when its arithmetic is nothing.
//
// At batch 1 a training step is mostly bookkeeping: bench_mlp_step's 784-256-128-10 step makes 14
// recorded op calls forward (3 matmul, 3 add, 2 relu, and cross-entropy's log_softmax,
// check_labels, unsqueeze, gather, mean, neg), about 29 backward, and 6 in-place updates. Beside
// the passes over the weights (bench_step_floor's plain loops), each call pays for the same few
// things, whatever it computes: checking its inputs and working out the output's shape, allocating
// the output (its TensorImpl, its Storage, its bytes), and with grad on, a tape Node that keeps
// the inputs it needs; backward then walks the Nodes and calls each rule, itself made of ops.
//
// The cases time chains of K calls on a [1, 10] float32 tensor, so that only that cost is left:
//   op_no_grad              y = -y under no_grad: an op call without the tape
//   op_forward_backward     y = -y with grad on, then backward through the chain: one recorded
//                           op, its Node, and its rule (dx = -g, one more op call) — the least a
//                           differentiable op can cost here
//   view_forward_backward   the same with a view (y.reshape), which allocates no bytes
//   inplace_no_grad         w.sub_(g, lr) under no_grad: the optimizer's update of one parameter
// Each prints the median over repetitions, per op, in ns. The PyTorch twins run the same chains:
// bench_op_cost.py (from Python, the interpreter included) and bench_op_cost_libtorch.cpp (from
// C++, built on demand). bench/RESULTS.md uses these figures to bound what the batch-1 step's
// bookkeeping can cost.
//
//   usage: bench_op_cost [--threads N (1)] [--reps N (3000)]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/threads.h"
#include "tandem.h"

using namespace tandem;

namespace {

constexpr int kChain = 64;  // op calls per timed chain

// Median of `reps` timings of f, after a warm-up, in ns per op (f makes `ops` op calls).
template <typename F> double ns_per_op(F&& f, int reps, int ops) {
  for (int i = 0; i < 100; ++i) f();
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto a = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2] / ops;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1, reps = 3000;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (arg == "--reps" && i + 1 < argc) reps = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: %s [--threads N] [--reps N]\n", argv[0]);
      return 2;
    }
  }
  set_num_threads(threads);
  const Tensor x = randn({1, 10}).requires_grad_();
  const Tensor g = randn({1, 10});

  // The backward chains end in sum() and its backward: timed alone and taken off.
  const double tail = ns_per_op([&] { sum(x).backward(); x.set_grad(Tensor()); }, reps, 1);
  auto chain_backward = [&](auto&& link) {
    return ns_per_op([&] {
      Tensor y = x;
      for (int i = 0; i < kChain; ++i) y = link(y);
      sum(y).backward();
      x.set_grad(Tensor());
    }, reps, 1) - tail;
  };

  const double no_grad_op = ns_per_op([&] {
    no_grad guard;
    Tensor y = x;
    for (int i = 0; i < kChain; ++i) y = -y;
  }, reps, kChain);
  const double recorded = chain_backward([](const Tensor& y) { return -y; }) / kChain;
  const double view =
      chain_backward([](const Tensor& y) { return y.reshape({10, 1}).reshape({1, 10}); }) / (2 * kChain);
  const double inplace = ns_per_op([&] {
    no_grad guard;
    for (int i = 0; i < kChain; ++i) x.sub_(g, 1e-9);
  }, reps, kChain);

  std::printf("# Tandem: one op call on a [1, 10] float32 tensor, %d thread(s), chains of %d, median of %d\n",
              get_num_threads(), kChain, reps);
  std::printf("RESULT op_no_grad %.1f ns\n", no_grad_op);
  std::printf("RESULT op_forward_backward %.1f ns\n", recorded);
  std::printf("RESULT view_forward_backward %.1f ns\n", view);
  std::printf("RESULT inplace_no_grad %.1f ns\n", inplace);
  return 0;
}
