// assignments/a5/test_a5.cpp — the tests of assignment 5 (the CUDA matmul ladder's tiled rungs).
//
// You write the index arithmetic of cuda/ladder_index.h: [a5.t1] rung 2 (32 x 32 shared-memory
// tiles), [a5.t2] rung 3 (128 x 128 block tiles, 8 x 8 register micro-tiles per thread). The same
// functions run inside the kernels of cuda/matmul_ladder.cu and, here, on the CPU:
//
//   - on any machine, `emulate_tiled` and `emulate_register_tiled` below replay each kernel
//     block by block and thread by thread, with arrays standing in for shared memory, calling your
//     functions exactly where the kernel does — a wrong index gives a wrong product, checked
//     against the plain matmul on sizes that are not multiples of the tiles;
//   - with a GPU (built with -DTANDEM_CUDA=ON, a CUDA device present), the real kernels run and are
//     compared with the CPU. Without one, those tests report "skipping" and the grader counts
//     them as skipped, not failed: your points then come from the CPU tests.
//
// Read next: assignments/a5/README.md, cuda/matmul_ladder.cu.
#include <catch2/catch.hpp>

#include <set>
#include <vector>

#include "core/ops/reference.h"
#include "cuda/ladder_index.h"
#include "tandem.h"
#ifdef TANDEM_HAVE_CUDA
#include "cuda/cuda.h"
#endif

using namespace tandem;
namespace ladder = tandem::cuda::ladder;

namespace {

int ceil_div(int n, int d) { return (n + d - 1) / d; }

// Rung 2 on the CPU: every block, every step along k, every thread — the kernel's loops, in order.
// (On the GPU the threads of a block run at once; the __syncthreads() between staging and use is
// why staging everything first, then computing, is the same thing.)
std::vector<float> emulate_tiled(const std::vector<float>& A, const std::vector<float>& B, int M, int N, int K) {
  constexpr int T = ladder::kTile;
  std::vector<float> C(static_cast<size_t>(M) * N, -1.0f);  // -1: "never written", to catch gaps
  static float As[T][T], Bs[T][T];
  for (int by = 0; by < ceil_div(M, T); ++by)
    for (int bx = 0; bx < ceil_div(N, T); ++bx) {
      float s[T][T] = {};
      for (int k0 = 0; k0 < K; k0 += T) {
        for (int ty = 0; ty < T; ++ty)
          for (int tx = 0; tx < T; ++tx) {
            const ladder::Cell c = ladder::tiled_cell(bx, by, tx, ty);
            const int64_t a = ladder::tiled_a_offset(c.row, k0, tx, M, K);
            const int64_t b = ladder::tiled_b_offset(k0, ty, c.col, K, N);
            As[ty][tx] = a >= 0 ? A.at(a) : 0.0f;  // .at: an offset past the end throws
            Bs[ty][tx] = b >= 0 ? B.at(b) : 0.0f;
          }
        for (int ty = 0; ty < T; ++ty)
          for (int tx = 0; tx < T; ++tx)
            for (int p = 0; p < T; ++p) s[ty][tx] += As[ty][p] * Bs[p][tx];
      }
      for (int ty = 0; ty < T; ++ty)
        for (int tx = 0; tx < T; ++tx) {
          const ladder::Cell c = ladder::tiled_cell(bx, by, tx, ty);
          if (c.row < M && c.col < N) C.at(static_cast<size_t>(c.row) * N + c.col) = s[ty][tx];
        }
    }
  return C;
}

// Rung 3 on the CPU: per block, per step of 8 along k, the 256 threads stage A's and B's slices
// (thread t takes elements t, t + 256, ...), then each thread multiplies its 8 x 8 micro-tile.
std::vector<float> emulate_register_tiled(const std::vector<float>& A, const std::vector<float>& B, int M, int N,
                                          int K) {
  using namespace ladder;
  std::vector<float> C(static_cast<size_t>(M) * N, -1.0f);
  static float As[kBK][kBM], Bs[kBK][kBN];
  static float acc[kRegisterThreads][kTM][kTN];
  for (int by = 0; by < ceil_div(M, kBM); ++by)
    for (int bx = 0; bx < ceil_div(N, kBN); ++bx) {
      const int row0 = by * kBM, col0 = bx * kBN;
      for (auto& per_thread : acc)
        for (auto& r : per_thread)
          for (float& v : r) v = 0.0f;
      for (int k0 = 0; k0 < K; k0 += kBK) {
        for (int t = 0; t < kRegisterThreads; ++t) {
          for (int e = t; e < kBM * kBK; e += kRegisterThreads) {
            const Staged a = stage_a(e, row0, k0, M, K);
            REQUIRE((a.p >= 0 && a.p < kBK && a.i >= 0 && a.i < kBM));
            As[a.p][a.i] = a.offset >= 0 ? A.at(a.offset) : 0.0f;
          }
          for (int e = t; e < kBK * kBN; e += kRegisterThreads) {
            const Staged b = stage_b(e, k0, col0, K, N);
            REQUIRE((b.p >= 0 && b.p < kBK && b.i >= 0 && b.i < kBN));
            Bs[b.p][b.i] = b.offset >= 0 ? B.at(b.offset) : 0.0f;
          }
        }
        for (int t = 0; t < kRegisterThreads; ++t) {
          const MicroTile m = micro_tile(t);
          REQUIRE((m.ti >= 0 && m.ti + kTM <= kBM && m.tj >= 0 && m.tj + kTN <= kBN));
          for (int p = 0; p < kBK; ++p)
            for (int i = 0; i < kTM; ++i)
              for (int j = 0; j < kTN; ++j) acc[t][i][j] += As[p][m.ti + i] * Bs[p][m.tj + j];
        }
      }
      for (int t = 0; t < kRegisterThreads; ++t) {
        const MicroTile m = micro_tile(t);
        for (int i = 0; i < kTM; ++i)
          for (int j = 0; j < kTN; ++j) {
            const int gi = row0 + m.ti + i, gj = col0 + m.tj + j;
            if (gi < M && gj < N) C.at(static_cast<size_t>(gi) * N + gj) = acc[t][i][j];
          }
      }
    }
  return C;
}

// A random M x K and K x N, and their product by the plain reference matmul.
struct Problem {
  std::vector<float> A, B;
  Tensor want;
};
Problem problem(int M, int N, int K, uint64_t seed) {
  manual_seed(seed);
  const Tensor a = randn({M, K}), b = randn({K, N});
  return {a.to_vector<float>(), b.to_vector<float>(), reference::matmul(a, b)};
}
bool matches(const std::vector<float>& got, const Tensor& want, int M, int N) {
  return allclose(from_vector(got, {M, N}), want, 1e-4, 1e-4);
}

}  // namespace

