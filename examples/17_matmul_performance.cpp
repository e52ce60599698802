// examples/17_matmul_performance.cpp — seed-004's matmul timing, rung by rung, both modes.
//
// Seed-004's "Performance Comparison" slide times tf.matmul and torch.matmul on two 1000x1000
// matrices of random numbers, a thousand times each, and prints the total seconds. This demo asks
// the question behind it — where does the speed of a matrix product come from? — by timing the
// same product C = A·B several ways, from the definition to the vendor library:
//   1. the naive triple loop, C[i][j] = Σ_p A[i][p]·B[p][j], written out below;
//   2. Eigen's own GEMM (blocked and packed C++ templates: core/ops/matmul.cpp explains how);
//   3. OpenBLAS's sgemm, called directly (when the build has OpenBLAS): the same scheme with
//      hand-written assembly micro-kernels per CPU;
//   4. Tandem eager: `matmul(a, b)` on tensors, as torch.matmul (it calls 3, or 2 without it);
//   5. Tandem graph: `matmul` on two placeholders, run by a Session, as tf.matmul in TF1 — the
//      inputs are fed, so constant folding cannot compute the product once when the graph is
//      optimised and leave nothing to time;
//   6. on a GPU (a CUDA build on a machine with one): cuda/matmul_ladder.cu's rungs — naive,
//      shared-memory tiles, register tiles — then cuBLAS and Tandem's matmul on CUDA tensors.
// Each is warmed up once, then timed several times; the median is reported (a shared machine has
// noisy neighbours: the median ignores a few slow runs, the seed's total does not), with
//     GFLOP/s = 2·n³ / seconds / 1e9      (n³ multiply-adds, two floating-point operations each)
// and its speed-up over the naive loop. Every result is checked against every other.
//
//   usage: 17_matmul_performance [--n N (1000)] [--runs R (5)] [--threads T (Tandem's load-aware team)]
//
// Read next: core/ops/matmul.cpp (blocking, packing, row-major meets column-major),
// core/ops/reference.h (the plain loops the kernels are tested against), cuda/matmul_ladder.cu
// and docs/cuda.md (the same ladder on a GPU), bench/bench_matmul.cpp (against PyTorch).
#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/threads.h"
#include "tandem.h"

#ifdef TANDEM_HAVE_CUDA
#include "cuda/cuda.h"
#endif

#ifdef TANDEM_HAVE_OPENBLAS
// From OpenBLAS's cblas.h, declared here so that no BLAS header is needed (RowMajor is 101,
// NoTrans 111), as core/ops/matmul.cpp does.
extern "C" void cblas_sgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float* a,
                            int lda, const float* b, int ldb, float beta, float* c, int ldc);
#endif

using namespace tandem;
namespace g = tandem::graph;

namespace {

struct Options {
  int64_t n = 1000, runs = 5;
  int threads = 0;  // 0: Tandem's load-aware team (core/threads.h); T: exactly T threads
};

const char* const kUsage = "usage: 17_matmul_performance [--n N] [--runs R] [--threads T]";

int64_t positive_number(const std::string& flag, const std::string& text, int64_t largest) {
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v < 1 || v > largest)
    throw Error(msg(flag, " takes a whole number from 1 to ", largest, ", got '", text, "'\n", kUsage));
  return v;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::printf("%s\n", kUsage);  // asked for: not an error
      std::exit(0);
    }
    if (arg != "--n" && arg != "--runs" && arg != "--threads") throw Error(msg("unknown argument ", arg, "\n", kUsage));
    if (i + 1 >= argc) throw Error(msg(arg, " needs a value\n", kUsage));
    const std::string v = argv[++i];
    if (arg == "--n") o.n = positive_number(arg, v, 8192);  // 8192² floats: 256 MiB per matrix
    else if (arg == "--runs") o.runs = positive_number(arg, v, 1000);
    else o.threads = static_cast<int>(positive_number(arg, v, 1024));
  }
  return o;
}

// ---- 1. the definition -------------------------------------------------------------------------------
// C[i][j] = Σ_p A[i][p]·B[p][j], row-major. The inner loop walks down a column of B: one float per
// 4n-byte row, so nearly every B read misses the cache — memory, not arithmetic, sets its speed.
// (Swapping the j and p loops makes both inner reads walk along rows and runs several times
// faster; blocking for the caches, as Eigen and OpenBLAS do, is the rest of the way.)
Tensor naive_matmul(const Tensor& a, const Tensor& b) {
  const int64_t n = a.size(0);
  Tensor c = zeros({n, n});
  const float* A = a.data<float>();
  const float* B = b.data<float>();
  float* C = c.data<float>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      float sum = 0;
      for (int64_t p = 0; p < n; ++p) sum += A[i * n + p] * B[p * n + j];
      C[i * n + j] = sum;
    }
  return c;
}

