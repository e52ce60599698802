// autograd/derivatives.cpp — the derivative sheet: every differentiable op's rule, then the table.
//
// Read the rules as formulas: g is the gradient flowing in, y the op's output, and each line is
// the chain rule for one op. Each is a template over the context C (autograd/derivatives.h), so
// one line of math serves both modes: instantiated with EagerContext it computes numbers during
// backward(); with graph::GraphContext it adds gradient nodes to a graph.
//
// The table at the end says, per op: its formula in words, which values eager mode must save for
// the rule (a memory decision: add saves nothing, mul both inputs, exp its output — everything
// saved stays alive until backward), and the rule itself. Building the table also points each
// OpDef at its row (OpDef::derivative), so looking a rule up is one pointer read.
//
// Read next: autograd/engine.cpp (backward() walking the tape), graph/gradients.cpp (the same rules
// building a gradient graph).
#include "autograd/derivatives.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "autograd/engine.h"
#include "core/ops.h"
#include "graph/gradients.h"

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
  // BEGIN SOLUTION a2.t2
  if (c.needs_grad(0)) r[0] = c.unbroadcast(c.grad * c.input(1), 0);
  if (c.needs_grad(1)) r[1] = c.unbroadcast(c.grad * c.input(0), 1);
  // END SOLUTION
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
template <class C> Grads<C> tanh_grad(C& c) {
  const auto y = c.output();
  return {c.grad * (1.0 - y * y)};
}
// y = σ(x):      dx = g * y * (1 - y)
template <class C> Grads<C> sigmoid_grad(C& c) {
  const auto y = c.output();
  return {c.grad * y * (1.0 - y)};
}
// y = relu(x):   dx = g where x > 0, else 0  =  g * sign(y)   (y is 0 or positive, so sign(y) is
//                the step [x > 0], and the formula stays one of products that fusion can join)
template <class C> Grads<C> relu_grad(C& c) { return {c.grad * sign(c.output())}; }
// y = x Φ(x):    dx = g * (Φ(x) + x φ(x)),  Φ(x) = (1 + erf(x/√2)) / 2,  φ(x) = e^(-x²/2) / √(2π)
template <class C> Grads<C> gelu_grad(C& c) {
  const auto x = c.input(0);
  const auto cdf = (erf(x * 0.70710678118654752440) + 1.0) * 0.5;
  const auto pdf = exp(x * x * -0.5) * 0.39894228040143267794;
  return {c.grad * (cdf + x * pdf)};
}
// y = erf(x):    dx = g * 2/√π e^(-x²)
template <class C> Grads<C> erf_grad(C& c) {
  const auto x = c.input(0);
  return {c.grad * exp(-(x * x)) * 1.12837916709551257390};
}
// y = sign(x):   dx = 0 (flat almost everywhere)
template <class C> Grads<C> sign_grad(C& c) { return {c.zeros_like_input(0)}; }
// y = x.to(dtype):  dx = g.to(x's dtype)
template <class C> Grads<C> cast_grad(C& c) {
  if (!is_floating(c.input_dtype(0))) return {typename C::T()};
  return {to(c.grad, c.input_dtype(0))};
}
// y = clone(x):  dx = g
template <class C> Grads<C> clone_grad(C& c) { return {c.grad}; }

// The fused activation backward ops of the speed section (below) are differentiable too, so
// gradients of gradients work in eager mode.
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

