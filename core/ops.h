// core/ops.h — the operations a user calls, named as in PyTorch.
//
// Each function here is a thin wrapper: it packs its non-tensor arguments into Attrs and calls
// the op catalogue (core/op.h), which checks shapes, allocates and runs the kernel. Graph mode
// offers the same names on graph outputs (graph/), so `mul(a, b)` reads the same in both.
//
// Read next: core/ops/binary.cpp (broadcasting kernels), core/ops/matmul.cpp (GEMM).
#pragma once

#include <array>
#include <optional>
#include <vector>

#include "core/op.h"
#include "core/tensor.h"

namespace tandem {

// ---- elementwise, with NumPy broadcasting ---------------------------------------------------
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);  // true division: int / int gives float32
Tensor pow(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, const Scalar& exponent);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, const Tensor& b);  // comparisons give bool tensors
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b);

// A Scalar as a 0-dim tensor of the dtype PyTorch would give it next to `like`
// (a float scalar next to a float32 tensor is float32; next to an int64 tensor, float32).
Tensor scalar_like(const Scalar& s, const Tensor& like);
DType scalar_dtype(const Scalar& s, DType like);

// ---- elementwise unary ----------------------------------------------------------------------
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);  // 1 / (1 + e^-x), computed without overflow for large |x|
Tensor relu(const Tensor& x);
Tensor gelu(const Tensor& x);  // exact form x * Φ(x), as PyTorch's default

Tensor sign(const Tensor& x);  // -1, 0 or 1

// The derivatives of the activations, as single fused ops: g times f'(x), from the saved output
// y (relu, sigmoid, tanh) or input x (gelu). Used by the derivative sheet (autograd/).
Tensor relu_backward(const Tensor& g, const Tensor& y);
Tensor sigmoid_backward(const Tensor& g, const Tensor& y);
Tensor tanh_backward(const Tensor& g, const Tensor& y);
Tensor gelu_backward(const Tensor& g, const Tensor& x);

// ---- reductions ------------------------------------------------------------------------------
// With no dims: over all elements, giving a 0-dim tensor. Dims may be negative.
Tensor sum(const Tensor& x);
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
Tensor max(const Tensor& x);  // the largest value (0-dim); its gradient is shared among ties
// torch.max(x, dim).values: the value at the index argmax(x, dim) picks (the first of equal maxima),
// computed as a gather at that index — so its gradient goes to that one element, as in PyTorch.
Tensor max(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor min(const Tensor& x);
Tensor min(const Tensor& x, int64_t dim, bool keepdim = false);
// torch.amax / torch.amin: the reduction over any dims; the gradient is shared evenly among ties.
Tensor amax(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
Tensor amin(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
Tensor argmax(const Tensor& x);  // index into the flattened tensor
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmin(const Tensor& x);
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim = false);
// Variance, dividing by N - correction (1: unbiased, PyTorch's default). dims = {} means all dims:
// var(x, {}, 0) is the biased variance of every element.
Tensor var(const Tensor& x);
Tensor var(const Tensor& x, const std::vector<int64_t>& dims, int64_t correction = 1,
           bool keepdim = false);
// The reduction that undoes broadcasting: sums `x` down to `shape` (which must broadcast to
// x's shape). Gradients of broadcast ops use it: d(a+b)/db for b of shape [3] is sum_to(g, {3}).
Tensor sum_to(const Tensor& x, const Shape& shape);

// ---- linear algebra --------------------------------------------------------------------------
// 1-D·1-D dot, matrix·vector, matrix·matrix and batched (broadcast batch dims), as torch.matmul.
Tensor matmul(const Tensor& a, const Tensor& b);

// ---- softmax family -------------------------------------------------------------------------
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);

// ---- convolution and pooling (images [N, C, H, W]; core/ops/conv.cpp) ------------------------
// F.conv2d: weight [O, C, kh, kw], zero padding; optional bias [O]. Output [N, O, Ho, Wo] with
// Ho = (H + 2·padding - kh) / stride + 1.
Tensor conv2d(const Tensor& x, const Tensor& weight, Pair stride = {1, 1}, Pair padding = {0, 0});
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Pair stride = {1, 1},
              Pair padding = {0, 0});
