// core/ops.h — every operation a user calls, named as in PyTorch, written once for both modes.
//
// Each function is a template over the tensor type T — tandem::Tensor in eager mode,
// tandem::graph::Output in graph mode — and most are one line: pack the non-tensor arguments into
// Attrs and hand the op to apply() (core/op.h), which the two executors implement:
//
//     template <TensorLike T> T mul(const T& a, const T& b) { return apply<T>(ops::mul, {a, b}); }
//
//     Tensor y = mul(a, b);          // eager: computes now (and records the tape)
//     g::Output y = mul(x, w);       // graph: adds a node; Session::run computes it later
//
// There is no second copy of any of these for graphs: graph mode's g::mul *is* this mul. The few
// places where the two modes must differ say so with `if constexpr (is_eager<T>)` — always because
// eager mode can read a value that a graph does not have yet.
//
// Composites (softplus, max along a dim, conv2d with a bias, flatten, dropout...) are written from
// other ops, so their gradient, CUDA kernels and fusion come from those ops. The catalogue entries
// (`extern OpDef`) are declared beside the functions that use them; they are defined in
// core/ops/*.cpp.
//
// Read next: core/ops/binary.cpp (broadcasting kernels), core/ops/matmul.cpp (GEMM).
#pragma once

#include <algorithm>
#include <initializer_list>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/factories.h"
#include "core/op.h"
#include "core/tensor.h"

