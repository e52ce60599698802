// autograd/derivatives.h — the derivative sheet: one rule per differentiable op, written once.
//
// Each rule answers: given g = dL/d(output), what are dL/d(input_i)? It is written as a template
// over a *context* C, and uses only operations that exist for both kinds of tensor:
//
//   eager mode:  C::T is tandem::Tensor       — the rule runs now, on numbers (autograd/engine.cpp);
//   graph mode:  C::T is a graph node output  — the same rule adds gradient nodes to the graph.
//
// So the line `c.unbroadcast(c.grad * c.input(1), 0)` is the derivative of mul in both paradigms:
// same math, different moment of execution. What a context offers (both modes):
//
//   c.grad                 g, the gradient flowing in
//   c.input(i), c.output() the op's saved input i / output (only those its table entry saves)
//   c.attrs                the op's attributes (dims, keepdim, dim...)
//   c.needs_grad(i)        whether input i wants a gradient at all (skip the work otherwise)
//   c.input_rank(i), c.input_dtype(i), c.input_size(i, d)   static facts about input i; in graph
//                          mode a size may be unknown (kUnknown, -1) until run time
//   c.unbroadcast(x, i)    sum x down to input i's shape (undoes broadcasting; sum_to)
//   c.expand_to_input(x,i) broadcast x up to input i's shape
//   c.reshape_to_input(x,i), c.zeros_like_input(i)
//   c.split_to_input(x,d,i) the window of x along d that input i occupies when the inputs are laid
//                          end to end (cat's gradient)
//   c.reduced_count()      numel(input 0) / numel(output), a 0-dim value (mean and var need it)
//
// The shape-taking ones (unbroadcast, expand_to_input, ..., reduced_count) hide the one thing the
// two modes must do differently: eager mode knows every shape; graph mode may not (a placeholder
// [?, 784]), and then the shape is read when the values exist (graph/gradients.cpp tells how).
//
// A rule returns one gradient per input, or an undefined value for inputs that get none.
// Formulas are written with g for the incoming gradient, y for the output.
//
// Read next: autograd/derivatives.cpp (the table: which rule and which saved values per op),
// then autograd/engine.cpp (how backward() walks the tape and calls these rules).
#pragma once

#include <algorithm>
#include <limits>
#include <numeric>
#include <vector>

#include "core/op.h"
#include "core/ops.h"

