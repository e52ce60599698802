// tests/test_vector_math.cpp — how accurate are the vectorised float32 exp, log, tanh and sigmoid
// (core/ops/vector_math.h)? Measured in ulps against double precision, through the tensor ops, so
// the loop that is checked is the one that runs: the `omp simd` loop of core/ops/unary.cpp.
//
// An ulp ("unit in the last place") is the gap between adjacent floats around the true value y:
// 2^(e - 23) for y in [2^e, 2^(e+1)), and 2^-149 (the smallest denormal) below 2^-126. A correctly
// rounded result is within 0.5 ulp; libm's float functions are within about 1. The double result of
// std::exp is exact to 2^-53 relative, far finer than a float ulp, so it serves as the truth.
//
// The inputs: (1) every 127th bit pattern of all 2^32 floats, which visits every binade — tiny,
// huge, denormal, negative, inf and NaN — about equally; (2) a million uniform values over the
// range where each function is not yet saturated; (3) the edge values, checked one by one.
#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <vector>

#include "core/factories.h"
#include "core/ops.h"
#include "core/ops/vector_math.h"

using namespace tandem;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// |got - want| in ulps of `want`. NaN must give NaN, and a `want` beyond float's range must give
// exactly the inf it rounds to; either failure counts as an infinite error.
double ulp_error(float got, double want) {
  if (std::isnan(want)) return std::isnan(got) ? 0.0 : kInf;
  if (std::isinf(static_cast<float>(want)) || std::isinf(got))
    return got == static_cast<float>(want) ? 0.0 : kInf;
  const int e = want == 0.0 ? -126 : std::max(std::ilogb(want), -126);
  return std::fabs(static_cast<double>(got) - want) / std::ldexp(1.0, e - 23);
}

struct Worst {
  double ulps = 0;
  float x = 0;
};

// The largest error of `op` (a tensor op) against `truth` (its double-precision twin) over xs.
Worst measure(const std::function<Tensor(const Tensor&)>& op,
              const std::function<double(double)>& truth, const std::vector<float>& xs) {
  const std::vector<float> ys =
      op(from_vector(xs, {static_cast<int64_t>(xs.size())})).to_vector<float>();
  Worst w;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double err = ulp_error(ys[i], truth(xs[i]));
    if (err > w.ulps) w = {err, xs[i]};
  }
  return w;
}

// Every `stride`-th float bit pattern, in chunks of 2^22 values (one tensor each).
Worst sweep_bit_patterns(const std::function<Tensor(const Tensor&)>& op,
                         const std::function<double(double)>& truth, uint64_t stride) {
  Worst w;
  std::vector<float> xs;
  for (uint64_t bits = 0; bits < (uint64_t{1} << 32); bits += stride) {
    xs.push_back(std::bit_cast<float>(static_cast<uint32_t>(bits)));
    if (xs.size() == (size_t{1} << 22) || bits + stride >= (uint64_t{1} << 32)) {
      const Worst c = measure(op, truth, xs);
      if (c.ulps > w.ulps) w = c;
      xs.clear();
    }
  }
  return w;
}

Worst sweep_uniform(const std::function<Tensor(const Tensor&)>& op,
                    const std::function<double(double)>& truth, float lo, float hi) {
  std::mt19937 gen(20261121);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> xs(1 << 20);
  for (float& x : xs) x = dist(gen);
  return measure(op, truth, xs);
}

double exp_truth(double x) { return std::exp(x); }
double log_truth(double x) { return std::log(x); }
double tanh_truth(double x) { return std::tanh(x); }
double sigmoid_truth(double x) { return 1.0 / (1.0 + std::exp(-x)); }

Tensor exp_op(const Tensor& x) { return exp(x); }
Tensor log_op(const Tensor& x) { return log(x); }
Tensor tanh_op(const Tensor& x) { return tanh(x); }
Tensor sigmoid_op(const Tensor& x) { return sigmoid(x); }

// The one value op(x), through a one-element tensor.
float at(Tensor (*op)(const Tensor&), float x) { return op(tensor({x})).to_vector<float>()[0]; }

