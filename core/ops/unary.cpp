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
#include <cmath>
#include <type_traits>

#include "core/factories.h"
#include "core/op.h"
#include "core/ops.h"
#include "core/ops/copy.h"
#include "core/ops/elementwise_ops.h"
#include "core/ops/loops.h"
#include "core/ops/math.h"

namespace tandem {
namespace {

// ---- shape rules -------------------------------------------------------------------------------
// Templates over the op's name, like binary.cpp's (core/ops/elementwise_ops.h says which is whose).
template <const char*> Meta same_shape(std::span<const Meta> in, const Attrs&) { return in[0]; }

template <const char*> Meta floating_shape(std::span<const Meta> in, const Attrs&) {
  return {in[0].shape, to_floating(in[0].dtype)};
}

// gelu is defined for floating tensors only, as in PyTorch ("GeluKernelImpl" not implemented for
// 'Bool'): the other activations keep or convert, but an integer or bool gelu is almost surely a
// mistake (labels or a mask fed to the wrong layer).
template <const char* Name> Meta gelu_shape(std::span<const Meta> in, const Attrs&) {
  if (!is_floating(in[0].dtype))
    throw DTypeError(msg(Name, ": expected a floating point tensor, but got ", to_string(in[0].dtype),
                         " (PyTorch refuses it too); convert it first: gelu(x.to(kFloat32))"));
  return in[0];
}

template <const char*> Meta neg_shape(std::span<const Meta> in, const Attrs&) {
  if (in[0].dtype == kBool)
    throw DTypeError("neg: negation, the `-` operator, on a bool tensor is not supported; "
                     "if you are trying to invert a mask, use the `~` idea: x == false, or "
                     "logical_not");
  return in[0];
}

Meta copy_shape(std::span<const Meta> in, const Attrs&) { return in[0]; }
Meta cast_shape(std::span<const Meta> in, const Attrs& attrs) { return {in[0].shape, attrs.dtype}; }

// ---- kernels -------------------------------------------------------------------------------------

// y[0, n) = sigmoid(x[0, n)) for float32, the same values as math::Sigmoid's, in two loops over
// blocks that stay in the L1 cache: first e = e^{-|x|}, then the rest (math::sigmoid_from_exp).
// Speed (LOOP FISSION): the one loop of `f(px[i])` needs more vector registers than AVX2 has (16):
// the exp's constants, its intermediates and the division's all live at once, and the compiler
// spills them to the stack and reloads them for every 8 floats. Split in two, each loop fits. On an
// AVX2 build, sigmoid of 1024² floats went from 0.95 to 0.78 ms; with AVX-512's 32 registers, 0.61
// to 0.56 (bench_unary, one thread).
void sigmoid_loop(const float* x, float* y, int64_t n) {
  constexpr int64_t kBlock = 256;
  float e[kBlock];
  for (int64_t lo = 0; lo < n; lo += kBlock) {
    const int64_t len = std::min(kBlock, n - lo);
#pragma omp simd
    for (int64_t i = 0; i < len; ++i) e[i] = math::exp_nonpositive_f32(-std::fabs(x[lo + i]));
#pragma omp simd
    for (int64_t i = 0; i < len; ++i) y[lo + i] = math::sigmoid_from_exp(x[lo + i], e[i]);
  }
}

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
      if constexpr (std::is_same_v<F, math::Sigmoid> && std::is_same_v<T, float> && math::use_vector_math<T>) {
        sigmoid_loop(px + lo, po + lo, hi - lo);  // the same values, faster (above)
        return;
      }
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

// ---- the catalogue entries ----------------------------------------------------------------------
// One TANDEM_OP per row of core/ops/elementwise_ops.h, then the two copies.
namespace ops {
#define UNARY(name, Functor, rule)                                                      \
  constexpr char name##_name[] = #name;                                                 \
  TANDEM_OP(name, .shape = rule<name##_name>, .cpu = unary_kernel<math::Functor>, .elementwise = true);
TANDEM_UNARY_OPS(UNARY)
#undef UNARY
TANDEM_OP(cast, .shape = cast_shape, .cpu = copy_kernel, .elementwise = true);   // to(dtype)
TANDEM_OP(clone, .shape = copy_shape, .cpu = copy_kernel, .elementwise = true);  // a contiguous copy
}  // namespace ops

}  // namespace tandem