// ---- 2. Eigen's own GEMM ------------------------------------------------------------------------------
// This file is compiled without EIGEN_USE_BLAS (the library's own files have it, when OpenBLAS is
// found), so Eigen runs its own blocked, packed, vectorised kernel, on OpenMP's threads.
using RowMajorMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
Tensor eigen_matmul(const Tensor& a, const Tensor& b) {
  const int64_t n = a.size(0);
  Tensor c = Tensor::empty({n, n}, kFloat32);
  Eigen::Map<const RowMajorMatrix> A(a.data<float>(), n, n), B(b.data<float>(), n, n);
  Eigen::Map<RowMajorMatrix> C(c.data<float>(), n, n);
  C.noalias() = A * B;  // noalias: C is no operand, so no temporary
  return c;
}

#ifdef TANDEM_HAVE_OPENBLAS
// ---- 3. OpenBLAS ------------------------------------------------------------------------------------
// C = 1·A·B + 0·C, row-major, neither operand transposed; leading dimensions n.
Tensor openblas_matmul(const Tensor& a, const Tensor& b) {
  const int n = static_cast<int>(a.size(0));
  Tensor c = Tensor::empty({n, n}, kFloat32);
  constexpr int kRowMajor = 101, kNoTrans = 111;
  cblas_sgemm(kRowMajor, kNoTrans, kNoTrans, n, n, n, 1.0f, a.data<float>(), n, b.data<float>(), n, 0.0f,
              c.data<float>(), n);
  return c;
}
#endif

