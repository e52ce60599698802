// core/ops/matmul.cpp — matrix multiplication (torch.matmul) on the CPU, through a GEMM.
//
// GEMM ("GEneral Matrix-Matrix multiply", C = A·B) is the one kernel deep learning spends most of
// its time in: every Linear layer, every attention score, every convolution lowered to im2col is
// one. For C (m x n) = A (m x k) · B (k x n) the definition is a triple loop,
//
//     C[i][j] = Σ_p A[i][p] · B[p][j]          2·m·n·k flops (one multiply, one add per term)
//
// and written that way it runs at a few percent of what the CPU can do. The arithmetic is not the
// problem — memory is. The triple loop reads 2 numbers per multiply-add, and for large matrices
// those numbers come from RAM, which delivers far fewer bytes per second than the FMA units can
// consume. The fix, found in every fast GEMM (Goto & van de Geijn, "Anatomy of high-performance
// matrix multiplication", 2008), is *blocking and packing*:
//   - cut A and B into blocks that fit in the L2 / L1 caches, and loop so that each block, once
//     loaded, is reused for many multiply-adds (O(b³) work on O(b²) data per block);
//   - *pack* each block into a contiguous buffer laid out in exactly the order the inner kernel
//     reads it, so that inner loads are unit-stride, aligned and prefetch-friendly, whatever the
//     strides of the original matrix (this is also why a transposed operand costs nothing extra:
//     the transpose happens for free while packing);
//   - the innermost "micro-kernel" keeps a small tile of C (e.g. 8x6 floats) in vector registers
//     and updates it with one FMA per register per step — the only place the hardware's peak is
//     reached, hand-written per CPU family.
// Eigen implements all of this in C++ templates (its "GEBP" kernel). OpenBLAS implements the same
// scheme with micro-kernels written in assembly for each CPU (Haswell, Zen, SkylakeX...), picked
// at run time, plus its own thread pool. When OpenBLAS is found (CMakeLists.txt then defines
// TANDEM_HAVE_OPENBLAS and EIGEN_USE_BLAS), float and double products call its sgemm / dgemm
// (directly: see gemm_one); int64 products always use Eigen's own kernel. Products with a
// dimension of 1 (batch-1 layers) take neither: see vector_product. Which is faster? On the Zen 3 machine of
// bench/RESULTS.md, OpenBLAS: Eigen's GEMM reached 0.7-0.8x of it on one thread, and on two threads
// of a busy machine much less (Eigen's threads spin-wait for each other). So OpenBLAS is the
// default (-DTANDEM_USE_BLAS=OFF builds without it), and matmul then runs at PyTorch's speed —
// PyTorch calls the same OpenBLAS.
//
// Row-major meets a column-major library. BLAS, born in Fortran, stores matrices column-major;
// Tandem is row-major. No copy is needed to bridge them, because the bytes of a row-major
// m x k matrix A are exactly the bytes of the column-major k x m matrix Aᵀ. So for row-major C
// we ask the library for Cᵀ instead, using
//
//     Cᵀ = (A·B)ᵀ = Bᵀ·Aᵀ         — call the column-major GEMM with the operands swapped.
//
// Eigen does this swap internally for a row-major destination; cuda/ does it by hand for cuBLAS.
// A transposed view `a.t()` (strides (1, m)) is a column-major matrix, so it is handed to GEMM as
// such (BLAS's 'T' flag) and costs no copy either. Only an operand that is neither row- nor
// column-major — a slice with step 2 in its last dimension, an expanded (stride-0) matrix — is
// copied to contiguous memory first.
//
// torch.matmul's rank rules, all handled by viewing both operands as (batches of) matrices:
//   1-D · 1-D   dot product, a 0-dim result        [k] · [k]         -> []
//   2-D · 1-D   matrix · vector                    [m, k] · [k]      -> [m]      (b as k x 1)
//   1-D · 2-D   vector · matrix                    [k] · [k, n]      -> [n]      (a as 1 x k)
//   2-D · 2-D   matrix · matrix                    [m, k] · [k, n]   -> [m, n]
//   N-D         batches, the batch dims broadcast  [2,1,m,k] · [5,k,n] -> [2,5,m,n]
//
// The plain triple loop it must agree with: reference::matmul (core/ops/reference.h).
// Read next: core/ops/reduce.cpp; for the GPU side of the same op, cuda/ (the matmul ladder).
#include <algorithm>
#include <array>
#include <string>
#include <type_traits>
#include <vector>

#include <Eigen/Core>

