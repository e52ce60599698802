// core/ops/binary.cpp — elementwise ops of two tensors, with NumPy broadcasting.
//
// `a * b` for a of shape [1, 3] and b of shape [3, 1] gives a [3, 3] result: each operand is read
// as if repeated along its size-1 dimensions. No copy is made; the repeated dimension simply gets
// stride 0 (core/shape.h, broadcast_strides), so the kernel reads the same element again.
//
// Every binary op here is the same kernel with a different functor from core/ops/math.h:
//   1. shape rule: broadcast the shapes, promote the dtypes (core/dtype.h);
//   2. kernel:     convert both inputs to the computation dtype, then one loop over the output.
// The loop has a fast path for the common case (same shape, contiguous) that the compiler turns
// into SIMD code, and a general path over strided rows (core/ops/loops.h).
#include <cstring>

#include "core/factories.h"
#include "core/op.h"
#include "core/ops.h"
#include "core/ops/elementwise_ops.h"
#include "core/ops/loops.h"
#include "core/ops/math.h"

namespace tandem {
namespace {

// ---- shape rules ------------------------------------------------------------------------------
// Each is a template over the op's name, which its error messages show ("mul: shapes [2, 3] and
// [2, 4] cannot be broadcast ..."); core/ops/elementwise_ops.h says which op uses which.

// The dtype in which a binary op computes, from its two inputs (PyTorch's promotion rules).
DType compute_dtype(const Meta& a, const Meta& b) {
  return promote_for_binary(a.dtype, a.shape.empty(), b.dtype, b.shape.empty());
}

template <const char* Name> Meta arithmetic_shape(std::span<const Meta> in, const Attrs&) {
  return {broadcast_shapes(in[0].shape, in[1].shape, Name), compute_dtype(in[0], in[1])};
}

template <const char* Name> Meta sub_shape(std::span<const Meta> in, const Attrs& attrs) {
  if (in[0].dtype == kBool && in[1].dtype == kBool)
    throw DTypeError("sub: subtraction, the `-` operator, with two bool tensors is not supported; "
                     "use the `^` (logical_xor) idea or convert with .to(kInt64) first");
  return arithmetic_shape<Name>(in, attrs);
}

// True division: integers divide as floats, so 1 / 2 is 0.5 (as torch.div and Python 3's `/`).
template <const char* Name> Meta div_shape(std::span<const Meta> in, const Attrs& attrs) {
  Meta m = arithmetic_shape<Name>(in, attrs);
  m.dtype = to_floating(m.dtype);
  return m;
}

template <const char* Name> Meta comparison_shape(std::span<const Meta> in, const Attrs&) {
  return {broadcast_shapes(in[0].shape, in[1].shape, Name), kBool};
}

// The activation backward ops take (g, y) of the same floating dtype (no promotion).
template <const char* Name> Meta activation_backward_shape(std::span<const Meta> in, const Attrs&) {
  if (in[0].dtype != in[1].dtype || !is_floating(in[0].dtype))
    throw DTypeError(msg(Name, ": expected two floating tensors of one dtype, got ",
                         to_string(in[0].dtype), " and ", to_string(in[1].dtype)));
  return {broadcast_shapes(in[0].shape, in[1].shape, Name), in[0].dtype};
}

Meta where_shape(std::span<const Meta> in, const Attrs&) {
  if (in[0].dtype != kBool)
    throw DTypeError(msg("where: expected condition to be a bool tensor, but got a tensor of dtype ",
                         to_string(in[0].dtype), "; build it with a comparison such as x > 0"));
  const Shape s = broadcast_shapes(broadcast_shapes(in[0].shape, in[1].shape, "where"),
                                   in[2].shape, "where");
  return {s, compute_dtype(in[1], in[2])};
}

// add_n(x0, x1, ...): ((x0 + x1) + x2) + ... — add's rule, folded over the list.
constexpr char kAddN[] = "add_n";
Meta add_n_shape(std::span<const Meta> in, const Attrs& attrs) {
  if (in.empty()) throw Error("add_n: needs at least one input");
  Meta m = in[0];
  for (size_t k = 1; k < in.size(); ++k) {
    const Meta pair[2] = {m, in[k]};
    m = arithmetic_shape<kAddN>(pair, attrs);
  }
  return m;
}

// ---- kernels --------------------------------------------------------------------------------

// The input converted to dtype `dt` (no copy when it already has it).
Tensor as(const Tensor& t, DType dt) { return t.dtype() == dt ? t : t.to(dt); }

// out[i] = f(a[i], b[i]) over the broadcast shape. T: computation type, R: result type.
template <typename F, typename T, typename R>
void binary_loop(const Tensor& a, const Tensor& b, Tensor& out) {
  const F f;
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  R* po = out.data<R>();
  const int64_t n = out.numel();

  // Fast path: both operands laid out exactly like the output.
  if (a.shape() == out.shape() && b.shape() == out.shape() && a.is_contiguous() && b.is_contiguous()) {
    loops::parallel_for(n, n >= loops::kParallelGrain, [&](int64_t i) { po[i] = f(pa[i], pb[i]); });
    return;
  }
  // General path: walk rows of the output; broadcast dimensions have stride 0 in a or b.
  loops::for_each_row<3>(
      out.shape(),
      {out.strides(), broadcast_strides(a.shape(), a.strides(), out.shape()),
       broadcast_strides(b.shape(), b.strides(), out.shape())},
      [&](const std::array<int64_t, 3>& off, int64_t len, const std::array<int64_t, 3>& st) {
        R* o = po + off[0];
        const T* x = pa + off[1];
        const T* y = pb + off[2];
        if (st[1] == 1 && st[2] == 1) {
          for (int64_t i = 0; i < len; ++i) o[i] = f(x[i], y[i]);
        } else if (st[1] == 1 && st[2] == 0) {  // b is constant along the row (e.g. a bias)
          const T yv = *y;
          for (int64_t i = 0; i < len; ++i) o[i] = f(x[i], yv);
        } else if (st[1] == 0 && st[2] == 1) {
          const T xv = *x;
          for (int64_t i = 0; i < len; ++i) o[i] = f(xv, y[i]);
        } else {
          for (int64_t i = 0; i < len; ++i) o[i * st[0]] = f(x[i * st[1]], y[i * st[2]]);
        }
      });
}

// Arithmetic: computes in the output's dtype.
template <typename F>
void arithmetic_kernel(std::span<const Tensor> in, const Attrs&, Tensor& out) {
  const DType dt = out.dtype();
  const Tensor a = as(in[0], dt), b = as(in[1], dt);
  visit_dtype(dt, [&]<typename T>() { binary_loop<F, T, T>(a, b, out); });
}

// Real-valued only (the activation backward ops): float32 or float64, same dtype in and out.
template <typename F>
void floating_kernel(std::span<const Tensor> in, const Attrs&, Tensor& out) {
  visit_floating(out.dtype(), [&]<typename T>() { binary_loop<F, T, T>(in[0], in[1], out); });
}

// Comparisons: compute in the promoted dtype, write bools.
template <typename F>
void comparison_kernel(std::span<const Tensor> in, const Attrs&, Tensor& out) {
  const DType dt = compute_dtype(meta_of(in[0]), meta_of(in[1]));
  const Tensor a = as(in[0], dt), b = as(in[1], dt);
  visit_dtype(dt, [&]<typename T>() { binary_loop<F, T, bool>(a, b, out); });
}

// where(cond, a, b): out[i] = cond[i] ? a[i] : b[i], each read through its broadcast strides.
void where_kernel(std::span<const Tensor> in, const Attrs&, Tensor& out) {
  const Tensor& c = in[0];
  const Tensor a = as(in[1], out.dtype()), b = as(in[2], out.dtype());
  visit_dtype(out.dtype(), [&]<typename T>() {
    const bool* pc = c.data<bool>();
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* po = out.data<T>();
    loops::for_each_row<4>(
        out.shape(),
        {out.strides(), broadcast_strides(c.shape(), c.strides(), out.shape()),
         broadcast_strides(a.shape(), a.strides(), out.shape()),
         broadcast_strides(b.shape(), b.strides(), out.shape())},
        [&](const std::array<int64_t, 4>& off, int64_t len, const std::array<int64_t, 4>& st) {
          for (int64_t i = 0; i < len; ++i)
            po[off[0] + i * st[0]] = pc[off[1] + i * st[1]] ? pa[off[2] + i * st[2]]
                                                            : pb[off[3] + i * st[3]];
        });
  });
}

// add_n: the whole sum in one buffer, on any device — out = x0 + x1, then out = out + xk, with
// add's own kernel for out's device. An elementwise kernel may write over an input laid out
// exactly like its output (each element is read before it is written, at the same index). When
// x0 + x1 is not yet the full shape or dtype (broadcasting inputs), out starts as a copy of x0.
void add_n_kernel(std::span<const Tensor> in, const Attrs&, Tensor& out) {
  const ComputeKernel add = kernel_for(ops::add, out.device());
  size_t k = 1;
  const Meta m01 = in.size() > 1 ? ops::add.shape(std::vector<Meta>{meta_of(in[0]), meta_of(in[1])}, {})
                                 : meta_of(in[0]);
  if (in.size() > 1 && m01.shape == out.shape() && m01.dtype == out.dtype()) {
    add(in.first(2), {}, out);
    k = 2;
  } else {
    out.copy_(in[0]);  // a broadcasting, converting copy, with the kernel of out's device
  }
  for (; k < in.size(); ++k) {
    const Tensor pair[2] = {out, in[k]};
    add(std::span<const Tensor>(pair, 2), {}, out);
  }
}

}  // namespace

// ---- the catalogue entries ----------------------------------------------------------------------
// One TANDEM_OP per row of core/ops/elementwise_ops.h, with the kernel of its family. Each op's name
// becomes a string the shape rule's errors quote (ops::add_name = "add").
namespace ops {
#define TANDEM_BINARY_OP(name, Functor, rule, kernel, ...)                                 \
  constexpr char name##_name[] = #name;                                                 \
  TANDEM_OP(name, .arity = 2, .shape = rule<name##_name>, .cpu = kernel<math::Functor>, \
            .elementwise = true __VA_ARGS__)
#define ARITHMETIC(name, Functor, rule) TANDEM_BINARY_OP(name, Functor, rule, arithmetic_kernel);
#define COMPARISON(name, Functor, rule)                          \
  TANDEM_BINARY_OP(name, Functor, rule, comparison_kernel,       \
                   , .no_derivative = "a comparison: its bool output is piecewise constant");
#define ACTIVATION_BACKWARD(name, Functor, rule) TANDEM_BINARY_OP(name, Functor, rule, floating_kernel);
TANDEM_ARITHMETIC_OPS(ARITHMETIC)
TANDEM_COMPARISON_OPS(COMPARISON)
TANDEM_ACTIVATION_BACKWARD_OPS(ACTIVATION_BACKWARD)
#undef ARITHMETIC
#undef COMPARISON
#undef ACTIVATION_BACKWARD
#undef TANDEM_BINARY_OP

TANDEM_OP(where, .arity = 3, .shape = where_shape, .cpu = where_kernel, .elementwise = true);
// The sum of a list of values (TF's AddN): how both executors add up partial gradients.
TANDEM_OP(add_n, .arity = -1, .shape = add_n_shape, .cpu = add_n_kernel, .cuda = add_n_kernel,
          .elementwise = true);
}  // namespace ops

DType scalar_dtype(const Scalar& s, DType like) {
  // PyTorch treats a Python number as "weakly typed": it adapts to the tensor unless it brings
  // a higher category (a float next to an integer tensor gives the default float, float32).
  if (!is_floating(like) && s.natural_dtype() == kFloat64) return kFloat32;
  if (like == kBool && s.natural_dtype() == kInt64) return kInt64;
  return like;
}

// ---- whole-tensor comparisons ------------------------------------------------------------------
bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol) {
  if (a.shape() != b.shape()) return false;
  const std::vector<double> x = a.to_vector<double>(), y = b.to_vector<double>();
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i]) || std::isnan(y[i])) return false;
    if (std::abs(x[i] - y[i]) > atol + rtol * std::abs(y[i])) return false;
  }
  return true;
}

bool equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         a.to_vector<double>() == b.to_vector<double>();
}

}  // namespace tandem
