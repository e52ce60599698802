// tests/test_gradcheck.cpp — every rule of the derivative sheet, checked by finite differences.
//
// The table below holds at least one gradcheck case per differentiable op; a test walks
// autograd::derivative_sheet() and fails for any op without one, so a rule cannot be added
// without being checked. Each case is run by gradcheck (first derivatives) and, unless it says
// why not, by gradgradcheck (the derivative of the backward pass, through create_graph). The cases
// are written once for both modes (tests/two_modes.h): tests/test_unknown_dims.cpp runs the same
// table through graph mode's gradients(), with known and with unknown dims.
//
// Inputs are float64, small, and chosen away from the points where the op is not differentiable
// (relu and abs at 0, log and sqrt at x <= 0, ties of max unless a case tests the tie rule). They
// exercise broadcasting ([3,1] with [1,4], [2,3] with [3]) and non-contiguous memory (transposed
// views, slices with a step), which gradcheck perturbs through the strides.
//
// The first test cases show gradcheck itself at work: what it catches and what it refuses.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <set>

#include "autograd/derivatives.h"
#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/gradcheck.h"
#include "tandem.h"
#include "tests/two_modes.h"

using namespace tandem;
using autograd::gradcheck;
using autograd::GradcheckOptions;
using autograd::gradgradcheck;
using Inputs = std::vector<Tensor>;

// ---- gradcheck on its own ---------------------------------------------------------------------

TEST_CASE("gradcheck passes a correct derivative, with broadcasting and several outputs",
          "[gradcheck]") {
  Tensor a = tensor({{0.5}, {-1.0}, {2.0}}, kFloat64).requires_grad_();   // [3, 1]
  Tensor b = tensor({{0.3, -0.7, 1.1, 0.2}}, kFloat64).requires_grad_();  // [1, 4]
  auto f = [](const Inputs& x) { return x[0] * exp(x[1]); };
  const auto r = gradcheck(f, {a, b});
  INFO(r.message);
  CHECK(r.ok);
  CHECK(r.message.empty());
  // Several outputs: each is checked against each input.
  autograd::GradcheckFunctionN g = [](const Inputs& x) { return Inputs{sin(x[0]), x[0] * x[1]}; };
  CHECK(gradcheck(g, {a, b}));
}

TEST_CASE("the diamond through gradcheck: b = a + a, c = b + b", "[gradcheck]") {
  Tensor a = tensor({1.5, -2.0}, kFloat64).requires_grad_();
  auto diamond = [](const Inputs& x) {
    Tensor b = x[0] + x[0];
    return b + b;  // dc/da = 4 on the diagonal
  };
  CHECK(gradcheck(diamond, {a}));
  // With a nonlinearity on one path: y = x² + x³, dy/dx = 2x + 3x².
  auto curved = [](const Inputs& x) {
    Tensor sq = x[0] * x[0];
    return sq + sq * x[0];
  };
  CHECK(gradcheck(curved, {a}));
  CHECK(gradgradcheck(curved, {a}));
}

TEST_CASE("gradcheck catches a backward pass that never reaches an input (the all-zero check)",
          "[gradcheck]") {
  // detach() cuts the tape: the numerical derivative of 2x is 2, the analytical one is 0.
  Tensor x = tensor({1.0, -2.0, 0.5}, kFloat64).requires_grad_();
  auto cut = [](const Inputs& v) { return v[0].detach() * 2.0; };
  const auto r = gradcheck(cut, {x});
  CHECK_FALSE(r.ok);
  CHECK(r.output == 0);
  CHECK(r.input == 0);
  CHECK(r.numerical == Approx(2.0).epsilon(1e-8));
  CHECK(r.analytical == 0.0);
  CHECK_THAT(r.message, Catch::Contains("Jacobian mismatch for output 0 with respect to input 0") &&
                            Catch::Contains("all zeros") && Catch::Contains("detach()"));
  // The same when the detached value is one operand among others.
  Tensor a = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  auto half_cut = [](const Inputs& v) { return v[0] + v[1].detach() * v[0]; };
  const auto r2 = gradcheck(half_cut, {a, x.slice(0, 0, 2)});
  CHECK_FALSE(r2.ok);
  CHECK(r2.input == 1);
  CHECK_THAT(r2.message,
             Catch::Contains("with respect to input 1") && Catch::Contains("all zeros"));
}

TEST_CASE("gradcheck names the input, the element and both values of a wrong derivative",
          "[gradcheck]") {
  // d/db (a * b) = a, but a detach() on one of the two uses of b loses half of d/db (b * b) = 2b:
  // at b[1] = 3 the numerical derivative is 6, the analytical one 3.
  Tensor a = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  Tensor b = tensor({{-1.0, 3.0}}, kFloat64).requires_grad_();  // [1, 2]
  autograd::GradcheckFunctionN f = [](const Inputs& v) {
    return Inputs{v[0] * 2.0, v[0] + v[1] * v[1].detach()};
  };
  const auto r = gradcheck(f, {a, b});
  REQUIRE_FALSE(r.ok);
  CHECK(r.output == 1);
  CHECK(r.input == 1);
  CHECK(r.input_element == 0);  // b[0, 0] = -1: numerical -2, analytical -1
  CHECK(r.output_element == 0);
  CHECK(r.numerical == Approx(-2.0).epsilon(1e-8));
  CHECK(r.analytical == -1.0);
  CHECK_THAT(r.message, Catch::Contains("Jacobian mismatch for output 1 with respect to input 1") &&
                            Catch::Contains("input element [0, 0]") &&
                            Catch::Contains("numerical -") && Catch::Contains("analytical -1 ") &&
                            Catch::Contains("2 of 4 entries differ"));
  // raise_exception turns the result into an Error carrying the same message.
  GradcheckOptions raise;
  raise.raise_exception = true;
  CHECK_THROWS_WITH(gradcheck(f, {a, b}, raise), Catch::Contains("Jacobian mismatch for output 1"));
}