#include "core/op.h"
#include "core/ops.h"
#include "core/ops/loops.h"
#include "core/ops/matmul.h"
#include "core/threads.h"

namespace tandem {
namespace {

// ---- shape rule ---------------------------------------------------------------------------------

// "2x3": how PyTorch writes matrix shapes in matmul errors; unknown dims print as "?".
std::string dims_str(const Shape& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += "x";
    out += s[i] == kUnknown ? "?" : std::to_string(s[i]);
  }
  return out;
}

// torch.matmul's rules (see the table above). Unknown dims (-1, graph mode) are accepted: a
// conflict between two *known* inner sizes throws now, one involving an unknown size is caught
// by the kernel, which runs this same rule on the concrete shapes.
Meta matmul_shape(std::span<const Meta> in, const Attrs&) {
  const Shape& a = in[0].shape;
  const Shape& b = in[1].shape;
  const auto ra = static_cast<int64_t>(a.size()), rb = static_cast<int64_t>(b.size());
  if (ra == 0 || rb == 0)
    throw ShapeError(msg("matmul: both arguments to matmul need to be at least 1D, but they are ",
                         ra, "D and ", rb, "D; to scale by a 0-dim tensor use mul (the * operator)"));
  if (in[0].dtype == kBool || in[1].dtype == kBool)
    throw DTypeError("matmul: not implemented for bool tensors; convert them first, e.g. "
                     "a.to(kFloat32)");
  if (in[0].dtype != in[1].dtype)
    throw DTypeError(msg("matmul: expected m1 and m2 to have the same dtype, but got: ",
                         to_string(in[0].dtype), " != ", to_string(in[1].dtype),
                         "; convert one of them with .to(dtype) first"));

  // The contracted dimension: the last of a, and the second-to-last of b (its only one if 1-D).
  const int64_t ka = a[ra - 1];
  const int64_t kb = rb == 1 ? b[0] : b[rb - 2];
  if (ka != kUnknown && kb != kUnknown && ka != kb)
    throw ShapeError(msg("matmul: mat1 and mat2 shapes cannot be multiplied (", dims_str(a), " and ",
                         dims_str(b), "): the last dimension of mat1 (", ka, ") must equal the ",
                         rb == 1 ? "length of the vector mat2" : "second-to-last dimension of mat2",
                         " (", kb, "); did you mean to transpose one of them?"));

  // Batch dims: everything before the matrix dims, broadcast NumPy-style.
  const Shape batch_a(a.begin(), a.end() - std::min<int64_t>(ra, 2));
  const Shape batch_b(b.begin(), b.end() - std::min<int64_t>(rb, 2));
  Shape out;
  try {
    out = broadcast_shapes(batch_a, batch_b, "batch dimensions");
  } catch (const ShapeError& e) {
    throw ShapeError(msg("matmul: the batch dimensions of mat1 ", shape_str(a), " and mat2 ",
                         shape_str(b), " do not broadcast (", e.what(), ")"));
  }
  if (ra >= 2) out.push_back(a[ra - 2]);  // m (a 1-D a contributes no row dimension)
  if (rb >= 2) out.push_back(b[rb - 1]);  // n (a 1-D b contributes no column dimension)
  return {out, in[0].dtype};
}

// ---- how GEMM reads one operand ----------------------------------------------------------------

// One operand as a batch of matrices: a rows x cols matrix per batch index, stored row-major
// (element (i, j) at i*ld + j) or column-major (at i + j*ld). The matrix of batch index
// (b_0, b_1, ...) starts at data + Σ_d b_d · batch_strides[d].
template <typename T> struct Operand {
  Tensor tensor;  // keeps the memory alive (the input itself, or its contiguous copy)
  const T* data = nullptr;
  int64_t rows = 0, cols = 0;
  bool row_major = true;
  int64_t ld = 1;        // leading dimension: elements between rows (row-major) or columns
  Strides batch_strides; // per dim of the output's batch shape; 0 where the operand broadcasts
};

// The matrix dims of `x` as GEMM sees them: its last two, or for a 1-D tensor a row vector
// (1 x k, when it is the left operand) or a column vector (k x 1, when it is the right one).
struct MatrixDims {
  int64_t rows, cols, row_stride, col_stride;
};
MatrixDims matrix_dims(const Tensor& x, bool is_left) {
  const int64_t r = x.dim();
  if (r == 1) {
    if (is_left) return {1, x.shape()[0], 0, x.strides()[0]};
    return {x.shape()[0], 1, x.strides()[0], 0};
  }
  return {x.shape()[r - 2], x.shape()[r - 1], x.strides()[r - 2], x.strides()[r - 1]};
}

// Can GEMM read this matrix in place? Row-major needs unit steps along a row and rows that do not
// overlap (row_stride >= cols, which BLAS checks as lda >= cols); column-major the mirror image.
// A dimension of size 1 is never stepped along, so its stride does not matter.
bool fits_row_major(const MatrixDims& d, int64_t& ld) {
  if ((d.cols <= 1 || d.col_stride == 1) && (d.rows <= 1 || d.row_stride >= d.cols)) {
    ld = d.rows <= 1 ? std::max<int64_t>(d.cols, 1) : d.row_stride;
    return true;
  }
  return false;
}
bool fits_col_major(const MatrixDims& d, int64_t& ld) {
  if ((d.rows <= 1 || d.row_stride == 1) && (d.cols <= 1 || d.col_stride >= d.rows)) {
    ld = d.cols <= 1 ? std::max<int64_t>(d.rows, 1) : d.col_stride;
    return true;
  }
  return false;
}

template <typename T>
Operand<T> make_operand(Tensor x, bool is_left, const Shape& batch_shape) {
  Operand<T> op;
  MatrixDims d = matrix_dims(x, is_left);
  if (fits_row_major(d, op.ld)) {
    op.row_major = true;
  } else if (fits_col_major(d, op.ld)) {
    op.row_major = false;
  } else {  // neither layout: one copy to row-major, then read it as such
    x = x.contiguous();
    d = matrix_dims(x, is_left);
    fits_row_major(d, op.ld);
    op.row_major = true;
  }
  op.tensor = x;
  op.data = x.data<T>();
  op.rows = d.rows;
  op.cols = d.cols;
  const int64_t batch_rank = std::max<int64_t>(x.dim() - 2, 0);
  const Shape batch(x.shape().begin(), x.shape().begin() + batch_rank);
  const Strides strides(x.strides().begin(), x.strides().begin() + batch_rank);
  op.batch_strides = broadcast_strides(batch, strides, batch_shape);
  return op;
}

// ---- products with a dimension of 1: plain loops ----------------------------------------------
//
// At batch 1 a Linear layer is no matrix-matrix product at all. Its forward [1, 784] · [784, 256]
// is a vector times a matrix (GEMV); its backward dW = xᵀ·g is an outer product [784, 1] · [1, 256]
// and dx = g·Wᵀ a vector times a matrix again. Each reads or writes every element of the matrix
// once and does one multiply-add per element: there is no reuse, so the GEMM tricks above
// (blocking, packing) cannot help, and the speed limit is how fast the matrix streams through
// memory. A plain loop whose inner loop has unit stride, which the compiler vectorises, reaches
// that limit. What does cost time for such a product is everything around the arithmetic: Eigen's
// GEMM path first sets the whole output to zero and then accumulates into it (one more pass over
// the largest array), and OpenBLAS runs a GEMV of this size through its own thread pool, a second
// pool beside OpenMP's. So a product with m, n or k equal to 1 and at most kSmallVectorProduct
// multiply-adds takes these loops, split among the OpenMP threads by the same rule as elementwise
// loops (loops::kParallelGrain). Larger ones go to the library, whose threads then pay for
// themselves.
constexpr int64_t kSmallVectorProduct = int64_t{1} << 20;

// One matrix of an operand: element (i, j) at data[i * rs + j * cs]. A row-major matrix has
// cs = 1, a column-major one rs = 1 (make_operand guarantees one of the two).
template <typename T> struct MatrixView {
  const T* data;
  int64_t rs, cs;  // row step and column step, in elements
};
template <typename T> MatrixView<T> view_of(const Operand<T>& op, int64_t offset) {
  return {op.data + offset, op.row_major ? op.ld : 1, op.row_major ? 1 : op.ld};
}

// The n elements v[0], v[step], v[2·step]...: the pointer itself when step is 1, else a packed
// copy in `buffer`. The loops below then read every vector with unit stride, which is what lets
// the compiler vectorise them (with a stride known only at run time it falls back to scalar code).
template <typename T>
const T* unit_stride(const T* v, int64_t n, int64_t step, std::vector<T>& buffer) {
  if (step == 1) return v;
  buffer.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) buffer[i] = v[i * step];
  return buffer.data();
}

