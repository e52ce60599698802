// cuda/matmul_ladder.cu — GEMM written by hand, in three rungs, each fixing what limits the last.
//
// C (M x N) = A (M x K) · B (K x N), float32, row-major. A GPU multiplies fast: an H100 (SXM)
// does ~67 TFLOP/s of float32 arithmetic without its tensor cores, ~33 T multiply-adds (FMAs)
// per second, but its memory delivers ~3.3 TB/s, ~0.84 T floats per second. So a kernel reaches
// the arithmetic peak only if each float loaded from memory feeds ~40 FMAs. That ratio, the
// *arithmetic intensity* of the kernel, is what the ladder raises, rung by rung:
//
//   rung 1, naive           one thread per C element: 2 loads per multiply-add, ~0.5 FMA/load.
//                           The caches help a little; the kernel is bound by memory traffic.
//   rung 2, tiled           a block of 32x32 threads stages 32x32 tiles of A and B in *shared
//                           memory* (on-chip, far faster than global memory) and all 1024
//                           threads reuse them: each float loaded from global memory feeds 16
//                           FMAs. Now bound by shared-memory traffic: 2 shared loads per FMA.
//   rung 3, register-tiled  each thread computes an 8x8 micro-tile of C held in *registers*:
//                           per step along k it loads 8 values of A and 8 of B from shared
//                           memory and does 64 FMAs with them (4 FMAs per load instead of 0.5).
//                           A 256-thread block covers a 128x128 tile of C, and each float read
//                           from global memory feeds 64 FMAs.
//   cuBLAS                  adds vectorised 128-bit loads, double buffering (loading the next
//                           tile while computing this one), warp-level tiling for bank-conflict-
//                           free shared memory and hand-tuned tile shapes per GPU.
//
// Every rung handles any M, N, K: tiles that hang over the edge of a matrix are padded with
// zeros when loaded and clipped when stored. The tests compare each rung with the CPU matmul on
// sizes that are not multiples of the tiles; the benchmark times them against cuBLAS.
//
// The index arithmetic of rungs 2 and 3 (which element a thread owns, which it stages, where the
// matrix ends) is in cuda/ladder_index.h, in functions the CPU can run too: the tests check it
// there, on any machine.
//
// Read next: cuda/ladder_index.h, docs/cuda.md.
#include <cuda_runtime.h>

#include <climits>

#include "core/ops.h"
#include "cuda/common.cuh"
#include "cuda/cuda.h"
#include "cuda/ladder_index.h"