// ---- t1: rung 2 ----------------------------------------------------------------------------------

TEST_CASE("a5.t1: which element of C a thread owns", "[a5.t1]") {
  // Block (bx, by) = (2, 1), thread (tx, ty) = (5, 7): row 1·32 + 7 = 39, column 2·32 + 5 = 69.
  const ladder::Cell c = ladder::tiled_cell(2, 1, 5, 7);
  CHECK(c.row == 39);
  CHECK(c.col == 69);
}

TEST_CASE("a5.t1: which elements a thread stages, and the edges", "[a5.t1]") {
  // A is 50 x 40. Row 39, step k0 = 32, tx = 5: A[39][37], offset 39·40 + 37 = 1597.
  CHECK(ladder::tiled_a_offset(39, 32, 5, 50, 40) == 1597);
  CHECK(ladder::tiled_a_offset(39, 32, 8, 50, 40) == -1);  // column 40: past A's last column
  CHECK(ladder::tiled_a_offset(50, 0, 0, 50, 40) == -1);   // row 50: past A's last row
  // B is 40 x 70. Step k0 = 32, ty = 7, column 69: B[39][69], offset 39·70 + 69 = 2799.
  CHECK(ladder::tiled_b_offset(32, 7, 69, 40, 70) == 2799);
  CHECK(ladder::tiled_b_offset(32, 8, 69, 40, 70) == -1);  // row 40 of B: past K
  CHECK(ladder::tiled_b_offset(0, 0, 70, 40, 70) == -1);   // column 70: past N
}

TEST_CASE("a5.t1: the tiled kernel, replayed on the CPU, multiplies", "[a5.t1]") {
  for (auto [M, N, K] : {std::tuple{32, 32, 32}, std::tuple{37, 45, 70}, std::tuple{1, 65, 3}}) {
    INFO("M " << M << ", N " << N << ", K " << K);
    const Problem p = problem(M, N, K, 100 + M);
    CHECK(matches(emulate_tiled(p.A, p.B, M, N, K), p.want, M, N));
  }
}

// BEGIN HIDDEN TESTS
TEST_CASE("a5.t1: tall, wide and deep shapes", "[a5.t1][hidden]") {
  for (auto [M, N, K] : {std::tuple{97, 5, 33}, std::tuple{3, 100, 129}}) {
    const Problem p = problem(M, N, K, 7 + N);
    CHECK(matches(emulate_tiled(p.A, p.B, M, N, K), p.want, M, N));
  }
}
// END HIDDEN TESTS

// ---- t2: rung 3 ----------------------------------------------------------------------------------