// out[j] = Σ_p a[p] · b_j[p] for j < n, where b_j = b + j·ld: n dot products with one vector a,
// every vector read with unit stride. (Row vector times a column-major matrix, or a row-major
// matrix times a column vector.)
//
// The plain loop per j is `for p: sum += a[p] * b_j[p]` (the tail below). Vectorised with
// `omp simd reduction`, it keeps 16 partial sums in one AVX-512 register and, after the loop, adds
// the 16 lanes one after the other: a chain of 16 dependent scalar additions, which costs more
// than the 8 vector multiply-adds of a 128-long dot product. SPEED: four dot products per pass
// share each load of a, and their four chains of additions at the end are independent, so the
// CPU runs them side by side. Measured alone (256 dot products, one thread): 2.7 -> 2.1 µs for
// k = 128 (the gradient g·W2ᵀ of bench/'s MLP at batch 1: its whole step, one thread, went from
// 63.8 to 63.2 µs eager and 40.1 to 39.0 µs graph), 18.6 -> 8.5 µs for k = 784 (a batch-1 Linear
// layer whose weight is stored [out, in], as nn::Linear's is). The tests check both loops (n a
// multiple of 4 and not) against sums written out (tests/test_matmul_vector_paths.cpp).
template <typename T>
void dot_products(const T* a, const T* b, int64_t ld, int64_t k, int64_t n, T* out) {
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const T* b0 = b + j * ld;
    const T *b1 = b0 + ld, *b2 = b1 + ld, *b3 = b2 + ld;
    T s0 = 0, s1 = 0, s2 = 0, s3 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
    for (int64_t p = 0; p < k; ++p) {
      s0 += a[p] * b0[p];
      s1 += a[p] * b1[p];
      s2 += a[p] * b2[p];
      s3 += a[p] * b3[p];
    }
    out[j] = s0;
    out[j + 1] = s1;
    out[j + 2] = s2;
    out[j + 3] = s3;
  }
  for (; j < n; ++j) {  // the plain loop, for the last n % 4
    const T* bj = b + j * ld;
    T sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t p = 0; p < k; ++p) sum += a[p] * bj[p];
    out[j] = sum;
  }
}

