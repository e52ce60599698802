// cuda/ladder_index.h — the index arithmetic of the matmul ladder's tiled rungs, as plain functions.
//
// A tiled GEMM kernel is a few lines of arithmetic wrapped around a few lines of memory traffic:
// which element of C a thread owns, which element of A or B it copies into shared memory at each
// step along k, and where the matrix ends. The arithmetic is where the bugs are (an i for a j, a
// missing edge check), and it is ordinary integer math. So it lives here, in functions that compile
// for both sides (__host__ __device__ under nvcc, plain inline functions for g++): the kernels in
// cuda/matmul_ladder.cu call them on the GPU, and tests/ and assignments/a5 call the very same
// functions on the CPU, where a wrong index is a failed test with a message instead of a garbage
// matrix (or an illegal memory access) on a machine you may not have.
//
// Conventions: A is M x K, B is K x N, C is M x N, all row-major and contiguous, so element (r, c)
// of an R x C matrix lives at r * C + c. An offset of -1 means "past the edge of the matrix": the
// kernel stages a 0 there, which adds nothing to the sums.
//
// Read next: cuda/matmul_ladder.cu (the kernels around these functions), docs/cuda.md.
#pragma once

#include <cstdint>

#include "core/error.h"

#if defined(__CUDACC__)
#define TANDEM_HD __host__ __device__
#else
#define TANDEM_HD
#endif

namespace tandem::cuda::ladder {

// ---- rung 2: one 32 x 32 tile of C per block of 32 x 32 threads --------------------------------
constexpr int kTile = 32;

struct Cell {
  int row, col;
};

// The element of C that thread (tx, ty) of block (bx, by) computes: blocks tile C in 32 x 32 tiles,
// block x along the columns and block y along the rows; inside a tile, tx is the column.
TANDEM_HD inline Cell tiled_cell(int bx, int by, int tx, int ty) {
  // BEGIN SOLUTION a5.t1
  return Cell{by * kTile + ty, bx * kTile + tx};
  // END SOLUTION
}

// At the step that covers columns k0 .. k0+31 of A, thread (tx, ty) copies A[row][k0 + tx] into
// As[ty][tx]: its offset in A, or -1 when it lies past A's last row or column.
TANDEM_HD inline int64_t tiled_a_offset(int row, int k0, int tx, int M, int K) {
  // BEGIN SOLUTION a5.t1
  return row < M && k0 + tx < K ? static_cast<int64_t>(row) * K + k0 + tx : -1;
  // END SOLUTION
}

// ...and B[k0 + ty][col] into Bs[ty][tx]: its offset in B, or -1 past B's edge.
TANDEM_HD inline int64_t tiled_b_offset(int k0, int ty, int col, int K, int N) {
  // BEGIN SOLUTION a5.t1
  return k0 + ty < K && col < N ? static_cast<int64_t>(k0 + ty) * N + col : -1;
  // END SOLUTION
}

// ---- rung 3: a 128 x 128 tile of C per block of 256 threads, 8 x 8 per thread -------------------
constexpr int kBM = 128, kBN = 128, kBK = 8, kTM = 8, kTN = 8;
constexpr int kRegisterThreads = (kBM / kTM) * (kBN / kTN);  // 256

struct MicroTile {
  int ti, tj;  // the first row and column of the thread's 8 x 8 micro-tile, inside the block's tile
};

// Thread t's micro-tile: the 256 threads cover the 128 x 128 tile as a 16 x 16 grid of 8 x 8
// micro-tiles, row by row (thread 0 top left, thread 15 top right, thread 16 below thread 0).
TANDEM_HD inline MicroTile micro_tile(int t) {
  // BEGIN SOLUTION a5.t2
  return MicroTile{(t / (kBN / kTN)) * kTM, (t % (kBN / kTN)) * kTN};
  // END SOLUTION
}

// One staged element: it goes to shared[p][i] (for B: shared[p][j], i is the column), read from
// `offset` in the matrix, or -1 past its edge.
struct Staged {
  int p, i;
  int64_t offset;
};

// Element e (0 <= e < 128 * 8) of A's slice for the block whose tile starts at row row0, at the
// step that covers columns k0 .. k0+7: consecutive e walk along a row of A (e = i * 8 + p), and the
// slice is stored transposed, As[p][i] = A[row0 + i][k0 + p].
TANDEM_HD inline Staged stage_a(int e, int row0, int k0, int M, int K) {
  // BEGIN SOLUTION a5.t2
  const int i = e / kBK, p = e % kBK;
  const int gi = row0 + i, gp = k0 + p;
  return Staged{p, i, gi < M && gp < K ? static_cast<int64_t>(gi) * K + gp : -1};
  // END SOLUTION
}

// Element e (0 <= e < 8 * 128) of B's slice: consecutive e walk along a row of B (e = p * 128 + j),
// so consecutive threads read consecutive columns (coalesced), and Bs[p][j] = B[k0 + p][col0 + j].
TANDEM_HD inline Staged stage_b(int e, int k0, int col0, int K, int N) {
  // BEGIN SOLUTION a5.t2
  const int p = e / kBN, j = e % kBN;
  const int gp = k0 + p, gj = col0 + j;
  return Staged{p, j, gp < K && gj < N ? static_cast<int64_t>(gp) * N + gj : -1};
  // END SOLUTION
}

}  // namespace tandem::cuda::ladder