TEST_CASE("gradcheck refuses float32, unchecked or overlapping inputs", "[gradcheck]") {
  auto square = [](const Inputs& v) { return v[0] * v[0]; };
  Tensor x32 = tensor({1.0f, 2.0f}).requires_grad_();
  CHECK_THROWS_AS(gradcheck(square, {x32}), DTypeError);
  CHECK_THROWS_WITH(gradcheck(square, {x32}),
                    Catch::Contains("input 0 is float32") && Catch::Contains("float64"));
  // Nothing requires grad: nothing to check.
  CHECK_THROWS_WITH(gradcheck(square, {tensor({1.0, 2.0}, kFloat64)}),
                    Catch::Contains("no input requires grad"));
  // An expanded view: one stored value stands for several elements.
  Tensor e = tensor({1.0}, kFloat64).expand({3}).requires_grad_();
  CHECK_THROWS_WITH(gradcheck(square, {e}), Catch::Contains("overlapping memory"));
  // The same tensor twice: perturbing input 0 would also move input 1.
  Tensor y = tensor({1.0, 2.0, 3.0}, kFloat64).requires_grad_();
  auto product = [](const Inputs& v) { return v[0] * v[1]; };
  CHECK_THROWS_WITH(gradcheck(product, {y, y}), Catch::Contains("input 1 shares memory"));
  CHECK(gradcheck(product, {y.slice(0, 0, 1), y.slice(0, 1, 3)}));  // disjoint views are fine
  // A float32 output would make the numerical side meaningless too.
  Tensor x = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  CHECK_THROWS_WITH(gradcheck([](const Inputs& v) { return to(v[0], kFloat32); }, {x}),
                    Catch::Contains("output 0") && Catch::Contains("float32"));
}

TEST_CASE(
    "gradcheck perturbs non-contiguous inputs through their strides and restores them exactly",
    "[gradcheck]") {
  Tensor base =
      tensor({{0.1, 0.2, 0.3, 0.4}, {0.5, 0.6, 0.7, 0.8}, {0.9, 1.0, 1.1, 1.2}}, kFloat64);
  const std::vector<double> before = base.to_vector<double>();
  // x = base[:, ::2].T: shape [2, 3], strides {2, 4}; x[i][j] = base[j][2i].
  Tensor x = base.slice(1, 0, 4, 2).t().requires_grad_();
  REQUIRE_FALSE(x.is_contiguous());
  Tensor w = tensor({{1.0, -2.0, 0.5}, {3.0, 0.25, -1.0}}, kFloat64);  // not checked: a constant
  auto f = [](const Inputs& v) { return sum(v[0] * v[0] * v[1], {1}); };
  CHECK(gradcheck(f, {x, w}));
  const std::vector<double> after = base.to_vector<double>();
  CHECK(std::memcmp(before.data(), after.data(), before.size() * sizeof(double)) ==
        0);                         // bit for bit
  CHECK_FALSE(x.grad().defined());  // the caller's tensors get no .grad
  // A caller inside no_grad still gets a real check: the analytical side turns recording on.
  no_grad guard;
  CHECK(gradcheck(f, {x, w}));
  CHECK_FALSE(gradcheck([](const Inputs& v) { return v[0].detach() * v[1]; }, {x, w}));
}

TEST_CASE("require_nonzero fails a check that cannot fail", "[gradcheck]") {
  Tensor x = tensor({0.5, -1.5}, kFloat64).requires_grad_();
  auto flat = [](const Inputs& v) { return sign(v[0]); };  // derivative 0 everywhere here
  CHECK(gradcheck(flat, {x}));                             // correct, but proves nothing
  GradcheckOptions strict;
  strict.require_nonzero = true;
  const auto r = gradcheck(flat, {x}, strict);
  CHECK_FALSE(r.ok);
  CHECK_THAT(r.message, Catch::Contains("every numerical derivative is zero"));
}