// c[j - j0] += Σ_{p0 <= p < p1} a[p] · B[p][j] for j0 <= j < j1 (B row-major): rows of B added
// in memory order ("axpy"), four per pass, so that c is loaded and stored once per four rows, not
// once per row (the loads and stores of c, not the multiply-adds, were what limited the one-row
// loop). c stays in L1 cache throughout.
template <typename T>
void add_rows(const T* a, MatrixView<T> B, int64_t p0, int64_t p1, int64_t j0, int64_t j1, T* c) {
  const int64_t w = j1 - j0;
  int64_t p = p0;
  for (; p + 4 <= p1; p += 4) {
    const T a0 = a[p], a1 = a[p + 1], a2 = a[p + 2], a3 = a[p + 3];
    const T* b0 = B.data + p * B.rs + j0;
    const T *b1 = b0 + B.rs, *b2 = b1 + B.rs, *b3 = b2 + B.rs;
#pragma omp simd
    for (int64_t j = 0; j < w; ++j) c[j] += a0 * b0[j] + a1 * b1[j] + a2 * b2[j] + a3 * b3[j];
  }
  for (; p < p1; ++p) {
    const T ap = a[p];
    const T* bp = B.data + p * B.rs + j0;
#pragma omp simd
    for (int64_t j = 0; j < w; ++j) c[j] += ap * bp[j];
  }
}

