// bench/bench_op_cost_libtorch.cpp — LibTorch (PyTorch's C++ API) on the chains of bench_op_cost.cpp.
//
// The same four cases, the same [1, 10] float32 tensor, chains of 64 calls, median per op in ns:
// what PyTorch's eager core (ATen's dispatcher, its TensorImpl, its autograd Nodes) costs per call
// without the Python interpreter around it. Built only when CMake finds LibTorch (Debian's
// libtorch-dev), on demand: ninja bench_op_cost_libtorch.
//
//   usage: bench_op_cost_libtorch [--threads N (1)] [--reps N (3000)]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <torch/torch.h>

namespace {

constexpr int kChain = 64;

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
  at::set_num_threads(threads);
  torch::manual_seed(0);
  torch::Tensor x = torch::randn({1, 10}).requires_grad_();
  const torch::Tensor g = torch::randn({1, 10});

  const double tail = ns_per_op([&] { x.sum().backward(); x.mutable_grad().reset(); }, reps, 1);
  auto chain_backward = [&](auto&& link) {
    return ns_per_op([&] {
      torch::Tensor y = x;
      for (int i = 0; i < kChain; ++i) y = link(y);
      y.sum().backward();
      x.mutable_grad().reset();
    }, reps, 1) - tail;
  };
  const double no_grad_op = ns_per_op([&] {
    torch::NoGradGuard guard;
    torch::Tensor y = x;
    for (int i = 0; i < kChain; ++i) y = -y;
  }, reps, kChain);
  const double recorded = chain_backward([](const torch::Tensor& y) { return -y; }) / kChain;
  const double view =
      chain_backward([](const torch::Tensor& y) { return y.reshape({10, 1}).reshape({1, 10}); }) / (2 * kChain);
  const double inplace = ns_per_op([&] {
    torch::NoGradGuard guard;
    for (int i = 0; i < kChain; ++i) x.sub_(g, 1e-9);
  }, reps, kChain);

  std::printf("# LibTorch %s: one op call on a [1, 10] float32 tensor, %d thread(s), chains of %d, median of %d\n",
              TORCH_VERSION, at::get_num_threads(), kChain, reps);
  std::printf("RESULT op_no_grad %.1f ns\n", no_grad_op);
  std::printf("RESULT op_forward_backward %.1f ns\n", recorded);
  std::printf("RESULT view_forward_backward %.1f ns\n", view);
  std::printf("RESULT inplace_no_grad %.1f ns\n", inplace);
  return 0;
}
