// cuda/gemm_plan.h — how a row-major matmul is asked of cuBLAS, a column-major library.
//
// cuBLAS follows BLAS, born in Fortran: a matrix is stored column by column, and element (i, j)
// of an r x c matrix with leading dimension ld sits at i + j·ld. Tandem stores rows: element
// (i, j) at i·ld + j. No copy is needed to bridge the two, because
//
//     the bytes of a row-major m x k matrix A  are exactly  the bytes of the column-major k x m
//     matrix Aᵀ (same ld).
//
// So for C = A·B (all row-major) we ask cuBLAS for the column-major matrix Cᵀ, whose bytes are
// row-major C, using the identity
//
//     Cᵀ = (A·B)ᵀ = Bᵀ·Aᵀ
//
// i.e. call  gemm(n, m, k, first = B's bytes, second = A's bytes, C's bytes, ldc = n): the
// operands are swapped and m and n trade places. Each operand's bytes already *are* its
// transpose in cuBLAS's eyes, so neither gets cuBLAS's 'T' flag.
//
// A transposed view (a.t(), strides (1, m)) is column-major already. Its bytes are the matrix
// itself to cuBLAS, not its transpose, so it gets the 'T' flag instead — still no copy. Only an
// operand that is neither (a slice with a step, an expanded stride-0 matrix) is copied first.
//
// Batches. cublasSgemmStridedBatched multiplies `batch` pairs whose matrices are a fixed number
// of elements apart (a stride of 0 reuses one matrix for the whole batch: broadcasting).
// uniform_batch_stride says whether an operand's batch dims can be read that way.
//
// All of this is plain C++, tested on the CPU against a column-major GEMM written from the BLAS
// definition (tests/test_cuda.cpp, [cuda-logic]); cuda/matmul.cu makes the calls.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>

#include "core/shape.h"

namespace tandem::cuda {

// How BLAS reads one operand in place: its bytes as a column-major matrix, transposed or not.
struct BlasMatrix {
  bool transposed = false;  // true: the op flag is 'T'
  int64_t ld = 1;           // leading dimension
};

// A rows x cols matrix whose element (i, j) is at i·row_stride + j·col_stride, seen from the
// column-major side: row-major storage (unit steps along a row) gives {transposed = false}
// because its bytes are the transpose; column-major storage gives {transposed = true}. Neither:
// nullopt, and the caller copies. A dimension of size 1 is never stepped along, so its stride
// does not matter; ld must still be at least 1 and cover a whole row (or column).
inline std::optional<BlasMatrix> blas_matrix(int64_t rows, int64_t cols, int64_t row_stride,
                                             int64_t col_stride) {
  if ((cols <= 1 || col_stride == 1) && (rows <= 1 || row_stride >= std::max<int64_t>(cols, 1)))
    return BlasMatrix{false, rows <= 1 ? std::max<int64_t>(cols, 1) : row_stride};
  if ((rows <= 1 || row_stride == 1) && (cols <= 1 || col_stride >= std::max<int64_t>(rows, 1)))
    return BlasMatrix{true, cols <= 1 ? std::max<int64_t>(rows, 1) : col_stride};
  return std::nullopt;
}

// The arguments of one cuBLAS gemm call, in cuBLAS's order:
//   C' (m x n, column-major, ldc) = op(A') (m x k) · op(B') (k x n)
// where A' is *our* B and B' is *our* A (the swap above).
struct GemmCall {
  bool trans_first = false, trans_second = false;  // op flags of A' and B'
  int64_t m = 0, n = 0, k = 0;
  int64_t ld_first = 1, ld_second = 1, ldc = 1;
};

// Row-major C (m x n) = A (m x k) · B (k x n), as a column-major call: Cᵀ = Bᵀ·Aᵀ.
inline GemmCall row_major_gemm(int64_t m, int64_t n, int64_t k, BlasMatrix a, BlasMatrix b) {
  GemmCall c;
  c.trans_first = b.transposed;
  c.trans_second = a.transposed;
  c.m = n;
  c.n = m;
  c.k = k;
  c.ld_first = b.ld;
  c.ld_second = a.ld;
  c.ldc = std::max<int64_t>(n, 1);
  return c;
}

// If the matrices of a batch (shape `batch`, one per index, row-major order) start `stride`
// elements apart for a single stride, that stride; else nullopt. `strides` are the operand's
// strides for the batch dims (0 where it broadcasts). Size-1 dims are never stepped along.
//   batch [4, 3], strides [3·s, s]  -> s     (back to back, e.g. a contiguous batch)
//   batch [4, 3], strides [0, 0]    -> 0     (one matrix for all: broadcast)
//   batch [4, 3], strides [s, 0]    -> none  (repeats inside the batch: copy first)
inline std::optional<int64_t> uniform_batch_stride(const Shape& batch, const Strides& strides) {
  std::optional<int64_t> stride;
  int64_t span = 1;  // batch entries covered by the dims after d
  for (size_t d = batch.size(); d-- > 0;) {
    if (batch[d] == 1) continue;
    if (!stride) stride = strides[d];
    else if (strides[d] != *stride * span) return std::nullopt;
    span *= batch[d];
  }
  return stride.value_or(0);
}

}  // namespace tandem::cuda
