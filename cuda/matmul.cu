// cuda/matmul.cu — matmul on the GPU through cuBLAS, NVIDIA's BLAS.
//
// The rank rules of torch.matmul (1-D dot, matrix·vector, batches with broadcast batch dims)
// are handled exactly as on the CPU (core/ops/matmul.cpp): the shape rule gives the output, and
// both operands are seen as batches of matrices — a 1-D left operand as a 1 x k row, a 1-D right
// operand as a k x 1 column. Each batch of matrices then becomes ONE cuBLAS call:
//
//   - cublasSgemm (Dgemm for float64) for a single product;
//   - cublasSgemmStridedBatched for a batch whose matrices lie a fixed stride apart in each
//     operand — a stride of 0 reuses one matrix for the whole batch, which is how a broadcast
//     operand ([5, k, n] · [k, n]) costs no copy.
//
// Row-major Tandem meets column-major cuBLAS through the operand swap Cᵀ = Bᵀ·Aᵀ, worked out in
// cuda/gemm_plan.h: every operand is passed as it lies in memory, transposed views included,
// and only a layout BLAS cannot describe (a stepped slice, a partly broadcast batch) is copied.
//
// Like the CPU GEMM, a [B, m, k] · [k, n] product with a contiguous left operand is one tall
// [B·m, k] · [k, n] GEMM (a Linear layer on a batch of sequences): one large call beats B small
// ones.
//
// matmul_accumulate (core/ops/matmul.h), c += alpha · a · b in place for graph mode's fused
// updates, is the same call with BLAS's two scalars put to use: C = alpha·A·B + beta·C with
// beta = 1 reads C and adds the product to it, so the product is never stored on its own.
//
// cuBLAS keeps its state in a handle, created on the first matmul and never destroyed (at exit
// the CUDA runtime may already be gone; the process's end frees it). Precision: cuBLAS's default
// math mode computes float32 products in float32 (no TF32 shortcut), as PyTorch does by default.
//
// Read next: cuda/matmul_ladder.cu — what cuBLAS does, written by hand, one step at a time.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <climits>
#include <mutex>

#include "core/op.h"
#include "core/ops.h"
#include "core/ops/matmul.h"
#include "cuda/common.cuh"
#include "cuda/cuda.h"
#include "cuda/gemm_plan.h"

namespace tandem::cuda {
namespace {

cublasHandle_t cublas_handle() {
  static cublasHandle_t handle = nullptr;
  static std::once_flag once;
  std::call_once(once, [] { TANDEM_CUBLAS_CHECK(cublasCreate(&handle), "matmul"); });
  return handle;
}

// cuBLAS takes sizes as int: refuse what does not fit rather than overflow.
int as_int(int64_t v, const char* what) {
  if (v > INT_MAX)
    throw Error(msg("matmul: ", what, " = ", v, " exceeds the 32-bit sizes cuBLAS accepts; split "
                    "the product into smaller ones"));
  return static_cast<int>(v);
}

// One operand ready for cuBLAS: its matrices' layout and the stride between them.
struct Operand {
  Tensor tensor;  // keeps the memory alive: the input itself, or its copy
  int64_t rows = 0, cols = 0;
  BlasMatrix layout;
  int64_t batch_stride = 0;
};

// x's matrices as BLAS sees them, over the output's batch shape `batch`. A 1-D operand is a row
// (left) or a column (right). When BLAS cannot read x in place, x is copied: first to a
// contiguous tensor; and if its batch dims are partly broadcast, expanded to the full batch.
Operand prepare(Tensor x, bool is_left, const Shape& batch) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    const int64_t r = x.dim();
    Operand op;
    op.tensor = x;
    int64_t row_stride, col_stride;
    if (r == 1) {
      op.rows = is_left ? 1 : x.shape()[0];
      op.cols = is_left ? x.shape()[0] : 1;
      row_stride = is_left ? 0 : x.strides()[0];
      col_stride = is_left ? x.strides()[0] : 0;
    } else {
      op.rows = x.shape()[r - 2];
      op.cols = x.shape()[r - 1];
      row_stride = x.strides()[r - 2];
      col_stride = x.strides()[r - 1];
    }
    const int64_t batch_rank = r > 2 ? r - 2 : 0;
    const Shape own_batch(x.shape().begin(), x.shape().begin() + batch_rank);
    const Strides own_strides(x.strides().begin(), x.strides().begin() + batch_rank);
    const auto layout = blas_matrix(op.rows, op.cols, row_stride, col_stride);
    const auto stride = uniform_batch_stride(batch, broadcast_strides(own_batch, own_strides, batch));
    if (!layout) {  // a layout BLAS cannot describe (a stepped slice, a stride-0 matrix)
      x = x.contiguous();
    } else if (!stride) {  // the batch repeats inside (a partly broadcast batch): materialise it
      Shape full = batch;
      full.push_back(op.rows);
      full.push_back(op.cols);
      x = x.expand(full).contiguous();
    } else {
      op.layout = *layout;
      op.batch_stride = *stride;
      return op;
    }
  }
  // A contiguous copy is always readable, so the loop returns by its second or third pass.
  throw Error("matmul: internal error: no BLAS layout found for a contiguous operand");
}