// C (m x n, row-major, contiguous) = A (m x k) · B (k x n), where m, n or k is 1.
//
// Big enough products (the 784 x 256 layer of bench/: 200,704 multiply-adds) are split among the
// threads, each taking whole rows of C, or, when C is a single row, chunks of B's rows (or blocks of
// C's columns: below). They are memory-bound, and each core brings its own L1/L2 caches and
// load/store bandwidth to the matrix.
template <typename T>
void vector_product(MatrixView<T> A, MatrixView<T> B, int64_t m, int64_t n, int64_t k, T* c) {
  std::vector<T> buffer;
  const bool parallel = m * n * k >= loops::kParallelGrain;
  if (k == 1) {  // outer product: C[i][j] = A[i][0] · B[0][j], row by row
    const T* b = unit_stride(B.data, n, B.cs, buffer);
    loops::parallel_for(m, parallel, [&](int64_t i) {
      const T ai = A.data[i * A.rs];
      T* ci = c + i * n;
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) ci[j] = ai * b[j];
    });
  } else if (m == 1) {
    const T* a = unit_stride(A.data, k, A.cs, buffer);  // the one row of A
    if (B.cs == 1) {
      // Row vector times a row-major matrix: c = Σ_p a[p] · (row p of B), by add_rows (above),
      // which reads B in memory order. Threads split the rows of B when they are short, the
      // columns when they are long:
      //  - ROWS in chunks of kRowPiece floats, each summing its own part of c, the parts added in
      //    chunk order at the end. The elementwise loops that come next in a training step (the SGD
      //    update of this weight, its gradient) give each thread a contiguous part of the weight, in
      //    pieces of kRowPiece: this way each core keeps reading the part it will update. Split by
      //    columns, every cache line of the weight went from one core to the other and back each
      //    step: at batch 1 on two threads this product and the update took 39 µs together, against
      //    5 and 10 µs alone. The chunks do not depend on the number of threads, so neither do the
      //    sums: one thread or two give the same bits.
      //  - COLUMNS, in blocks of kColumnBlock, for rows longer than a piece (a part of c per chunk
      //    would then cost as much memory as B).
      if (n <= loops::kRowPiece) {
        const int64_t rows_per_chunk = loops::kRowPiece / n;
        const int64_t chunks = (k + rows_per_chunk - 1) / rows_per_chunk;
        // The first chunk sums straight into c, the others into parts (scratch of this thread,
        // grown once); each starts from its first row times a, not from zeros.
        thread_local std::vector<T> scratch;
        const auto parts_size = static_cast<size_t>((chunks - 1) * n);
        if (scratch.size() < parts_size) scratch.resize(parts_size);
        T* parts = scratch.data();
        loops::parallel_for(chunks, parallel, [&](int64_t chunk) {
          const int64_t p0 = chunk * rows_per_chunk, p1 = std::min(k, p0 + rows_per_chunk);
          T* part = chunk == 0 ? c : parts + (chunk - 1) * n;
          const T* b = B.data + p0 * B.rs;
#pragma omp simd
          for (int64_t j = 0; j < n; ++j) part[j] = a[p0] * b[j];
          add_rows(a, B, p0 + 1, p1, 0, n, part);
        });
        for (int64_t chunk = 1; chunk < chunks; ++chunk) {
          const T* part = parts + (chunk - 1) * n;
#pragma omp simd
          for (int64_t j = 0; j < n; ++j) c[j] += part[j];
        }
      } else {
        constexpr int64_t kColumnBlock = 64;
        loops::parallel_for((n + kColumnBlock - 1) / kColumnBlock, parallel, [&](int64_t blk) {
          const int64_t j0 = blk * kColumnBlock, j1 = std::min(n, j0 + kColumnBlock);
          std::fill(c + j0, c + j1, T(0));
          add_rows(a, B, 0, k, j0, j1, c + j0);
        });
      }
    } else {
      // Row vector times a column-major matrix (a transposed weight, B = Wᵀ): column j of B is
      // contiguous, so c[j] is one dot product read in memory order.
      // Threads take blocks of kRowBlock columns.
      constexpr int64_t kRowBlock = 16;
      loops::parallel_for((n + kRowBlock - 1) / kRowBlock, parallel, [&](int64_t blk) {
        const int64_t j0 = blk * kRowBlock;
        dot_products(a, B.data + j0 * B.cs, B.cs, k, std::min(kRowBlock, n - j0), c + j0);
      });
    }
  } else {  // n == 1
    const T* b = unit_stride(B.data, k, B.rs, buffer);  // the one column of B
    if (A.cs == 1) {
      // Row-major matrix times a column vector: c[i] = dot(row i of A, b).
      constexpr int64_t kRowBlock = 16;  // threads take blocks of rows
      loops::parallel_for((m + kRowBlock - 1) / kRowBlock, parallel, [&](int64_t blk) {
        const int64_t i0 = blk * kRowBlock;
        dot_products(b, A.data + i0 * A.rs, A.rs, k, std::min(kRowBlock, m - i0), c + i0);
      });
    } else {
      // Column-major matrix times a column vector: c = Σ_p b[p] · (column p of A), in memory order.
      // (One thread: splitting it would need a sum of per-thread vectors, for a rare case.)
      std::fill(c, c + m, T(0));
      for (int64_t p = 0; p < k; ++p) {
        const T bp = b[p];
        const T* ap = A.data + p * A.cs;
#pragma omp simd
        for (int64_t i = 0; i < m; ++i) c[i] += ap[i] * bp;
      }
    }
  }
}

