// core/ops/vector_math.h — exp, log, tanh and sigmoid of a float32, written so the CPU can compute
// eight at a time.
//
// Why not std::exp? A loop `y[i] = std::exp(x[i])` under `#pragma omp simd` asks GCC to run the
// body on a whole SIMD register of floats (8 of them with AVX2). It can only do that for
// operations it has a vector form of: +, *, compares, selects, integer and bit operations. std::exp
// is a call into glibc's libm, which works on one float at a time and is written with branches
// for its special cases. glibc does ship vector versions (libmvec: _ZGVdN8v_expf and friends), but
// its headers only declare them to GCC under -ffast-math, which Tandem does not use (it would
// license GCC to ignore NaN and reorder sums everywhere). So the loop stays a scalar libm call per
// element: exp of a 1024 x 1024 matrix took 4 ms, four times PyTorch, whose kernels carry their
// own vector exp (Sleef). The cure is the same as theirs: write the functions out of operations
// the compiler can vectorise, and write them without branches — every special case (NaN, inf,
// overflow) becomes a select, `cond ? a : b`, which is one blend instruction on 8 lanes.
//
// How a libm computes exp — range reduction. A polynomial approximates e^x well only on a short
// interval, so we first reduce any x to a small r. Write
//
//     x = k·ln2 + r,   k = round(x / ln2),   |r| <= ln2/2 ≈ 0.35,   so   e^x = 2^k · e^r.
//
// 2^k costs nothing: a float is sign · 2^(exponent - 127) · 1.mantissa, so 2^k is the bit pattern
// with exponent field k + 127 and mantissa 0, built with an integer shift. And on |r| <= 0.35 a
// degree-7 polynomial (Taylor's 1 + r + r²/2 + ..., with its coefficients nudged by a minimax fit
// so that the error is spread evenly over the interval) is accurate to the last bit of a float.
// log does the reduction the other way round: x = 2^e · m with m in [√½, √2), read straight from
// the bits, so log x = e·ln2 + log m, and log m is a polynomial in m - 1. tanh and sigmoid are
// built on exp.
//
// Where the error comes from. Three places, each a fraction of an ulp (the gap between adjacent
// floats, 2^-23 relative to a number in [1, 2)): (1) ln2 is not a float, so r = x - k·ln2 would
// lose bits; the Cody-Waite trick splits ln2 = C1 + C2 with C1 = 0.693359375 (few bits, so k·C1 is
// exact) and C2 the small rest, and subtracts them in turn; (2) the polynomial differs from e^r by
// a small fraction of an ulp on the interval (the minimax fit); (3) each float operation rounds,
// and the last additions, of numbers near 1, round hardest — so exp and sigmoid recover what those
// roundings drop (the Fast2Sum steps below). tests/test_vector_math.cpp measures the total against
// double precision over the whole float range: 0.76 ulp for exp, 0.79 for log, 1.33 for tanh and
// 1.90 for sigmoid at worst. The coefficients are Stephen Moshier's, from the Cephes library
// (expf.c, logf.c, tanhf.c), where Eigen's vectorised exp and log also start from.
//
// float64 keeps the standard library: it is the dtype of gradcheck, where a reference value
// matters more than speed. The GPU keeps CUDA's own expf, logf, tanhf (see math.h).
//
// Check that a loop vectorised: compile with -fopt-info-vec-optimized and look for the loop's
// line, e.g. "core/ops/unary.cpp:55:54: optimized: loop vectorized using 32 byte vectors"
// (bench/RESULTS.md records the lines for the unary and softmax loops).
//
// Read next: math.h, whose functors Exp, Log, Tanh and Sigmoid call these; then softmax.cpp.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace tandem::math {

// The heart of exp, shared by exp_f32 and exp_nonpositive_f32: given c and k = round(c / ln2) (as
// a float), e^r for the reduced argument r = c - k·ln2, so that e^c = 2^k · e^r.
inline float exp_reduced(float c, float k) {
  // r = c - k·ln2, in two steps (Cody-Waite): k·C1 is exact, C2 = ln2 - C1 is the small rest. The
  // second step rounds; `lost` is what that rounding dropped (r + lost = r1 - k·C2 within 2^-29).
  const float r1 = c - k * 0.693359375f;
  const float kc2 = k * -2.12194440e-4f;
  const float r = r1 - kc2;
  const float lost = (r1 - r) - kc2;
  // e^r ≈ 1 + r + r²·P(r) on |r| <= 0.35 (Cephes expf). The sum is taken with care, as its
  // rounding is most of the error: s = 1 + r rounds, but what it dropped, r - (s - 1), is exact
  // (Fast2Sum: |1| >= |r|) and joins the small terms, so the whole sum rounds once, at the end.
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float s = 1.0f + r;
  return s + ((p * (r * r) + (r - (s - 1.0f))) + lost);
}