// The worst error of op against truth, over every 127th float bit pattern and over 2^20 uniform
// values in [lo, hi] (the function's working range), must stay within `bound` ulps.
void check_accuracy(const std::function<Tensor(const Tensor&)>& op,
                    const std::function<double(double)>& truth, float lo, float hi, double bound) {
#if defined(__SANITIZE_ADDRESS__)
  const uint64_t stride = 1021;  // the sanitizer build checks memory, which a sparser sweep checks as well
#else
  const uint64_t stride = 127;   // 34 million patterns
#endif
  const Worst all = sweep_bit_patterns(op, truth, stride);
  INFO("over the bit patterns, worst at x = " << all.x);
  CHECK(all.ulps <= bound);
  const Worst uniform = sweep_uniform(op, truth, lo, hi);
  INFO("over the uniform values, worst at x = " << uniform.x);
  CHECK(uniform.ulps <= bound);
}

}  // namespace

// The bounds are the measured maxima, rounded up: a change that loses accuracy fails here.
TEST_CASE("vector math: float32 exp within 1 ulp over the whole float range", "[vector_math]") {
  check_accuracy(exp_op, exp_truth, -104.0f, 89.0f, 1.0);
}

TEST_CASE("vector math: float32 log within 1 ulp over the whole float range", "[vector_math]") {
  check_accuracy(log_op, log_truth, 0.0f, 4.0f, 1.0);
}

TEST_CASE("vector math: float32 tanh within 1.5 ulp over the whole float range", "[vector_math]") {
  check_accuracy(tanh_op, tanh_truth, -10.0f, 10.0f, 1.5);
}

TEST_CASE("vector math: float32 sigmoid within 2 ulp over the whole float range", "[vector_math]") {
  check_accuracy(sigmoid_op, sigmoid_truth, -110.0f, 20.0f, 2.0);
}

TEST_CASE("vector math: exp at the edges: NaN, inf, overflow, underflow, denormals",
          "[vector_math]") {
  CHECK(std::isnan(at(exp_op, kNaN)));
  CHECK(at(exp_op, 0.0f) == 1.0f);
  CHECK(at(exp_op, -0.0f) == 1.0f);
  CHECK(at(exp_op, 1e-45f) == 1.0f);  // a denormal input
  CHECK(at(exp_op, kInf) == kInf);
  CHECK(at(exp_op, -kInf) == 0.0f);
  // The largest float is e^88.7228...: just below it the result is finite, just above it is inf.
  CHECK(ulp_error(at(exp_op, 88.72283f), std::exp(double{88.72283f})) <= 1.0);
  CHECK(at(exp_op, 88.7229f) == kInf);
  CHECK(at(exp_op, 89.0f) == kInf);
  CHECK(at(exp_op, 1000.0f) == kInf);
  // Into the denormals (below e^-87.3365 = 2^-126) the result stays exact to half a denormal ulp,
  // then rounds to 0 (below e^-103.97 = 2^-150).
  CHECK(ulp_error(at(exp_op, -87.5f), std::exp(-87.5)) <= 1.0);
  CHECK(ulp_error(at(exp_op, -100.0f), std::exp(-100.0)) <= 0.5);
  CHECK(at(exp_op, -103.3f) == std::bit_cast<float>(1u));  // e^-103.3 ≈ 2^-149, the smallest
  CHECK(at(exp_op, -104.0f) == 0.0f);
  CHECK(at(exp_op, -1000.0f) == 0.0f);
}