// out (contiguous, [batch..., m, n] with the 1-D dims dropped) = alpha · a · b + beta · out for
// float32 / float64: a plain product with alpha = 1, beta = 0 (out is then only written).
template <typename T>
void gemm(const Operand& A, const Operand& B, int64_t batches, T* out, T alpha = 1, T beta = 0) {
  const int64_t m = A.rows, k = A.cols, n = B.cols;
  const GemmCall c = row_major_gemm(m, n, k, A.layout, B.layout);
  const cublasOperation_t op_first = c.trans_first ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_second = c.trans_second ? CUBLAS_OP_T : CUBLAS_OP_N;
  const T* first = B.tensor.data<T>();  // the swap: cuBLAS's first operand is our B
  const T* second = A.tensor.data<T>();
  cublasHandle_t h = cublas_handle();
  const int cm = as_int(c.m, "n"), cn = as_int(c.n, "m"), ck = as_int(c.k, "k");
  const int lda = as_int(c.ld_first, "a leading dimension"), ldb = as_int(c.ld_second, "a leading dimension");
  const int ldc = as_int(c.ldc, "n");
  if (batches == 1) {
    if constexpr (std::is_same_v<T, float>)
      TANDEM_CUBLAS_CHECK(cublasSgemm(h, op_first, op_second, cm, cn, ck, &alpha, first, lda, second,
                                      ldb, &beta, out, ldc),
                          "matmul");
    else
      TANDEM_CUBLAS_CHECK(cublasDgemm(h, op_first, op_second, cm, cn, ck, &alpha, first, lda, second,
                                      ldb, &beta, out, ldc),
                          "matmul");
    return;
  }
  const int count = as_int(batches, "the batch size");
  if constexpr (std::is_same_v<T, float>)
    TANDEM_CUBLAS_CHECK(cublasSgemmStridedBatched(h, op_first, op_second, cm, cn, ck, &alpha, first, lda,
                                                  B.batch_stride, second, ldb, A.batch_stride, &beta,
                                                  out, ldc, m * n, count),
                        "matmul");
  else
    TANDEM_CUBLAS_CHECK(cublasDgemmStridedBatched(h, op_first, op_second, cm, cn, ck, &alpha, first, lda,
                                                  B.batch_stride, second, ldb, A.batch_stride, &beta,
                                                  out, ldc, m * n, count),
                        "matmul");
}

void matmul_kernel(std::span<const Tensor> in, const Attrs& attrs, Tensor& out) {
  const Tensor& a = in[0];
  const Tensor& b = in[1];
  require_floating(out.dtype(), "matmul");
  // The run-time check of the CPU kernel: in graph mode the shape rule may have seen unknown sizes.
  const Meta m = ops::matmul.shape(std::vector<Meta>{meta_of(a), meta_of(b)}, attrs);
  if (m.shape != out.shape())
    throw ShapeError(msg("matmul: the output has shape ", shape_str(out.shape()), " but mat1 ",
                         shape_str(a.shape()), " times mat2 ", shape_str(b.shape()), " gives ",
                         shape_str(m.shape)));
  if (out.numel() == 0) return;
  if (a.shape().back() == 0) {  // an empty sum: every entry of C is 0
    TANDEM_CUDA_CHECK(cudaMemsetAsync(out.raw_data(), 0, out.nbytes()), "matmul");
    return;
  }
  const size_t matrix_dims_of_out = (a.dim() >= 2) + (b.dim() >= 2);
  Shape batch(out.shape().begin(), out.shape().end() - matrix_dims_of_out);

  visit_floating(out.dtype(), [&]<typename T>() {
    if (a.dim() > 2 && b.dim() <= 2 && a.is_contiguous()) {
      // One tall GEMM: a's matrices lie back to back, so they are one (B·m) x k matrix.
      const Tensor tall = a.reshape({a.numel() / a.shape().back(), a.shape().back()});
      gemm<T>(prepare(tall, true, {}), prepare(b, false, {}), 1, out.data<T>());
      return;
    }
    gemm<T>(prepare(a, true, batch), prepare(b, false, batch), numel(batch), out.data<T>());
  });
}

// c += alpha · a · b for 2-D CUDA tensors: matmul_accumulate (core/ops/matmul.cpp) has checked
// the shapes, that c is contiguous, that all three share c's device and floating dtype, and that c
// shares no memory with either operand. a and b go to cuBLAS as they lie (transposed views too) or
// are copied first, exactly as for matmul; c is the output with beta = 1.
bool matmul_accumulate_gpu(const Tensor& c, const Tensor& a, const Tensor& b, double alpha) {
  visit_floating(c.dtype(), [&]<typename T>() {
    gemm<T>(prepare(a, true, {}), prepare(b, false, {}), 1, c.data<T>(), static_cast<T>(alpha),
            T(1));
  });
  return true;
}

// Attaches the kernel to the catalogue, and the accumulating GEMM to its hook, at start-up (see
// the note in cuda/elementwise.cu).
struct Registrar {
  Registrar() {
    ops::matmul.cuda = matmul_kernel;
    matmul_accumulate_cuda = matmul_accumulate_gpu;
  }
} registrar;

}  // namespace

Tensor matmul_cublas(const Tensor& a, const Tensor& b) {
  if (a.dim() != 2 || b.dim() != 2 || !a.device().is_cuda() || a.dtype() != kFloat32)
    throw Error(msg("cuda::matmul_cublas: expects two 2-D float32 CUDA tensors, got ",
                    shape_str(a.shape()), " ", to_string(a.dtype()), " on ", to_string(a.device()),
                    "; use matmul() for everything else"));
  return matmul(a, b);
}

}  // namespace tandem::cuda