TEST_CASE("gradgradcheck checks second derivatives through create_graph", "[gradcheck]") {
  Tensor x = tensor({{0.3, -1.2, 0.8}}, kFloat64).requires_grad_();
  CHECK(gradgradcheck([](const Inputs& v) { return tanh(v[0]); }, {x}));
  CHECK(gradgradcheck([](const Inputs& v) { return log_softmax(v[0], 1); }, {x}));
  // Given output gradients are used as they are (one per output, same shape).
  Tensor v = tensor({{1.0, 2.0, -1.0}}, kFloat64);
  CHECK(gradgradcheck([](const Inputs& in) { return sigmoid(in[0]) * in[0]; }, {x}, {v}));
  CHECK_THROWS_AS(
      gradgradcheck([](const Inputs& in) { return tanh(in[0]); }, {x}, {tensor({1.0}, kFloat64)}),
      ShapeError);
  // A first derivative can be right while its own derivative is not. Here y = c³ + 3c²·(x - c)
  // with c = x.detach(): the value is x³ and backward gives 3c²·v = 3x²·v, so gradcheck passes; but
  // that gradient was computed from the detached c, so it does not depend on x on the tape, and
  // the second derivative (6x·v) comes out as 0.
  auto straight_through = [](const Inputs& in) {
    const Tensor c = in[0].detach();
    return c * c * c + c * c * 3.0 * (in[0] - c);
  };
  CHECK(gradcheck(straight_through, {x}));
  const auto r = gradgradcheck(straight_through, {x});
  CHECK_FALSE(r.ok);
  CHECK(r.input == 0);  // the input x, not the output gradient v (input 1 of the check)
  CHECK_THAT(r.message, Catch::Contains("all zeros"));
}

// ---- the table: one or more cases per op of the derivative sheet --------------------------------

namespace {

using Case = GradcheckCase;  // (tests/two_modes.h)

// Inputs. All float64 and marked requires_grad, so gradcheck checks them.
Tensor leaf(Tensor t) {
  t.requires_grad_();
  return t;
}
Tensor rn(const Shape& s) { return leaf(randn(s, kFloat64)); }
// Values with |x| in [0.2, 2): away from the kinks of relu, abs and sign at 0.
Tensor away(const Shape& s) {
  const Tensor x = randn(s, kFloat64);
  return leaf(x + sign(x) * 0.2);
}
// Values in [0.5, 1.5): safe for log, sqrt, division and the base of pow.
Tensor pos(const Shape& s) { return leaf(rand(s, kFloat64) + 0.5); }
// A non-contiguous [r, c] matrix: the transpose of a [c, r] one.
Tensor rn_t(int64_t r, int64_t c) { return leaf(randn({c, r}, kFloat64).t()); }
// A non-contiguous tensor whose last dim has stride 2: every other column of a wider one.
Tensor rn_step(Shape s) {
  const int64_t last = static_cast<int64_t>(s.size()) - 1, n = s.back();
  s.back() = 2 * n;
  return leaf(randn(s, kFloat64).slice(last, 0, 2 * n, 2));
}
// Index tensors are int64 and never require grad.
Tensor idx(std::initializer_list<int64_t> v) {
  return from_vector<int64_t>(v, {static_cast<int64_t>(v.size())});
}

Attrs reduce_dims(std::vector<int64_t> dims, bool keepdim) {
  Attrs a;
  a.dims = std::move(dims);
  a.keepdim = keepdim;
  return a;
}

}  // namespace

