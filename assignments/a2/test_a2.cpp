// assignments/a2/test_a2.cpp — the tests of assignment 2 (eager autograd).
//
// [a2.t1] the backward walk (autograd/engine.cpp), [a2.t2] three rows of the derivative sheet
// (autograd/derivatives.cpp), [a2.t3] gradcheck's central differences (autograd/gradcheck.cpp).
// The t1 tests use only ops whose rules you do not write (add, exp, sum), so the walk is graded
// on its own; the t2 tests need your walk too. Every expected value is worked out in a comment.
//
// Read next: assignments/a2/README.md.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "autograd/gradcheck.h"
#include "tandem.h"

using namespace tandem;
using D = std::vector<double>;

namespace {
// |a[i] - b[i]| <= 1e-12 for every i: float64 arithmetic on small numbers is (nearly) exact.
bool near(const std::vector<double>& a, const std::vector<double>& b, double tol = 1e-12) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::abs(a[i] - b[i]) > tol) return false;
  return true;
}
Tensor leaf(const Tensor& t) {
  t.requires_grad_();
  return t;
}
}  // namespace

// ---- t1: the backward walk -----------------------------------------------------------------------

TEST_CASE("a2.t1: the diamond: b = a + a, c = b + b gives dc/da = 4", "[a2.t1]") {
  const Tensor a = leaf(tensor({1.5}, kFloat64));
  const Tensor b = a + a;
  const Tensor c = b + b;
  c.sum().backward();
  // b's node receives 1 from each of c's two uses, sums them to 2, and only then runs: a gets 2 + 2.
  CHECK(a.grad().to_vector<double>() == D{4});
}

TEST_CASE("a2.t1: gradients meeting at a node are summed before it runs", "[a2.t1]") {
  const Tensor x = leaf(tensor({0., 1.}, kFloat64));
  const Tensor y = x.exp();
  const Tensor z = (y + y + y).sum();  // dz/dx = 3 e^x
  z.backward();
  CHECK(near(x.grad().to_vector<double>(), D{3.0, 3.0 * std::exp(1.0)}));
}

TEST_CASE("a2.t1: a chain of 20000 ops walks without recursion", "[a2.t1]") {
  const Tensor x = leaf(tensor({2.}, kFloat64));
  Tensor y = x;
  for (int i = 0; i < 20000; ++i) y = y + 1.0;  // dy/dx = 1 through every link
  y.sum().backward();
  CHECK(x.grad().to_vector<double>() == D{1});
}

// BEGIN HIDDEN TESTS
TEST_CASE("a2.t1: two backward passes accumulate into .grad, a leaf used twice gets both parts", "[a2.t1][hidden]") {
  const Tensor x = leaf(tensor({1., 2.}, kFloat64));
  const Tensor loss = (x + x.exp()).sum();  // d/dx = 1 + e^x
  loss.backward({}, /*retain_graph=*/true);
  loss.backward();
  CHECK(near(x.grad().to_vector<double>(), D{2 * (1 + std::exp(1.0)), 2 * (1 + std::exp(2.0))}));
}
// END HIDDEN TESTS

// ---- t2: derivative rules ------------------------------------------------------------------------

TEST_CASE("a2.t2: mul: da = g * b and db = g * a, summed back over a broadcast", "[a2.t2]") {
  const Tensor a = leaf(tensor({{1., 2., 3.}, {4., 5., 6.}}, kFloat64));  // [2, 3]
  const Tensor b = leaf(tensor({10., 20., 30.}, kFloat64));               // [3], broadcast over rows
  (a * b).sum().backward();
  CHECK(a.grad().to_vector<double>() == D{10, 20, 30, 10, 20, 30});  // b, in every row
  CHECK(b.grad().to_vector<double>() == D{5, 7, 9});                 // a's column sums
}

TEST_CASE("a2.t2: matmul: dA = G Bᵀ and dB = Aᵀ G", "[a2.t2]") {
  const Tensor A = leaf(tensor({{1., 2., 3.}, {4., 5., 6.}}, kFloat64));   // [2, 3]
  const Tensor B = leaf(tensor({{1., 0.}, {2., 1.}, {0., 3.}}, kFloat64)); // [3, 2]
  matmul(A, B).sum().backward();  // G = ones [2, 2]
  // dA[i][p] = Σ_j B[p][j] = row sums of B: [1, 3, 3] in both rows
  CHECK(A.grad().to_vector<double>() == D{1, 3, 3, 1, 3, 3});
  // dB[p][j] = Σ_i A[i][p] = column sums of A: [5, 7, 9], the same for both columns
  CHECK(B.grad().to_vector<double>() == D{5, 5, 7, 7, 9, 9});
}