// ---- timing -------------------------------------------------------------------------------------------
struct Way {
  Way(std::string name_, std::function<Tensor()> run_, int64_t runs_)
      : name(std::move(name_)), run(std::move(run_)), runs(runs_) {}
  std::string name;
  std::function<Tensor()> run;  // computes C (on the GPU: waits for it)
  int64_t runs;                 // timed runs after one warm-up
  double median_s = 0;          // filled by time_it
  int threads = 0;              // the CPU team it ran with
  Tensor result;                // C, on the CPU, for the checks
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

void time_it(Way& way) {
  way.threads = get_num_threads();
  way.result = way.run().cpu();  // the warm-up: first-touch page faults, thread pools, GPU kernels load
  std::vector<double> seconds;
  for (int64_t r = 0; r < way.runs; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const Tensor c = way.run();
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  way.median_s = median(seconds);
}

#ifdef TANDEM_HAVE_CUDA
// A GPU product, timed as the GPU's: kernels are queued asynchronously, so wait for them.
std::function<Tensor()> on_gpu(Tensor (*product)(const Tensor&, const Tensor&), const Tensor& a, const Tensor& b) {
  return [product, a, b] {
    Tensor c = product(a, b);
    cuda::synchronize();
    return c;
  };
}
#endif

// The team Tandem's kernels settle on: half a second of small products, each letting the kernels
// measure the load (every 0.1 s) and shrink or grow their team (core/threads.h).
int load_aware_team() {
  const Tensor x = randn({256, 256});
  const auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 0.5) {
    const Tensor y = matmul(x, x);
  }
  return adapt_threads_to_load();
}

// The GPU rungs, or a sentence saying why there are none.
std::string add_gpu_ways(std::vector<Way>& ways, const Tensor& a, const Tensor& b, int64_t runs) {
#ifndef TANDEM_HAVE_CUDA
  (void)ways, (void)a, (void)b, (void)runs;
  return "no GPU: this build has no CUDA backend (configure with -DTANDEM_CUDA=ON on a machine with nvcc)";
#else
  if (!cuda::is_available()) return "no GPU: this is a CUDA build, but the machine has no CUDA device";
  const Tensor ga = a.to(Device::cuda()), gb = b.to(Device::cuda());
  ways.push_back({"CUDA naive (thread per C[i][j])", on_gpu(cuda::matmul_naive, ga, gb), runs});
  ways.push_back({"CUDA shared-memory tiles", on_gpu(cuda::matmul_tiled, ga, gb), runs});
  ways.push_back({"CUDA register tiles", on_gpu(cuda::matmul_register_tiled, ga, gb), runs});
  ways.push_back({"cuBLAS sgemm", on_gpu(cuda::matmul_cublas, ga, gb), runs});
  ways.push_back({"Tandem eager, CUDA tensors", on_gpu([](const Tensor& x, const Tensor& y) { return matmul(x, y); }, ga, gb), runs});
  return "GPU: " + cuda::device_name();
#endif
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = parse(argc, argv);
    const int64_t n = o.n;
    // Threads: by default the team Tandem's kernels pick, all cores or fewer while other processes
    // keep some busy — threads that wait for a core make a parallel GEMM slower than one thread.
    // --threads T fixes the team at T. Either way time_it gives every CPU way the same team.
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    const int team = o.threads > 0 ? o.threads : load_aware_team();
    set_load_aware_threads(false);
    set_num_threads(team);  // OpenMP (Tandem's loops, Eigen's GEMM) and OpenBLAS, for every way

    manual_seed(0);
    const Tensor a = randn({n, n}), b = randn({n, n});  // a = torch.randn(1000, 1000)

    // tf.matmul in a TF1 graph: placeholders, so the product is computed on every run.
    g::Graph graph;
    g::DefaultGraph use(graph);
    const g::Output pa = g::placeholder(kFloat32, {n, n}, "a"), pb = g::placeholder(kFloat32, {n, n}, "b");
    const g::Output pc = matmul(pa, pb);
    g::Session session(graph);

    // The naive loop is slow (seconds at n = 1000): three timed runs are its several.
    std::vector<Way> ways = {
        {"naive triple loop", [&] { return naive_matmul(a, b); }, std::min<int64_t>(o.runs, 3)},
        {"Eigen's own GEMM", [&] { return eigen_matmul(a, b); }, o.runs},
#ifdef TANDEM_HAVE_OPENBLAS
        {"OpenBLAS sgemm", [&] { return openblas_matmul(a, b); }, o.runs},
#endif
        {"Tandem eager: matmul(a, b)", [&] { return matmul(a, b); }, o.runs},
        {"Tandem graph: Session::run", [&] { return session.run(pc, {{pa, a}, {pb, b}}); }, o.runs},
    };
#ifndef TANDEM_HAVE_OPENBLAS
    const char* blas_note = "no OpenBLAS: this build uses Eigen's GEMM (scripts/setup installs libopenblas-dev)";
#else
    const char* blas_note = "Tandem's matmul calls OpenBLAS's sgemm";
#endif
    const std::string gpu_note = add_gpu_ways(ways, a, b, o.runs);

    std::printf("C = A·B, float32, n = %lld (%.2f GFLOP per product) on a machine of %u cores.\n%s.\n%s.\n"
                "CPU threads: %d, %s. Median of the timed runs after one warm-up.\n\n",
                static_cast<long long>(n), 2e-9 * static_cast<double>(n) * n * n, cores, blas_note, gpu_note.c_str(),
                team, o.threads > 0 ? "set by --threads" : "the team Tandem's kernels chose for the load now (--threads T sets it)");
    for (Way& w : ways) time_it(w);

    // ---- the table -----------------------------------------------------------------------------------
    const double flops = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
    std::printf("  %-34s %7s %11s %10s %10s   %s\n", "way", "threads", "median ms", "GFLOP/s", "x naive",
                "max |C - C_naive|");
    for (const Way& w : ways)
      std::printf("  %-34s %7d %11.3f %10.2f %10.1f   %.3g\n", w.name.c_str(), w.name.starts_with("naive") ? 1 : w.threads,
                  1e3 * w.median_s, flops / w.median_s / 1e9, ways[0].median_s / w.median_s,
                  (w.result - ways[0].result).abs().max().item());

    // ---- every result against every other ------------------------------------------------------------
    // Float sums of n products round differently in each way (blocking changes the order of the
    // additions); the classic bound on that error is |C_computed − C| <= γ_n·(|A||B|), with
    // γ_n = n·u/(1 − n·u) and u = 2⁻²⁴ float32's unit roundoff. Two results may differ by twice it.
    double worst = 0;
    std::string worst_pair = "-";
    for (size_t i = 0; i < ways.size(); ++i)
      for (size_t j = i + 1; j < ways.size(); ++j) {
        const double d = (ways[i].result - ways[j].result).abs().max().item();
        if (d > worst) worst = d, worst_pair = ways[i].name + " / " + ways[j].name;
      }
    const double u = 1.0 / (1 << 24), nu = static_cast<double>(n) * u;
    const double bound = 2 * nu / (1 - nu) * matmul(a.abs(), b.abs()).max().item();
    std::printf("\n  every pair of results: largest difference %.3g (%s);\n"
                "  the rounding bound 2·γ_n·max(|A||B|) is %.3g: %s\n",
                worst, worst_pair.c_str(), bound, worst <= bound ? "all results agree" : "RESULTS DISAGREE");

    double eager = 0, as_graph = 0;
    for (const Way& w : ways) {
      if (w.name.starts_with("Tandem eager: ")) eager = w.median_s;
      if (w.name.starts_with("Tandem graph: ")) as_graph = w.median_s;
    }
    std::printf("\n  Eager and graph run the same GEMM kernel: graph minus eager is %+.3f ms per run (the Session's\n"
                "  feeds, plan and fetch, and noise) on a product of %.3f ms. The seed's slide timed 1000 products\n"
                "  back to back with time.time() and reported the total; here each product is timed alone and the\n"
                "  median kept.\n",
                1e3 * (as_graph - eager), 1e3 * eager);
    return worst <= bound ? 0 : 1;
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