// y = mean(x, dims):  dx = g / N, broadcast back (N = elements averaged per output). N comes in
// g's dtype: the division would convert it anyway, and that is one op less per backward.
template <class C> Grads<C> mean_grad(C& c) {
  const auto g = unsqueeze_reduced(c.grad, c.attrs.dims, c.input_rank(0), c.attrs.keepdim);
  return {c.expand_to_input(g / c.reduced_count(c.grad_dtype()), 0)};
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

// y = sum_to(x, shape):  dx = g broadcast back to x's shape    (sum_to_like likewise)
template <class C> Grads<C> sum_to_grad(C& c) { return {c.expand_to_input(c.grad, 0)}; }

// y = x0 + x1 + ... (add_n):  dx_i = g, summed down to x_i's shape
template <class C> Grads<C> add_n_grad(C& c) {
  Grads<C> r(c.num_inputs());
  for (int i = 0; i < c.num_inputs(); ++i)
    if (c.needs_grad(i)) r[i] = c.unbroadcast(c.grad, i);
  return r;
}

// ---- matmul -----------------------------------------------------------------------------------
// A matrix stored column by column: the transpose of a row-major one, as a Linear layer's Wᵀ. An
// eager value shows it in its strides. A graph value has no strides, but the same Wᵀ is there as
// a transpose of a value that is not itself a view (a variable, an op's result): both modes then
// take the same branch below, run the same GEMM and round alike — the two GEMMs of that branch
// add the same products in different orders on some CPUs (OpenBLAS's AVX2 kernels), and a graph
// trained with Adam drifted away from its eager twin after the first step.
template <class T> bool column_major(const T& m) {
  if constexpr (is_eager<T>) {
    return m.dim() == 2 && m.size(0) > 1 && m.stride(0) == 1 && m.stride(1) == m.size(0);
  } else {
    const graph::Node* n = m.node();
    if (m.dim() != 2 || m.size(0) <= 1 || n->kind != graph::Kind::op || n->op != &ops::permute ||
        n->attrs.dims != Shape{1, 0})
      return false;
    const graph::Node* stored = n->inputs[0].node();
    return stored->kind != graph::Kind::op || !stored->op->is_view();
  }
}

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
  // BEGIN SOLUTION a2.t2
  if (c.needs_grad(0)) {
    auto ga = matmul(g, transpose(b, -1, -2));
    if (a_vec) ga = squeeze(ga, -2);
    r[0] = c.unbroadcast(ga, 0);
  }
  if (c.needs_grad(1)) {
    // SPEED (eager): a column-major B — a Linear's Wᵀ — gets its gradient in its own layout,
    // (Gᵀ·A)ᵀ = Aᵀ·G, which the transpose's rule turns back into a row-major dW: no copy when it is
    // stored (PyTorch's mm_mat2_backward does the same). A graph takes the same branch for the
    // same Wᵀ (column_major, above), so that its dW has eager mode's bits.
    auto gb = column_major(b) ? transpose(matmul(transpose(g, -1, -2), a), -1, -2) : matmul(transpose(a, -1, -2), g);
    if (b_vec) gb = squeeze(gb, -1);
    r[1] = c.unbroadcast(gb, 1);
  }
  // END SOLUTION
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
  return {c.grad - exp(c.output()) * sum(c.grad, {c.attrs.dim}, true)};  // SOLUTION a2.t2
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
// y = identity(x):     dx = g      (and y = print(x, m): the backward pass prints nothing)
template <class C> Grads<C> identity_grad(C& c) { return {c.grad}; }
// y = check_numerics(x, m):  dx = check_numerics(g, "... in gradient. " + m)   (TF's rule: the
// gradient flows through unchanged, checked on its way back as the value was on its way forward)
template <class C> Grads<C> check_numerics_grad(C& c) {
  return {check_numerics(c.grad, "Not a number (NaN) or infinity (Inf) values detected in gradient. " +
                                     c.attrs.message)};
}
// y = reshape(x):      dx = g reshaped to x's shape        (squeeze, flatten and reshape_like likewise)
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
// y = expand(x):   dx = g summed over the repeated dims      (expand_like likewise)
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

// ---- batch norm (core/ops/batch_norm.cpp) --------------------------------------------------------
// stats = (μ, σ²) per channel [2, C];  r = 1/√(σ² + eps);  s = w·r;  x̂ = (x - μ)·r;  y = x̂·w + b.
// Both rules take Σg and Σg·x̂ from one pass (batch_norm_backward_reduce); sums are over each
// channel's n = N·H·W values.
template <class T> T per_channel(T v, int64_t rank) {  // [C] -> [1, C, 1, 1] (rank dims; C may be unknown)
  v = unsqueeze(v, 0);
  for (int64_t d = 2; d < rank; ++d) v = unsqueeze(v, d);
  return v;
}

// y = batch_norm_train(x, stats = batch_norm_stats(x), w, b): μ and σ² move with x, so
//   dx = s·(g - mean(g) - x̂·mean(g·x̂))     (in one pass: batch_norm_backward_elemt)
//   dw = Σ g·x̂,   db = Σ g
template <class C> Grads<C> batch_norm_train_grad(C& c) {
  const double eps = c.attrs.eps;
  const auto x = c.input(0), stats = c.input(1);
  const auto sums = batch_norm_backward_reduce(c.grad, x, stats, eps);
  Grads<C> r(4);
  if (c.needs_grad(0)) r[0] = batch_norm_backward_elemt(c.grad, x, stats, c.input(2), sums, eps);
  if (c.needs_grad(2)) r[2] = select(sums, 0, 1);
  if (c.needs_grad(3)) r[3] = select(sums, 0, 0);
  return r;
}

// y = batch_norm_eval(x, stats, w, b), with given statistics (constants of x):
//   dx = g·s,   dw = Σ g·x̂,   db = Σ g,   dμ = -s·Σg,   dσ² = -½·s·r·Σ g·x̂
template <class C> Grads<C> batch_norm_eval_grad(C& c) {
  const double eps = c.attrs.eps;
  const auto x = c.input(0), stats = c.input(1), w = c.input(2);
  const auto rstd = 1.0 / sqrt(select(stats, 0, 1) + eps), s = w * rstd;
  Grads<C> r(4);
  if (c.needs_grad(0)) r[0] = c.grad * per_channel(s, c.input_rank(0));
  if (!c.needs_grad(1) && !c.needs_grad(2) && !c.needs_grad(3)) return r;
  const auto sums = batch_norm_backward_reduce(c.grad, x, stats, eps);
  const auto sum_g = select(sums, 0, 0), sum_gx = select(sums, 0, 1);
  if (c.needs_grad(1)) r[1] = stack({-(s * sum_g), s * rstd * sum_gx * -0.5});
  if (c.needs_grad(2)) r[2] = sum_gx;
  if (c.needs_grad(3)) r[3] = sum_g;
  return r;
}


// ==== SPEED: fused activation derivatives for eager mode ========================================
// The rules above are the plain math, and graph mode runs them as written: its fusion pass
// (graph/passes/fusion.cpp) joins `g * y * (1 - y)` into one loop over memory. Eager mode cannot
// look ahead, so the same formula costs it three kernels and two temporaries per activation. For
// the four activations of the tables below, eager mode instead runs one hand-fused kernel
// (g, saved value) -> g * f'(x) — core/ops/elementwise_ops.h, TANDEM_ACTIVATION_BACKWARD_OPS. The
// values agree with the plain rules (tests/test_catalogue.cpp checks each); bench/RESULTS.md has
// what the fused kernels save on a training step.
template <class C> Grads<C> relu_grad_fused(C& c) { return {relu_backward(c.grad, c.output())}; }
template <class C> Grads<C> sigmoid_grad_fused(C& c) { return {sigmoid_backward(c.grad, c.output())}; }
template <class C> Grads<C> tanh_grad_fused(C& c) { return {tanh_backward(c.grad, c.output())}; }
template <class C> Grads<C> gelu_grad_fused(C& c) { return {gelu_backward(c.grad, c.input(0))}; }

// ---- the table -----------------------------------------------------------------------------------

namespace {
// RULE(mul_grad) expands to `&mul_grad<EagerContext>, &mul_grad<graph::GraphContext>`: the same
// template, instantiated once per mode. This macro is the whole trick of "one derivative sheet".
#define RULE(fn) &fn<EagerContext>, &fn<graph::GraphContext>
// SPEED(relu_grad, relu_grad_fused): eager mode runs the fused rule, graph mode the plain one, and
// the plain one is kept for the tests that compare them.
#define SPEED(plain, fused) &fused<EagerContext>, &plain<graph::GraphContext>, &plain<EagerContext>
constexpr uint32_t kNone = 0, kIn0 = 1, kIn1 = 2, kIn01 = kIn0 | kIn1, kIn012 = kIn01 | 4;

std::vector<Derivative> build_sheet() {
  std::vector<Derivative> sheet = {
      // op, formula, inputs saved (eager), output saved (eager), the rule for both modes
      {&ops::add, "da = g; db = g", kNone, false, RULE(add_grad)},
      {&ops::sub, "da = g; db = -g", kNone, false, RULE(sub_grad)},
      {&ops::mul, "da = g*b; db = g*a", kIn01, false, RULE(mul_grad)},
      {&ops::div, "da = g/b; db = -g*a/b^2", kIn01, false, RULE(div_grad)},
      {&ops::pow, "da = g*b*a^(b-1); db = g*y*ln(a)", kIn01, true, RULE(pow_grad)},
      {&ops::maximum, "da = g where a>b, g/2 where a=b, else 0; db likewise", kIn01, false, RULE(maximum_grad)},
      {&ops::minimum, "da = g where a<b, g/2 where a=b, else 0; db likewise", kIn01, false, RULE(minimum_grad)},
      {&ops::where, "da = where(c, g, 0); db = where(c, 0, g)", kIn0, false, RULE(where_grad)},
      {&ops::neg, "dx = -g", kNone, false, RULE(neg_grad)},
      {&ops::exp, "dx = g*y", kNone, true, RULE(exp_grad)},
      {&ops::log, "dx = g/x", kIn0, false, RULE(log_grad)},
      {&ops::sqrt, "dx = g/(2y)", kNone, true, RULE(sqrt_grad)},
      {&ops::abs, "dx = g*sign(x)", kIn0, false, RULE(abs_grad)},
      {&ops::sin, "dx = g*cos(x)", kIn0, false, RULE(sin_grad)},
      {&ops::cos, "dx = -g*sin(x)", kIn0, false, RULE(cos_grad)},
      {&ops::tanh, "dx = g*(1-y^2)", kNone, true, SPEED(tanh_grad, tanh_grad_fused)},
      {&ops::sigmoid, "dx = g*y*(1-y)", kNone, true, SPEED(sigmoid_grad, sigmoid_grad_fused)},
      {&ops::relu, "dx = g*sign(y)", kNone, true, SPEED(relu_grad, relu_grad_fused)},
      {&ops::gelu, "dx = g*(Phi(x) + x*phi(x))", kIn0, false, SPEED(gelu_grad, gelu_grad_fused)},
      {&ops::erf, "dx = g*2/sqrt(pi)*exp(-x^2)", kIn0, false, RULE(erf_grad)},
      {&ops::sign, "dx = 0", kNone, false, RULE(sign_grad)},
      {&ops::cast, "dx = g.to(x.dtype)", kNone, false, RULE(cast_grad)},
      {&ops::clone, "dx = g", kNone, false, RULE(clone_grad)},
      {&ops::relu_backward, "dg = gz*[y>0]; dy = 0", kIn1, false, RULE(relu_backward_grad)},
      {&ops::sigmoid_backward, "dg = gz*y(1-y); dy = gz*g*(1-2y)", kIn01, false, RULE(sigmoid_backward_grad)},
      {&ops::tanh_backward, "dg = gz*(1-y^2); dy = -2*gz*g*y", kIn01, false, RULE(tanh_backward_grad)},
      {&ops::gelu_backward, "dg = gz*(Phi+x*phi); dx = gz*g*phi*(2-x^2)", kIn01, false, RULE(gelu_backward_grad)},
      {&ops::sum, "dx = expand(g)", kNone, false, RULE(sum_grad)},
      {&ops::mean, "dx = expand(g)/N", kNone, false, RULE(mean_grad)},
      {&ops::amax, "dx = g at the maxima, shared among ties", kIn0, true, RULE(extreme_grad)},
      {&ops::amin, "dx = g at the minima, shared among ties", kIn0, true, RULE(extreme_grad)},
      {&ops::var, "dx = g*2(x-mean(x))/(N-correction)", kIn0, false, RULE(var_grad)},
      {&ops::sum_to, "dx = expand(g)", kNone, false, RULE(sum_to_grad)},
      {&ops::sum_to_like, "dx = expand(g)", kNone, false, RULE(sum_to_grad)},
      {&ops::add_n, "dx_i = g", kNone, false, RULE(add_n_grad)},
      {&ops::matmul, "dA = G*B^T; dB = A^T*G", kIn01, false, RULE(matmul_grad)},
      {&ops::softmax, "dx = y*(g - sum(g*y))", kNone, true, RULE(softmax_grad)},
      {&ops::log_softmax, "dx = g - exp(y)*sum(g)", kNone, true, RULE(log_softmax_grad)},
      {&ops::index_select, "dx = index_add(0, idx, g)", kIn1, false, RULE(index_select_grad)},
      {&ops::gather, "dx = scatter_add(0, idx, g)", kIn1, false, RULE(gather_grad)},
      {&ops::index_add, "dx = g; dsrc = index_select(g, idx)", kIn1, false, RULE(index_add_grad)},
      {&ops::scatter_add, "dx = g; dsrc = gather(g, idx)", kIn1, false, RULE(scatter_add_grad)},
      {&ops::slice_scatter, "dx = g with window zeroed; dsrc = g[window]", kNone, false, RULE(slice_scatter_grad)},
      {&ops::select_scatter, "dx = g with slice zeroed; dsrc = g.select(i)", kNone, false, RULE(select_scatter_grad)},
      {&ops::reshape, "dx = g.reshape(x.shape)", kNone, false, RULE(reshape_grad)},
      {&ops::squeeze, "dx = g.reshape(x.shape)", kNone, false, RULE(reshape_grad)},
      {&ops::flatten, "dx = g.reshape(x.shape)", kNone, false, RULE(reshape_grad)},
      {&ops::narrow, "dx = slice_scatter(0, g)", kNone, false, RULE(narrow_grad)},
      {&ops::unsqueeze, "dx = g.squeeze(d)", kNone, false, RULE(unsqueeze_grad)},
      {&ops::permute, "dx = g.permute(inverse)", kNone, false, RULE(permute_grad)},
      {&ops::slice, "dx = slice_scatter(0, g)", kNone, false, RULE(slice_grad)},
      {&ops::select, "dx = select_scatter(0, g)", kNone, false, RULE(select_grad)},
      {&ops::expand, "dx = sum_to(g, x.shape)", kNone, false, RULE(expand_grad)},
      {&ops::expand_like, "dx = sum_to(g, x.shape)", kNone, false, RULE(expand_grad)},
      {&ops::reshape_like, "dx = g.reshape(x.shape)", kNone, false, RULE(reshape_grad)},
      {&ops::identity, "dx = g", kNone, false, RULE(identity_grad)},
      {&ops::check_numerics, "dx = check_numerics(g)", kNone, false, RULE(check_numerics_grad)},
      {&ops::print, "dx = g", kNone, false, RULE(identity_grad)},
      {&ops::cat, "dx_i = g[offset_i : offset_i + size_i]", kNone, false, RULE(cat_grad)},
      {&ops::stack, "dx_i = g.select(dim, i)", kNone, false, RULE(stack_grad)},
      {&ops::split_like, "dg = cat(0, ..., gy, ..., 0)", kNone, false, RULE(split_like_grad)},
      {&ops::conv2d, "dx = conv2d_input_grad(g, w); dw = conv2d_weight_grad(x, g)", kIn01, false, RULE(conv2d_grad)},
      {&ops::conv2d_input_grad, "dg = conv2d(gz, w); dw = conv2d_weight_grad(gz, g)", kIn01, false,
       RULE(conv2d_input_grad_grad)},
      {&ops::conv2d_weight_grad, "dx = conv2d_input_grad(g, gz); dg = conv2d(x, gz)", kIn01, false,
       RULE(conv2d_weight_grad_grad)},
      {&ops::max_pool2d, "dx = g at each window's max", kIn0, false, RULE(max_pool2d_grad)},
      {&ops::max_pool2d_backward, "dg = gz read at each window's max; dx = 0", kIn1, false,
       RULE(max_pool2d_backward_grad)},
      {&ops::max_pool2d_gather, "dv = gz sent to each window's max; dx = 0", kIn1, false,
       RULE(max_pool2d_gather_grad)},
      {&ops::batch_norm_train, "dx = s*(g - mean(g) - xhat*mean(g*xhat)); dw = sum(g*xhat); db = sum(g)", kIn012,
       false, RULE(batch_norm_train_grad)},
      {&ops::batch_norm_eval, "dx = g*s; dw = sum(g*xhat); db = sum(g); dstats = (-s*sum(g), -s/2r*sum(g*xhat))",
       kIn012, false, RULE(batch_norm_eval_grad)},
  };
  for (Derivative& row : sheet) {  // point each op at its row (rows never move after this)
    if (row.op->derivative)
      throw Error(msg("derivative sheet: ", row.op->name, " has two rows"));
    const_cast<OpDef*>(row.op)->derivative = &row;
  }
  return sheet;
}
#undef RULE
#undef SPEED
}  // namespace

const std::vector<Derivative>& derivative_sheet() {
  static const std::vector<Derivative> sheet = build_sheet();  // built once, on first use
  return sheet;
}

const Derivative* derivative_for(const OpDef& op) {
  static const bool built = !derivative_sheet().empty();  // the pointers are set by then
  (void)built;
  return op.derivative;
}

}  // namespace tandem::autograd