TEST_CASE("a5.t2: micro-tiles cover the block tile once", "[a5.t2]") {
  CHECK(ladder::micro_tile(0).ti == 0);
  CHECK(ladder::micro_tile(0).tj == 0);
  CHECK(ladder::micro_tile(15).tj == 120);  // the last of the first row of 16 micro-tiles
  CHECK(ladder::micro_tile(16).ti == 8);    // the first of the second row
  CHECK(ladder::micro_tile(16).tj == 0);
  std::set<std::pair<int, int>> cells;
  for (int t = 0; t < ladder::kRegisterThreads; ++t)
    for (int i = 0; i < ladder::kTM; ++i)
      for (int j = 0; j < ladder::kTN; ++j) cells.insert({ladder::micro_tile(t).ti + i, ladder::micro_tile(t).tj + j});
  CHECK(cells.size() == static_cast<size_t>(ladder::kBM * ladder::kBN));  // 16384 cells, none twice
}

TEST_CASE("a5.t2: staging A transposed and B as it is", "[a5.t2]") {
  // A is 200 x 20; block row0 = 128, step k0 = 8. Element e = 13 = 1·8 + 5: i = 1, p = 5,
  // A[129][13] -> As[5][1], offset 129·20 + 13 = 2593.
  const ladder::Staged a = ladder::stage_a(13, 128, 8, 200, 20);
  CHECK(a.p == 5);
  CHECK(a.i == 1);
  CHECK(a.offset == 2593);
  CHECK(ladder::stage_a(13, 128, 16, 200, 20).offset == -1);  // column 16 + 5 = 21: past K = 20
  // B is 20 x 300; col0 = 256, k0 = 8. e = 130 = 1·128 + 2: p = 1, j = 2, B[9][258], 9·300 + 258.
  const ladder::Staged b = ladder::stage_b(130, 8, 256, 20, 300);
  CHECK(b.p == 1);
  CHECK(b.i == 2);
  CHECK(b.offset == 2958);
  CHECK(ladder::stage_b(130 + 60, 8, 256, 20, 300).offset == -1);  // column 256 + 62 = 318 >= 300
}

TEST_CASE("a5.t2: the register-tiled kernel, replayed on the CPU, multiplies", "[a5.t2]") {
  for (auto [M, N, K] : {std::tuple{128, 128, 8}, std::tuple{130, 70, 21}}) {
    INFO("M " << M << ", N " << N << ", K " << K);
    const Problem p = problem(M, N, K, 200 + M);
    CHECK(matches(emulate_register_tiled(p.A, p.B, M, N, K), p.want, M, N));
  }
}

// BEGIN HIDDEN TESTS
TEST_CASE("a5.t2: several block tiles in both directions", "[a5.t2][hidden]") {
  const Problem p = problem(257, 131, 19, 9);
  CHECK(matches(emulate_register_tiled(p.A, p.B, 257, 131, 19), p.want, 257, 131));
}
// END HIDDEN TESTS

// ---- on the GPU ----------------------------------------------------------------------------------

namespace {
#ifdef TANDEM_HAVE_CUDA
bool gpu_ready() {
  if (cuda::is_available()) return true;
  WARN("no CUDA device: skipping (the CPU tests of this task grade your indices)");
  return false;
}
#else
bool gpu_ready() {
  WARN("no CUDA backend in this build: skipping (configure with -DTANDEM_CUDA=ON on a GPU machine; "
       "the CPU tests of this task grade your indices)");
  return false;
}
#endif

// The kernel's product on the GPU against the CPU matmul, on sizes that are not multiples of tiles.
void check_on_gpu([[maybe_unused]] bool register_tiled) {
  if (!gpu_ready()) return;
#ifdef TANDEM_HAVE_CUDA
  for (auto [M, N, K] : {std::tuple{37, 45, 70}, std::tuple{300, 257, 129}}) {
    INFO("M " << M << ", N " << N << ", K " << K);
    manual_seed(M);
    const Tensor a = randn({M, K}), b = randn({K, N});
    const Tensor ga = a.to(Device::cuda()), gb = b.to(Device::cuda());
    const Tensor c = register_tiled ? cuda::matmul_register_tiled(ga, gb) : cuda::matmul_tiled(ga, gb);
    CHECK(allclose(c.cpu(), reference::matmul(a, b), 1e-4, 1e-4));
  }
#endif
}
}  // namespace

TEST_CASE("a5.t1: the tiled kernel on the GPU", "[a5.t1][cuda]") { check_on_gpu(false); }
TEST_CASE("a5.t2: the register-tiled kernel on the GPU", "[a5.t2][cuda]") { check_on_gpu(true); }