// e^x. Inputs are clamped to [-104, 89] first: beyond, e^x is 0 or inf in float32, and the clamped
// value still gives exactly that (e^89 overflows to inf, e^-104 rounds to 0). The clamp also keeps
// k in int32 range, and NaN (which the clamp turns into -104) is restored at the end.
inline float exp_f32(float x) {
  float c = x > -104.0f ? x : -104.0f;
  c = c < 89.0f ? c : 89.0f;
  // k = round(c / ln2). Adding 1.5·2^23 pushes the fraction bits out of the float (at that size
  // floats are 1 apart), so the addition rounds to the nearest integer; subtracting it back gives
  // that integer as a float. One add and one subtract, where std::round would be a call.
  const float shifter = 12582912.0f;  // 1.5 · 2^23
  const float k = (c * 1.44269504088896341f + shifter) - shifter;
  const float er = exp_reduced(c, k);
  // 2^k, built from the exponent bits. k runs from -150 to 128, and 2^k itself is a normal float
  // only for -126 <= k <= 127, so scale in two halves k = k1 + k2, each within [-75, 64]: the first
  // product is exact, the second rounds once — into a denormal where e^x is one, to inf where it
  // overflows.
  const int32_t ki = static_cast<int32_t>(k);
  const int32_t k1 = ki >> 1, k2 = ki - k1;
  const float s1 = std::bit_cast<float>((k1 + 127) << 23);
  const float s2 = std::bit_cast<float>((k2 + 127) << 23);
  const float y = er * s1 * s2;
  return x != x ? x : y;  // NaN in, NaN out
}

// e^x for x <= 0 only: the exponentials of softmax (x - max <= 0) and of sigmoid (e^{-|x|}).
// The same steps as exp_f32 and the same bits for every such x (tests/test_vector_math.cpp checks
// them against exp_f32), with less work around exp_reduced:
//  - no upper clamp, and no NaN select: a NaN fails the one compare below and stays NaN through
//    every step (the lower clamp of exp_f32 turned it into -104, hence its final select);
//  - 2^k without the two halves. k runs from -150 to 0 here, so 2^(k+24) is a normal float, and
//    its bits come straight from kf = k + 1.5·2^23, whose low bits hold k: add the exponent bias
//    and shift into place (the bits above k fall off the top). Then er·2^(k+24) is exact, and the
//    last multiply by 2^-24 rounds once — into a denormal where e^x is one, as exp_f32 does.
// Speed: about 30 instructions per 8 floats instead of 50; e^{-|x|} of 16384 floats, AVX2, in
// cache: 0.72 -> 0.49 ms for 64 passes. (A ternary clamp with a NaN rule costs a compare and a
// blend per bound: GCC may not turn it into vmaxps without -ffinite-math-only.)
inline float exp_nonpositive_f32(float x) {
  const float c = x < -104.0f ? -104.0f : x;  // e^-104 rounds to 0; a NaN keeps its NaN
  const float shifter = 12582912.0f;           // 1.5 · 2^23, as in exp_f32
  const float kf = c * 1.44269504088896341f + shifter;
  const float er = exp_reduced(c, kf - shifter);
  const float scale = std::bit_cast<float>((std::bit_cast<uint32_t>(kf) + (127u + 24u)) << 23);  // 2^(k+24)
  return (er * scale) * 5.9604644775390625e-8f;  // · 2^-24
}