// C (m x n, row-major, contiguous) += alpha · A (m x 1) · B (1 x n): a rank-1 update, BLAS's GER.
// At batch 1 this is a Linear layer's weight gradient xᵀ·g *and* its SGD step in one pass over W,
// which is what the graph pass graph/passes/update_fusion.cpp asks for.
template <typename T>
void rank_one_update(MatrixView<T> A, MatrixView<T> B, int64_t m, int64_t n, T alpha, T* c) {
  std::vector<T> buffer;
  const T* b = unit_stride(B.data, n, B.cs, buffer);
  loops::parallel_for(m, m * n >= loops::kParallelGrain, [&](int64_t i) {
    const T ai = alpha * A.data[i * A.rs];
    T* ci = c + i * n;
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) ci[j] += ai * b[j];
  });
}

// ---- the GEMM loop ------------------------------------------------------------------------------

// Below this much work per matrix (m·n·k multiply-adds, 64³), one GEMM is too small to share among
// threads, so threads take whole matrices of the batch instead. OpenBLAS uses the same cut-off to
// decide whether one call runs on one thread; above it the GEMM itself uses all threads.
constexpr int64_t kSmallGemm = 64 * 64 * 64;

#ifdef TANDEM_HAVE_OPENBLAS
// From OpenBLAS's cblas.h, declared here so that no BLAS header is needed to build (the enums of
// that header are plain ints: RowMajor 101, NoTrans 111, Trans 112).
extern "C" {
void cblas_sgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float* a,
                 int lda, const float* b, int ldb, float beta, float* c, int ldc);
void cblas_dgemm(int order, int trans_a, int trans_b, int m, int n, int k, double alpha, const double* a,
                 int lda, const double* b, int ldb, double beta, double* c, int ldc);
}
#endif

template <typename T, int Order>
using MatrixMap =
    Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Order>, 0, Eigen::OuterStride<>>;
template <typename T>
using OutputMap = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;

// c = a · b through Eigen, or c += alpha · a · b when `accumulate`. The storage orders are template
// parameters because Eigen picks its code path at compile time.
template <typename T, int OrderA, int OrderB>
void eigen_gemm(const T* a, int64_t lda, const T* b, int64_t ldb, int64_t m, int64_t n, int64_t k, T* c,
                T alpha, bool accumulate) {
  const MatrixMap<T, OrderA> am(a, m, k, Eigen::OuterStride<>(lda));
  const MatrixMap<T, OrderB> bm(b, k, n, Eigen::OuterStride<>(ldb));
  OutputMap<T> cm(c, m, n);
  // noalias(): C does not overlap A or B, so Eigen may write the product straight into C
  // instead of into a temporary that it then copies.
  if (accumulate) cm.noalias() += alpha * (am * bm);
  else cm.noalias() = am * bm;
}

// One product of the batch, matrices at offsets off_a and off_b, C contiguous at c:
//     C = A · B                  (accumulate false: every product op)
//     C = C + alpha · A · B      (accumulate true: matmul_accumulate below)
// The second is BLAS's full GEMM, C = alpha·A·B + beta·C with beta = 1, for free: GEMM reads C
// anyway when beta is not 0.
template <typename T>
void gemm_one(const Operand<T>& A, const Operand<T>& B, int64_t off_a, int64_t off_b, T* c,
              T alpha = T(1), bool accumulate = false) {
  const int64_t m = A.rows, k = A.cols, n = B.cols;
  if (!accumulate && (m == 1 || n == 1 || k == 1) && m * n * k <= kSmallVectorProduct)
    return vector_product(view_of(A, off_a), view_of(B, off_b), m, n, k, c);
  if (accumulate && k == 1 && m * n <= kSmallVectorProduct)
    return rank_one_update(view_of(A, off_a), view_of(B, off_b), m, n, alpha, c);
  adapt_threads_to_load();  // the GEMM's team: the cores other processes leave free (core/threads.h)
#ifdef TANDEM_HAVE_OPENBLAS
  // float and double: straight to OpenBLAS, asking for C = 1·A·B + 0·C, or C = alpha·A·B + 1·C
  // when accumulating. (Through Eigen, a plain product is computed as C = 0, then C += A·B: one
  // extra pass over C.) BLAS takes int sizes.
  constexpr int64_t kMaxInt = 2147483647;
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    if (std::max({m, n, k, A.ld, B.ld}) <= kMaxInt) {
      constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;
      const int ta = A.row_major ? kNoTrans : kTrans, tb = B.row_major ? kNoTrans : kTrans;
      const int mi = static_cast<int>(m), ni = static_cast<int>(n), ki = static_cast<int>(k);
      const int lda = static_cast<int>(A.ld), ldb = static_cast<int>(B.ld);
      const T beta = accumulate ? T(1) : T(0);
      if constexpr (std::is_same_v<T, float>)
        cblas_sgemm(kRowMajor, ta, tb, mi, ni, ki, alpha, A.data + off_a, lda, B.data + off_b, ldb, beta, c, ni);
      else
        cblas_dgemm(kRowMajor, ta, tb, mi, ni, ki, alpha, A.data + off_a, lda, B.data + off_b, ldb, beta, c, ni);
      return;
    }
  }