namespace tandem {

// ---- scalars in formulas ---------------------------------------------------------------------------
// A Scalar as a 0-dim value of the dtype PyTorch would give it next to `like` (a float scalar next
// to a float32 tensor is float32; next to an int64 tensor, float32), as a T: in graph mode, a
// constant node.
DType scalar_dtype(const Scalar& s, DType like);
template <TensorLike T> T scalar_like(const Scalar& s, const T& like) {
  return lift(full({}, s, scalar_dtype(s, like.dtype())), like);
}

// ---- elementwise, with NumPy broadcasting (core/ops/binary.cpp) -------------------------------------
namespace ops {
extern OpDef add, sub, mul, div, pow, maximum, minimum, eq, ne, lt, le, gt, ge, where, add_n;
}
template <TensorLike T> T add(const T& a, const T& b) { return apply<T>(ops::add, {a, b}); }
template <TensorLike T> T sub(const T& a, const T& b) { return apply<T>(ops::sub, {a, b}); }
template <TensorLike T> T mul(const T& a, const T& b) { return apply<T>(ops::mul, {a, b}); }
// True division: int / int gives float32.
template <TensorLike T> T div(const T& a, const T& b) { return apply<T>(ops::div, {a, b}); }
template <TensorLike T> T pow(const T& a, const T& b) { return apply<T>(ops::pow, {a, b}); }
template <TensorLike T> T pow(const T& a, const Scalar& e) { return pow(a, scalar_like(e, a)); }
template <TensorLike T> T pow(const Scalar& base, const T& e) { return pow(scalar_like(base, e), e); }
template <TensorLike T> T maximum(const T& a, const T& b) { return apply<T>(ops::maximum, {a, b}); }
template <TensorLike T> T minimum(const T& a, const T& b) { return apply<T>(ops::minimum, {a, b}); }
// Comparisons give bool tensors; each also takes a number on either side.
template <TensorLike T> T eq(const T& a, const T& b) { return apply<T>(ops::eq, {a, b}); }
template <TensorLike T> T ne(const T& a, const T& b) { return apply<T>(ops::ne, {a, b}); }
template <TensorLike T> T lt(const T& a, const T& b) { return apply<T>(ops::lt, {a, b}); }
template <TensorLike T> T le(const T& a, const T& b) { return apply<T>(ops::le, {a, b}); }
template <TensorLike T> T gt(const T& a, const T& b) { return apply<T>(ops::gt, {a, b}); }
template <TensorLike T> T ge(const T& a, const T& b) { return apply<T>(ops::ge, {a, b}); }
template <TensorLike T> T eq(const T& a, const Scalar& b) { return eq(a, scalar_like(b, a)); }
template <TensorLike T> T ne(const T& a, const Scalar& b) { return ne(a, scalar_like(b, a)); }
template <TensorLike T> T lt(const T& a, const Scalar& b) { return lt(a, scalar_like(b, a)); }
template <TensorLike T> T le(const T& a, const Scalar& b) { return le(a, scalar_like(b, a)); }
template <TensorLike T> T gt(const T& a, const Scalar& b) { return gt(a, scalar_like(b, a)); }
template <TensorLike T> T ge(const T& a, const Scalar& b) { return ge(a, scalar_like(b, a)); }
// where(condition, a, b): a where the bool condition holds, else b; a or b may be a number.
template <TensorLike T> T where(const T& c, const T& a, const T& b) { return apply<T>(ops::where, {c, a, b}); }
template <TensorLike T> T where(const T& c, const T& a, const Scalar& b) { return where(c, a, scalar_like(b, a)); }
template <TensorLike T> T where(const T& c, const Scalar& a, const T& b) { return where(c, scalar_like(a, b), b); }
// The sum of a list of values in one buffer (TF's AddN). One value is returned as it is.
template <TensorLike T> T add_n(const std::vector<T>& xs) {
  if (xs.empty()) throw Error("add_n: needs at least one input");
  return xs.size() == 1 ? xs[0] : apply<T>(ops::add_n, xs);
}
template <TensorLike T> T add_n(std::initializer_list<T> xs) { return add_n(std::vector<T>(xs)); }

// ---- elementwise unary (core/ops/unary.cpp) --------------------------------------------------------
namespace ops {
extern OpDef neg, exp, log, sqrt, abs, sin, cos, tanh, sigmoid, relu, gelu, erf, sign, cast, clone;
}
template <TensorLike T> T neg(const T& x) { return apply<T>(ops::neg, {x}); }
template <TensorLike T> T exp(const T& x) { return apply<T>(ops::exp, {x}); }
template <TensorLike T> T log(const T& x) { return apply<T>(ops::log, {x}); }
template <TensorLike T> T sqrt(const T& x) { return apply<T>(ops::sqrt, {x}); }
template <TensorLike T> T abs(const T& x) { return apply<T>(ops::abs, {x}); }
template <TensorLike T> T sin(const T& x) { return apply<T>(ops::sin, {x}); }
template <TensorLike T> T cos(const T& x) { return apply<T>(ops::cos, {x}); }
template <TensorLike T> T tanh(const T& x) { return apply<T>(ops::tanh, {x}); }
// 1 / (1 + e^-x), computed without overflow for large |x|.
template <TensorLike T> T sigmoid(const T& x) { return apply<T>(ops::sigmoid, {x}); }
template <TensorLike T> T relu(const T& x) { return apply<T>(ops::relu, {x}); }
// The exact form x * Φ(x), as PyTorch's default.
template <TensorLike T> T gelu(const T& x) { return apply<T>(ops::gelu, {x}); }
// The error function, 2/√π ∫₀ˣ e^(-t²) dt (torch.erf).
template <TensorLike T> T erf(const T& x) { return apply<T>(ops::erf, {x}); }
template <TensorLike T> T sign(const T& x) { return apply<T>(ops::sign, {x}); }  // -1, 0 or 1

// SPEED: the activations' derivatives fused into one kernel each, g * f'(x) from the saved output y
// (relu, sigmoid, tanh) or input x (gelu). Eager mode's backward uses them in place of the plain
// formulas, which it would run as several kernels (the speed section of autograd/derivatives.cpp).
namespace ops {
extern OpDef relu_backward, sigmoid_backward, tanh_backward, gelu_backward;
}
template <TensorLike T> T relu_backward(const T& g, const T& y) { return apply<T>(ops::relu_backward, {g, y}); }
template <TensorLike T> T sigmoid_backward(const T& g, const T& y) { return apply<T>(ops::sigmoid_backward, {g, y}); }
template <TensorLike T> T tanh_backward(const T& g, const T& y) { return apply<T>(ops::tanh_backward, {g, y}); }
template <TensorLike T> T gelu_backward(const T& g, const T& x) { return apply<T>(ops::gelu_backward, {g, x}); }

// softplus(x) = log(1 + e^x), a COMPOSITE op: written from existing ops, so both modes, its
// derivative (σ(x), found by the sheet from the ops below), CUDA and fusion come for free.
// Written naively, e^x overflows for x > 88 (float32) and the answer becomes inf. The stable form
// splits off the large part:  log(1 + e^x) = max(x, 0) + log(1 + e^-|x|),  and e^-|x| <= 1 never
// overflows. (F.softplus with beta = 1.) maximum, not relu: at exactly x = 0 both terms have a kink,
// and maximum's tie rule (half the gradient each way) gives the true slope σ(0) = ½ there.
template <TensorLike T> T softplus(const T& x) { return maximum(x, scalar_like(0.0, x)) + log(exp(-abs(x)) + 1.0); }

// ---- reductions (core/ops/reduce.cpp) --------------------------------------------------------------
// With no dims: over all elements, giving a 0-dim tensor. Dims may be negative.
namespace ops {
extern OpDef sum, mean, amax, amin, argmax, argmin, var, sum_to;
}
template <TensorLike T> T sum(const T& x) { return apply<T>(ops::sum, {x}); }
template <TensorLike T> T sum(const T& x, const std::vector<int64_t>& dims, bool keepdim = false) {
  return apply<T>(ops::sum, {x}, {.dims = dims, .keepdim = keepdim});
}
template <TensorLike T> T mean(const T& x) { return apply<T>(ops::mean, {x}); }
template <TensorLike T> T mean(const T& x, const std::vector<int64_t>& dims, bool keepdim = false) {
  return apply<T>(ops::mean, {x}, {.dims = dims, .keepdim = keepdim});
}
// torch.amax / torch.amin: the reduction over any dims; the gradient is shared evenly among ties.
template <TensorLike T> T amax(const T& x, const std::vector<int64_t>& dims, bool keepdim = false) {
  return apply<T>(ops::amax, {x}, {.dims = dims, .keepdim = keepdim});
}
template <TensorLike T> T amin(const T& x, const std::vector<int64_t>& dims, bool keepdim = false) {
  return apply<T>(ops::amin, {x}, {.dims = dims, .keepdim = keepdim});
}
template <TensorLike T> T argmax(const T& x) { return apply<T>(ops::argmax, {x}); }  // flattened index
template <TensorLike T> T argmax(const T& x, int64_t dim, bool keepdim = false) {
  return apply<T>(ops::argmax, {x}, {.dims = {dim}, .keepdim = keepdim});
}
template <TensorLike T> T argmin(const T& x) { return apply<T>(ops::argmin, {x}); }
template <TensorLike T> T argmin(const T& x, int64_t dim, bool keepdim = false) {
  return apply<T>(ops::argmin, {x}, {.dims = {dim}, .keepdim = keepdim});
}
// The largest value (0-dim); its gradient is shared among ties. There is none for an empty tensor.
void require_elements(const Shape& shape, const char* op);  // core/ops/reduce.cpp
template <TensorLike T> T max(const T& x) {
  require_elements(x.shape(), "max");
  return apply<T>(ops::amax, {x});
}
template <TensorLike T> T min(const T& x) {
  require_elements(x.shape(), "min");
  return apply<T>(ops::amin, {x});
}
// torch.max(x, dim).values: the value at the index argmax(x, dim) picks (the first of equal maxima),
// computed as a gather at that index — so its gradient goes to that one element, as in PyTorch.
template <TensorLike T> T max(const T& x, int64_t dim, bool keepdim = false);
template <TensorLike T> T min(const T& x, int64_t dim, bool keepdim = false);
// Variance, dividing by N - correction (1: unbiased, PyTorch's default). dims = {} means all dims:
// var(x, {}, 0) is the biased variance of every element.
template <TensorLike T> T var(const T& x) { return apply<T>(ops::var, {x}); }
template <TensorLike T>
T var(const T& x, const std::vector<int64_t>& dims, int64_t correction = 1, bool keepdim = false) {
  return apply<T>(ops::var, {x}, {.dims = dims, .correction = correction, .keepdim = keepdim});
}
// The reduction that undoes broadcasting: sums `x` down to `shape` (which must broadcast to x's
// shape). Gradients of broadcast ops use it: d(a+b)/db for b of shape [3] is sum_to(g, {3}).
template <TensorLike T> T sum_to(const T& x, const Shape& shape);

// ---- linear algebra and softmax (core/ops/matmul.cpp, softmax.cpp) -----------------------------------
namespace ops {
extern OpDef matmul, softmax, log_softmax;
}
// 1-D·1-D dot, matrix·vector, matrix·matrix and batched (broadcast batch dims), as torch.matmul.
template <TensorLike T> T matmul(const T& a, const T& b) { return apply<T>(ops::matmul, {a, b}); }
template <TensorLike T> T softmax(const T& x, int64_t dim) { return apply<T>(ops::softmax, {x}, {.dim = dim}); }
template <TensorLike T> T log_softmax(const T& x, int64_t dim) {
  return apply<T>(ops::log_softmax, {x}, {.dim = dim});
}

// ---- convolution and pooling (images [N, C, H, W]; core/ops/conv.cpp) ------------------------------
namespace ops {
extern OpDef conv2d, conv2d_input_grad, conv2d_weight_grad, max_pool2d, max_pool2d_backward,
    max_pool2d_gather;
}
// F.conv2d: weight [O, C, kh, kw], zero padding; optional bias [O]. Output [N, O, Ho, Wo] with
// Ho = (H + 2·padding - kh) / stride + 1.
template <TensorLike T> T conv2d(const T& x, const T& weight, Pair stride = {1, 1}, Pair padding = {0, 0}) {
  return apply<T>(ops::conv2d, {x, weight}, {.dims = {stride[0], stride[1], padding[0], padding[1]}});
}
template <TensorLike T>
T conv2d(const T& x, const T& weight, const T& bias, Pair stride = {1, 1}, Pair padding = {0, 0});
// F.max_pool2d: the largest value of each kernel window; stride {0, 0} means the kernel size.
template <TensorLike T> T max_pool2d(const T& x, Pair kernel, Pair stride = {0, 0}, Pair padding = {0, 0}) {
  if (stride[0] == 0 && stride[1] == 0) stride = kernel;  // PyTorch: stride defaults to kernel_size
  return apply<T>(ops::max_pool2d, {x},
                  {.dims = {kernel[0], kernel[1], stride[0], stride[1], padding[0], padding[1]}});
}
// The ops the derivative sheet uses for their gradients (window layouts: core/ops/conv.cpp).
template <TensorLike T> T conv2d_input_grad(const T& g, const T& weight, const Shape& window) {
  return apply<T>(ops::conv2d_input_grad, {g, weight}, {.dims = window});
}
template <TensorLike T> T conv2d_weight_grad(const T& x, const T& g, const Shape& window) {
  return apply<T>(ops::conv2d_weight_grad, {x, g}, {.dims = window});
}
// With a size in the window unknown (-1, graph mode), a third input gives it: the input (or the
// weight) itself, read for its shape only.
template <TensorLike T> T conv2d_input_grad(const T& g, const T& weight, const Shape& window, const T& input_like) {
  return apply<T>(ops::conv2d_input_grad, {g, weight, input_like}, {.dims = window});
}
template <TensorLike T> T conv2d_weight_grad(const T& x, const T& g, const Shape& window, const T& weight_like) {
  return apply<T>(ops::conv2d_weight_grad, {x, g, weight_like}, {.dims = window});
}
template <TensorLike T> T max_pool2d_backward(const T& g, const T& x, const Shape& window) {
  return apply<T>(ops::max_pool2d_backward, {g, x}, {.dims = window});
}
template <TensorLike T> T max_pool2d_gather(const T& values, const T& x, const Shape& window) {
  return apply<T>(ops::max_pool2d_gather, {values, x}, {.dims = window});
}

// ---- batch norm, fused (core/ops/batch_norm.cpp; the layer's function is layers/functional.h) ------------
// x [N, C, *]; stats [2, C]: row 0 the per-channel mean, row 1 the biased variance.
namespace ops {
extern OpDef batch_norm_stats, batch_norm_train, batch_norm_eval, batch_norm_backward_reduce,
    batch_norm_backward_elemt;
}
// The batch's statistics of each channel, in one pass over x.
template <TensorLike T> T batch_norm_stats(const T& x) { return apply<T>(ops::batch_norm_stats, {x}); }
// y = (x - mean) / √(var + eps) · weight + bias, per channel. _train takes x's own statistics
// (stats = batch_norm_stats(x)) and its derivative includes their dependence on x; _eval takes
// given ones (the running estimates) as an input like any other.
template <TensorLike T> T batch_norm_train(const T& x, const T& stats, const T& weight, const T& bias, double eps) {
  return apply<T>(ops::batch_norm_train, {x, stats, weight, bias}, {.eps = eps});
}
template <TensorLike T> T batch_norm_eval(const T& x, const T& stats, const T& weight, const T& bias, double eps) {
  return apply<T>(ops::batch_norm_eval, {x, stats, weight, bias}, {.eps = eps});
}
// The two passes of its backward: per-channel sums [2, C] = (Σ g, Σ g·x̂), then dx.
template <TensorLike T> T batch_norm_backward_reduce(const T& g, const T& x, const T& stats, double eps) {
  return apply<T>(ops::batch_norm_backward_reduce, {g, x, stats}, {.eps = eps});
}
template <TensorLike T>
T batch_norm_backward_elemt(const T& g, const T& x, const T& stats, const T& weight, const T& sums, double eps) {
  return apply<T>(ops::batch_norm_backward_elemt, {g, x, stats, weight, sums}, {.eps = eps});
}

// ---- random numbers (core/ops/random.cpp; dropout, made of them, is layers/dropout_ops.h) ------------
namespace ops {
extern OpDef rand_like;
}
// Uniform [0, 1) numbers of x's shape and dtype, drawn afresh on every call — and, in a graph, on
// every run. `shared_dims` get size 1 (one draw shared along them: dropout2d's per-channel mask).
template <TensorLike T> T rand_like(const T& x, const std::vector<int64_t>& shared_dims = {}) {
  return apply<T>(ops::rand_like, {x}, {.dims = shared_dims});
}

// ---- indexing and scattering (core/ops/index.cpp, scatter.cpp) --------------------------------------
namespace ops {
extern OpDef index_select, gather, one_hot, index_add, scatter_add, slice_scatter, select_scatter;
}
template <TensorLike T> T index_select(const T& x, int64_t dim, const T& index) {  // index: 1-D int64
  return apply<T>(ops::index_select, {x, index}, {.dim = dim});
}
template <TensorLike T> T gather(const T& x, int64_t dim, const T& index) {  // index: same rank as x
  return apply<T>(ops::gather, {x, index}, {.dim = dim});
}
// num_classes = -1 asks for max label + 1 — which only eager mode can read: a graph must be told.
template <TensorLike T> T one_hot(const T& labels, int64_t num_classes = -1);
// index_add(x, dim, index, src): a copy of x with src's slices added at x[..., index[i], ...].
template <TensorLike T> T index_add(const T& x, int64_t dim, const T& index, const T& src) {
  return apply<T>(ops::index_add, {x, index, src}, {.dim = dim});
}
// scatter_add(x, dim, index, src): a copy of x with out[..index[i][j]..] += src[i][j] along dim.
template <TensorLike T> T scatter_add(const T& x, int64_t dim, const T& index, const T& src) {
  return apply<T>(ops::scatter_add, {x, index, src}, {.dim = dim});
}
// slice_scatter(x, src, dim, start, end, step): a copy of x with x[start:end:step] (along dim)
// replaced by src. select_scatter likewise for x.select(dim, index).
template <TensorLike T>
T slice_scatter(const T& x, const T& src, int64_t dim, int64_t start, int64_t end, int64_t step = 1) {
  return apply<T>(ops::slice_scatter, {x, src}, {.dim = dim, .start = start, .end = end, .step = step});
}
template <TensorLike T> T select_scatter(const T& x, const T& src, int64_t dim, int64_t index) {
  return apply<T>(ops::select_scatter, {x, src}, {.dim = dim, .start = index});
}

// ---- views and reshaping (core/ops/views.cpp; also available as methods) ----------------------------
namespace ops {
extern OpDef reshape, permute, slice, narrow, select, expand, squeeze, unsqueeze, flatten, cat, stack,
    identity, stop_gradient;
}
template <TensorLike T> T reshape(const T& x, const Shape& shape) { return apply<T>(ops::reshape, {x}, {.dims = shape}); }
template <TensorLike T> T permute(const T& x, const std::vector<int64_t>& dims) {
  return apply<T>(ops::permute, {x}, {.dims = dims});
}
template <TensorLike T> T transpose(const T& x, int64_t dim0, int64_t dim1);
template <TensorLike T> T slice(const T& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1) {
  return apply<T>(ops::slice, {x}, {.dim = dim, .start = start, .end = end, .step = step});
}
// Exactly `length` elements from `start` along dim: never clamped (slice clamps), so past the end is
// an error — at declaration in a graph when the size is known, at run time when it is not.
template <TensorLike T> T narrow(const T& x, int64_t dim, int64_t start, int64_t length) {
  return apply<T>(ops::narrow, {x}, {.dim = dim, .start = start, .end = start + length});
}
template <TensorLike T> T select(const T& x, int64_t dim, int64_t index) {
  return apply<T>(ops::select, {x}, {.dim = dim, .start = index});
}
template <TensorLike T> T squeeze(const T& x, std::optional<int64_t> dim = std::nullopt) {
  return apply<T>(ops::squeeze, {x}, {.dims = dim ? Shape{*dim} : Shape{}});
}
template <TensorLike T> T unsqueeze(const T& x, int64_t dim) { return apply<T>(ops::unsqueeze, {x}, {.dim = dim}); }
template <TensorLike T> T expand(const T& x, const Shape& shape) { return apply<T>(ops::expand, {x}, {.dims = shape}); }
// Dims start_dim..end_dim merged into one; an op of its own (not a reshape) because in a graph the
// merged sizes may be unknown, and a reshape target holds one -1 at most.
template <TensorLike T> T flatten(const T& x, int64_t start_dim = 0, int64_t end_dim = -1) {
  return apply<T>(ops::flatten, {x}, {.start = start_dim, .end = end_dim});
}
template <TensorLike T> T clone(const T& x) { return apply<T>(ops::clone, {x}); }
// x itself when it is laid out row-major already, else a row-major copy. A graph's values have no
// layout the user can see (the executor decides), so in graph mode it is x.
template <TensorLike T> T contiguous(const T& x) {
  if constexpr (is_eager<T>) return x.is_contiguous() ? x : clone(x);
  else return x;
}
template <TensorLike T> T to(const T& x, DType dtype) {
  return x.dtype() == dtype ? x : apply<T>(ops::cast, {x}, {.dtype = dtype});
}
// The value of x under another name (tf.identity): a view, whose gradient is g.
template <TensorLike T> T identity(const T& x) { return apply<T>(ops::identity, {x}); }
// The value of x, but no gradient flows through it (tf.stop_gradient; eager: like x.detach()).
template <TensorLike T> T stop_gradient(const T& x) { return apply<T>(ops::stop_gradient, {x}); }

// ---- joining (core/ops/join.cpp) ---------------------------------------------------------------------
namespace ops {
extern OpDef split_like;
}
template <TensorLike T> T cat(const std::vector<T>& xs, int64_t dim = 0) { return apply<T>(ops::cat, xs, {.dim = dim}); }
template <TensorLike T> T stack(const std::vector<T>& xs, int64_t dim = 0) {
  return apply<T>(ops::stack, xs, {.dim = dim});
}
// cat({a, b}, 1): a braced list names its type only as an initializer_list.
template <TensorLike T> T cat(std::initializer_list<T> xs, int64_t dim = 0) { return cat(std::vector<T>(xs), dim); }
template <TensorLike T> T stack(std::initializer_list<T> xs, int64_t dim = 0) { return stack(std::vector<T>(xs), dim); }
// cat's inverse: the window of g that pieces[index] occupies along dim (its gradient, for graphs
// whose sizes are known only at run time: core/ops/join.cpp).
template <TensorLike T> T split_like(const T& g, const std::vector<T>& pieces, int64_t dim, int64_t index) {
  std::vector<T> in{g};
  in.insert(in.end(), pieces.begin(), pieces.end());
  return apply<T>(ops::split_like, in, {.dim = dim, .start = index});
}

// ---- losses' label check (core/ops/labels.cpp) -------------------------------------------------------
namespace ops {
extern OpDef check_labels;
}
// The labels, unchanged, once checked to be class indices for `scores` (classes along class_dim):
// int64, one per sample, each in [0, classes). `loss` ("nll_loss" or "cross_entropy") names the
// caller in the messages.
template <TensorLike T> T check_labels(const T& labels, const T& scores, int64_t class_dim, const char* loss) {
  const int64_t which = std::string_view(loss) == "cross_entropy" ? 1 : 0;  // Attrs hold numbers
  return apply<T>(ops::check_labels, {labels, scores}, {.dim = class_dim, .start = which});
}

// ---- debugging: identities that check or print the value on its way (core/ops/debug.cpp) -----------
namespace ops {
extern OpDef check_numerics, print;
}
// tf.debugging.check_numerics: x itself, unless it holds a NaN or an Inf — then an Error naming
// `message` (in a graph: when the run reaches it, naming the node and your line). The gradient
// passes through, checked too. Eager mode checks now.
template <TensorLike T> T check_numerics(const T& x, const std::string& message) {
  return apply<T>(ops::check_numerics, {x}, {.message = message});
}
// tf.Print: x itself, after writing `message` and x's values to stderr — in eager mode now, in a
// graph every time a run computes it (use the returned value: an unused print is pruned away).
template <TensorLike T> T print(const T& x, const std::string& message = "") {
  return apply<T>(ops::print, {x}, {.message = message});
}

// ---- reading another value's shape (core/ops/like.cpp) ---------------------------------------------
// What graph mode's gradients() uses where a shape is known only at run time; eager mode has them too.
namespace ops {
extern OpDef sum_to_like, expand_like, reshape_like, zeros_like, ones_like, count_ratio;
}
template <TensorLike T> T sum_to_like(const T& x, const T& like) { return apply<T>(ops::sum_to_like, {x, like}); }
template <TensorLike T> T expand_like(const T& x, const T& like) { return apply<T>(ops::expand_like, {x, like}); }
template <TensorLike T> T reshape_like(const T& x, const T& like) { return apply<T>(ops::reshape_like, {x, like}); }
template <TensorLike T> T zeros_like(const T& like) { return apply<T>(ops::zeros_like, {like}); }
template <TensorLike T> T ones_like(const T& like) { return apply<T>(ops::ones_like, {like}); }
// numel(a) / numel(b) as a float64 scalar (mean's gradient divides by it).
template <TensorLike T> T count_ratio(const T& a, const T& b) { return apply<T>(ops::count_ratio, {a, b}); }

// ---- operators: the functions above under their usual C++ spelling -----------------------------------
template <TensorLike T> T operator-(const T& a) { return neg(a); }
template <TensorLike T> T operator+(const T& a, const T& b) { return add(a, b); }
template <TensorLike T> T operator-(const T& a, const T& b) { return sub(a, b); }
template <TensorLike T> T operator*(const T& a, const T& b) { return mul(a, b); }
template <TensorLike T> T operator/(const T& a, const T& b) { return div(a, b); }
template <TensorLike T> T operator+(const T& a, const Scalar& b) { return add(a, scalar_like(b, a)); }
template <TensorLike T> T operator-(const T& a, const Scalar& b) { return sub(a, scalar_like(b, a)); }
template <TensorLike T> T operator*(const T& a, const Scalar& b) { return mul(a, scalar_like(b, a)); }
template <TensorLike T> T operator/(const T& a, const Scalar& b) { return div(a, scalar_like(b, a)); }
template <TensorLike T> T operator+(const Scalar& a, const T& b) { return add(scalar_like(a, b), b); }
template <TensorLike T> T operator-(const Scalar& a, const T& b) { return sub(scalar_like(a, b), b); }
template <TensorLike T> T operator*(const Scalar& a, const T& b) { return mul(scalar_like(a, b), b); }
template <TensorLike T> T operator/(const Scalar& a, const T& b) { return div(scalar_like(a, b), b); }
// Comparisons give bool tensors, as in PyTorch (never a C++ bool: use equal() for that).
template <TensorLike T> T operator==(const T& a, const T& b) { return eq(a, b); }
template <TensorLike T> T operator!=(const T& a, const T& b) { return ne(a, b); }
template <TensorLike T> T operator<(const T& a, const T& b) { return lt(a, b); }
template <TensorLike T> T operator<=(const T& a, const T& b) { return le(a, b); }
template <TensorLike T> T operator>(const T& a, const T& b) { return gt(a, b); }
template <TensorLike T> T operator>=(const T& a, const T& b) { return ge(a, b); }
template <TensorLike T> T operator==(const T& a, const Scalar& b) { return eq(a, b); }
template <TensorLike T> T operator!=(const T& a, const Scalar& b) { return ne(a, b); }
template <TensorLike T> T operator<(const T& a, const Scalar& b) { return lt(a, b); }
template <TensorLike T> T operator<=(const T& a, const Scalar& b) { return le(a, b); }
template <TensorLike T> T operator>(const T& a, const Scalar& b) { return gt(a, b); }
template <TensorLike T> T operator>=(const T& a, const Scalar& b) { return ge(a, b); }

// ---- optimizer updates (core/ops/update.cpp) -------------------------------------------------------
// In-place steps, run by eager optimizers with call_update() and by graph optimizers as update nodes
// (graph::apply_update): optim/ is their user-facing side.
namespace ops {
extern OpDef sgd_update, momentum_update, adam_update, rmsprop_update, adagrad_update;
extern OpDef rmsprop_tf_update, centered_rmsprop_tf_update, adagrad_tf_update;  // TensorFlow's formulas
}

// ---- comparing whole tensors: values, so eager only (helpers for tests and demos) -------------------
// Same shape and every |a - b| <= atol + rtol * |b|, like torch.allclose.
bool allclose(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-8);
// Same shape, same dtype and exactly the same values (torch.equal).
bool equal(const Tensor& a, const Tensor& b);

// ==== the composites declared above ====================================================================

template <TensorLike T> T max(const T& x, int64_t dim, bool keepdim) {
  const T v = gather(x, dim, argmax(x, dim, /*keepdim=*/true));
  return keepdim ? v : squeeze(v, dim);
}
template <TensorLike T> T min(const T& x, int64_t dim, bool keepdim) {
  const T v = gather(x, dim, argmin(x, dim, /*keepdim=*/true));
  return keepdim ? v : squeeze(v, dim);
}

// When the shape already matches, summing changes nothing and x itself is returned, no copy (as
// at::sum_to does): the common case for gradients of same-shape operands. Both shortcuts need x's
// shape known to the last dimension: in a graph with `?` dims that is decided at run time
// (sum_to_like).
template <TensorLike T> T sum_to(const T& x, const Shape& shape) {
  const bool known = std::none_of(x.shape().begin(), x.shape().end(), [](int64_t d) { return d < 0; });
  if (known && x.shape() == shape && x.dtype() != kBool) return x;
  // Only dims of size 1 to sum over ([1, 256] -> [256], a batch-1 bias gradient): each sum has one
  // term, so the result is x itself, seen with the target's shape. A view, no loop.
  if (known && numel(x.shape()) == numel(shape) && x.dtype() != kBool && is_expandable_to(shape, x.shape()))
    return reshape(x, shape);
  return apply<T>(ops::sum_to, {x}, {.dims = shape});
}

template <TensorLike T> T conv2d(const T& x, const T& weight, const T& bias, Pair stride, Pair padding) {
  const Shape &b = bias.shape(), &w = weight.shape();
  if (b.size() != 1 || (!w.empty() && b[0] >= 0 && w[0] >= 0 && b[0] != w[0]))
    throw ShapeError(msg("conv2d: expected a bias of shape [", w.empty() ? 0 : w[0],
                         "] (one per output channel), but got ", shape_str(b)));
  return conv2d(x, weight, stride, padding) + reshape(bias, {b[0], 1, 1});
}

template <TensorLike T> T one_hot(const T& labels, int64_t num_classes) {
  if (num_classes < -1)
    throw IndexError(msg("one_hot: Class values must be smaller than num_classes, and num_classes = ",
                         num_classes, " is negative; pass a positive count, or -1 to infer it"));
  if (num_classes == -1) {
    if constexpr (is_eager<T>) {
      if (labels.numel() == 0)
        throw Error("one_hot: Can not infer total number of classes from empty tensor; pass "
                    "num_classes explicitly");
      // The largest label, read on the CPU: the op itself needs the output's size up front.
      num_classes = std::max<int64_t>(0, max(to(labels, kInt64).cpu()).template item<int64_t>() + 1);
    } else {
      throw Error("one_hot: in a graph the number of classes must be given (it cannot be read from "
                  "values that do not exist yet)");
    }
  }
  return apply<T>(ops::one_hot, {labels}, {.num_classes = num_classes});
}

template <TensorLike T> T transpose(const T& x, int64_t dim0, int64_t dim1) {
  const int64_t r = x.dim();
  const int64_t d0 = normalize_dim(dim0, r, "transpose"), d1 = normalize_dim(dim1, r, "transpose");
  if (r == 0) return x;  // PyTorch allows transpose(0, -1) of a scalar, and no other dims
  Shape p(static_cast<size_t>(r));  // the identity permutation, with d0 and d1 swapped
  std::iota(p.begin(), p.end(), 0);
  std::swap(p[d0], p[d1]);
  return apply<T>(ops::permute, {x}, {.dims = p});
}



// ==== Tensor's methods (core/tensor.h), for both kinds of T: the functions above, spelled x.f() ====

template <class S> S TensorMethods<S>::reshape(const Shape& shape) const { return tandem::reshape(self(), shape); }
// view(): a reshape that must not copy. Eager mode checks the strides; a graph has no strides
// (the executor lays values out), so there it is reshape.
template <class S> S TensorMethods<S>::view(const Shape& shape) const {
  const S r = tandem::reshape(self(), shape);
  if constexpr (is_eager<S>) {
    if (r.storage() != self().storage())
      throw ShapeError(msg("view(", shape_str(shape), "): the tensor of shape ", shape_str(self().shape()),
                           " and strides ", shape_str(self().strides()),
                           " cannot be viewed with that shape without copying; "
                           "use .reshape(...) instead, or call .contiguous() first"));
  }
  return r;
}
template <class S> S TensorMethods<S>::transpose(int64_t d0, int64_t d1) const { return tandem::transpose(self(), d0, d1); }
template <class S> S TensorMethods<S>::permute(const std::vector<int64_t>& dims) const { return tandem::permute(self(), dims); }
template <class S> S TensorMethods<S>::t() const {
  if (self().dim() > 2)
    throw ShapeError(msg("t() expects a tensor with <= 2 dimensions, but self is ", self().dim(), "D; use transpose(dim0, dim1) to swap two chosen dimensions"));
  return self().dim() < 2 ? self() : tandem::transpose(self(), 0, 1);
}
template <class S> S TensorMethods<S>::slice(int64_t dim, int64_t start, int64_t end, int64_t step) const {
  return tandem::slice(self(), dim, start, end, step);
}
template <class S> S TensorMethods<S>::narrow(int64_t dim, int64_t start, int64_t length) const {
  return tandem::narrow(self(), dim, start, length);
}
template <class S> S TensorMethods<S>::select(int64_t dim, int64_t index) const { return tandem::select(self(), dim, index); }
template <class S> S TensorMethods<S>::squeeze() const { return tandem::squeeze(self()); }
template <class S> S TensorMethods<S>::squeeze(int64_t dim) const { return tandem::squeeze(self(), dim); }
template <class S> S TensorMethods<S>::unsqueeze(int64_t dim) const { return tandem::unsqueeze(self(), dim); }
template <class S> S TensorMethods<S>::expand(const Shape& shape) const { return tandem::expand(self(), shape); }
template <class S> S TensorMethods<S>::flatten(int64_t s, int64_t e) const { return tandem::flatten(self(), s, e); }
template <class S> S TensorMethods<S>::contiguous() const { return tandem::contiguous(self()); }
template <class S> S TensorMethods<S>::clone() const { return tandem::clone(self()); }
template <class S> S TensorMethods<S>::to(DType dtype) const { return tandem::to(self(), dtype); }
template <class S> S TensorMethods<S>::sum() const { return tandem::sum(self()); }
template <class S> S TensorMethods<S>::sum(const std::vector<int64_t>& dims, bool keepdim) const {
  return tandem::sum(self(), dims, keepdim);
}
template <class S> S TensorMethods<S>::mean() const { return tandem::mean(self()); }
template <class S> S TensorMethods<S>::mean(const std::vector<int64_t>& dims, bool keepdim) const {
  return tandem::mean(self(), dims, keepdim);
}
template <class S> S TensorMethods<S>::max() const { return tandem::max(self()); }
template <class S> S TensorMethods<S>::min() const { return tandem::min(self()); }
template <class S> S TensorMethods<S>::argmax() const { return tandem::argmax(self()); }
template <class S> S TensorMethods<S>::argmax(int64_t dim, bool keepdim) const { return tandem::argmax(self(), dim, keepdim); }
template <class S> S TensorMethods<S>::matmul(const S& other) const { return tandem::matmul(self(), other); }
template <class S> S TensorMethods<S>::pow(const Scalar& exponent) const { return tandem::pow(self(), exponent); }
template <class S> S TensorMethods<S>::exp() const { return tandem::exp(self()); }
template <class S> S TensorMethods<S>::log() const { return tandem::log(self()); }
template <class S> S TensorMethods<S>::relu() const { return tandem::relu(self()); }
template <class S> S TensorMethods<S>::sigmoid() const { return tandem::sigmoid(self()); }
template <class S> S TensorMethods<S>::tanh() const { return tandem::tanh(self()); }
template <class S> S TensorMethods<S>::abs() const { return tandem::abs(self()); }
template <class S> S TensorMethods<S>::sqrt() const { return tandem::sqrt(self()); }
template <class S> S TensorMethods<S>::softmax(int64_t dim) const { return tandem::softmax(self(), dim); }
template <class S> S TensorMethods<S>::log_softmax(int64_t dim) const { return tandem::log_softmax(self(), dim); }

}  // namespace tandem
