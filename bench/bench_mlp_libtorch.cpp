// bench/bench_mlp_libtorch.cpp — LibTorch (PyTorch's C++ API) on the step of bench/bench_mlp_step.cpp.
//
// The Python benchmark (bench_mlp_step.py) pays the Python interpreter on every op; this one runs
// the very same ATen kernels and autograd engine from C++, so it shows what PyTorch's eager core
// costs without Python. MLP 784-256-128-10 with ReLU, parameters as plain tensors (x.mm(W) + b, as
// in the Tandem bench), F::cross_entropy, backward(), and torch.optim.SGD's update by hand under
// NoGradGuard: p.sub_(p.grad(), lr), then the gradient is reset (grad = None).
//
// Built only when CMake finds LibTorch (Debian's libtorch-dev): see the guarded block at the end of
// CMakeLists.txt. Same method and output as the Tandem bench: 20 warm-up steps, then steps timed
// one by one for at least --min-time seconds (at least --min-reps steps), median step time;
// `RESULT step_b<B>_libtorch <ms> ms`.
//
//   usage: bench_mlp_libtorch [--threads N (2)] [--min-time S (1)] [--min-reps N (100)] [BATCH ...(1 64)]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <torch/torch.h>

namespace F = torch::nn::functional;

namespace {

constexpr double kLearningRate = 0.01;

std::vector<torch::Tensor> initial_weights() {
  torch::manual_seed(0);
  std::vector<torch::Tensor> p;
  for (auto [in, out] : {std::pair{784, 256}, {256, 128}, {128, 10}}) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));  // nn.Linear's default
    p.push_back(((torch::rand({in, out}) * 2 - 1) * bound).requires_grad_());
    p.push_back(((torch::rand({out}) * 2 - 1) * bound).requires_grad_());
  }
  return p;
}

double step(std::vector<torch::Tensor>& p, const torch::Tensor& x, const torch::Tensor& y) {
  const torch::Tensor h1 = torch::relu(x.mm(p[0]) + p[1]);
  const torch::Tensor h2 = torch::relu(h1.mm(p[2]) + p[3]);
  torch::Tensor loss = F::cross_entropy(h2.mm(p[4]) + p[5], y);
  loss.backward();
  {
    torch::NoGradGuard guard;
    for (torch::Tensor& w : p) {
      w.sub_(w.grad(), kLearningRate);
      w.mutable_grad().reset();  // p.grad = None
    }
  }
  return loss.item<double>();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  double min_time = 1.0;
  size_t min_reps = 100;
  std::vector<int64_t> batches;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (arg == "--min-time" && i + 1 < argc) min_time = std::atof(argv[++i]);
    else if (arg == "--min-reps" && i + 1 < argc) min_reps = static_cast<size_t>(std::atoll(argv[++i]));
    else if (!arg.empty() && arg[0] != '-') batches.push_back(std::atoll(arg.c_str()));
    else {
      std::fprintf(stderr, "usage: %s [--threads N] [--min-time SECONDS] [--min-reps N] [BATCH ...]\n", argv[0]);
      return 2;
    }
  }
  if (batches.empty()) batches = {1, 64};
  at::set_num_threads(threads);
  std::printf("# LibTorch %s MLP training step, float32, %d threads\n", TORCH_VERSION,
              at::get_num_threads());
  for (const int64_t b : batches) {
    std::vector<torch::Tensor> p = initial_weights();
    torch::manual_seed(1);
    const torch::Tensor x = torch::randn({b, 784});
    const torch::Tensor y = torch::randint(0, 10, {b}, torch::kLong);
    for (int i = 0; i < 20; ++i) step(p, x, y);
    std::vector<double> times;
    double total = 0;
    volatile double sink = 0;
    while (total < min_time || times.size() < min_reps) {
      const auto t0 = std::chrono::steady_clock::now();
      sink = sink + step(p, x, y);
      const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      times.push_back(dt);
      total += dt;
    }
    std::printf("# batch %lld: %zu reps\n", static_cast<long long>(b), times.size());
    std::printf("RESULT step_b%lld_libtorch %.4g ms\n", static_cast<long long>(b), median(times) * 1e3);
    std::fflush(stdout);
  }
  return 0;
}