// F.max_pool2d: the largest value of each kernel window; stride {0, 0} means the kernel size.
Tensor max_pool2d(const Tensor& x, Pair kernel, Pair stride = {0, 0}, Pair padding = {0, 0});
// The ops the derivative sheet uses for their gradients (window layouts: core/ops/conv.cpp).
Tensor conv2d_input_grad(const Tensor& g, const Tensor& weight, const Shape& window);
Tensor conv2d_weight_grad(const Tensor& x, const Tensor& g, const Shape& window);
// With the size in the window unknown (-1, graph mode), a third input gives it: the input (or the
// weight) itself, read for its shape only.
Tensor conv2d_input_grad(const Tensor& g, const Tensor& weight, const Shape& window, const Tensor& input_like);
Tensor conv2d_weight_grad(const Tensor& x, const Tensor& g, const Shape& window, const Tensor& weight_like);
Tensor max_pool2d_backward(const Tensor& g, const Tensor& x, const Shape& window);
Tensor max_pool2d_gather(const Tensor& values, const Tensor& x, const Shape& window);

// ---- dropout (core/dropout.h) -----------------------------------------------------------------
// F.dropout: in training, zero each element with probability p, scale the others by 1 / (1 - p).
Tensor dropout(const Tensor& x, double p = 0.5, bool training = true);
// F.dropout2d: the same for whole channels of an [N, C, H, W] batch.
Tensor dropout2d(const Tensor& x, double p = 0.5, bool training = true);

// ---- indexing -------------------------------------------------------------------------------
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);  // index: 1-D int64
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);        // index: same rank
Tensor one_hot(const Tensor& labels, int64_t num_classes = -1);          // -1: max label + 1

// ---- scattering (the backward of indexing and slicing) -----------------------------------------
// index_add(x, dim, index, src): a copy of x with src's slices added at x[..., index[i], ...].
Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
// scatter_add(x, dim, index, src): a copy of x with out[..index[i][j]..] += src[i][j] along dim.
Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
// slice_scatter(x, src, dim, start, end, step): a copy of x with x[start:end:step] (along dim)
// replaced by src. select_scatter likewise for x.select(dim, index).
Tensor slice_scatter(const Tensor& x, const Tensor& src, int64_t dim, int64_t start, int64_t end,
                     int64_t step = 1);
Tensor select_scatter(const Tensor& x, const Tensor& src, int64_t dim, int64_t index);

// ---- views and reshaping (also available as methods) -----------------------------------------
Tensor reshape(const Tensor& x, const Shape& shape);
Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1);
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
Tensor select(const Tensor& x, int64_t dim, int64_t index);
Tensor squeeze(const Tensor& x, std::optional<int64_t> dim = std::nullopt);
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor expand(const Tensor& x, const Shape& shape);
Tensor flatten(const Tensor& x, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor contiguous(const Tensor& x);
Tensor clone(const Tensor& x);
Tensor to(const Tensor& x, DType dtype);

// ---- joining --------------------------------------------------------------------------------
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
// cat's inverse: the window of g that pieces[index] occupies along dim (its gradient, for graphs
// whose sizes are known only at run time: core/ops/join.cpp).
Tensor split_like(const Tensor& g, const std::vector<Tensor>& pieces, int64_t dim, int64_t index);

// ---- losses (core/losses.h) -------------------------------------------------------------------
// The labels, unchanged, once checked to be class indices for `scores` (classes along class_dim):
// int64, one per sample, each in [0, classes). `loss` names the caller in the messages.
Tensor check_labels(const Tensor& labels, const Tensor& scores, int64_t class_dim, const char* loss);

// ---- comparing whole tensors (helpers for tests and demos) ---------------------------------
// Same shape and every |a - b| <= atol + rtol * |b|, like torch.allclose.
bool allclose(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-8);
// Same shape, same dtype and exactly the same values (torch.equal).
bool equal(const Tensor& a, const Tensor& b);

}  // namespace tandem
