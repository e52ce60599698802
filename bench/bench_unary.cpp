// bench/bench_unary.cpp — the transcendental elementwise ops on the CPU: exp, log, tanh, sigmoid,
// softmax and log_softmax of one float32 1024 x 1024 matrix, in milliseconds per call.
//
// These ops are limited by arithmetic, not by memory: 4 MiB in and 4 MiB out take about 0.3 ms
// to stream, while a scalar libm call per element takes several. So the figure measures how well
// the per-element math vectorises (core/ops/vector_math.h explains why std::exp does not). The
// input is standard normal (log gets |x| + 0.1, to stay in its domain); softmax runs over dim 1,
// one row of 1024 logits at a time, as a classifier's output would.
//
// Method: one warm-up call, then --reps timed calls (30); the median time per call.
// Output: `RESULT <op> <ms> ms`, joined by bench/run_all.sh with bench/bench_unary.py.
//
//   usage: bench_unary [--threads N (2)] [--reps R (30)] [--size N (1024)]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/factories.h"
#include "core/ops.h"
#include "core/threads.h"

using namespace tandem;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

double median_ms(const std::function<Tensor()>& op, int reps) {
  Tensor y = op();  // warm-up
  std::vector<double> times;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    y = op();
    const auto t1 = std::chrono::steady_clock::now();
    times.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  // Read one element so that the result cannot be optimised away.
  if (y.data<float>()[0] == 12345.678f) std::printf(" ");
  return median(times);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2, reps = 30;
  int64_t n = 1024;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--threads" && i + 1 < argc)
      threads = std::atoi(argv[++i]);
    else if (arg == "--reps" && i + 1 < argc)
      reps = std::atoi(argv[++i]);
    else if (arg == "--size" && i + 1 < argc)
      n = std::atoll(argv[++i]);
    else {
      std::fprintf(stderr, "usage: %s [--threads N] [--reps R] [--size N]\n", argv[0]);
      return 2;
    }
  }
  set_num_threads(threads);
  std::printf("# Tandem unary ops, float32 %lld x %lld, %d threads, median of %d\n",
              static_cast<long long>(n), static_cast<long long>(n), get_num_threads(), reps);
  manual_seed(0);
  const Tensor x = randn({n, n});
  const Tensor pos = abs(x) + 0.1f;
  const std::vector<std::pair<const char*, std::function<Tensor()>>> cases = {
      {"exp", [&] { return exp(x); }},
      {"log", [&] { return log(pos); }},
      {"tanh", [&] { return tanh(x); }},
      {"sigmoid", [&] { return sigmoid(x); }},
      {"softmax", [&] { return softmax(x, 1); }},
      {"log_softmax", [&] { return log_softmax(x, 1); }},
  };
  for (const auto& [name, op] : cases) {
    std::printf("RESULT %s %.3f ms\n", name, median_ms(op, reps));
    std::fflush(stdout);
  }
  return 0;
}