#endif
  const T* a = A.data + off_a;
  const T* b = B.data + off_b;
  if (A.row_major && B.row_major)
    eigen_gemm<T, Eigen::RowMajor, Eigen::RowMajor>(a, A.ld, b, B.ld, m, n, k, c, alpha, accumulate);
  else if (A.row_major)
    eigen_gemm<T, Eigen::RowMajor, Eigen::ColMajor>(a, A.ld, b, B.ld, m, n, k, c, alpha, accumulate);
  else if (B.row_major)
    eigen_gemm<T, Eigen::ColMajor, Eigen::RowMajor>(a, A.ld, b, B.ld, m, n, k, c, alpha, accumulate);
  else
    eigen_gemm<T, Eigen::ColMajor, Eigen::ColMajor>(a, A.ld, b, B.ld, m, n, k, c, alpha, accumulate);
}

// out[b] = A[b] · B[b] for every batch index b (the output is contiguous: batch b at b·m·n).
template <typename T>
void gemm_batches(const Operand<T>& A, const Operand<T>& B, const Shape& batch_shape, T* out) {
  const int64_t m = A.rows, k = A.cols, n = B.cols;
  const int64_t batches = numel(batch_shape);
  const auto batch_rank = static_cast<int64_t>(batch_shape.size());
  if (batches == 1) return gemm_one(A, B, 0, 0, out);  // one product: no thread team to start

  // Threads take whole products of the batch when each is small, or when there are enough of them
  // to keep every thread busy (a convolution's per-image GEMMs, core/ops/conv.cpp) and the BLAS
  // then runs single-threaded: its OpenMP build does inside a parallel region, while the pthread
  // build would start its own threads in every call. Otherwise the products run one after the
  // other, each on all threads.
  const bool many = gemm_nests_in_parallel() && batches >= 2 * static_cast<int64_t>(get_num_threads());
  loops::parallel_for(batches, m * n * k <= kSmallGemm || many, [&](int64_t b) {
    // Decompose the batch number into batch indices (last varies fastest), as loops.h does.
    int64_t off_a = 0, off_b = 0, rem = b;
    for (int64_t d = batch_rank - 1; d >= 0; --d) {
      const int64_t i = rem % batch_shape[d];
      rem /= batch_shape[d];
      off_a += i * A.batch_strides[d];
      off_b += i * B.batch_strides[d];
    }
    gemm_one(A, B, off_a, off_b, out + b * m * n);
  });
}

template <typename T>
void matmul_typed(const Tensor& a, const Tensor& b, const Shape& batch_shape, Tensor& out) {
  T* po = out.data<T>();
  const int64_t k = a.shape().back();
  if (k == 0) {  // an empty sum: every entry of C is 0
    std::fill(po, po + out.numel(), T(0));
    return;
  }

  // Fast path: a batch of matrices against ONE matrix — [B, m, k] · [k, n], a Linear layer on a
  // batch of sequences — is one big GEMM [B·m, k] · [k, n] when a is contiguous: its matrices lie
  // back to back, so they *are* one tall matrix. One large GEMM beats B small ones.
  if (a.dim() > 2 && b.dim() <= 2 && a.is_contiguous()) {
    Operand<T> A;
    A.tensor = a;
    A.data = a.data<T>();
    A.rows = a.numel() / k;
    A.cols = A.ld = k;
    const Operand<T> B = make_operand<T>(b, false, {});
    return gemm_batches<T>(A, B, {}, po);
  }

  const Operand<T> A = make_operand<T>(a, true, batch_shape);
  const Operand<T> B = make_operand<T>(b, false, batch_shape);
  gemm_batches<T>(A, B, batch_shape, po);
}