// log x. x = 2^e · m with m in [√½, √2), so log x = e·ln2 + log(1 + f), f = m - 1 in [-0.29, 0.41].
inline float log_f32(float x) {
  constexpr float inf = std::numeric_limits<float>::infinity();
  // A denormal x has no implicit leading 1 bit: scale it into the normal range first (by 2^23).
  const bool tiny = x < 1.17549435e-38f;
  const float xn = tiny ? x * 8388608.0f : x;
  const int32_t bits = std::bit_cast<int32_t>(xn);
  // Exponent field minus the bias, for m in [0.5, 1): the mantissa bits with the exponent of 0.5.
  int32_t e = ((bits >> 23) & 0xff) - 126 - (tiny ? 23 : 0);
  float m = std::bit_cast<float>((bits & 0x007fffff) | 0x3f000000);
  // Move m from [0.5, √½) up to [1, √2) so that f = m - 1 is small on both sides of 0.
  const bool low = m < 0.707106781186547524f;
  e = low ? e - 1 : e;
  m = low ? m + m : m;
  const float f = m - 1.0f;
  // log(1 + f) = f - f²/2 + f³·P(f) (Cephes logf). The small terms are summed first, f last:
  // f is exact, so the one rounding of the final sum dominates the error.
  const float z = f * f;
  float p = 7.0376836292e-2f;
  p = p * f - 1.1514610310e-1f;
  p = p * f + 1.1676998740e-1f;
  p = p * f - 1.2420140846e-1f;
  p = p * f + 1.4249322787e-1f;
  p = p * f - 1.6668057665e-1f;
  p = p * f + 2.0000714765e-1f;
  p = p * f - 2.4999993993e-1f;
  p = p * f + 3.3333331174e-1f;
  // e·ln2 is split as in exp: the small part C2 joins the small terms, the exact C1 comes last.
  const float fe = static_cast<float>(e);
  float y = p * f * z + fe * -2.12194440e-4f;
  y = y - 0.5f * z;
  y = f + y;
  y = y + fe * 0.693359375f;
  // The special cases, as selects: log(+inf) = inf, log(±0) = -inf, log(x < 0) = NaN, NaN stays.
  y = x == inf ? inf : y;
  y = x == 0.0f ? -inf : y;
  y = x < 0.0f ? std::numeric_limits<float>::quiet_NaN() : y;
  return x != x ? x : y;
}

// tanh x. tanh is odd, so compute t = tanh|x| and give it x's sign at the end (copysign, a bit
// operation, which also keeps tanh(-0) = -0). Two pieces chosen by |x|, both computed and one
// selected (a select, not a branch):
//  - |x| < 0.625: tanh a = a + a³·P(a²) (Cephes tanhf), exact at 0 and for denormals (a³ -> 0);
//  - otherwise tanh a = 1 - 2 / (e^{2a} + 1), which saturates by itself: e^{2a} grows to inf and
//    2 / inf = 0, so tanh = ±1 exactly with no NaN. (Near 0 this form would cancel 1 - ~1 and
//    lose bits; that is why the polynomial takes over there.)
inline float tanh_f32(float x) {
  const float a = std::fabs(x);
  const float big = 1.0f - 2.0f / (exp_f32(a + a) + 1.0f);
  const float z = a * a;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const float small = p * z * a + a;
  return std::copysign(a < 0.625f ? small : big, x);  // NaN propagates through `big`
}

// sigmoid x = 1 / (1 + e^-x). With e = e^{-|x|} <= 1, that is 1 / (1 + e) for x >= 0 and
// e / (1 + e) for x < 0: one exp that never overflows, and the far tails come out right — 1 for
// large x, and e^x itself (down into the denormals, then 0) for very negative x.
// The denominator d = 1 + e rounds by up to half an ulp of d, which can be a whole ulp of the
// result (their binades need not line up); but what it dropped, t = e - (d - 1), is exact
// (Fast2Sum again), so we divide by d and then correct: n / (d + t) ≈ q - q·t/d with q = n / d.
// The correction is tiny, so a rough 1/d will do, and we have one without a second division:
// q itself for x >= 0 (q = 1 / d), and 1 - q for x < 0 (1 - e / d = 1 / d, up to t) — that is,
// whichever of q and 1 - q is larger. (Written as a max rather than a second `x < 0 ? :`, which
// GCC would merge with the first into an if-else and then compute both divisions, e / d and 1 / d.)
// sigmoid_from_exp is the part after the exp, for loops that compute e = e^{-|x|} first (see
// core/ops/unary.cpp's sigmoid_loop).
inline float sigmoid_from_exp(float x, float e) {
  const float d = 1.0f + e;
  const float t = e - (d - 1.0f);
  const float q = (x < 0.0f ? e : 1.0f) / d;
  return q - q * t * std::max(q, 1.0f - q);  // NaN propagates through e
}
inline float sigmoid_f32(float x) { return sigmoid_from_exp(x, exp_nonpositive_f32(-std::fabs(x))); }

}  // namespace tandem::math
