// bench/bench_mlp_gemm_floor.cpp — the least time a batch-64 MLP training step can take.
//
// At batch 64, bench_mlp_step's step (MLP 784-256-128-10) is GEMMs: three forward products, and in
// backward, for each layer, the weight gradient Xᵀ·G and (except for the first layer, whose input
// needs no gradient) the input gradient G·Wᵀ. Eight products in all, timed here one by one, each
// called exactly as core/ops/matmul.cpp calls OpenBLAS (row-major, a transposed operand passed
// with BLAS's 'T' flag, never copied):
//
//     product              m x k  ·  k x n          multiply-adds
//     h1  = x  · W1        64 x 784 · 784 x 256     12.85 M
//     h2  = h1 · W2        64 x 256 · 256 x 128      2.10 M
//     z   = h2 · W3        64 x 128 · 128 x 10       0.08 M
//     dW1 = xᵀ · g1       784 x 64  ·  64 x 256     12.85 M
//     dW2 = h1ᵀ· g2       256 x 64  ·  64 x 128      2.10 M
//     dh1 = g2 · W2ᵀ       64 x 128 · 128 x 256      2.10 M
//     dW3 = h2ᵀ· g3       128 x 64  ·  64 x 10       0.08 M
//     dh2 = g3 · W3ᵀ       64 x 10  ·  10 x 128      0.08 M
//                                                   -------
//                                                   32.2 M multiply-adds = 64.5 MFLOP
//
// The sum of their times is the GEMM floor of the step: no engine that calls this BLAS can run the
// step faster (PyTorch calls the same OpenBLAS). Besides the GEMMs a step must at least run the SGD
// update, one pass over the 235,146 parameters and their gradients, timed last as a plain loop.
// Times are the median CPU time of one call (CLOCK_PROCESS_CPUTIME_ID: on a shared machine a
// neighbour's work does not count), on one thread.
//
//   usage: bench_mlp_gemm_floor [--reps N (400)] [--batch B (64)]   prints RESULT lines (µs)
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#ifdef TANDEM_HAVE_OPENBLAS
extern "C" {
// From OpenBLAS's cblas.h (RowMajor 101, NoTrans 111, Trans 112), as core/ops/matmul.cpp declares it.
void cblas_sgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float* a,
                 int lda, const float* b, int ldb, float beta, float* c, int ldc);
void openblas_set_num_threads(int n);
}
#endif

namespace {

double cpu_us() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) * 1e-3;
}

template <typename F> double median_us(F&& f, int reps) {
  for (int r = 0; r < 5; ++r) f();  // warm-up: the buffers' pages, OpenBLAS's start
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const double a = cpu_us();
    f();
    t.push_back(cpu_us() - a);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// One product of the step: C [m, n] = op(A) · op(B), A stored [m, k] (or [k, m] when transposed).
struct Product {
  const char* name;
  int m, k, n;
  bool trans_a, trans_b;
};

}  // namespace

int main(int argc, char** argv) {
  int reps = 400, batch = 64;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--reps" && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (arg == "--batch" && i + 1 < argc) batch = std::atoi(argv[++i]);
    else if (arg == "--threads" && i + 1 < argc) ++i;  // run_all.sh passes it; this runs one thread
    else {
      std::fprintf(stderr, "usage: %s [--reps N] [--batch B]\n", argv[0]);
      return 2;
    }
  }
#ifndef TANDEM_HAVE_OPENBLAS
  std::fprintf(stderr, "bench_mlp_gemm_floor: this build has no OpenBLAS (configure with it found)\n");
  return 1;
#else
  openblas_set_num_threads(1);
  const int B = batch;
  const Product products[] = {
      {"h1=x*W1", B, 784, 256, false, false},    {"h2=h1*W2", B, 256, 128, false, false},
      {"z=h2*W3", B, 128, 10, false, false},     {"dW1=xT*g1", 784, B, 256, true, false},
      {"dW2=h1T*g2", 256, B, 128, true, false},  {"dh1=g2*W2T", B, 128, 256, false, true},
      {"dW3=h2T*g3", 128, B, 10, true, false},   {"dh2=g3*W3T", B, 10, 128, false, true},
  };
  constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;
  std::printf("# the GEMMs of one batch-%d step of the MLP 784-256-128-10, OpenBLAS sgemm, one thread, "
              "median CPU time of %d calls\n", B, reps);
  double total_us = 0, total_macs = 0;
  for (const Product& p : products) {
    std::vector<float> a(static_cast<size_t>(p.m) * p.k, 0.01f), b(static_cast<size_t>(p.k) * p.n, 0.02f),
        c(static_cast<size_t>(p.m) * p.n);
    const int lda = p.trans_a ? p.m : p.k, ldb = p.trans_b ? p.k : p.n;
    const double us = median_us([&] {
      cblas_sgemm(kRowMajor, p.trans_a ? kTrans : kNoTrans, p.trans_b ? kTrans : kNoTrans, p.m, p.n, p.k,
                  1.0f, a.data(), lda, b.data(), ldb, 0.0f, c.data(), p.n);
    }, reps);
    const double macs = static_cast<double>(p.m) * p.n * p.k;
    total_us += us;
    total_macs += macs;
    std::printf("RESULT gemm_%s %.1f us   # %dx%d * %dx%d, %.2f M multiply-adds, %.1f GFLOP/s\n", p.name, us,
                p.m, p.k, p.k, p.n, macs * 1e-6, 2 * macs / us * 1e-3);
  }
  std::printf("RESULT gemm_floor_total %.1f us   # %.1f M multiply-adds, %.1f GFLOP/s overall\n", total_us,
              total_macs * 1e-6, 2 * total_macs / total_us * 1e-3);

  // The SGD update over every parameter: w -= lr · dw, one pass (read w and dw, write w).
  constexpr int kParams = 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10;
  std::vector<float> w(kParams, 0.01f), dw(kParams, 0.5f);
  float* pw = w.data();
  const float* pd = dw.data();
  const double update_us = median_us([&] {
#pragma omp simd
    for (int i = 0; i < kParams; ++i) pw[i] -= 0.01f * pd[i];
  }, reps);
  std::printf("RESULT sgd_update_all_params %.1f us\n", update_us);
  std::printf("RESULT step_floor_b%d %.1f us   # the GEMMs plus the update\n", B, total_us + update_us);
  std::printf("# (checksum %g)\n", static_cast<double>(w[7]));
  return 0;
#endif
}