// The cases, written with generic lambdas so that graph mode can run them too (tests/two_modes.h).
const std::vector<GradcheckCase>& tandem::gradcheck_cases() {
  // One case per entry, laid out by hand.
  // clang-format off
  static const std::vector<Case> table = [] {
    manual_seed(7);
    std::vector<Case> t;

    // ---- elementwise binary ----
    t.push_back({"add", "[3,1] + [1,4]",
                 [](const auto& x) { return x[0] + x[1]; }, {rn({3, 1}), rn({1, 4})}});
    t.push_back({"add", "transposed [2,3] + strided [3]",
                 [](const auto& x) { return x[0] + x[1]; }, {rn_t(2, 3), rn_step({3})}});
    t.push_back({"sub", "[2,3] - [3]",
                 [](const auto& x) { return x[0] - x[1]; }, {rn({2, 3}), rn({3})}});
    t.push_back({"sub", "[3,1] - transposed [3,4]",
                 [](const auto& x) { return x[0] - x[1]; }, {rn({3, 1}), rn_t(3, 4)}});
    t.push_back({"mul", "[3,1] * [1,4]",
                 [](const auto& x) { return x[0] * x[1]; }, {rn({3, 1}), rn({1, 4})}});
    t.push_back({"mul", "transposed [2,3] * strided [2,3]",
                 [](const auto& x) { return x[0] * x[1]; }, {rn_t(2, 3), rn_step({2, 3})}});
    t.push_back({"div", "[2,3] / [3]",
                 [](const auto& x) { return x[0] / x[1]; }, {rn({2, 3}), pos({3})}});
    t.push_back({"div", "[3,1] / [1,4]",
                 [](const auto& x) { return x[0] / x[1]; }, {rn({3, 1}), pos({1, 4})}});
    t.push_back({"pow", "[3,1] ^ [1,4], both gradients",
                 [](const auto& x) { return pow(x[0], x[1]); }, {pos({3, 1}), rn({1, 4})}});
    t.push_back({"pow", "transposed [2,3] ^ 3 (a scalar exponent)",
                 [](const auto& x) { return pow(x[0], 3.0); }, {rn_t(2, 3)}});
    // No second order here: d/db of b·a^(b-1) at a = 0 is 0·ln 0 = NaN (as in PyTorch).
    t.push_back({"pow", "0 ^ b for b >= 0: both gradients 0 at the base 0, as PyTorch",
                 [](const auto& x) { return pow(x[0], x[1]); },
                 {leaf(tensor({0.0, 1.5, 0.7}, kFloat64)), leaf(tensor({2.0, 0.5, 3.0}, kFloat64))},
                 /*second_order=*/false});
    t.push_back({"maximum", "[3,1] vs [1,4]",
                 [](const auto& x) { return maximum(x[0], x[1]); }, {rn({3, 1}), rn({1, 4})}});
    // At a tie the gradient is split evenly, which is exactly what the central difference measures:
    // max(a + eps, a) - max(a - eps, a) = eps, so the slope is eps / 2eps = 1/2.
    t.push_back({"maximum", "a tie splits the gradient in halves",
                 [](const auto& x) { return maximum(x[0], x[1]); },
                 {leaf(tensor({1.0, 2.0}, kFloat64)), leaf(tensor({1.0, 3.0}, kFloat64))},
                 /*second_order=*/false});  // the first derivative jumps at the tie
    t.push_back({"minimum", "[2,3] vs transposed [2,3]",
                 [](const auto& x) { return minimum(x[0], x[1]); }, {rn({2, 3}), rn_t(2, 3)}});
    t.push_back({"minimum", "a tie splits the gradient in halves",
                 [](const auto& x) { return minimum(x[0], x[1]); },
                 {leaf(tensor({-1.0, 2.0}, kFloat64)), leaf(tensor({-1.0, 0.5}, kFloat64))},
                 false});
    t.push_back({"where", "where([2,3] mask, transposed [2,3], [3])",
                 [](const auto& x) { return where(x[0], x[1], x[2]); },
                 {tensor({{true, false, true}, {false, false, true}}), rn_t(2, 3), rn({3})}});

    // ---- elementwise unary ----
    t.push_back({"neg", "transposed [2,3]",
                 [](const auto& x) { return -x[0]; }, {rn_t(2, 3)}});
    t.push_back({"exp", "[2,3]",
                 [](const auto& x) { return exp(x[0]); }, {rn({2, 3})}});
    t.push_back({"log", "strided [2,3], x > 0",
                 [](const auto& x) { return log(x[0]); },
                 {leaf((rand({2, 6}, kFloat64) + 0.5).slice(1, 0, 6, 2))}});
    t.push_back({"sqrt", "[2,3], x > 0",
                 [](const auto& x) { return sqrt(x[0]); }, {pos({2, 3})}});
    t.push_back({"abs", "transposed [2,3], away from 0",
                 [](const auto& x) { return abs(x[0]); }, {leaf(away({3, 2}).detach().t())}});
    t.push_back({"sin", "[2,3]",
                 [](const auto& x) { return sin(x[0]); }, {rn({2, 3})}});
    t.push_back({"cos", "strided [2,3]",
                 [](const auto& x) { return cos(x[0]); }, {rn_step({2, 3})}});
    t.push_back({"tanh", "[2,3]",
                 [](const auto& x) { return tanh(x[0]); }, {rn({2, 3})}});
    t.push_back({"sigmoid", "transposed [2,3]",
                 [](const auto& x) { return sigmoid(x[0]); }, {rn_t(2, 3)}});
    t.push_back({"relu", "[2,3], away from 0",
                 [](const auto& x) { return relu(x[0]); }, {away({2, 3})}});
    t.push_back({"gelu", "[2,3]",
                 [](const auto& x) { return gelu(x[0]); }, {rn({2, 3})}});
    t.push_back({"erf", "strided [2,3]",
                 [](const auto& x) { return erf(x[0]); }, {rn_step({2, 3})}});
    // sign's derivative is 0, so sign alone would be a vacuous check; x·sign(x) = |x| is not:
    // a wrong sign rule would add x·(its gradient) to the correct sign(x).
    t.push_back({"sign", "x * sign(x), away from 0",
                 [](const auto& x) { return x[0] * sign(x[0]); }, {away({2, 3})}});
    auto cast_to = [](const auto& x, DType d) {
      Attrs a;
      a.dtype = d;
      return call_with(ops::cast, {x}, a);
    };
    t.push_back({"cast", "float64 -> float64",
                 [cast_to](const auto& x) { return cast_to(x[0], kFloat64); }, {rn_t(2, 3)}});
    // Through float32 and back. cast is linear, so the central difference has no truncation error
    // and a large eps is safe; it makes float32's rounding (6e-8·|x|) negligible: 6e-8 / 1e-2.
    t.push_back({"cast", "float64 -> float32 -> float64, eps = 1e-2",
                 [cast_to](const auto& x) { return cast_to(cast_to(x[0], kFloat32), kFloat64); },
                 {rn({2, 3})}, true, 1e-2});
    t.push_back({"clone", "transposed [2,3]",
                 [](const auto& x) { return clone(x[0]); }, {rn_t(2, 3)}});

    // ---- the activation derivatives, differentiable for double backward ----
    t.push_back({"relu_backward", "(g, y), y away from 0",
                 [](const auto& x) { return relu_backward(x[0], x[1]); }, {rn({2, 3}), away({2, 3})}});
    t.push_back({"sigmoid_backward", "(g, y) with y in (0, 1)",
                 [](const auto& x) { return sigmoid_backward(x[0], x[1]); },
                 {rn_t(2, 3), leaf(rand({2, 3}, kFloat64) * 0.8 + 0.1)}});
    t.push_back({"tanh_backward", "(g, y) with y in (-1, 1)",
                 [](const auto& x) { return tanh_backward(x[0], x[1]); },
                 {rn({2, 3}), leaf(rand({2, 3}, kFloat64) * 1.6 - 0.8)}});
    t.push_back({"gelu_backward", "(g, x)",
                 [](const auto& x) { return gelu_backward(x[0], x[1]); }, {rn({2, 3}), rn_step({2, 3})}});

    // ---- reductions ----
    t.push_back({"sum", "all",
                 [](const auto& x) { return sum(x[0]); }, {rn_t(2, 3)}});
    t.push_back({"sum", "dim 1",
                 [](const auto& x) { return sum(x[0], {1}); }, {rn({2, 3, 2})}});
    t.push_back({"sum", "dims {0, 2}, keepdim",
                 [](const auto& x) { return sum(x[0], {0, -1}, true); }, {rn({2, 3, 2})}});
    t.push_back({"mean", "all",
                 [](const auto& x) { return mean(x[0]); }, {rn({2, 3})}});
    t.push_back({"mean", "dim -1, keepdim",
                 [](const auto& x) { return mean(x[0], {-1}, true); }, {rn_t(2, 3)}});
    t.push_back({"mean", "dims {0, 1}",
                 [](const auto& x) { return mean(x[0], {0, 1}); }, {rn({2, 3, 2})}});
    t.push_back({"amax", "all",
                 [](const auto& x) { return max(x[0]); }, {rn({2, 3})}});
    t.push_back({"amax", "dim 1",
                 [](const auto& x) { return amax(x[0], {1}); }, {rn_t(3, 4)}});
    t.push_back({"amax", "dims {0, 2}, keepdim",
                 [](const auto& x) { return call_with(ops::amax, {x[0]}, reduce_dims({0, 2}, true)); },
                 {rn({2, 3, 2})}});
    // A two-way tie: the gradient is shared evenly, 1/2 each, as the central difference measures.
    t.push_back({"amax", "a tie in row 0 shares the gradient",
                 [](const auto& x) { return amax(x[0], {1}, true); },
                 {leaf(tensor({{1.0, 1.0, 0.5}, {0.25, 2.0, -1.0}}, kFloat64))}, false});
    t.push_back({"amin", "all",
                 [](const auto& x) { return min(x[0]); }, {rn_step({2, 3})}});
    t.push_back({"amin", "dim 0, keepdim",
                 [](const auto& x) { return amin(x[0], {0}, true); }, {rn({3, 4})}});
    t.push_back({"amin", "dims {1, 2}",
                 [](const auto& x) { return call_with(ops::amin, {x[0]}, reduce_dims({1, 2}, false)); },
                 {rn({2, 3, 2})}});
    t.push_back({"amin", "a tie in column 1 shares the gradient",
                 [](const auto& x) { return amin(x[0], {0}); },
                 {leaf(tensor({{1.0, -3.0}, {0.5, -3.0}}, kFloat64))}, false});
    t.push_back({"var", "all",
                 [](const auto& x) { return var(x[0]); }, {rn_t(2, 3)}});
    t.push_back({"var", "dim 1",
                 [](const auto& x) { return var(x[0], {1}); }, {rn({3, 4})}});
    t.push_back({"var", "dims {0, 2}, correction 0, keepdim",
                 [](const auto& x) { return var(x[0], {0, 2}, 0, true); }, {rn({2, 3, 2})}});
    t.push_back({"sum_to", "[2,3,2] -> [3,1]",
                 [](const auto& x) { return sum_to(x[0], {3, 1}); }, {rn({2, 3, 2})}});
    t.push_back({"sum_to", "transposed [4,3] -> [3]",
                 [](const auto& x) { return sum_to(x[0], {3}); }, {rn_t(4, 3)}});

    // ---- matmul, every rank combination ----
    t.push_back({"matmul", "1-D . 1-D",
                 [](const auto& x) { return matmul(x[0], x[1]); }, {rn({3}), rn_step({3})}});
    t.push_back({"matmul", "2-D . 1-D",
                 [](const auto& x) { return matmul(x[0], x[1]); }, {rn_t(2, 3), rn({3})}});
    t.push_back({"matmul", "1-D . 2-D",
                 [](const auto& x) { return matmul(x[0], x[1]); }, {rn({3}), rn({3, 2})}});
    t.push_back({"matmul", "2-D . 2-D, transposed operands",
                 [](const auto& x) { return matmul(x[0], x[1]); }, {rn_t(2, 3), rn_t(3, 4)}});
    t.push_back({"matmul", "batched [2,2,3] . [3,2]",
                 [](const auto& x) { return matmul(x[0], x[1]); }, {rn({2, 2, 3}), rn({3, 2})}});
    t.push_back({"matmul", "batch dims broadcast: [2,1,2,3] . [3,3,2]",
                 [](const auto& x) { return matmul(x[0], x[1]); }, {rn({2, 1, 2, 3}), rn({3, 3, 2})}});
    t.push_back({"matmul", "1-D . batched [2,3,2]",
                 [](const auto& x) { return matmul(x[0], x[1]); }, {rn({3}), rn({2, 3, 2})}});
    t.push_back({"matmul", "batched [2,2,3] . 1-D",
                 [](const auto& x) { return matmul(x[0], x[1]); }, {rn({2, 2, 3}), rn({3})}});

    // ---- softmax family ----
    t.push_back({"softmax", "dim 0",
                 [](const auto& x) { return softmax(x[0], 0); }, {rn({3, 2})}});
    t.push_back({"softmax", "dim 1, transposed",
                 [](const auto& x) { return softmax(x[0], 1); }, {rn_t(2, 3)}});
    t.push_back({"softmax", "dim -1 of [2,2,3]",
                 [](const auto& x) { return softmax(x[0], -1); }, {rn({2, 2, 3})}});
    t.push_back({"log_softmax", "dim 0",
                 [](const auto& x) { return log_softmax(x[0], 0); }, {rn_t(3, 2)}});
    t.push_back({"log_softmax", "dim 1",
                 [](const auto& x) { return log_softmax(x[0], 1); }, {rn({2, 3})}});
    t.push_back({"log_softmax", "dim -1, strided",
                 [](const auto& x) { return log_softmax(x[0], -1); }, {rn_step({2, 3})}});

    // ---- indexing and scattering (repeated indices make gradients add up) ----
    t.push_back({"index_select", "dim 0, index [2, 0, 2]",
                 [](const auto& x) { return index_select(x[0], 0, x[1]); }, {rn({4, 3}), idx({2, 0, 2})}});
    t.push_back({"index_select", "dim 1 of a transposed input, index [1, 1, 0]",
                 [](const auto& x) { return index_select(x[0], 1, x[1]); }, {rn_t(2, 3), idx({1, 1, 0})}});
    t.push_back({"gather", "dim 1, repeated indices",
                 [](const auto& x) { return gather(x[0], 1, x[1]); },
                 {rn({3, 4}), tensor({{0, 0, 3}, {1, 2, 1}, {3, 3, 3}})}});
    t.push_back({"gather", "dim 0",
                 [](const auto& x) { return gather(x[0], 0, x[1]); },
                 {rn_t(3, 2), tensor({{2, 0}, {2, 2}})}});
    t.push_back({"index_add", "dim 0, index [1, 3, 1], both gradients",
                 [](const auto& x) { return index_add(x[0], 0, x[1], x[2]); },
                 {rn({4, 3}), idx({1, 3, 1}), rn_t(3, 3)}});
    t.push_back({"index_add", "dim 1",
                 [](const auto& x) { return index_add(x[0], 1, x[1], x[2]); },
                 {rn({2, 3}), idx({2, 2}), rn({2, 2})}});
    t.push_back({"scatter_add", "dim 1, repeated indices",
                 [](const auto& x) { return scatter_add(x[0], 1, x[1], x[2]); },
                 {rn({3, 4}), tensor({{0, 0}, {3, 1}, {2, 2}}), rn({3, 2})}});
    t.push_back({"scatter_add", "dim 0",
                 [](const auto& x) { return scatter_add(x[0], 0, x[1], x[2]); },
                 {rn_t(2, 3), tensor({{1, 0, 1}}), rn({1, 3})}});
    t.push_back({"slice_scatter", "rows 0:4:2",
                 [](const auto& x) { return slice_scatter(x[0], x[1], 0, 0, 4, 2); },
                 {rn({4, 3}), rn({2, 3})}});
    t.push_back({"slice_scatter", "columns 1:5:2 of a transposed input",
                 [](const auto& x) { return slice_scatter(x[0], x[1], 1, 1, 5, 2); },
                 {rn_t(2, 5), rn_step({2, 2})}});
    t.push_back({"select_scatter", "row 1",
                 [](const auto& x) { return select_scatter(x[0], x[1], 0, 1); }, {rn({3, 4}), rn({4})}});
    t.push_back({"select_scatter", "column 2",
                 [](const auto& x) { return select_scatter(x[0], x[1], 1, 2); }, {rn_t(2, 3), rn({2})}});

    // ---- views ----
    t.push_back({"reshape", "[3,4] -> [2,6]",
                 [](const auto& x) { return reshape(x[0], {2, 6}); }, {rn({3, 4})}});
    t.push_back({"reshape", "transposed [3,4] -> [-1] (a copy)",
                 [](const auto& x) { return reshape(x[0], {-1}); }, {rn_t(3, 4)}});
    t.push_back({"squeeze", "dim 1 of [3,1,2]",
                 [](const auto& x) { return squeeze(x[0], 1); }, {rn({3, 1, 2})}});
    t.push_back({"squeeze", "all size-1 dims",
                 [](const auto& x) { return squeeze(x[0]); }, {rn({1, 3, 1})}});
    t.push_back({"unsqueeze", "dim 0",
                 [](const auto& x) { return unsqueeze(x[0], 0); }, {rn_t(2, 3)}});
    t.push_back({"unsqueeze", "dim -1",
                 [](const auto& x) { return unsqueeze(x[0], -1); }, {rn({2, 3})}});
    t.push_back({"permute", "[2,3,2] by {2,0,1}",
                 [](const auto& x) { return permute(x[0], {2, 0, 1}); }, {rn({2, 3, 2})}});
    t.push_back({"permute", "transpose of a strided input",
                 [](const auto& x) { return transpose(x[0], 0, 1); }, {rn_step({2, 3})}});
    t.push_back({"slice", "rows 1:5:2",
                 [](const auto& x) { return slice(x[0], 0, 1, 5, 2); }, {rn({5, 3})}});
    t.push_back({"slice", "columns 0:3:2 of a transposed input",
                 [](const auto& x) { return slice(x[0], 1, 0, 3, 2); }, {rn_t(2, 3)}});
    t.push_back({"narrow", "rows 1..2 of [4,3]",
                 [](const auto& x) { return narrow(x[0], 0, 1, 2); }, {rn({4, 3})}});
    t.push_back({"narrow", "the last two columns of a transposed input (start -2)",
                 [](const auto& x) { return narrow(x[0], 1, -2, 2); }, {rn_t(2, 4)}});
    t.push_back({"select", "column 2",
                 [](const auto& x) { return select(x[0], 1, 2); }, {rn({2, 3})}});
    t.push_back({"select", "row -1 of a transposed input",
                 [](const auto& x) { return select(x[0], 0, -1); }, {rn_t(3, 2)}});
    t.push_back({"expand", "[3,1] -> [3,4]",
                 [](const auto& x) { return expand(x[0], {3, 4}); }, {rn({3, 1})}});
    t.push_back({"expand", "[3] -> [2,3]",
                 [](const auto& x) { return expand(x[0], {2, 3}); }, {rn_step({3})}});
    t.push_back({"flatten", "dims 1..2 of [2,3,2]",
                 [](const auto& x) { return flatten(x[0], 1, 2); }, {rn({2, 3, 2})}});
    t.push_back({"flatten", "a transposed input, whole (a copy)",
                 [](const auto& x) { return flatten(x[0]); }, {rn_t(3, 4)}});
    t.push_back({"identity", "transposed [2,3]",
                 [](const auto& x) { return identity(x[0]) * x[0]; }, {rn_t(2, 3)}});
    t.push_back({"check_numerics", "transposed [2,3], finite: the value and g pass through",
                 [](const auto& x) { return check_numerics(x[0], "x") * x[0]; }, {rn_t(2, 3)}});
    t.push_back({"print", "[2] (prints each evaluation to stderr)",
                 [](const auto& x) { return print(x[0], "gradcheck print: ") * x[0]; }, {rn({2})}});

    // ---- reading another value's shape: the second input's values are never used ----
    {
      const Tensor like23 = zeros({2, 3}, kFloat64), like6 = zeros({6}, kFloat64);
      t.push_back({"sum_to_like", "[2,3] summed to the shape of a [3]",
                   [](const auto& x) { return sum_to_like(x[0], x[1]) * x[1]; }, {rn({2, 3}), rn({3})}});
      t.push_back({"expand_like", "[3] broadcast to the shape of a [2,3]",
                   [like23](const auto& x) { return expand_like(x[0], lift(like23, x[0])); }, {rn({3})}});
      t.push_back({"reshape_like", "transposed [3,2] to the shape of a [6]",
                   [like6](const auto& x) { return reshape_like(x[0], lift(like6, x[0])); }, {rn_t(3, 2)}});
    }
    t.push_back({"add_n", "three inputs, one broadcast",
                 [](const auto& x) { return add_n(std::vector{x[0], x[1] * x[1], x[2]}); },
                 {rn({2, 3}), rn_t(2, 3), rn({3})}});

    // ---- joining ----
    t.push_back({"cat", "dim 0: [2,3] and [1,3]",
                 [](const auto& x) { return cat(std::vector{x[0], x[1]}, 0); }, {rn({2, 3}), rn({1, 3})}});
    t.push_back({"cat", "dim 1: three inputs, one transposed",
                 [](const auto& x) { return cat(std::vector{x[0], x[1], x[2]}, -1); },
                 {rn({2, 1}), rn_t(2, 3), rn({2, 2})}});
    {
      // split_like cuts g along dim 0 into pieces shaped like its other inputs, read for their
      // shapes only (constants of the case: they need no gradient).
      Attrs second;
      second.start = 1;
      t.push_back({"split_like", "piece 1 of [5,3] split as [2,3] and [3,3]",
                   [second](const auto& x) { return call_with(ops::split_like, {x[0], x[1], x[2]}, second); },
                   {rn({5, 3}), randn({2, 3}, kFloat64), randn({3, 3}, kFloat64)}});
    }
    t.push_back({"stack", "dim 0",
                 [](const auto& x) { return stack(std::vector{x[0], x[1]}, 0); }, {rn({2, 3}), rn_t(2, 3)}});
    t.push_back({"stack", "dim -1",
                 [](const auto& x) { return stack(std::vector{x[0], x[1]}, -1); }, {rn({3}), rn({3})}});

    // ---- convolution and pooling ----
    t.push_back({"conv2d", "[2,3,5,5] * [4,3,3,3], padding 1",
                 [](const auto& x) { return conv2d(x[0], x[1], {1, 1}, {1, 1}); }, {rn({2, 3, 5, 5}), rn({4, 3, 3, 3})}});
    t.push_back({"conv2d", "strided input, stride (2,1), padding (0,2), a 3x2 kernel",
                 [](const auto& x) { return conv2d(x[0], x[1], {2, 1}, {0, 2}); }, {rn_step({1, 2, 6, 5}), rn({3, 2, 3, 2})}});
    t.push_back({"conv2d_input_grad", "g [2,4,5,5], w [4,3,3,3], input 5x5",
                 [](const auto& x) { return conv2d_input_grad(x[0], x[1], {1, 1, 1, 1, 5, 5}); },
                 {rn({2, 4, 5, 5}), rn({4, 3, 3, 3})}});
    t.push_back({"conv2d_weight_grad", "x [2,3,5,5], g [2,4,3,3], stride 2, padding 1",
                 [](const auto& x) { return conv2d_weight_grad(x[0], x[1], {2, 2, 1, 1, 3, 3}); },
                 {rn({2, 3, 5, 5}), rn({2, 4, 3, 3})}});
    t.push_back({"max_pool2d", "2x2 windows, stride 2",
                 [](const auto& x) { return max_pool2d(x[0], {2, 2}); }, {rn({2, 2, 4, 4})}});
    t.push_back({"max_pool2d", "3x3 windows, stride 2, padding 1 (overlapping)",
                 [](const auto& x) { return max_pool2d(x[0], {3, 3}, {2, 2}, {1, 1}); }, {rn({1, 2, 5, 6})}});
    {
      // The pooled input only says where the gradient goes: a constant of these cases.
      const Tensor pooled = randn({1, 2, 5, 6}, kFloat64);
      t.push_back({"max_pool2d_backward", "g [1,2,3,3] routed into a [1,2,5,6] input",
                   [pooled](const auto& x) { return max_pool2d_backward(x[0], lift(pooled, x[0]), {3, 3, 2, 2, 1, 1}); },
                   {rn({1, 2, 3, 3})}});
      t.push_back({"max_pool2d_gather", "values [1,2,5,6] read at the winners",
                   [pooled](const auto& x) { return max_pool2d_gather(x[0], lift(pooled, x[0]), {3, 3, 2, 2, 1, 1}); },
                   {rn({1, 2, 5, 6})}});
    }
    // Batch norm's fused ops (core/ops/batch_norm.cpp). _train's statistics are x's own, so the case
    // computes them from x: finite differences move them with x, as the rule's terms do. Their
    // backward ops have no derivative of their own: no second order.
    t.push_back({"batch_norm_train", "x [4,3,5], its own statistics, weight and bias [3]",
                 [](const auto& x) { return batch_norm_train(x[0], batch_norm_stats(x[0]), x[1], x[2], 1e-5) * x[0]; },
                 {rn({4, 3, 5}), rn({3}), rn({3})}, /*second_order=*/false});
    t.push_back({"batch_norm_eval", "x [3,2,2,2], given statistics [2,2] (variances positive)",
                 [](const auto& x) { return batch_norm_eval(x[0], x[1], x[2], x[3], 1e-5) * x[0]; },
                 {rn({3, 2, 2, 2}), leaf(stack({randn({2}, kFloat64), rand({2}, kFloat64) + 0.5})), rn({2}), rn({2})},
                 /*second_order=*/false});
    return t;
  }();
  // clang-format on
  return table;
}

