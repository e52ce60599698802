// core/ops/math.h — the per-element math of every elementwise op, written once.
//
// Each op's math is a tiny function object (a "functor"): `Mul{}(a, b)` is a * b. The CPU kernels
// in binary.cpp / unary.cpp loop over tensors and call these functors; the CUDA kernels (cuda/)
// call the very same functors on the GPU — that is what TANDEM_HD (`__host__ __device__` under
// nvcc, nothing under a plain C++ compiler) is for. So the CPU tests also test the GPU's math —
// all but the float32 exp, log, tanh and sigmoid, which the CPU computes with vector_math.h.
//
// The numerically delicate ones say how they avoid overflow.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "core/ops/vector_math.h"

#if defined(__CUDACC__)
#define TANDEM_HD __host__ __device__
#else
#define TANDEM_HD
#endif

namespace tandem::math {

// ---- integers wrap around ----------------------------------------------------------------------
// int64 arithmetic that overflows wraps around modulo 2^64, as PyTorch's does: 2^62 * 4 is 0, and
// 2^63 - 1 + 1 is -2^63. C++ leaves a signed overflow *undefined* (the compiler may assume it never
// happens and the sanitizer reports it), so the integer cases compute in the unsigned type, where
// wrapping is the defined rule, and convert back (two's complement: the bits PyTorch gets). The
// instructions are the same; only the promise to the compiler changes.
template <typename T> inline constexpr bool wraps = std::is_integral_v<T> && std::is_signed_v<T>;
template <typename T> TANDEM_HD T wrap_add(T a, T b) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(a) + static_cast<U>(b));
}
template <typename T> TANDEM_HD T wrap_sub(T a, T b) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(a) - static_cast<U>(b));
}
template <typename T> TANDEM_HD T wrap_mul(T a, T b) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
}

// ---- binary ---------------------------------------------------------------------------------
// On bool tensors, + is logical or and * is logical and (as in PyTorch).
struct Add {
  template <typename T> TANDEM_HD T operator()(T a, T b) const {
    if constexpr (std::is_same_v<T, bool>) return a || b;
    else if constexpr (wraps<T>) return wrap_add(a, b);
    else return a + b;
  }
};
struct Sub {
  template <typename T> TANDEM_HD T operator()(T a, T b) const {
    if constexpr (wraps<T>) return wrap_sub(a, b);
    else return a - b;
  }
};
struct Mul {
  template <typename T> TANDEM_HD T operator()(T a, T b) const {
    if constexpr (std::is_same_v<T, bool>) return a && b;
    else if constexpr (wraps<T>) return wrap_mul(a, b);
    else return a * b;
  }
};
struct Div { template <typename T> TANDEM_HD T operator()(T a, T b) const { return a / b; } };
struct Pow {
  template <typename T> TANDEM_HD T operator()(T a, T b) const {
    if constexpr (std::is_same_v<T, bool>) {
      return a || !b;  // x^0 = 1, 1^1 = 1, 0^1 = 0
    } else if constexpr (std::is_integral_v<T>) {  // exact integer power by repeated squaring
      if (b < 0) return a == 1 ? 1 : (a == -1 ? (b % 2 ? -1 : 1) : 0);
      T result = 1;
      for (; b > 0; b >>= 1, a = wrap_mul(a, a))
        if (b & 1) result = wrap_mul(result, a);
      return result;
    } else {
      return std::pow(a, b);
    }
  }
};
// maximum/minimum propagate NaN, as PyTorch's do (std::max would silently drop it).
struct Maximum {
  template <typename T> TANDEM_HD T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) if (a != a || b != b) return a + b;
    return a > b ? a : b;
  }
};
struct Minimum {
  template <typename T> TANDEM_HD T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) if (a != a || b != b) return a + b;
    return a < b ? a : b;
  }
};
struct Eq { template <typename T> TANDEM_HD bool operator()(T a, T b) const { return a == b; } };
struct Ne { template <typename T> TANDEM_HD bool operator()(T a, T b) const { return a != b; } };
struct Lt { template <typename T> TANDEM_HD bool operator()(T a, T b) const { return a < b; } };
struct Le { template <typename T> TANDEM_HD bool operator()(T a, T b) const { return a <= b; } };
struct Gt { template <typename T> TANDEM_HD bool operator()(T a, T b) const { return a > b; } };
struct Ge { template <typename T> TANDEM_HD bool operator()(T a, T b) const { return a >= b; } };

// ---- unary ----------------------------------------------------------------------------------
struct Neg {
  template <typename T> TANDEM_HD T operator()(T x) const {
    if constexpr (wraps<T>) return wrap_sub(T(0), x);  // -(-2^63) wraps to -2^63, as in PyTorch
    else return -x;
  }
};
// exp, log, tanh and sigmoid of a float32 on the CPU use vector_math.h's versions, which GCC
// can vectorise (std::exp cannot be: see that file). float64 keeps the standard library's, and so
// does the GPU, whose own expf, logf and tanhf are fast already: nvcc compiles these functors
// twice, for the host and for the device, and only the device pass defines __CUDA_ARCH__.
#if defined(__CUDA_ARCH__)
inline constexpr bool kVectorMath = false;
#else
inline constexpr bool kVectorMath = true;
#endif
template <typename T>
inline constexpr bool use_vector_math = kVectorMath && std::is_same_v<T, float>;

