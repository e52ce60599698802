// bench/bench_step_floor.cpp — the least time a batch-1 eager training step can take.
//
// At batch 1, bench_mlp_step's first layer (784 x 256 floats, 784 KiB) dominates the step, and
// eager semantics (PyTorch's) fix three passes over arrays of that size:
//   1. the forward product x · W1      reads W1
//   2. the weight gradient xᵀ · g      writes dW1 (an outer product), into w.grad
//   3. the SGD update W1 -= lr · dW1   reads W1 and dW1, writes W1
// Each is timed here as the plainest vectorised loop, with no framework around it: their sum is
// a floor for any eager engine on this machine, to compare with the whole step's time (see
// bench/RESULTS.md). Graph mode can go below it: its update-fusion pass merges passes 2 and 3
// into one (4. below), and the gradient is never stored.
//
//   usage: bench_step_floor [--reps N (2000)]       prints RESULT lines (microseconds, medians)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

template <typename F> double median_us(F&& f, int reps) {
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto a = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 2000;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--reps" && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (arg == "--threads" && i + 1 < argc) ++i;  // run_all.sh passes it; the loops use one thread
    else {
      std::fprintf(stderr, "usage: %s [--reps N]\n", argv[0]);
      return 2;
    }
  }
  constexpr int K = 784, N = 256;
  constexpr float lr = 0.01f;
  std::vector<float> w(K * N, 0.01f), dw(K * N), x(K, 1.0f), g(N, 0.5f), h(N);
  float* pw = w.data();
  float* pd = dw.data();

  const double forward = median_us([&] {
    std::fill(h.begin(), h.end(), 0.0f);
    for (int p = 0; p < K; ++p) {
      const float a = x[p];
      const float* row = pw + p * N;
#pragma omp simd
      for (int j = 0; j < N; ++j) h[j] += a * row[j];
    }
  }, reps);
  const double gradient = median_us([&] {
    for (int i = 0; i < K; ++i) {
      const float a = x[i];
      float* row = pd + i * N;
#pragma omp simd
      for (int j = 0; j < N; ++j) row[j] = a * g[j];
    }
  }, reps);
  const double update = median_us([&] {
#pragma omp simd
    for (int i = 0; i < K * N; ++i) pw[i] -= lr * pd[i];
  }, reps);
  const double fused = median_us([&] {
    for (int i = 0; i < K; ++i) {
      const float a = -lr * x[i];
      float* row = pw + i * N;
#pragma omp simd
      for (int j = 0; j < N; ++j) row[j] += a * g[j];
    }
  }, reps);

  std::printf("# three passes over a 784 x 256 float32 weight, one thread, median of %d\n", reps);
  std::printf("RESULT floor_forward %.1f us\n", forward);
  std::printf("RESULT floor_weight_gradient %.1f us\n", gradient);
  std::printf("RESULT floor_sgd_update %.1f us\n", update);
  std::printf("RESULT floor_eager_total %.1f us\n", forward + gradient + update);
  std::printf("RESULT floor_fused_gradient_update %.1f us\n", fused);
  std::printf("RESULT floor_graph_total %.1f us\n", forward + fused);
  std::printf("# (checksum %g)\n", static_cast<double>(h[3] + w[5]));
  return 0;
}
