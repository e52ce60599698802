// core/ops/unary.cpp — elementwise functions of one tensor: exp, log, tanh, relu, ... and copies.
//
// Same pattern as binary.cpp, with one operand: the shape rule keeps the shape and decides the
// dtype; the kernel runs a functor from core/ops/math.h over every element. Real-valued functions
// (exp, log, sigmoid, ...) turn integer input into float32, as PyTorch does; neg, abs and relu keep
// the input's dtype.
//
// The copies live here too: clone (a contiguous copy), contiguous (clone unless already
// contiguous) and to(dtype) (the `cast` op, a converting copy).
#include <algorithm>

#include "core/factories.h"
#include "core/op.h"
#include "core/ops.h"
#include "core/ops/copy.h"
#include "core/ops/loops.h"
#include "core/ops/math.h"

namespace tandem {
namespace {

// ---- shape rules -------------------------------------------------------------------------------
Meta same_meta(std::span<const Meta> in, const Attrs&) { return in[0]; }

Meta floating_meta(std::span<const Meta> in, const Attrs&) {
  return {in[0].shape, to_floating(in[0].dtype)};
}

// gelu is defined for floating tensors only, as in PyTorch ("GeluKernelImpl" not implemented for
// 'Bool'): the other activations keep or convert, but an integer or bool gelu is almost surely a
// mistake (labels or a mask fed to the wrong layer).
Meta gelu_meta(std::span<const Meta> in, const Attrs&) {
  if (!is_floating(in[0].dtype))
    throw DTypeError(msg("gelu: expected a floating point tensor, but got ", to_string(in[0].dtype),
                         " (PyTorch refuses it too); convert it first: gelu(x.to(kFloat32))"));
  return in[0];
}

Meta neg_meta(std::span<const Meta> in, const Attrs&) {
  if (in[0].dtype == kBool)
    throw DTypeError("neg: negation, the `-` operator, on a bool tensor is not supported; "
                     "if you are trying to invert a mask, use the `~` idea: x == false, or "
                     "logical_not");
  return in[0];
}

Meta cast_meta(std::span<const Meta> in, const Attrs& attrs) { return {in[0].shape, attrs.dtype}; }

// ---- kernels -------------------------------------------------------------------------------------

// out[i] = f(x[i]); x already has out's dtype T.
template <typename F, typename T> void unary_loop(const Tensor& x, Tensor& out) {
  const F f;
  const T* px = x.data<T>();
  T* po = out.data<T>();
  const int64_t n = out.numel();
  if (x.is_contiguous()) {
    // Threads take pieces of kRowPiece elements; each piece is one `omp simd` loop, so the
    // functor runs 8 floats at a time where it can: the float32 exp, log, tanh and sigmoid too,
    // written for it in core/ops/vector_math.h (math::exp_f32 and its siblings).
    const int64_t pieces = (n + loops::kRowPiece - 1) / loops::kRowPiece;
    loops::parallel_for(pieces, n >= loops::kParallelGrain, [&](int64_t c) {
      const int64_t lo = c * loops::kRowPiece, hi = std::min(n, lo + loops::kRowPiece);
#pragma omp simd
      for (int64_t i = lo; i < hi; ++i) po[i] = f(px[i]);
    });
    return;
  }
  loops::for_each_row<2>(out.shape(), {out.strides(), x.strides()},
                         [&](const std::array<int64_t, 2>& off, int64_t len,
                             const std::array<int64_t, 2>& st) {
                           for (int64_t i = 0; i < len; ++i)
                             po[off[0] + i * st[0]] = f(px[off[1] + i * st[1]]);
                         });
}

// Any dtype the rule allows: convert the input to the output dtype first (int -> float for exp).
template <typename F> void unary_kernel(std::span<const Tensor> in, const Attrs&, Tensor& out) {
  const Tensor x = in[0].dtype() == out.dtype() ? in[0] : in[0].to(out.dtype());
  visit_dtype(out.dtype(), [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      // Only relu and abs reach here with bools, and both are the identity on {0, 1}.
      copy_into(x, out);
    } else {
      unary_loop<F, T>(x, out);
    }
  });
}

// clone and cast are both "copy into a fresh contiguous tensor", converting on the way.
void copy_kernel(std::span<const Tensor> in, const Attrs&, Tensor& out) { copy_into(in[0], out); }

}  // namespace

// {name, arity, shape rule, cpu kernel, view kernel, cuda kernel, elementwise}
namespace ops {
OpDef neg{"neg", 1, neg_meta, unary_kernel<math::Neg>, nullptr, nullptr, true};
OpDef exp{"exp", 1, floating_meta, unary_kernel<math::Exp>, nullptr, nullptr, true};
OpDef log{"log", 1, floating_meta, unary_kernel<math::Log>, nullptr, nullptr, true};
OpDef sqrt{"sqrt", 1, floating_meta, unary_kernel<math::Sqrt>, nullptr, nullptr, true};
OpDef abs{"abs", 1, same_meta, unary_kernel<math::Abs>, nullptr, nullptr, true};
OpDef sin{"sin", 1, floating_meta, unary_kernel<math::Sin>, nullptr, nullptr, true};
OpDef cos{"cos", 1, floating_meta, unary_kernel<math::Cos>, nullptr, nullptr, true};
OpDef tanh{"tanh", 1, floating_meta, unary_kernel<math::Tanh>, nullptr, nullptr, true};
OpDef sigmoid{"sigmoid", 1, floating_meta, unary_kernel<math::Sigmoid>, nullptr, nullptr, true};
OpDef relu{"relu", 1, same_meta, unary_kernel<math::Relu>, nullptr, nullptr, true};
OpDef gelu{"gelu", 1, gelu_meta, unary_kernel<math::Gelu>, nullptr, nullptr, true};
OpDef sign{"sign", 1, same_meta, unary_kernel<math::Sign>, nullptr, nullptr, true};
OpDef cast{"cast", 1, cast_meta, copy_kernel, nullptr, nullptr, true};
OpDef clone{"clone", 1, same_meta, copy_kernel, nullptr, nullptr, true};
}  // namespace ops

Tensor neg(const Tensor& x) { return call(ops::neg, {x}); }
Tensor exp(const Tensor& x) { return call(ops::exp, {x}); }
Tensor log(const Tensor& x) { return call(ops::log, {x}); }
Tensor sqrt(const Tensor& x) { return call(ops::sqrt, {x}); }
Tensor abs(const Tensor& x) { return call(ops::abs, {x}); }
Tensor sin(const Tensor& x) { return call(ops::sin, {x}); }
Tensor cos(const Tensor& x) { return call(ops::cos, {x}); }
Tensor tanh(const Tensor& x) { return call(ops::tanh, {x}); }
Tensor sigmoid(const Tensor& x) { return call(ops::sigmoid, {x}); }
Tensor relu(const Tensor& x) { return call(ops::relu, {x}); }
Tensor gelu(const Tensor& x) { return call(ops::gelu, {x}); }
Tensor sign(const Tensor& x) { return call(ops::sign, {x}); }
Tensor operator-(const Tensor& x) { return neg(x); }

Tensor clone(const Tensor& x) { return call(ops::clone, {x}); }
Tensor contiguous(const Tensor& x) { return x.is_contiguous() ? x : clone(x); }
Tensor to(const Tensor& x, DType dtype) {
  if (x.dtype() == dtype) return x;
  Attrs attrs;
  attrs.dtype = dtype;
  return call(ops::cast, {x}, attrs);
}

}  // namespace tandem