struct Exp {
  template <typename T> TANDEM_HD T operator()(T x) const {
    if constexpr (use_vector_math<T>) return exp_f32(x);
    else return std::exp(x);
  }
};
// e^x where x <= 0 is known (softmax's x - max): the same values as Exp's, computed with less work
// (vector_math.h's exp_nonpositive_f32).
struct ExpNonPositive {
  template <typename T> TANDEM_HD T operator()(T x) const {
    if constexpr (use_vector_math<T>) return exp_nonpositive_f32(x);
    else return std::exp(x);
  }
};
struct Log {
  template <typename T> TANDEM_HD T operator()(T x) const {
    if constexpr (use_vector_math<T>) return log_f32(x);
    else return std::log(x);
  }
};
struct Sqrt { template <typename T> TANDEM_HD T operator()(T x) const { return std::sqrt(x); } };
struct Abs {
  template <typename T> TANDEM_HD T operator()(T x) const {
    if constexpr (wraps<T>) return x < T(0) ? wrap_sub(T(0), x) : x;  // |-2^63| wraps to -2^63
    else return x < T(0) ? -x : x;
  }
};
struct Sin { template <typename T> TANDEM_HD T operator()(T x) const { return std::sin(x); } };
struct Cos { template <typename T> TANDEM_HD T operator()(T x) const { return std::cos(x); } };
struct Tanh {
  template <typename T> TANDEM_HD T operator()(T x) const {
    if constexpr (use_vector_math<T>) return tanh_f32(x);
    else return std::tanh(x);
  }
};
// sigmoid(x) = 1 / (1 + e^-x). For very negative x, e^-x overflows to inf: the result 0 is still
// right, but we take the symmetric form e^x / (1 + e^x) there so no inf ever appears (sigmoid_f32
// does the same, without a branch).
struct Sigmoid {
  template <typename T> TANDEM_HD T operator()(T x) const {
    if constexpr (use_vector_math<T>) {
      return sigmoid_f32(x);
    } else {
      if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
      const T e = std::exp(x);
      return e / (T(1) + e);
    }
  }
};
struct Relu {
  template <typename T> TANDEM_HD T operator()(T x) const { return x > T(0) ? x : T(0); }
};
// gelu(x) = x * Φ(x), with Φ the standard normal CDF: Φ(x) = (1 + erf(x / √2)) / 2.
// This is the exact form PyTorch uses by default (not the tanh approximation).
struct Gelu {
  template <typename T> TANDEM_HD T operator()(T x) const {
    return x * T(0.5) * (T(1) + std::erf(x * T(0.70710678118654752440)));
  }
};

// erf(x) = 2/√π ∫₀ˣ e^(-t²) dt, the error function (torch.erf): Φ(x) = (1 + erf(x/√2)) / 2 is the
// normal distribution's CDF, which GELU needs.
struct Erf { template <typename T> TANDEM_HD T operator()(T x) const { return std::erf(x); } };

struct Sign {
  template <typename T> TANDEM_HD T operator()(T x) const {
    if constexpr (std::is_same_v<T, bool>) return x;
    else return static_cast<T>((T(0) < x) - (x < T(0)));
  }
};

// ---- backward of the activations ------------------------------------------------------------
// Each takes the incoming gradient g and one saved value, and returns g times the derivative.
// Written as their own ops (like TF's ReluGrad, SigmoidGrad) so that one loop, not three, runs.

// relu'(x) is 1 where the output y > 0, else 0.
struct ReluBackward {
  template <typename T> TANDEM_HD T operator()(T g, T y) const { return y > T(0) ? g : T(0); }
};
// sigmoid'(x) = y (1 - y), with y = sigmoid(x).
struct SigmoidBackward {
  template <typename T> TANDEM_HD T operator()(T g, T y) const { return g * y * (T(1) - y); }
};
// tanh'(x) = 1 - y², with y = tanh(x).
struct TanhBackward {
  template <typename T> TANDEM_HD T operator()(T g, T y) const { return g * (T(1) - y * y); }
};
// gelu'(x) = Φ(x) + x φ(x), with φ(x) = e^(-x²/2) / √(2π) the normal density.
struct GeluBackward {
  template <typename T> TANDEM_HD T operator()(T g, T x) const {
    const T cdf = T(0.5) * (T(1) + std::erf(x * T(0.70710678118654752440)));
    const T pdf = std::exp(T(-0.5) * x * x) * T(0.39894228040143267794);
    return g * (cdf + x * pdf);
  }
};

}  // namespace tandem::math
