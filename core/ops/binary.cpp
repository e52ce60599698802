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
#include "core/ops/loops.h"
#include "core/ops/math.h"

namespace tandem {
namespace {

// ---- shape rules ------------------------------------------------------------------------------

// The dtype in which a binary op computes, from its two inputs (PyTorch's promotion rules).
DType compute_dtype(const Meta& a, const Meta& b) {
  return promote_for_binary(a.dtype, a.shape.empty(), b.dtype, b.shape.empty());
}

template <const char* Name> Meta arithmetic_shape(std::span<const Meta> in, const Attrs&) {
  return {broadcast_shapes(in[0].shape, in[1].shape, Name), compute_dtype(in[0], in[1])};
}

constexpr char kSub[] = "sub";
Meta sub_shape(std::span<const Meta> in, const Attrs& attrs) {
  if (in[0].dtype == kBool && in[1].dtype == kBool)
    throw DTypeError("sub: subtraction, the `-` operator, with two bool tensors is not supported; "
                     "use the `^` (logical_xor) idea or convert with .to(kInt64) first");
  return arithmetic_shape<kSub>(in, attrs);
}

// True division: integers divide as floats, so 1 / 2 is 0.5 (as torch.div and Python 3's `/`).
constexpr char kDiv[] = "div";
Meta div_shape(std::span<const Meta> in, const Attrs& attrs) {
  Meta m = arithmetic_shape<kDiv>(in, attrs);
  m.dtype = to_floating(m.dtype);
  return m;
}

template <const char* Name> Meta comparison_shape(std::span<const Meta> in, const Attrs&) {
  return {broadcast_shapes(in[0].shape, in[1].shape, Name), kBool};
}

Meta where_shape(std::span<const Meta> in, const Attrs&) {
  if (in[0].dtype != kBool)
    throw DTypeError(msg("where: expected condition to be a bool tensor, but got a tensor of dtype ",
                         to_string(in[0].dtype), "; build it with a comparison such as x > 0"));
  const Shape s = broadcast_shapes(broadcast_shapes(in[0].shape, in[1].shape, "where"),
                                   in[2].shape, "where");
  return {s, compute_dtype(in[1], in[2])};
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

// The activation backward ops take (g, y) of the same shape and dtype (no promotion).
Meta activation_backward_shape(std::span<const Meta> in, const Attrs&) {
  if (in[0].dtype != in[1].dtype || !is_floating(in[0].dtype))
    throw DTypeError(msg("activation backward: expected two floating tensors of one dtype, got ",
                         to_string(in[0].dtype), " and ", to_string(in[1].dtype)));
  return {broadcast_shapes(in[0].shape, in[1].shape, "activation backward"), in[0].dtype};
}

constexpr char kAdd[] = "add", kMul[] = "mul", kPow[] = "pow", kMax[] = "maximum",
               kMin[] = "minimum", kEq[] = "eq", kNe[] = "ne", kLt[] = "lt", kLe[] = "le",
               kGt[] = "gt", kGe[] = "ge";

}  // namespace

// ---- the catalogue entries --------------------------------------------------------------------
// {name, arity, shape rule, cpu kernel, view kernel, cuda kernel, elementwise}
namespace ops {
OpDef add{"add", 2, arithmetic_shape<kAdd>, arithmetic_kernel<math::Add>, nullptr, nullptr, true};
OpDef sub{"sub", 2, sub_shape, arithmetic_kernel<math::Sub>, nullptr, nullptr, true};
OpDef mul{"mul", 2, arithmetic_shape<kMul>, arithmetic_kernel<math::Mul>, nullptr, nullptr, true};
OpDef div{"div", 2, div_shape, arithmetic_kernel<math::Div>, nullptr, nullptr, true};
OpDef pow{"pow", 2, arithmetic_shape<kPow>, arithmetic_kernel<math::Pow>, nullptr, nullptr, true};
OpDef maximum{"maximum", 2, arithmetic_shape<kMax>, arithmetic_kernel<math::Maximum>, nullptr, nullptr, true};
OpDef minimum{"minimum", 2, arithmetic_shape<kMin>, arithmetic_kernel<math::Minimum>, nullptr, nullptr, true};
OpDef eq{"eq", 2, comparison_shape<kEq>, comparison_kernel<math::Eq>, nullptr, nullptr, true};
OpDef ne{"ne", 2, comparison_shape<kNe>, comparison_kernel<math::Ne>, nullptr, nullptr, true};
OpDef lt{"lt", 2, comparison_shape<kLt>, comparison_kernel<math::Lt>, nullptr, nullptr, true};
OpDef le{"le", 2, comparison_shape<kLe>, comparison_kernel<math::Le>, nullptr, nullptr, true};
OpDef gt{"gt", 2, comparison_shape<kGt>, comparison_kernel<math::Gt>, nullptr, nullptr, true};
OpDef ge{"ge", 2, comparison_shape<kGe>, comparison_kernel<math::Ge>, nullptr, nullptr, true};
OpDef where{"where", 3, where_shape, where_kernel, nullptr, nullptr, true};
OpDef relu_backward{"relu_backward", 2, activation_backward_shape, floating_kernel<math::ReluBackward>, nullptr, nullptr, true};
OpDef sigmoid_backward{"sigmoid_backward", 2, activation_backward_shape, floating_kernel<math::SigmoidBackward>, nullptr, nullptr, true};
OpDef tanh_backward{"tanh_backward", 2, activation_backward_shape, floating_kernel<math::TanhBackward>, nullptr, nullptr, true};
OpDef gelu_backward{"gelu_backward", 2, activation_backward_shape, floating_kernel<math::GeluBackward>, nullptr, nullptr, true};
}  // namespace ops

// ---- the user-facing functions --------------------------------------------------------------
Tensor add(const Tensor& a, const Tensor& b) { return call(ops::add, {a, b}); }
Tensor sub(const Tensor& a, const Tensor& b) { return call(ops::sub, {a, b}); }
Tensor mul(const Tensor& a, const Tensor& b) { return call(ops::mul, {a, b}); }
Tensor div(const Tensor& a, const Tensor& b) { return call(ops::div, {a, b}); }
Tensor pow(const Tensor& a, const Tensor& b) { return call(ops::pow, {a, b}); }
Tensor pow(const Tensor& a, const Scalar& e) { return pow(a, scalar_like(e, a)); }
Tensor maximum(const Tensor& a, const Tensor& b) { return call(ops::maximum, {a, b}); }
Tensor minimum(const Tensor& a, const Tensor& b) { return call(ops::minimum, {a, b}); }
Tensor eq(const Tensor& a, const Tensor& b) { return call(ops::eq, {a, b}); }
Tensor ne(const Tensor& a, const Tensor& b) { return call(ops::ne, {a, b}); }
Tensor lt(const Tensor& a, const Tensor& b) { return call(ops::lt, {a, b}); }
Tensor le(const Tensor& a, const Tensor& b) { return call(ops::le, {a, b}); }
Tensor gt(const Tensor& a, const Tensor& b) { return call(ops::gt, {a, b}); }
Tensor ge(const Tensor& a, const Tensor& b) { return call(ops::ge, {a, b}); }
Tensor where(const Tensor& c, const Tensor& a, const Tensor& b) { return call(ops::where, {c, a, b}); }
Tensor relu_backward(const Tensor& g, const Tensor& y) { return call(ops::relu_backward, {g, y}); }
Tensor sigmoid_backward(const Tensor& g, const Tensor& y) { return call(ops::sigmoid_backward, {g, y}); }
Tensor tanh_backward(const Tensor& g, const Tensor& y) { return call(ops::tanh_backward, {g, y}); }
Tensor gelu_backward(const Tensor& g, const Tensor& x) { return call(ops::gelu_backward, {g, x}); }

DType scalar_dtype(const Scalar& s, DType like) {
  // PyTorch treats a Python number as "weakly typed": it adapts to the tensor unless it brings
  // a higher category (a float next to an integer tensor gives the default float, float32).
  if (!is_floating(like) && s.natural_dtype() == kFloat64) return kFloat32;
  if (like == kBool && s.natural_dtype() == kInt64) return kInt64;
  return like;
}

Tensor scalar_like(const Scalar& s, const Tensor& like) {
  return full({}, s, scalar_dtype(s, like.dtype()), like.device());
}

// Operators are the functions above under their usual C++ spelling.
Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& a, const Scalar& b) { return add(a, scalar_like(b, a)); }
Tensor operator-(const Tensor& a, const Scalar& b) { return sub(a, scalar_like(b, a)); }
Tensor operator*(const Tensor& a, const Scalar& b) { return mul(a, scalar_like(b, a)); }
Tensor operator/(const Tensor& a, const Scalar& b) { return div(a, scalar_like(b, a)); }
Tensor operator+(const Scalar& a, const Tensor& b) { return add(scalar_like(a, b), b); }
Tensor operator-(const Scalar& a, const Tensor& b) { return sub(scalar_like(a, b), b); }
Tensor operator*(const Scalar& a, const Tensor& b) { return mul(scalar_like(a, b), b); }
Tensor operator/(const Scalar& a, const Tensor& b) { return div(scalar_like(a, b), b); }
Tensor operator==(const Tensor& a, const Tensor& b) { return eq(a, b); }
Tensor operator!=(const Tensor& a, const Tensor& b) { return ne(a, b); }
Tensor operator<(const Tensor& a, const Tensor& b) { return lt(a, b); }
Tensor operator<=(const Tensor& a, const Tensor& b) { return le(a, b); }
Tensor operator>(const Tensor& a, const Tensor& b) { return gt(a, b); }
Tensor operator>=(const Tensor& a, const Tensor& b) { return ge(a, b); }
Tensor operator==(const Tensor& a, const Scalar& b) { return eq(a, scalar_like(b, a)); }
Tensor operator!=(const Tensor& a, const Scalar& b) { return ne(a, scalar_like(b, a)); }
Tensor operator<(const Tensor& a, const Scalar& b) { return lt(a, scalar_like(b, a)); }
Tensor operator<=(const Tensor& a, const Scalar& b) { return le(a, scalar_like(b, a)); }
Tensor operator>(const Tensor& a, const Scalar& b) { return gt(a, scalar_like(b, a)); }
Tensor operator>=(const Tensor& a, const Scalar& b) { return ge(a, scalar_like(b, a)); }

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
