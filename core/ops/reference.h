// core/ops/reference.h — plain-loop reference kernels: each op written as its textbook formula.
//
// The fast kernels are fast because they are *not* the formula. matmul packs and blocks inside a
// GEMM (core/ops/matmul.cpp), the reductions permute, coalesce and split dims among threads
// (core/ops/reduce.cpp), conv2d copies windows into a matrix and multiplies (im2col,
// core/ops/conv.cpp). Each trick is a place for a bug to hide. llm.c's answer, which Tandem copies:
// keep a plain version of every fast kernel beside it, and check the fast one against the plain
// one on random inputs (tests/test_reference.cpp).
//
// The functions here are exactly that plain version: one loop nest per op, over the index formula
// of a strided tensor (core/tensor.h),
//
//     element (i0, i1, ..., ik) lives at  data[offset + i0·stride0 + i1·stride1 + ... + ik·stridek]
//
// so they read any layout — transposed, sliced with a step, broadcast (stride 0) — without a copy.
// They accumulate in double and round once at the end. No blocking, no threads, no fast paths:
// they are slow on purpose, and meant for tests and for reading, never for training.
//
// Scope: floating inputs (float32, float64) of the CPU; the result has the input's dtype (argmax
// gives int64), is contiguous and has nothing to do with autograd (no tape is recorded).
//
// Read next: the fast kernels, which name their reference in their opening comments.
#pragma once

#include <cstdint>
#include <vector>

#include "core/op.h"  // Pair
#include "core/tensor.h"

namespace tandem::reference {

// ---- matrix multiplication ----------------------------------------------------------------------
// C[b, i, j] = Σ_p A[b, i, p] · B[b, p, j] for a [..., m, k] and b [..., k, n]; the batch dims
// (all but the last two) broadcast as in torch.matmul. Both operands must be at least 2-D.
Tensor matmul(const Tensor& a, const Tensor& b);

// ---- reductions over dims (an empty list means every dim, as in core/ops.h) --------------------
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
Tensor amax(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
Tensor amin(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
// The index of the first largest element along `dim` (the first NaN, if there is one).
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);
// Σ (x - mean)² / (N - correction), in two passes over x.
Tensor var(const Tensor& x, const std::vector<int64_t>& dims, int64_t correction = 1,
           bool keepdim = false);

// ---- convolution and pooling on [N, C, H, W] images ---------------------------------------------
// y[n, o, ho, wo] = Σ_{c, i, j} x[n, c, ho·sh + i - ph, wo·sw + j - pw] · w[o, c, i, j]
Tensor conv2d(const Tensor& x, const Tensor& w, Pair stride = {1, 1}, Pair padding = {0, 0});
// The gradients of conv2d, given g = dL/dy [N, O, Ho, Wo]:
//   dx[n, c, h, w] = Σ g[n, o, ho, wo] · w[o, c, i, j]  over every (o, ho, wo, i, j) with
//                    ho·sh + i - ph = h and wo·sw + j - pw = w          (input_size = {H, W})
//   dw[o, c, i, j] = Σ_{n, ho, wo} g[n, o, ho, wo] · x[n, c, ho·sh + i - ph, wo·sw + j - pw]
Tensor conv2d_input_grad(const Tensor& g, const Tensor& w, Pair stride, Pair padding,
                         Pair input_size);
Tensor conv2d_weight_grad(const Tensor& x, const Tensor& g, Pair stride, Pair padding, Pair kernel);
// y[n, c, ho, wo] = max over the window's pixels inside the image (padding never wins); the
// winner is the first largest pixel in row-major order, or the first NaN.
Tensor max_pool2d(const Tensor& x, Pair kernel, Pair stride, Pair padding = {0, 0});
// dx[winner of window (n, c, ho, wo)] += g[n, c, ho, wo]
Tensor max_pool2d_backward(const Tensor& g, const Tensor& x, Pair kernel, Pair stride,
                           Pair padding = {0, 0});

}  // namespace tandem::reference