TEST_CASE("vector math: log at the edges: 0, negatives, inf, NaN, denormals", "[vector_math]") {
  CHECK(at(log_op, 0.0f) == -kInf);
  CHECK(at(log_op, -0.0f) == -kInf);
  CHECK(std::isnan(at(log_op, -1.0f)));
  CHECK(std::isnan(at(log_op, -1e-45f)));
  CHECK(std::isnan(at(log_op, -kInf)));
  CHECK(std::isnan(at(log_op, kNaN)));
  CHECK(at(log_op, kInf) == kInf);
  CHECK(at(log_op, 1.0f) == 0.0f);
  const float smallest = std::bit_cast<float>(1u), largest = std::numeric_limits<float>::max();
  CHECK(ulp_error(at(log_op, smallest), std::log(double{smallest})) <= 1.0);
  CHECK(ulp_error(at(log_op, 1e-40f), std::log(double{1e-40f})) <= 1.0);
  CHECK(ulp_error(at(log_op, largest), std::log(double{largest})) <= 1.0);
}

TEST_CASE("vector math: tanh at the edges: signed zeros, saturation, inf, NaN", "[vector_math]") {
  CHECK(at(tanh_op, 0.0f) == 0.0f);
  CHECK(std::signbit(at(tanh_op, -0.0f)));  // tanh(-0) = -0, as in libm and PyTorch
  CHECK(at(tanh_op, 1e-40f) == 1e-40f);     // tanh x = x for tiny x, denormals included
  CHECK(at(tanh_op, 10.0f) == 1.0f);
  CHECK(at(tanh_op, -10.0f) == -1.0f);
  CHECK(at(tanh_op, 100.0f) == 1.0f);
  CHECK(at(tanh_op, kInf) == 1.0f);
  CHECK(at(tanh_op, -kInf) == -1.0f);
  CHECK(std::isnan(at(tanh_op, kNaN)));
  // Either side of the switch between the polynomial and 1 - 2 / (e^2x + 1).
  CHECK(ulp_error(at(tanh_op, 0.6249999f), std::tanh(double{0.6249999f})) <= 1.5);
  CHECK(ulp_error(at(tanh_op, 0.625f), std::tanh(0.625)) <= 1.5);
}

TEST_CASE("vector math: sigmoid at the edges: far tails without NaN", "[vector_math]") {
  CHECK(at(sigmoid_op, 0.0f) == 0.5f);
  CHECK(at(sigmoid_op, -0.0f) == 0.5f);
  CHECK(at(sigmoid_op, 20.0f) == 1.0f);
  CHECK(at(sigmoid_op, 100.0f) == 1.0f);
  CHECK(at(sigmoid_op, kInf) == 1.0f);
  CHECK(at(sigmoid_op, -kInf) == 0.0f);
  CHECK(std::isnan(at(sigmoid_op, kNaN)));
  // Where e^-x would overflow, sigmoid(x) = e^x: tiny, then denormal, then 0 — never NaN.
  CHECK(ulp_error(at(sigmoid_op, -88.8f), sigmoid_truth(double{-88.8f})) <= 1.0);
  CHECK(ulp_error(at(sigmoid_op, -100.0f), sigmoid_truth(-100.0)) <= 1.0);
  CHECK(at(sigmoid_op, -200.0f) == 0.0f);
}

TEST_CASE("vector math: exp of a nonpositive float has exp_f32's bits, with less work",
          "[vector_math]") {
  // exp_nonpositive_f32 serves softmax and sigmoid, whose exponents are <= 0. It must agree with
  // exp_f32 to the bit there: over every 61st pattern with the sign bit set (35 million, from -0
  // down to -inf and the negative NaNs), every float in [-105, -86] (the clamp at -104 and the
  // denormal results), and +0.
  auto same = [](float x) {
    const float a = math::exp_f32(x), b = math::exp_nonpositive_f32(x);
    return std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b) || (std::isnan(a) && std::isnan(b));
  };
  int64_t checked = 0, differ = 0;
  float first = 0;
  auto check = [&](float x) {
    ++checked;
    if (!same(x) && differ++ == 0) first = x;
  };
#if defined(__SANITIZE_ADDRESS__)
  const uint64_t stride = 1021;  // the sanitizer build checks memory, which a sparser sweep checks as well
#else
  const uint64_t stride = 61;
