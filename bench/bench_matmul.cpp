// bench/bench_matmul.cpp — how fast is Tandem's matmul? float32 square matrices, in GFLOP/s.
//
// Multiplying two n x n matrices takes n³ multiply-adds, 2n³ floating-point operations, so
//
//     GFLOP/s = 2·n³ / seconds / 1e9
//
// is a rate that can be compared across sizes and machines (and against the CPU's peak: cores x
// GHz x FLOPs per cycle). Method: one warm-up call (it pays for first-touch page faults and the
// BLAS thread pool's start), then enough timed calls to fill at least --min-time seconds (at
// least 5), and the *median* time per call: a shared machine has noisy neighbours, and the median
// ignores a few slow outliers where the mean would not.
//
// Output: one line per size, `RESULT <n> <GFLOP/s> GFLOP/s`, the format bench/run_all.sh joins
// with bench/bench_matmul.py (the same measurement with PyTorch) into a table.
//
//   usage: bench_matmul [--threads N (2)] [--min-time SECONDS (0.5)] [SIZE ...(256 1024 2048)]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/factories.h"
#include "core/ops.h"
#include "core/threads.h"

using namespace tandem;

namespace {

double seconds_of_one_call(const Tensor& a, const Tensor& b) {
  const auto t0 = std::chrono::steady_clock::now();
  const Tensor c = matmul(a, b);
  const auto t1 = std::chrono::steady_clock::now();
  // Read one element so that the product cannot be optimised away.
  if (c.data<float>()[0] == 12345.678f) std::printf(" ");
  return std::chrono::duration<double>(t1 - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  double min_time = 0.5;
  std::vector<int64_t> sizes;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (arg == "--min-time" && i + 1 < argc) min_time = std::atof(argv[++i]);
    else if (!arg.empty() && arg[0] != '-') sizes.push_back(std::atoll(arg.c_str()));
    else {
      std::fprintf(stderr, "usage: %s [--threads N] [--min-time SECONDS] [SIZE ...]\n", argv[0]);
      return 2;
    }
  }
  if (sizes.empty()) sizes = {256, 1024, 2048};
  set_num_threads(threads);

  std::printf("# Tandem matmul, float32, %d threads\n", get_num_threads());
  manual_seed(0);
  for (const int64_t n : sizes) {
    const Tensor a = randn({n, n}), b = randn({n, n});
    const double first = seconds_of_one_call(a, b);  // warm-up
    const int reps = std::max(5, static_cast<int>(min_time / std::max(first, 1e-6)) + 1);
    std::vector<double> times;
    for (int r = 0; r < reps; ++r) times.push_back(seconds_of_one_call(a, b));
    const double t = median(times);
    const double gflops = 2.0 * static_cast<double>(n) * n * n / t / 1e9;
    std::printf("# n=%lld reps=%d median=%.6f s\n", static_cast<long long>(n), reps, t);
    std::printf("RESULT %lld %.2f GFLOP/s\n", static_cast<long long>(n), gflops);
    std::fflush(stdout);
  }
  return 0;
}
