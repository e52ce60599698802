// core/ops/matmul.h — the one matmul entry point beyond the op: C += alpha · A · B, in place.
//
// The op `matmul` (core/ops.h) always writes a new result. An optimizer step that follows a
// weight gradient, W -= lr · (Xᵀ · G), does not need that result: GEMM can add the product
// straight into W (BLAS's C = alpha·A·B + beta·C with beta = 1), and the gradient is never stored.
// Graph mode's update-fusion pass (graph/passes/update_fusion.cpp) rewrites such updates into
// calls of this function. It records nothing on the tape: it is a kernel, not an op.
//
// It runs on the CPU here, and on the GPU through a hook: core/ cannot call cuda/ (the CPU build
// has no CUDA), so cuda/matmul.cu fills in `matmul_accumulate_cuda` at start-up, the way it
// attaches kernels to the catalogue (core/op.h), and matmul_accumulate calls it for CUDA tensors.
#pragma once

#include "core/tensor.h"

namespace tandem {

// c += alpha · a · b for 2-D a [m, k], b [k, n] and c [m, n]; a and b may be transposed views.
// Throws ShapeError when the shapes do not fit. Returns false, having written nothing, when it
// cannot add into c directly — c not contiguous, the three not on one device, a CUDA device in a
// build without the backend, a dtype that differs from c's or is not float32/float64, c sharing
// memory with a or b — and the caller computes c + alpha · (a · b) out of place instead.
bool matmul_accumulate(const Tensor& c, const Tensor& a, const Tensor& b, double alpha);

// One GEMM on raw, contiguous row-major matrices, on the calling thread:
//     c = a · b        (accumulate false)        c += a · b       (accumulate true)
// a is [m, k] (trans_a: stored as its transpose, [k, m]), b is [k, n] (trans_b: stored [n, k]),
// c is [m, n]. For kernels that run their own parallel loop of many small products — the
// convolutions, one image at a time (core/ops/conv.cpp). Called inside such a loop, it runs on one
// thread (OpenMP's nesting rule, which OpenBLAS's OpenMP build and Eigen follow); see
// gemm_nests_in_parallel. float and double only.
template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const T* a, const T* b, T* c,
          bool accumulate);

// Whether a GEMM called inside an OpenMP parallel region runs on its own thread only (true for
// Eigen and OpenBLAS's OpenMP build; OpenBLAS's pthread build would start its own threads in every
// call, and a caller then does better to run its products one after the other).
bool gemm_nests_in_parallel();

// The GPU half of matmul_accumulate: null until the CUDA backend sets it at start-up (cuBLAS GEMM
// with beta = 1, cuda/matmul.cu). matmul_accumulate has already checked the shapes and every
// condition above when it calls this with CUDA tensors; it returns whether it added the product.
using MatmulAccumulateFn = bool (*)(const Tensor& c, const Tensor& a, const Tensor& b,
                                    double alpha);
extern MatmulAccumulateFn matmul_accumulate_cuda;

}  // namespace tandem