namespace tandem::cuda {
namespace {
using namespace ladder;

// ---- rung 1: naive ----------------------------------------------------------------------------------
// Thread (i, j) computes C[i][j] = Σ_p A[i][p]·B[p][j]. threadIdx.x runs along j, so the 32
// threads of a warp read 32 neighbouring B[p][j] (one coalesced transaction) and all read the
// same A[i][p] (one broadcast). Still, every multiply-add needs two loads: memory-bound.
__global__ void matmul_naive_kernel(const float* A, const float* B, float* C, int M, int N, int K) {
  const int j = blockIdx.x * blockDim.x + threadIdx.x;
  const int i = blockIdx.y * blockDim.y + threadIdx.y;
  if (i >= M || j >= N) return;
  float s = 0.0f;
  for (int p = 0; p < K; ++p) s += A[static_cast<int64_t>(i) * K + p] * B[static_cast<int64_t>(p) * N + j];
  C[static_cast<int64_t>(i) * N + j] = s;
}

// ---- rung 2: shared-memory tiles ----------------------------------------------------------------------
// A block of 32x32 threads owns a 32x32 tile of C. It walks along k in steps of 32: all threads
// together copy one 32x32 tile of A and one of B into shared memory (one element each), wait
// (__syncthreads), then each thread does 32 multiply-adds from the staged tiles, and waits again
// before the tiles are overwritten. Per step the block loads 2·32² floats and does 32³ FMAs:
// each global load now serves 16 FMAs instead of half of one.
// Shared memory is split into 32 banks (consecutive 4-byte words); threads of a warp share ty
// and have consecutive tx, so As[ty][p] is one word for the whole warp (a broadcast) and
// Bs[p][tx] is 32 different banks: no bank conflicts.
__global__ void matmul_tiled_kernel(const float* A, const float* B, float* C, int M, int N, int K) {
  __shared__ float As[kTile][kTile];
  __shared__ float Bs[kTile][kTile];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const Cell cell = tiled_cell(blockIdx.x, blockIdx.y, tx, ty);
  const int row = cell.row, col = cell.col;
  float s = 0.0f;
  for (int k0 = 0; k0 < K; k0 += kTile) {
    // Out-of-range elements (offset -1) load as 0, which adds nothing to the sums.
    const int64_t a = tiled_a_offset(row, k0, tx, M, K), b = tiled_b_offset(k0, ty, col, K, N);
    As[ty][tx] = a >= 0 ? A[a] : 0.0f;
    Bs[ty][tx] = b >= 0 ? B[b] : 0.0f;
    __syncthreads();  // the tiles are complete
    for (int p = 0; p < kTile; ++p) s += As[ty][p] * Bs[p][tx];
    __syncthreads();  // everyone is done with them before the next step overwrites them
  }
  if (row < M && col < N) C[static_cast<int64_t>(row) * N + col] = s;
}

// ---- rung 3: register tiles ---------------------------------------------------------------------------
// A block of 256 threads owns a 128x128 tile of C; thread t owns the 8x8 micro-tile at rows
// 8·(t / 16).., cols 8·(t % 16)... Along k, in steps of kBK = 8:
//   1. the block stages a 128x8 slice of A and an 8x128 slice of B in shared memory (4 floats
//      per thread each). A is stored transposed, As[p][i], so that the 8 values of A one thread
//      needs for a given p are consecutive;
//   2. for each of the 8 values of p, each thread loads its 8 values of A's column p and 8 of
//      B's row p into registers (a_frag, b_frag) and does the 8x8 = 64 outer-product FMAs into
//      its accumulators acc[8][8], which never leave registers until the end.
// Register pressure: 64 accumulators + 16 fragments + indices; ptxas reports 112 registers per
// thread for sm_90 (nvcc -Xptxas=-v), no spills, which still lets two blocks share an SM (2 x 256
// x 112 of its 65536 registers). __launch_bounds__(256) tells the compiler the block size so
// it can plan registers for it.
__global__ void __launch_bounds__(kRegisterThreads)
    matmul_register_tiled_kernel(const float* A, const float* B, float* C, int M, int N, int K) {
  __shared__ float As[kBK][kBM];  // A's slice, transposed: As[p][i] = A[row0 + i][k0 + p]
  __shared__ float Bs[kBK][kBN];  // B's slice:             Bs[p][j] = B[k0 + p][col0 + j]
  const int t = threadIdx.x;
  const int row0 = blockIdx.y * kBM, col0 = blockIdx.x * kBN;
  const MicroTile micro = micro_tile(t);
  const int ti = micro.ti, tj = micro.tj;  // first row and column of this thread's micro-tile

  float acc[kTM][kTN] = {};
  float a_frag[kTM], b_frag[kTN];
  for (int k0 = 0; k0 < K; k0 += kBK) {
    // 1. Stage the slices: 1024 elements each, 4 per thread, zero-padded at the edges. For B,
    //    consecutive threads take consecutive columns: coalesced reads of a row of B.
    for (int e = t; e < kBM * kBK; e += kRegisterThreads) {
      const Staged a = stage_a(e, row0, k0, M, K);
      As[a.p][a.i] = a.offset >= 0 ? A[a.offset] : 0.0f;
    }
    for (int e = t; e < kBK * kBN; e += kRegisterThreads) {
      const Staged b = stage_b(e, k0, col0, K, N);
      Bs[b.p][b.i] = b.offset >= 0 ? B[b.offset] : 0.0f;
    }
    __syncthreads();
    // 2. The outer products, from registers.
    for (int p = 0; p < kBK; ++p) {
#pragma unroll
      for (int i = 0; i < kTM; ++i) a_frag[i] = As[p][ti + i];
#pragma unroll
      for (int j = 0; j < kTN; ++j) b_frag[j] = Bs[p][tj + j];
#pragma unroll
      for (int i = 0; i < kTM; ++i)
#pragma unroll
        for (int j = 0; j < kTN; ++j) acc[i][j] += a_frag[i] * b_frag[j];
    }
    __syncthreads();
  }
  // 3. Store the micro-tile, clipped to C's edges.
#pragma unroll
  for (int i = 0; i < kTM; ++i) {
    const int gi = row0 + ti + i;
    if (gi >= M) break;
#pragma unroll
    for (int j = 0; j < kTN; ++j) {
      const int gj = col0 + tj + j;
      if (gj < N) C[static_cast<int64_t>(gi) * N + gj] = acc[i][j];
    }
  }
}

// ---- host side --------------------------------------------------------------------------------------

// Checks the operands and returns them contiguous, with the sizes as int.
struct Problem {
  Tensor a, b, c;
  int M, N, K;
};
Problem setup(const Tensor& a, const Tensor& b, const char* name) {
  if (a.dim() != 2 || b.dim() != 2 || a.dtype() != kFloat32 || b.dtype() != kFloat32 ||
      !a.device().is_cuda() || a.device() != b.device())
    throw Error(msg("cuda::", name, ": expects two 2-D float32 tensors on one CUDA device, got ",
                    shape_str(a.shape()), " ", to_string(a.dtype()), " on ", to_string(a.device()),
                    " and ", shape_str(b.shape()), " ", to_string(b.dtype()), " on ",
                    to_string(b.device()), "; use matmul() for everything else"));
  if (a.shape()[1] != b.shape()[0])
    throw ShapeError(msg("cuda::", name, ": mat1 and mat2 shapes cannot be multiplied (",
                         a.shape()[0], "x", a.shape()[1], " and ", b.shape()[0], "x", b.shape()[1], ")"));
  for (int64_t s : {a.shape()[0], a.shape()[1], b.shape()[1]})
    if (s > INT_MAX / 2)
      throw Error(msg("cuda::", name, ": sizes above ", INT_MAX / 2, " are not supported"));
  Problem p{a.contiguous(), b.contiguous(), Tensor(), static_cast<int>(a.shape()[0]),
            static_cast<int>(b.shape()[1]), static_cast<int>(a.shape()[1])};
  p.c = Tensor::empty({a.shape()[0], b.shape()[1]}, kFloat32, a.device());
  return p;
}

unsigned ceil_div(int n, int d) { return static_cast<unsigned>((n + d - 1) / d); }

// One block per bm x bn tile of C: columns of tiles along the grid's x axis, rows along y. CUDA
// caps a grid's y size at 65535 blocks, so these teaching kernels refuse taller matrices rather
// than add a loop over row tiles.
dim3 grid_for(const Problem& p, int bn, int bm, const char* name) {
  const unsigned rows = ceil_div(p.M, bm);
  if (rows > 65535)
    throw Error(msg("cuda::", name, ": ", p.M, " rows need ", rows, " rows of blocks, above the ",
                    "65535 a CUDA grid allows; use matmul() (cuBLAS) for matrices this tall"));
  return dim3(ceil_div(p.N, bn), rows);
}

}  // namespace

Tensor matmul_naive(const Tensor& a, const Tensor& b) {
  Problem p = setup(a, b, "matmul_naive");
  if (p.M == 0 || p.N == 0) return p.c;
  const dim3 block(32, 8);
  const dim3 grid = grid_for(p, 32, 8, "matmul_naive");
  matmul_naive_kernel<<<grid, block>>>(p.a.data<float>(), p.b.data<float>(), p.c.data<float>(), p.M, p.N, p.K);
  check_launch("matmul_naive_kernel", "cuda::matmul_naive");
  return p.c;
}

Tensor matmul_tiled(const Tensor& a, const Tensor& b) {
  Problem p = setup(a, b, "matmul_tiled");
  if (p.M == 0 || p.N == 0) return p.c;
  const dim3 block(kTile, kTile);
  const dim3 grid = grid_for(p, kTile, kTile, "matmul_tiled");
  matmul_tiled_kernel<<<grid, block>>>(p.a.data<float>(), p.b.data<float>(), p.c.data<float>(), p.M, p.N, p.K);
  check_launch("matmul_tiled_kernel", "cuda::matmul_tiled");
  return p.c;
}

Tensor matmul_register_tiled(const Tensor& a, const Tensor& b) {
  Problem p = setup(a, b, "matmul_register_tiled");
  if (p.M == 0 || p.N == 0) return p.c;
  const dim3 grid = grid_for(p, kBN, kBM, "matmul_register_tiled");
  matmul_register_tiled_kernel<<<grid, kRegisterThreads>>>(p.a.data<float>(), p.b.data<float>(),
                                                           p.c.data<float>(), p.M, p.N, p.K);
  check_launch("matmul_register_tiled_kernel", "cuda::matmul_register_tiled");
  return p.c;
}

}  // namespace tandem::cuda
