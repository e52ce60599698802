// core/ops/softmax.cpp — softmax and log_softmax along any dim, computed without overflow.
//
//   softmax(x)_i     = e^{x_i} / Σ_j e^{x_j}
//   log_softmax(x)_i = x_i - log Σ_j e^{x_j}
//
// Written literally, these overflow: e^x exceeds float32's range for x > 88.7, so softmax of the
// logits [1000, 1001, 1002] would be inf / inf = NaN. The cure is one line of algebra: subtracting
// a constant c from every x_i changes nothing, because e^{x_i - c} / Σ_j e^{x_j - c} has a factor
// e^{-c} above and below. Take c = m = max_j x_j. Then every exponent is <= 0, the largest term is
// exactly e^0 = 1, the sum lies in [1, n] — nothing can overflow, and terms that underflow to 0
// are below 1e-45 of the largest, truly negligible. So:
//
//   softmax(x)_i     = e^{x_i - m} / s,          s = Σ_j e^{x_j - m}
//   log_softmax(x)_i = (x_i - m) - log s
//
// The log form matters on its own: log(softmax(x)) would take log(0) = -inf for every term that
// underflowed (x_i - m < -104 in float32), while (x_i - m) - log s stays finite and exact. This is
// why cross-entropy is built on log_softmax, never on log(softmax). Note the order of operations:
// (x_i - m) is computed first and is exact for inputs of similar size, so [1000, 1001, 1002]
// gives bit for bit the result of [0, 1, 2]. The sum s accumulates in double.
//
// Layout. A contiguous tensor, seen around the softmax dim of size n, is [outer, n, inner]:
//  - inner == 1 (the last dim, the usual case: one row of logits per sample): each row is a
//    contiguous run of n values, three passes over it (max; exp and sum; normalise);
//  - inner > 1 (softmax over dim 0 of a matrix, or over channels): the n values of one softmax
//    are `inner` apart. Rather than striding through memory n times per output, we treat a strip
//    of neighbouring softmaxes together: row by row, update a strip of running maxima, then of
//    sums — every pass reads memory in order, as the outer reductions of reduce.cpp do.
// A non-contiguous input is first copied into the output buffer and normalised there, in place.
//
// Read next: autograd/'s rule for log_softmax (d/dx log_softmax(x) = g - softmax(x)·Σg), then
// layers/'s cross-entropy loss.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "core/op.h"
#include "core/ops.h"
#include "core/ops/copy.h"
#include "core/ops/loops.h"
#include "core/ops/math.h"

namespace tandem {
namespace {

// ---- shape rule ----------------------------------------------------------------------------------
// Same shape and dtype. Integer input is an error, as in PyTorch ("softmax_kernel_impl" not
// implemented for 'Long'): a softmax of labels is almost always a bug.
template <const char* Name> Meta softmax_meta(std::span<const Meta> in, const Attrs& a) {
  normalize_dim(a.dim, static_cast<int64_t>(in[0].shape.size()), Name);
  if (!is_floating(in[0].dtype))
    throw DTypeError(msg(Name, ": expected a floating point tensor, but got dtype ",
                         to_string(in[0].dtype), "; convert it first, e.g. x.to(kFloat32)"));
  return in[0];
}

// ---- kernels -------------------------------------------------------------------------------------

// One softmax over the contiguous run x[0..n), written to y (x == y is allowed). Each pass is a
// simple loop that vectorises: the max and the sum because `omp simd reduction` allows their
// reordering, the exponentials because math::ExpNonPositive is written for it (every exponent
// is x - m <= 0: core/ops/vector_math.h's exp_nonpositive_f32).
template <typename T, bool Log> void softmax_row(const T* x, T* y, int64_t n) {
  const math::ExpNonPositive exp;  // of x - max <= 0
  T m = -std::numeric_limits<T>::infinity();
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
  double s = 0;
  if constexpr (Log) {
    // The plain loop is `s += exp(x[i] - m)` over the row. Speed (LOOP FISSION, as unary.cpp's
    // sigmoid_loop): the exponentials of a block go to a buffer in the L1 cache first, then are
    // added up in double. In one loop, GCC widens every exponential to double where it was
    // computed, with its masks (the -104 clamp) widened alongside: twice the work per value.
    // log_softmax of 1024² floats, AVX2, one thread: 1.06 -> 0.86 ms (bench_unary).
    constexpr int64_t kBlock = 256;
    T e[kBlock];
    for (int64_t lo = 0; lo < n; lo += kBlock) {
      const int64_t len = std::min(kBlock, n - lo);
#pragma omp simd
      for (int64_t i = 0; i < len; ++i) e[i] = exp(x[lo + i] - m);
#pragma omp simd reduction(+ : s)
      for (int64_t i = 0; i < len; ++i) s += e[i];
    }
    const T log_s = static_cast<T>(std::log(s));
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - m) - log_s;
  } else {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = exp(x[i] - m);
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < n; ++i) s += y[i];
    const T st = static_cast<T>(s);
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = y[i] / st;
  }
}