void matmul_kernel(std::span<const Tensor> in, const Attrs& attrs, Tensor& out) {
  const Tensor& a = in[0];
  const Tensor& b = in[1];
  // The run-time check: in graph mode the shape rule may have seen unknown sizes.
  const std::array<Meta, 2> metas = {meta_of(a), meta_of(b)};
  const Meta m = matmul_shape(metas, attrs);
  if (m.shape != out.shape())
    throw ShapeError(msg("matmul: the output has shape ", shape_str(out.shape()), " but mat1 ",
                         shape_str(a.shape()), " times mat2 ", shape_str(b.shape()), " gives ",
                         shape_str(m.shape)));
  if (out.numel() == 0) return;

  // The batch shape is the output's shape without its matrix dims.
  const size_t matrix_dims_of_out = (a.dim() >= 2) + (b.dim() >= 2);
  const Shape batch_shape(out.shape().begin(), out.shape().end() - matrix_dims_of_out);
  switch (out.dtype()) {
    case kFloat32: return matmul_typed<float>(a, b, batch_shape, out);
    case kFloat64: return matmul_typed<double>(a, b, batch_shape, out);
    case kInt64: return matmul_typed<int64_t>(a, b, batch_shape, out);
    case kBool: break;  // rejected by the shape rule
  }
}

}  // namespace

// ---- the catalogue entry ------------------------------------------------------------------------
namespace ops {
TANDEM_OP(matmul, .arity = 2, .shape = matmul_shape, .cpu = matmul_kernel);
}  // namespace ops

// ---- C += alpha · A · B (core/ops/matmul.h) -------------------------------------------------------
MatmulAccumulateFn matmul_accumulate_cuda = nullptr;  // set by cuda/matmul.cu when it is built

bool matmul_accumulate(const Tensor& c, const Tensor& a, const Tensor& b, double alpha) {
  if (a.dim() != 2 || b.dim() != 2 || c.dim() != 2 || a.shape()[1] != b.shape()[0] ||
      c.shape() != Shape{a.shape()[0], b.shape()[1]})
    throw ShapeError(msg("matmul_accumulate: cannot add the product of mat1 ", shape_str(a.shape()),
                         " and mat2 ", shape_str(b.shape()), " into a matrix of shape ",
                         shape_str(c.shape()), " (expected [m, k] x [k, n] into [m, n])"));
  const DType t = c.dtype();
  const bool direct = a.device() == c.device() && b.device() == c.device() && c.is_contiguous() &&
                      a.dtype() == t && b.dtype() == t && (t == kFloat32 || t == kFloat64) &&
                      c.storage() != a.storage() && c.storage() != b.storage();
  if (!direct) return false;
  if (c.numel() == 0 || a.shape()[1] == 0) return true;  // nothing to add
  if (c.device().is_cuda()) {
    // cuBLAS with beta = 1, through the hook the CUDA backend sets (see core/ops/matmul.h).
    if (!matmul_accumulate_cuda || !matmul_accumulate_cuda(c, a, b, alpha)) return false;
  } else {
    auto run = [&]<typename T>() {
      const Operand<T> A = make_operand<T>(a, true, {});
      const Operand<T> B = make_operand<T>(b, false, {});
      gemm_one<T>(A, B, 0, 0, c.data<T>(), static_cast<T>(alpha), true);
    };
    if (t == kFloat32) run.operator()<float>();
    else run.operator()<double>();
  }
  c.storage()->version++;
  return true;
}

}  // namespace tandem

namespace tandem {

bool gemm_nests_in_parallel() {
#if defined(TANDEM_HAVE_OPENBLAS) && !defined(TANDEM_OPENBLAS_OPENMP)
  return false;  // OpenBLAS's pthread build: its own threads in every call
#else
  return true;  // OpenBLAS's OpenMP build, or Eigen's GEMM: one thread inside a parallel region
#endif
}

template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const T* a, const T* b, T* c,
          bool accumulate) {
  if (k == 0) {  // an empty sum adds nothing, and a product of nothing is 0
    if (!accumulate) std::fill(c, c + m * n, T(0));
    return;
  }
  Operand<T> A, B;  // stored transposed = read column-major
  A.data = a, A.rows = m, A.cols = k, A.row_major = !trans_a, A.ld = std::max<int64_t>(trans_a ? m : k, 1);
  B.data = b, B.rows = k, B.cols = n, B.row_major = !trans_b, B.ld = std::max<int64_t>(trans_b ? k : n, 1);
  gemm_one<T>(A, B, 0, 0, c, T(1), accumulate);
}
template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, const float*, const float*, float*, bool);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, const double*, const double*, double*, bool);

}  // namespace tandem