namespace {
const std::vector<Case>& cases() { return gradcheck_cases(); }

GradcheckOptions options_for(const Case& c) {
  GradcheckOptions o;
  o.eps = c.eps;
  o.require_nonzero = true;  // every case must be able to fail
  return o;
}

// True when the tape behind y holds a node of `op`: the case really exercises its op's rule.
bool tape_contains(const Tensor& y, const OpDef* op) {
  std::vector<std::shared_ptr<autograd::Node>> stack{y.grad_fn()};
  std::set<const autograd::Node*> seen;
  while (!stack.empty()) {
    const auto n = stack.back();
    stack.pop_back();
    if (!n || !seen.insert(n.get()).second) continue;
    if (n->op == op) return true;
    for (const autograd::Edge& e : n->next) stack.push_back(e.node);
  }
  return false;
}

}  // namespace

TEST_CASE("every op of the derivative sheet has a gradcheck case that records it", "[gradcheck]") {
  for (const autograd::Derivative& d : autograd::derivative_sheet()) {
    INFO("op: " << d.op->name << " (add a case for it to the table in tests/test_gradcheck.cpp)");
    bool found = false;
    for (const Case& c : cases()) {
      if (std::string(c.op) != d.op->name) continue;
      found = true;
      INFO("case: " << c.what);
      CHECK(tape_contains(c.f(c.inputs), d.op));
    }
    CHECK(found);
  }
  // And every case names an op of the sheet (no typo hides a missing case).
  for (const Case& c : cases()) {
    INFO("case op: " << c.op);
    const OpDef* op = find_op(c.op);
    CHECK((op && autograd::derivative_for(*op)));
  }
}

TEST_CASE("gradcheck passes for every op of the derivative sheet", "[gradcheck]") {
  for (const Case& c : cases()) {
    INFO(c.op << ": " << c.what);
    const auto r = gradcheck(c.f, c.inputs, options_for(c));
    INFO(r.message);
    CHECK(r.ok);
  }
}

TEST_CASE("gradgradcheck passes for every op of the derivative sheet", "[gradcheck]") {
  for (const Case& c : cases()) {
    if (!c.second_order) continue;
    INFO(c.op << ": " << c.what);
    const auto r = gradgradcheck(c.f, c.inputs, {}, options_for(c));
    INFO(r.message);
    CHECK(r.ok);
  }
}
