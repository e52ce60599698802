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
// into one (4. below), and the gradient is never stored. The last line adds the same passes over
// the two smaller layers: the floor of the whole step, not only of its largest layer.
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

// The four loops over one layer's weight, K x N floats, each timed on its own (median of reps).
struct Passes {
  double forward, gradient, update, fused;
  double checksum;  // printed, so that no loop can be optimised away
};
Passes time_passes(int K, int N, int reps) {
  constexpr float lr = 0.01f;
  std::vector<float> w(static_cast<size_t>(K) * N, 0.01f), dw(static_cast<size_t>(K) * N), x(K, 1.0f),
      g(N, 0.5f), h(N);
  float* pw = w.data();
  float* pd = dw.data();
  Passes t{};
  t.forward = median_us([&] {
    std::fill(h.begin(), h.end(), 0.0f);
    for (int p = 0; p < K; ++p) {
      const float a = x[p];
      const float* row = pw + p * N;
#pragma omp simd
      for (int j = 0; j < N; ++j) h[j] += a * row[j];
    }
  }, reps);
  t.gradient = median_us([&] {
    for (int i = 0; i < K; ++i) {
      const float a = x[i];
      float* row = pd + i * N;
#pragma omp simd
      for (int j = 0; j < N; ++j) row[j] = a * g[j];
    }
  }, reps);
  t.update = median_us([&] {
#pragma omp simd
    for (int i = 0; i < K * N; ++i) pw[i] -= lr * pd[i];
  }, reps);
  t.fused = median_us([&] {
    for (int i = 0; i < K; ++i) {
      const float a = -lr * x[i];
      float* row = pw + i * N;
#pragma omp simd
      for (int j = 0; j < N; ++j) row[j] += a * g[j];
    }
  }, reps);
  t.checksum = static_cast<double>(h[3] + w[5]);
  return t;
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
  const Passes first = time_passes(784, 256, reps);
  std::printf("# three passes over a 784 x 256 float32 weight, one thread, median of %d\n", reps);
  std::printf("RESULT floor_forward %.1f us\n", first.forward);
  std::printf("RESULT floor_weight_gradient %.1f us\n", first.gradient);
  std::printf("RESULT floor_sgd_update %.1f us\n", first.update);
  std::printf("RESULT floor_eager_total %.1f us\n", first.forward + first.gradient + first.update);
  std::printf("RESULT floor_fused_gradient_update %.1f us\n", first.fused);
  std::printf("RESULT floor_graph_total %.1f us\n", first.forward + first.fused);

  // The other two layers (256 x 128, 128 x 10) make the same three passes over their smaller
  // weights, and their backward one more: the gradient of their input, g·Wᵀ, which reads W once
  // more, like the forward (the first layer's input, the data, needs none). Timed the same way;
  // their sum with the first layer's is the floor of the whole model's eager step at batch 1.
  double all = first.forward + first.gradient + first.update, checksum = first.checksum;
  for (const auto& [k, n] : {std::pair{256, 128}, {128, 10}}) {
    const Passes p = time_passes(k, n, reps);
    all += 2 * p.forward + p.gradient + p.update;  // the input's gradient reads W like the forward
    checksum += p.checksum;
  }
  std::printf("RESULT floor_eager_total_all_layers %.1f us\n", all);
  std::printf("# (checksum %g)\n", checksum);
  return 0;
}