#endif
  for (uint64_t b = 0x80000000u; b <= 0xffffffffu; b += stride) check(std::bit_cast<float>(static_cast<uint32_t>(b)));
  for (float x = -105.0f; x <= -86.0f; x = std::nextafter(x, 0.0f)) check(x);
  check(0.0f);
  INFO(differ << " of " << checked << " differ, the first at x = " << first);
  CHECK(differ == 0);
  CHECK(checked > static_cast<int64_t>(0x80000000u / stride) + 2400000);
  CHECK(std::isnan(math::exp_nonpositive_f32(-std::numeric_limits<float>::quiet_NaN())));
  CHECK(math::exp_nonpositive_f32(-std::numeric_limits<float>::infinity()) == 0.0f);
  CHECK(math::exp_nonpositive_f32(-0.0f) == 1.0f);
}

TEST_CASE("vector math: float64 keeps the standard library's functions", "[vector_math]") {
  const std::vector<double> xs = {-745.2, -3.5, -1e-300, 0.0, 0.7, 2.0, 40.0, 709.7};
  const Tensor x = from_vector(xs, {static_cast<int64_t>(xs.size())});
  const std::vector<double> e = exp(x).to_vector<double>(), t = tanh(x).to_vector<double>();
  for (size_t i = 0; i < xs.size(); ++i) {
    CHECK(e[i] == std::exp(xs[i]));
    CHECK(t[i] == std::tanh(xs[i]));
  }
}

TEST_CASE("vector math: the scalar functions agree with the tensor ops bit for bit",
          "[vector_math]") {
  // The same code runs scalar (here) and 8 lanes at a time (in the ops): same operations, same
  // roundings, same bits.
  std::vector<float> xs;
  for (float v = -120.0f; v <= 120.0f; v += 0.37f) xs.push_back(v);
  const Tensor x = from_vector(xs, {static_cast<int64_t>(xs.size())});
  const std::vector<float> e = exp(x).to_vector<float>(), t = tanh(x).to_vector<float>(),
                           s = sigmoid(x).to_vector<float>(), l = log(abs(x)).to_vector<float>();
  for (size_t i = 0; i < xs.size(); ++i) {
    INFO("x = " << xs[i]);
    CHECK(e[i] == math::exp_f32(xs[i]));
    CHECK(t[i] == math::tanh_f32(xs[i]));
    CHECK(s[i] == math::sigmoid_f32(xs[i]));
    CHECK(l[i] == math::log_f32(std::fabs(xs[i])));
  }
}

TEST_CASE("vector math: float32 log_softmax within 2 ulp of double precision, rows of 10 to 4096",
          "[vector_math]") {
  // log_softmax(x)_i = (x_i - m) - log Σ_j e^(x_j - m), its sum taken in double lanes
  // (core/ops/softmax.cpp). The truth: the same formula in double precision, from the same float
  // inputs. Where one term dominates, s is close to 1 and an output close to 0: a sum in float,
  // whose rounding is 6e-8 near 1, would be several ulps off there (tried: 6.2 ulp at y = -0.14).
  // Wide rows of equal values (the sum is n, every term 1) are the other hard case for a sum.
  std::mt19937 gen(20261205);
  std::normal_distribution<float> normal(0.0f, 4.0f);
  double worst = 0;
  for (const int64_t n : {10, 127, 128, 1000, 4096}) {
    for (const bool equal : {false, true}) {
      std::vector<float> xs(static_cast<size_t>(3 * n));
      for (float& v : xs) v = equal ? 0.25f : normal(gen);
      const std::vector<float> ys = log_softmax(from_vector(xs, {3, n}), 1).to_vector<float>();
      for (int64_t r = 0; r < 3; ++r) {
        const float* x = xs.data() + r * n;
        const double m = *std::max_element(x, x + n);
        double s = 0;
        for (int64_t i = 0; i < n; ++i) s += std::exp(double{x[i]} - m);
        for (int64_t i = 0; i < n; ++i) {
          const double err = ulp_error(ys[static_cast<size_t>(r * n + i)], (double{x[i]} - m) - std::log(s));
          worst = std::max(worst, err);
        }
      }
    }
  }
  INFO("worst error " << worst << " ulp");
  CHECK(worst <= 2.0);
}