constexpr int64_t kStrip = 256;  // softmaxes one task of the strided layout handles together

// w neighbouring softmaxes whose n elements are `inner` apart: softmax j reads x[i * inner + j].
template <typename T, bool Log> void softmax_strip(const T* x, T* y, int64_t n, int64_t inner, int64_t w) {
  const math::ExpNonPositive exp;  // of x - max <= 0
  std::array<T, kStrip> m;
  std::array<double, kStrip> s;
  m.fill(-std::numeric_limits<T>::infinity());
  s.fill(0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < w; ++j) m[j] = std::max(m[j], x[i * inner + j]);
  for (int64_t i = 0; i < n; ++i)
#pragma omp simd
    for (int64_t j = 0; j < w; ++j) {
      const T e = exp(x[i * inner + j] - m[j]);
      if constexpr (!Log) y[i * inner + j] = e;
      s[j] += e;
    }
  std::array<T, kStrip> t;  // log s (log_softmax) or s (softmax), in T
  for (int64_t j = 0; j < w; ++j) t[j] = static_cast<T>(Log ? std::log(s[j]) : s[j]);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < w; ++j) {
      if constexpr (Log) y[i * inner + j] = (x[i * inner + j] - m[j]) - t[j];
      else y[i * inner + j] = y[i * inner + j] / t[j];
    }
}

template <bool Log> void softmax_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  const Tensor& x = in[0];
  const int64_t rank = x.dim();
  const int64_t dim = normalize_dim(a.dim, rank, Log ? "log_softmax" : "softmax");
  // [outer, n, inner] around the softmax dim (a 0-dim tensor is one softmax of one element).
  int64_t outer = 1, n = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= x.shape()[d];
  if (rank > 0) n = x.shape()[dim];
  for (int64_t d = dim + 1; d < rank; ++d) inner *= x.shape()[d];
  if (out.numel() == 0) return;

  if (!x.is_contiguous()) copy_into(x, out);  // then normalise in place
  visit_floating(x.dtype(), [&]<typename T>() {
    const T* px = x.is_contiguous() ? x.data<T>() : out.data<T>();
    T* py = out.data<T>();
    const bool big = out.numel() >= loops::kParallelGrain;
    if (inner == 1) {
      loops::parallel_for(outer, big, [&](int64_t r) { softmax_row<T, Log>(px + r * n, py + r * n, n); });
      return;
    }
    const int64_t strips = (inner + kStrip - 1) / kStrip;
    loops::parallel_for(outer * strips, big, [&](int64_t task) {
      const int64_t j0 = (task % strips) * kStrip;
      const int64_t off = (task / strips) * n * inner + j0;
      softmax_strip<T, Log>(px + off, py + off, n, inner, std::min(kStrip, inner - j0));
    });
  });
}

constexpr char kSoftmax[] = "softmax", kLogSoftmax[] = "log_softmax";

}  // namespace

// ---- the catalogue entries --------------------------------------------------------------------
namespace ops {
TANDEM_OP(softmax, .shape = softmax_meta<kSoftmax>, .cpu = softmax_kernel<false>);
TANDEM_OP(log_softmax, .shape = softmax_meta<kLogSoftmax>, .cpu = softmax_kernel<true>);
}  // namespace ops

}  // namespace tandem