namespace tandem::autograd {

template <class C> using Grads = std::vector<typename C::T>;

// Reductions without keepdim removed the reduced dims; put them back as size 1 so the gradient
// broadcasts against the input. dims = {} means "all dims".
template <class T> T unsqueeze_reduced(T g, std::vector<int64_t> dims, int64_t rank, bool keepdim) {
  if (keepdim) return g;
  if (dims.empty()) {
    dims.resize(rank);
    std::iota(dims.begin(), dims.end(), 0);
  }
  for (int64_t& d : dims) d = normalize_dim(d, rank, "reduction backward");
  std::sort(dims.begin(), dims.end());
  for (int64_t d : dims) g = unsqueeze(g, d);
  return g;
}

// ---- elementwise binary ---------------------------------------------------------------------

// y = a + b:   da = g,  db = g
template <class C> Grads<C> add_grad(C& c) { return {c.unbroadcast(c.grad, 0), c.unbroadcast(c.grad, 1)}; }

// y = a - b:   da = g,  db = -g
template <class C> Grads<C> sub_grad(C& c) { return {c.unbroadcast(c.grad, 0), c.unbroadcast(-c.grad, 1)}; }

// y = a * b:   da = g * b,  db = g * a
template <class C> Grads<C> mul_grad(C& c) {
  Grads<C> r(2);
  if (c.needs_grad(0)) r[0] = c.unbroadcast(c.grad * c.input(1), 0);
  if (c.needs_grad(1)) r[1] = c.unbroadcast(c.grad * c.input(0), 1);
  return r;
}

// y = a / b:   da = g / b,  db = -g * a / b²
template <class C> Grads<C> div_grad(C& c) {
  Grads<C> r(2);
  if (c.needs_grad(0)) r[0] = c.unbroadcast(c.grad / c.input(1), 0);
  if (c.needs_grad(1)) r[1] = c.unbroadcast(-c.grad * c.input(0) / (c.input(1) * c.input(1)), 1);
  return r;
}

// y = a^b:     da = g * b * a^(b-1)   (0 where b = 0: a^0 = 1 is flat, even at a = 0 where
//                                     b * a^(b-1) would be 0 * inf = NaN; as PyTorch)
//              db = g * y * ln(a)     (0 where a = 0 and b >= 0, as PyTorch)
template <class C> Grads<C> pow_grad(C& c) {
  Grads<C> r(2);
  const auto a = c.input(0), b = c.input(1);
  if (c.needs_grad(0)) r[0] = c.unbroadcast(where(b == 0, c.zero(), c.grad * b * pow(a, b - 1)), 0);
  if (c.needs_grad(1)) {
    const auto at_zero = (a == 0) * (b >= 0);
    r[1] = c.unbroadcast(where(at_zero, c.zero(), c.grad * c.output() * log(a)), 1);
  }
  return r;
}

// y = maximum(a, b):  the gradient goes to the larger input; ties split it evenly (as PyTorch).
//   da = g where a > b,  g/2 where a = b,  0 where a < b;   db likewise
// Written with where, which *selects*, not as g * ([a > b] + ½[a = b]), which multiplies: an
// infinite g times a 0 of the mask would give NaN to the input that lost, where PyTorch gives 0.
// (A NaN input ties with nothing and loses to nothing: both inputs get g, as in PyTorch.)
template <class C> Grads<C> maximum_grad(C& c) {
  const auto a = c.input(0), b = c.input(1);
  const auto shared = where(a == b, c.grad * 0.5, c.grad);
  return {c.unbroadcast(where(a < b, c.zero(), shared), 0), c.unbroadcast(where(b < a, c.zero(), shared), 1)};
}

// y = minimum(a, b):  as maximum, with the smaller input.
template <class C> Grads<C> minimum_grad(C& c) {
  const auto a = c.input(0), b = c.input(1);
  const auto shared = where(a == b, c.grad * 0.5, c.grad);
  return {c.unbroadcast(where(a > b, c.zero(), shared), 0), c.unbroadcast(where(b > a, c.zero(), shared), 1)};
}

// y = where(cond, a, b):  da = g where cond, else 0;  db = g where not cond, else 0
template <class C> Grads<C> where_grad(C& c) {
  const auto cond = c.input(0);
  Grads<C> r(3);
  if (c.needs_grad(1)) r[1] = c.unbroadcast(where(cond, c.grad, c.zero()), 1);
  if (c.needs_grad(2)) r[2] = c.unbroadcast(where(cond, c.zero(), c.grad), 2);
  return r;
}

// ---- elementwise unary ------------------------------------------------------------------------

// y = -x:        dx = -g
template <class C> Grads<C> neg_grad(C& c) { return {-c.grad}; }
// y = e^x:       dx = g * y
template <class C> Grads<C> exp_grad(C& c) { return {c.grad * c.output()}; }
// y = ln x:      dx = g / x
template <class C> Grads<C> log_grad(C& c) { return {c.grad / c.input(0)}; }
// y = √x:        dx = g / (2y)
template <class C> Grads<C> sqrt_grad(C& c) { return {c.grad / (c.output() * 2)}; }
// y = |x|:       dx = g * sign(x)
template <class C> Grads<C> abs_grad(C& c) { return {c.grad * sign(c.input(0))}; }
// y = sin x:     dx = g * cos x
template <class C> Grads<C> sin_grad(C& c) { return {c.grad * cos(c.input(0))}; }
// y = cos x:     dx = -g * sin x
template <class C> Grads<C> cos_grad(C& c) { return {-(c.grad * sin(c.input(0)))}; }
// y = tanh x:    dx = g * (1 - y²)
template <class C> Grads<C> tanh_grad(C& c) { return {tanh_backward(c.grad, c.output())}; }
// y = σ(x):      dx = g * y * (1 - y)
template <class C> Grads<C> sigmoid_grad(C& c) { return {sigmoid_backward(c.grad, c.output())}; }
// y = relu(x):   dx = g where y > 0, else 0
template <class C> Grads<C> relu_grad(C& c) { return {relu_backward(c.grad, c.output())}; }
// y = x Φ(x):    dx = g * (Φ(x) + x φ(x))
template <class C> Grads<C> gelu_grad(C& c) { return {gelu_backward(c.grad, c.input(0))}; }
// y = sign(x):   dx = 0 (flat almost everywhere)
template <class C> Grads<C> sign_grad(C& c) { return {c.zeros_like_input(0)}; }
// y = x.to(dtype):  dx = g.to(x's dtype)
template <class C> Grads<C> cast_grad(C& c) {
  if (!is_floating(c.input_dtype(0))) return {typename C::T()};
  return {to(c.grad, c.input_dtype(0))};
}
// y = clone(x):  dx = g
template <class C> Grads<C> clone_grad(C& c) { return {c.grad}; }

// The activation backward ops are differentiable too, so gradients of gradients work.
// z = relu_backward(g, y) = g·[y > 0]:        dg = relu_backward(gz, y),  dy = 0
template <class C> Grads<C> relu_backward_grad(C& c) { return {relu_backward(c.grad, c.input(1)), c.zeros_like_input(1)}; }
// z = sigmoid_backward(g, y) = g·y(1-y):      dg = gz·y(1-y),  dy = gz·g·(1 - 2y)
template <class C> Grads<C> sigmoid_backward_grad(C& c) {
  const auto g = c.input(0), y = c.input(1);
  return {sigmoid_backward(c.grad, y), c.grad * g * (1 - y * 2)};
}
// z = tanh_backward(g, y) = g·(1-y²):         dg = gz·(1-y²),  dy = -2·gz·g·y
template <class C> Grads<C> tanh_backward_grad(C& c) {
  const auto g = c.input(0), y = c.input(1);
  return {tanh_backward(c.grad, y), c.grad * g * y * -2};
}
// z = gelu_backward(g, x) = g·(Φ + xφ):        dg = gelu_backward(gz, x),  dx = gz·g·φ(x)·(2 - x²)
template <class C> Grads<C> gelu_backward_grad(C& c) {
  const auto g = c.input(0), x = c.input(1);
  const auto pdf = exp(x * x * -0.5) * 0.39894228040143267794;
  return {gelu_backward(c.grad, x), c.grad * g * pdf * (2 - x * x)};
}

// ---- reductions -------------------------------------------------------------------------------

// y = sum(x, dims):   dx = g, broadcast back over the reduced dims
template <class C> Grads<C> sum_grad(C& c) {
  const auto g = unsqueeze_reduced(c.grad, c.attrs.dims, c.input_rank(0), c.attrs.keepdim);
  return {c.expand_to_input(g, 0)};
}

// y = mean(x, dims):  dx = g / N, broadcast back (N = elements averaged per output)
template <class C> Grads<C> mean_grad(C& c) {
  const auto g = unsqueeze_reduced(c.grad, c.attrs.dims, c.input_rank(0), c.attrs.keepdim);
  return {c.expand_to_input(g / c.reduced_count(), 0)};
}

// y = amax(x, dims) (or amin):  dx = g at the positions holding the extreme value, shared evenly
// among ties (PyTorch's evenly_distribute_backward), 0 elsewhere — selected with where, so an
// infinite g leaves the other positions at 0 (a mask multiply would give inf·0 = NaN there; so
// does PyTorch's amax, while its max() selects as here).
template <class C> Grads<C> extreme_grad(C& c) {
  const auto x = c.input(0);
  const int64_t r = c.input_rank(0);
  const auto y = unsqueeze_reduced(c.output(), c.attrs.dims, r, c.attrs.keepdim);
  const auto g = unsqueeze_reduced(c.grad, c.attrs.dims, r, c.attrs.keepdim);
  const auto mask = to(x == y, c.grad_dtype());
  std::vector<int64_t> dims = c.attrs.dims;
  if (dims.empty()) {
    dims.resize(r);
    std::iota(dims.begin(), dims.end(), 0);
  }
  return {where(x == y, g / sum(mask, dims, true), c.zero())};
}

// y = var(x, dims):  dx = g * 2 (x - mean(x)) / (N - correction)
// For a 0-dim x with correction 1 (N - correction = 0, and var is NaN) that is 0/0; PyTorch
// answers inf·g there, and so do we.
template <class C> Grads<C> var_grad(C& c) {
  const auto x = c.input(0);
  const int64_t r = c.input_rank(0);
  if (r == 0 && c.attrs.correction == 1) return {c.grad * std::numeric_limits<double>::infinity()};
  std::vector<int64_t> dims = c.attrs.dims;
  if (dims.empty()) {
    dims.resize(r);
    std::iota(dims.begin(), dims.end(), 0);
  }
  const auto g = unsqueeze_reduced(c.grad, c.attrs.dims, r, c.attrs.keepdim);
  const auto centered = x - mean(x, dims, true);
  return {g * centered * 2 / (c.reduced_count() - static_cast<double>(c.attrs.correction))};
}

// y = sum_to(x, shape):  dx = g broadcast back to x's shape
template <class C> Grads<C> sum_to_grad(C& c) { return {c.expand_to_input(c.grad, 0)}; }

// ---- matmul -----------------------------------------------------------------------------------
// Y = A B:  dA = G Bᵀ,  dB = Aᵀ G   (batched: batch dims broadcast, so sum back with unbroadcast).
// 1-D operands are first viewed as matrices (a row for A, a column for B), as matmul itself does.
template <class C> Grads<C> matmul_grad(C& c) {
  const bool a_vec = c.input_rank(0) == 1, b_vec = c.input_rank(1) == 1;
  auto a = c.input(0), b = c.input(1), g = c.grad;
  if (a_vec) a = unsqueeze(a, 0);
  if (b_vec) b = unsqueeze(b, 1);
  if (a_vec && b_vec) g = reshape(g, {1, 1});
  else if (a_vec) g = unsqueeze(g, -2);
  else if (b_vec) g = unsqueeze(g, -1);
  Grads<C> r(2);
  if (c.needs_grad(0)) {
    auto ga = matmul(g, transpose(b, -1, -2));
    if (a_vec) ga = squeeze(ga, -2);
    r[0] = c.unbroadcast(ga, 0);
  }
  if (c.needs_grad(1)) {
    auto gb = matmul(transpose(a, -1, -2), g);
    if (b_vec) gb = squeeze(gb, -1);
    r[1] = c.unbroadcast(gb, 1);
  }
  return r;
}

// ---- softmax family ---------------------------------------------------------------------------
// y = softmax(x):      dx = y * (g - Σ(g * y))          (sum along dim)
template <class C> Grads<C> softmax_grad(C& c) {
  const auto y = c.output();
  return {y * (c.grad - sum(c.grad * y, {c.attrs.dim}, true))};
}
// y = log_softmax(x):  dx = g - softmax(x) * Σg = g - e^y * Σg
template <class C> Grads<C> log_softmax_grad(C& c) {
  return {c.grad - exp(c.output()) * sum(c.grad, {c.attrs.dim}, true)};
}

// ---- indexing and scattering ------------------------------------------------------------------
// y = index_select(x, dim, idx):  dx = zeros with g's slices added back at idx (repeats add up)
template <class C> Grads<C> index_select_grad(C& c) {
  return {index_add(c.zeros_like_input(0), c.attrs.dim, c.input(1), c.grad), typename C::T()};
}
// y = gather(x, dim, idx):        dx = zeros with g scattered (added) back to where it was read
template <class C> Grads<C> gather_grad(C& c) {
  return {scatter_add(c.zeros_like_input(0), c.attrs.dim, c.input(1), c.grad), typename C::T()};
}
// y = index_add(x, dim, idx, s):  dx = g,  ds = index_select(g, dim, idx)
template <class C> Grads<C> index_add_grad(C& c) {
  return {c.grad, typename C::T(), index_select(c.grad, c.attrs.dim, c.input(1))};
}
// y = scatter_add(x, dim, idx, s):  dx = g,  ds = gather(g, dim, idx)
template <class C> Grads<C> scatter_add_grad(C& c) {
  return {c.grad, typename C::T(), gather(c.grad, c.attrs.dim, c.input(1))};
}
// y = slice_scatter(x, s, window):  dx = g with the window zeroed,  ds = g[window]
template <class C> Grads<C> slice_scatter_grad(C& c) {
  const Attrs& a = c.attrs;
  return {slice_scatter(c.grad, c.zeros_like_input(1), a.dim, a.start, a.end, a.step),
          slice(c.grad, a.dim, a.start, a.end, a.step)};
}
// y = select_scatter(x, s, dim, i):  dx = g with slice i zeroed,  ds = g.select(dim, i)
template <class C> Grads<C> select_scatter_grad(C& c) {
  return {select_scatter(c.grad, c.zeros_like_input(1), c.attrs.dim, c.attrs.start),
          select(c.grad, c.attrs.dim, c.attrs.start)};
}

// ---- views: the gradient is the inverse view of g -------------------------------------------------
// y = reshape(x):      dx = g reshaped to x's shape        (squeeze and flatten likewise)
template <class C> Grads<C> reshape_grad(C& c) { return {c.reshape_to_input(c.grad, 0)}; }
// y = permute(x, p):   dx = permute(g, p⁻¹)
template <class C> Grads<C> permute_grad(C& c) {
  const std::vector<int64_t>& p = c.attrs.dims;
  const auto rank = static_cast<int64_t>(p.size());
  std::vector<int64_t> inverse(p.size());
  for (int64_t i = 0; i < rank; ++i) inverse[normalize_dim(p[i], rank, "permute")] = i;
  return {permute(c.grad, inverse)};
}
// y = x[start:end:step]:  dx = zeros with g written into the window
template <class C> Grads<C> slice_grad(C& c) {
  const Attrs& a = c.attrs;
  return {slice_scatter(c.zeros_like_input(0), c.grad, a.dim, a.start, a.end, a.step)};
}
// y = narrow(x, dim, start, length):  dx = zeros with g written into the window. As a slice the
// window is [start : start + length], except that one ending at the last element from a negative
// start (narrow(x, 0, -2, 2): start + length = 0) has no end index: slice to the end.
template <class C> Grads<C> narrow_grad(C& c) {
  const Attrs& a = c.attrs;
  const int64_t end = a.start < 0 && a.end == 0 ? std::numeric_limits<int64_t>::max() : a.end;
  return {slice_scatter(c.zeros_like_input(0), c.grad, a.dim, a.start, end, 1)};
}
// y = x.select(dim, i):   dx = zeros with g written at index i
template <class C> Grads<C> select_grad(C& c) {
  return {select_scatter(c.zeros_like_input(0), c.grad, c.attrs.dim, c.attrs.start)};
}
// y = expand(x):   dx = g summed over the repeated dims
template <class C> Grads<C> expand_grad(C& c) { return {c.unbroadcast(c.grad, 0)}; }
// y = unsqueeze(x, d):  dx = squeeze(g, d)
template <class C> Grads<C> unsqueeze_grad(C& c) {
  return {squeeze(c.grad, normalize_dim(c.attrs.dim, c.input_rank(0) + 1, "unsqueeze"))};
}

// ---- joining ----------------------------------------------------------------------------------------
// y = cat(xs, dim):    dx_i = the slice of g that x_i occupies: g[offset_i : offset_i + size_i]
// (offset_i the sizes of x_0..x_{i-1} added up; when one is unknown, graph mode reads them at run
// time: see split_like in core/ops/join.cpp)
template <class C> Grads<C> cat_grad(C& c) {
  const int64_t n = c.num_inputs();
  const int64_t d = normalize_dim(c.attrs.dim, c.input_rank(0), "cat");
  Grads<C> r(n);
  for (int64_t i = 0; i < n; ++i)
    if (c.needs_grad(i)) r[i] = c.split_to_input(c.grad, d, static_cast<int>(i));
  return r;
}
// y = split_like(g, x_0..x_{n-1}, dim, i), piece i of g:  dg = the pieces laid end to end again,
// zeros of x_j's shape for j ≠ i and gy for piece i;  dx_j = none (read for their shapes only)
template <class C> Grads<C> split_like_grad(C& c) {
  const int64_t pieces = c.num_inputs() - 1;
  std::vector<typename C::T> parts;
  for (int64_t j = 0; j < pieces; ++j)
    parts.push_back(j == c.attrs.start ? c.grad : to(c.zeros_like_input(static_cast<int>(1 + j)), c.grad_dtype()));
  Grads<C> r(static_cast<size_t>(c.num_inputs()));
  r[0] = cat(parts, c.attrs.dim);
  return r;
}
// y = stack(xs, dim):  dx_i = g.select(dim, i)
template <class C> Grads<C> stack_grad(C& c) {
  const int64_t n = c.num_inputs();
  Grads<C> r(n);
  for (int64_t i = 0; i < n; ++i)
    if (c.needs_grad(i)) r[i] = select(c.grad, c.attrs.dim, i);
  return r;
}

// ---- convolution and pooling (core/ops/conv.cpp) --------------------------------------------------
// Window attributes (Attrs::dims): conv2d {sh, sw, ph, pw}; the gradient ops add two sizes: dims 2
// and 3 of input i of the op being differentiated (its image's H, W or its kernel's kh, kw). In
// graph mode those may be unknown (?): then the window says -1, and input i itself goes along as the
// gradient op's third input, which gives the size when the values exist.
template <class C> Shape conv_grad_window(C& c, int i) {
  const auto& d = c.attrs.dims;
  return {d[0], d[1], d[2], d[3], c.input_size(i, 2), c.input_size(i, 3)};  // kUnknown is -1
}
inline bool sizes_known(const Shape& window) { return window[4] != kUnknown && window[5] != kUnknown; }
template <class C, class T = typename C::T>
T conv2d_input_grad_from(C& c, const T& g, const T& w, int i) {
  const Shape window = conv_grad_window(c, i);
  return sizes_known(window) ? conv2d_input_grad(g, w, window) : conv2d_input_grad(g, w, window, c.input(i));
}
template <class C, class T = typename C::T>
T conv2d_weight_grad_from(C& c, const T& x, const T& g, int i) {
  const Shape window = conv_grad_window(c, i);
  return sizes_known(window) ? conv2d_weight_grad(x, g, window) : conv2d_weight_grad(x, g, window, c.input(i));
}

// y = conv2d(x, w):   dx = conv2d_input_grad(g, w)     (the transposed convolution: col2im of Wᵀ·g)
//                     dw = conv2d_weight_grad(x, g)    (Σ over images of g · im2col(x)ᵀ)
template <class C> Grads<C> conv2d_grad(C& c) {
  Grads<C> r(2);
  if (c.needs_grad(0)) r[0] = conv2d_input_grad_from(c, c.grad, c.input(1), 0);
  if (c.needs_grad(1)) r[1] = conv2d_weight_grad_from(c, c.input(0), c.grad, 1);
  return r;
}
// z = conv2d_input_grad(g, w), linear in each input:   dg = conv2d(gz, w),  dw = conv2d_weight_grad(gz, g)
// (A third input, the shape source, gets no gradient.)
template <class C> Grads<C> conv2d_input_grad_grad(C& c) {
  const auto& d = c.attrs.dims;
  Grads<C> r(static_cast<size_t>(c.num_inputs()));
  if (c.needs_grad(0)) r[0] = conv2d(c.grad, c.input(1), {d[0], d[1]}, {d[2], d[3]});
  if (c.needs_grad(1)) r[1] = conv2d_weight_grad_from(c, c.grad, c.input(0), 1);
  return r;
}
// z = conv2d_weight_grad(x, g), linear in each input:  dx = conv2d_input_grad(g, gz),  dg = conv2d(x, gz)
template <class C> Grads<C> conv2d_weight_grad_grad(C& c) {
  const auto& d = c.attrs.dims;
  Grads<C> r(static_cast<size_t>(c.num_inputs()));
  if (c.needs_grad(0)) r[0] = conv2d_input_grad_from(c, c.input(1), c.grad, 0);
  if (c.needs_grad(1)) r[1] = conv2d(c.input(0), c.grad, {d[0], d[1]}, {d[2], d[3]});
  return r;
}
// y = max_pool2d(x):   dx = g sent to each window's largest element (the first, among ties)
template <class C> Grads<C> max_pool2d_grad(C& c) { return {max_pool2d_backward(c.grad, c.input(0), c.attrs.dims)}; }
// z = max_pool2d_backward(g, x):   dg = gz read at each window's largest element;  dx = 0 (x only
// decides where g goes: z is piecewise constant in x)
template <class C> Grads<C> max_pool2d_backward_grad(C& c) {
  return {max_pool2d_gather(c.grad, c.input(1), c.attrs.dims), typename C::T()};
}
// z = max_pool2d_gather(v, x):   dv = gz sent back to each window's largest element;  dx = 0
template <class C> Grads<C> max_pool2d_gather_grad(C& c) {
  return {max_pool2d_backward(c.grad, c.input(1), c.attrs.dims), typename C::T()};
}

// ---- the table ------------------------------------------------------------------------------------
}  // namespace tandem::autograd

namespace tandem::graph {
class Output;
class GraphContext;  // graph/gradients.h
}  // namespace tandem::graph

namespace tandem::autograd {

class EagerContext;  // autograd/engine.h
using EagerRule = std::vector<Tensor> (*)(EagerContext&);
using GraphRule = std::vector<graph::Output> (*)(graph::GraphContext&);

// One row of the sheet: which op, its formula, what eager mode must save for it, and the one rule
// template instantiated twice — for eager tensors and for graph nodes.
struct Derivative {
  const OpDef* op;
  const char* formula;
  uint32_t saves_inputs;  // bit i set: input i is saved for backward (eager mode)
  bool saves_output;
  EagerRule eager;        // rule<EagerContext>: runs on values, in backward()
  GraphRule graph;        // rule<GraphContext>: adds nodes, in graph::gradients()
};

// The row for `op`, or null when the op is not differentiable (comparisons, argmax, one_hot).
const Derivative* derivative_for(const OpDef& op);
const std::vector<Derivative>& derivative_sheet();

}  // namespace tandem::autograd
