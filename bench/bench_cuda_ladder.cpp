// bench/bench_cuda_ladder.cpp — the matmul ladder on the GPU: each rung against cuBLAS.
//
// The rungs of cuda/matmul_ladder.cu — naive (one thread per output), shared-memory tiles,
// register tiles — and cuBLAS, each timed on float32 n x n · n x n products (n = 1024, 2048,
// 4096 by default): GFLOP/s = 2n³ / time, and each rung's fraction of cuBLAS. Also Tandem's
// `matmul` op on CUDA tensors, which calls cuBLAS, to show what the op adds around it. Issue 5's
// targets: register tiles >= 50% of cuBLAS at 4096; the matmul op >= 0.95x torch.mm on the same
// GPU (bench/bench_cuda_ladder.py measures torch.mm, when a CUDA PyTorch is installed).
//
// Method: per rung and size, one warm-up call, then calls until 0.5 s (at least 5), each
// bracketed by cuda::synchronize() so that the time is the GPU's; the median.
//
//   usage: bench_cuda_ladder [SIZE ...]        (without a GPU, or a CUDA build, it says so)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "tandem.h"

#ifdef TANDEM_HAVE_CUDA
#include "cuda/cuda.h"
#endif

using namespace tandem;

int main(int argc, char** argv) {
  std::vector<int64_t> sizes;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--threads" && i + 1 < argc) ++i;  // run_all.sh passes it; the GPU ignores it
    else sizes.push_back(std::atoll(argv[i]));
  }
  if (sizes.empty()) sizes = {1024, 2048, 4096};
#ifndef TANDEM_HAVE_CUDA
  std::printf("# bench_cuda_ladder: this build has no CUDA backend (configure with -DTANDEM_CUDA=ON)\n");
  return 0;
#else
  try {
    if (!cuda::is_available()) {
      std::printf("# bench_cuda_ladder: no CUDA device on this machine\n");
      return 0;
    }
    std::printf("# %s\n", cuda::device_name().c_str());
    using Product = std::function<Tensor(const Tensor&, const Tensor&)>;
    const std::vector<std::pair<std::string, Product>> rungs = {
        {"naive", cuda::matmul_naive},
        {"tiled", cuda::matmul_tiled},
        {"register_tiled", cuda::matmul_register_tiled},
        {"cublas", cuda::matmul_cublas},
        {"matmul_op", [](const Tensor& a, const Tensor& b) { return matmul(a, b); }},
    };
    for (const int64_t n : sizes) {
      manual_seed(0);
      const Tensor a = randn({n, n}).to(Device::cuda()), b = randn({n, n}).to(Device::cuda());
      double cublas_rate = 0;
      for (const auto& [name, f] : rungs) {
        f(a, b);  // warm-up: the first call pays for loading the kernel and cuBLAS's handle
        cuda::synchronize();
        std::vector<double> times;
        double total = 0;
        while (total < 0.5 || times.size() < 5) {
          const auto t0 = std::chrono::steady_clock::now();
          f(a, b);
          cuda::synchronize();
          const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          times.push_back(dt);
          total += dt;
          if (name == "naive" && total > 5) break;  // the naive rung at 4096 is slow: enough samples
        }
        std::sort(times.begin(), times.end());
        const double rate = 2.0 * static_cast<double>(n) * n * n / times[times.size() / 2] / 1e9;
        if (name == "cublas") cublas_rate = rate;
        std::printf("RESULT %s_%lld %.1f GFLOP/s\n", name.c_str(), static_cast<long long>(n), rate);
      }
      std::printf("# n = %lld: each rung as a fraction of cuBLAS is in the lines above; cuBLAS %.1f GFLOP/s\n",
                  static_cast<long long>(n), cublas_rate);
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
#endif
}