TEST_CASE("a2.t2: batched matmul with a shared matrix sums its gradient over the batch", "[a2.t2]") {
  const Tensor A = leaf(tensor({{{1., 2.}}, {{3., 4.}}}, kFloat64));  // [2, 1, 2]: a batch of two rows
  const Tensor W = leaf(tensor({{1.}, {-1.}}, kFloat64));             // [2, 1], broadcast to the batch
  matmul(A, W).sum().backward();
  // dW[p][0] = Σ over the batch of A[b][0][p]: [1 + 3, 2 + 4]
  CHECK(W.grad().to_vector<double>() == D{4, 6});
  // dA[b][0][p] = W[p][0]
  CHECK(A.grad().to_vector<double>() == D{1, -1, 1, -1});
}

TEST_CASE("a2.t2: log_softmax: dx = g - softmax(x) * Σg", "[a2.t2]") {
  const Tensor x = leaf(tensor({{0., 1., 2.}}, kFloat64));
  const Tensor y = log_softmax(x, 1);
  y.backward(tensor({{1., 0., 0.}}, kFloat64));  // the gradient of y[0][0] alone
  const double z = 1 + std::exp(1.0) + std::exp(2.0);
  const D s = {1 / z, std::exp(1.0) / z, std::exp(2.0) / z};  // softmax(x)
  CHECK(near(x.grad().to_vector<double>(), D{1 - s[0], -s[1], -s[2]}));
}

// BEGIN HIDDEN TESTS
TEST_CASE("a2.t2: matmul with a vector on either side", "[a2.t2][hidden]") {
  const Tensor v = leaf(tensor({1., 2.}, kFloat64));                // [2]
  const Tensor M = leaf(tensor({{1., 2., 3.}, {4., 5., 6.}}, kFloat64));  // [2, 3]
  matmul(v, M).sum().backward();  // y[j] = Σ_p v[p] M[p][j]
  CHECK(v.grad().to_vector<double>() == D{6, 15});          // row sums of M
  CHECK(M.grad().to_vector<double>() == D{1, 1, 1, 2, 2, 2});  // v[p] in row p
}
TEST_CASE("a2.t2: mul where both sides broadcast", "[a2.t2][hidden]") {
  const Tensor a = leaf(tensor({{1.}, {2.}}, kFloat64));  // [2, 1]
  const Tensor b = leaf(tensor({3., 4., 5.}, kFloat64));  // [3]
  (a * b).sum().backward();                                // [2, 3]
  CHECK(a.grad().to_vector<double>() == D{12, 12});        // Σ b, per row
  CHECK(b.grad().to_vector<double>() == D{3, 3, 3});       // Σ a, per column
}
// END HIDDEN TESTS

// ---- t3: gradcheck -------------------------------------------------------------------------------

TEST_CASE("a2.t3: gradcheck passes the rules of the sheet", "[a2.t3]") {
  manual_seed(3);
  const Tensor a = leaf(randn({3, 4}, kFloat64)), b = leaf(randn({4, 2}, kFloat64));
  CHECK(autograd::gradcheck([](const std::vector<Tensor>& x) { return log_softmax(matmul(x[0], x[1]) * x[1].sum(), 1); },
                            {a, b}));
}

TEST_CASE("a2.t3: gradcheck catches a wrong rule and measures the right derivative", "[a2.t3]") {
  // f(x) = x²; the "rule" below claims 3x instead of 2x.
  const auto f = [](const std::vector<Tensor>& x) { return std::vector<Tensor>{x[0] * x[0]}; };
  const autograd::Backward wrong = [](const std::vector<Tensor>& args, const std::vector<int>&) {
    return autograd::VjpFunction([args](int, const Tensor& seed) {
      no_grad guard;
      return std::vector<Tensor>{seed * args[0] * 3.0};
    });
  };
  const Tensor x = leaf(tensor({1.5}, kFloat64));
  const auto r = autograd::gradcheck_with(f, wrong, {x});
  CHECK_FALSE(r.ok);
  // Central difference of x² at 1.5: ((1.5 + h)² - (1.5 - h)²) / 2h = 2 · 1.5 = 3, exactly but for rounding.
  CHECK(std::abs(r.numerical - 3.0) < 1e-6);
  CHECK(r.analytical == Approx(4.5));
  CHECK(x.to_vector<double>() == D{1.5});  // the input is restored
}

// BEGIN HIDDEN TESTS
TEST_CASE("a2.t3: gradcheck on a strided view, and a flat function", "[a2.t3][hidden]") {
  manual_seed(5);
  const Tensor x = leaf(randn({4, 3}, kFloat64));
  const Tensor view = x.t();  // not contiguous: perturbing must follow its strides
  CHECK(autograd::gradcheck([](const std::vector<Tensor>& v) { return (v[0] * v[0]).exp(); }, {view}));
  autograd::GradcheckOptions opts;
  opts.require_nonzero = true;  // a constant function proves nothing: refused
  CHECK_FALSE(autograd::gradcheck([](const std::vector<Tensor>& v) { return v[0] * 0.0; }, {x}, opts));
}
// END HIDDEN TESTS
