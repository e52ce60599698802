// tests/test_elementwise.cpp — binary ops with broadcasting, type promotion, unary math.
// Expected values are computed in the test itself, with plain C++ loops or std:: math.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/factories.h"
#include "core/ops.h"
#include "core/threads.h"

using namespace tandem;

namespace {
std::vector<double> vals(const Tensor& t) { return t.to_vector<double>(); }
}  // namespace

TEST_CASE("seed example: [[3,4,8]] * [[2],[3],[9]] is a 3x3 broadcast product", "[broadcast][seed]") {
  Tensor a = tensor({{3., 4., 8.}});      // shape [1, 3]
  Tensor b = tensor({{2.}, {3.}, {9.}});  // shape [3, 1]
  Tensor c = mul(a, b);                   // tf.multiply(a, b) / torch.mul(a, b)
  REQUIRE(c.shape() == Shape{3, 3});
  // c[i][j] = b[i] * a[j]
  const double av[] = {3, 4, 8}, bv[] = {2, 3, 9};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) CHECK(c.at({i, j}) == bv[i] * av[j]);
  CHECK(equal(a * b, c));
}

TEST_CASE("broadcast shape table", "[broadcast]") {
  struct Row {
    Shape a, b, out;
  };
  const std::vector<Row> table = {
      {{3}, {3}, {3}},           {{2, 3}, {3}, {2, 3}},        {{3, 1}, {1, 4}, {3, 4}},
      {{}, {2, 2}, {2, 2}},      {{2, 1, 3}, {4, 1}, {2, 4, 3}}, {{5, 1, 1}, {1, 6, 7}, {5, 6, 7}},
      {{1}, {0}, {0}},           {{4, 1}, {4, 0}, {4, 0}},
  };
  for (const Row& r : table) {
    INFO(shape_str(r.a) << " with " << shape_str(r.b));
    CHECK(broadcast_shapes(r.a, r.b, "t") == r.out);
    CHECK(add(zeros(r.a), zeros(r.b)).shape() == r.out);
    CHECK(add(zeros(r.b), zeros(r.a)).shape() == r.out);
  }
  // Unknown dims (graph mode): 1 with ? is ?, n with ? is n.
  CHECK(broadcast_shapes({kUnknown, 10}, {1, 10}, "t") == Shape{kUnknown, 10});
  CHECK(broadcast_shapes({kUnknown}, {5}, "t") == Shape{5});
}

TEST_CASE("broadcasting failure names the op, both shapes and the dimension", "[broadcast][errors]") {
  REQUIRE_THROWS_AS(add(zeros({3}), zeros({4})), ShapeError);
  REQUIRE_THROWS_WITH(mul(zeros({2, 3}), zeros({2, 4})),
                      Catch::Contains("mul") && Catch::Contains("[2, 3]") && Catch::Contains("[2, 4]") &&
                          Catch::Contains("size of tensor a (3) must match the size of tensor b (4) at "
                                          "non-singleton dimension 1"));
}

TEST_CASE("binary ops on broadcast values match a loop", "[broadcast]") {
  manual_seed(1);
  Tensor a = randn({4, 1, 3}), b = randn({5, 1}).abs() + 0.5;  // b > 0: for div and pow
  const auto av = vals(a), bv = vals(b);
  auto expect = [&](auto f) {
    std::vector<double> out;
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 5; ++j)
        for (int k = 0; k < 3; ++k) out.push_back(f(static_cast<float>(av[i * 3 + k]), static_cast<float>(bv[j])));
    return out;
  };
  auto close = [](const std::vector<double>& x, const std::vector<double>& y) {
    REQUIRE(x.size() == y.size());
    for (size_t i = 0; i < x.size(); ++i) CHECK(x[i] == Approx(y[i]).epsilon(1e-6));
  };
  close(vals(a + b), expect([](float x, float y) { return x + y; }));
  close(vals(a - b), expect([](float x, float y) { return x - y; }));
  close(vals(a * b), expect([](float x, float y) { return x * y; }));
  close(vals(a / b), expect([](float x, float y) { return x / y; }));
  close(vals(pow(b, a)), expect([](float x, float y) { return std::pow(y, x); }));  // b^a
  close(vals(maximum(a, b)), expect([](float x, float y) { return std::max(x, y); }));
  close(vals(minimum(a, b)), expect([](float x, float y) { return std::min(x, y); }));
  close(vals((a < b).to(kFloat32)), expect([](float x, float y) { return double(x < y); }));
  close(vals((a >= b).to(kFloat32)), expect([](float x, float y) { return double(x >= y); }));
}

TEST_CASE("pow with tensor and scalar exponents", "[elementwise]") {
  Tensor x = tensor({1., 2., 3.});
  CHECK(vals(pow(x, 2)) == std::vector<double>{1, 4, 9});
  CHECK(vals(x.pow(0.5)) == std::vector<double>{1, std::sqrt(2.0f), std::sqrt(3.0f)});
  CHECK(vals(pow(tensor({2., 3.}), tensor({3., 2.}))) == std::vector<double>{8, 9});
  // Integer powers are exact integers.
  CHECK(pow(tensor({3, -2}), 3).to_vector<int64_t>() == std::vector<int64_t>{27, -8});
  CHECK(pow(tensor({3, 2}), 3).dtype() == kInt64);
}

TEST_CASE("scalar overloads on both sides", "[elementwise]") {
  Tensor x = tensor({1., 2., 4.});
  CHECK(vals(x + 1) == std::vector<double>{2, 3, 5});
  CHECK(vals(1 - x) == std::vector<double>{0, -1, -3});
  CHECK(vals(2 * x) == std::vector<double>{2, 4, 8});
  CHECK(vals(x / 2) == std::vector<double>{0.5, 1, 2});
  CHECK(vals(8 / x) == std::vector<double>{8, 4, 2});
  CHECK(vals(-x) == std::vector<double>{-1, -2, -4});
  CHECK((x == 2).to_vector<bool>() == std::vector<bool>{false, true, false});
  CHECK((x != 2).to_vector<bool>() == std::vector<bool>{true, false, true});
  CHECK((x > 1.5).to_vector<bool>() == std::vector<bool>{false, true, true});
}

TEST_CASE("type promotion follows PyTorch", "[elementwise][dtype]") {
  Tensor i = tensor({1, 2});          // int64
  Tensor f = tensor({1.f, 2.f});      // float32
  Tensor d = tensor({1., 2.}, kFloat64);
  CHECK((i * 2).dtype() == kInt64);    // int tensor, int scalar: stays int64
  CHECK((i * 2.5).dtype() == kFloat32);  // a float scalar lifts int64 to the default float
  CHECK(vals(i * 2.5) == std::vector<double>{2.5, 5});
  CHECK((i + f).dtype() == kFloat32);
  CHECK((f + d).dtype() == kFloat64);
  CHECK((i / i).dtype() == kFloat32);  // true division
  CHECK(vals(tensor({1, 3}) / tensor({2, 2})) == std::vector<double>{0.5, 1.5});
  // A 0-dim tensor of the same category does not change a dimensioned tensor's dtype...
  CHECK((f + tensor(1.5, kFloat64)).dtype() == kFloat32);
  // ...but one of a higher category does.
  CHECK((i + tensor(1.5, kFloat64)).dtype() == kFloat64);
  CHECK(promote_types(kBool, kInt64) == kInt64);
  CHECK(promote_types(kInt64, kFloat32) == kFloat32);
  CHECK((tensor({true, false}) + tensor({true, true})).dtype() == kBool);
  CHECK((tensor({true, false}) + 1).dtype() == kInt64);
}

TEST_CASE("bool subtraction and negation are refused, as in PyTorch", "[elementwise][errors]") {
  Tensor b = tensor({true, false});
  REQUIRE_THROWS_WITH(b - b, Catch::Contains("with two bool tensors is not supported"));
  REQUIRE_THROWS_WITH(-b, Catch::Contains("on a bool tensor is not supported"));
}

TEST_CASE("where picks from two tensors by a mask, with broadcasting", "[elementwise]") {
  Tensor x = tensor({-1., 2., -3.});
  CHECK(vals(where(x > 0, x, zeros({1}))) == std::vector<double>{0, 2, 0});
  CHECK(vals(where(tensor({{true}, {false}}), ones({3}), zeros({2, 1}))) ==
        std::vector<double>{1, 1, 1, 0, 0, 0});
  REQUIRE_THROWS_WITH(where(x, x, x), Catch::Contains("expected condition to be a bool tensor"));
}

TEST_CASE("unary math matches std:: functions", "[elementwise][unary]") {
  const std::vector<double> xs = {-3.0, -0.5, 0.0, 0.25, 1.0, 2.5};
  Tensor x = tensor({-3.0, -0.5, 0.0, 0.25, 1.0, 2.5}, kFloat64);
  auto check = [&](const Tensor& got, auto f) {
    const auto g = vals(got);
    for (size_t i = 0; i < xs.size(); ++i) CHECK(g[i] == Approx(f(xs[i])).epsilon(1e-12).margin(1e-15));
  };
  check(neg(x), [](double v) { return -v; });
  check(exp(x), [](double v) { return std::exp(v); });
  check(abs(x), [](double v) { return std::fabs(v); });
  check(sin(x), [](double v) { return std::sin(v); });
  check(cos(x), [](double v) { return std::cos(v); });
  check(tanh(x), [](double v) { return std::tanh(v); });
  check(sigmoid(x), [](double v) { return 1.0 / (1.0 + std::exp(-v)); });
  check(relu(x), [](double v) { return v > 0 ? v : 0.0; });
  check(gelu(x), [](double v) { return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))); });
  Tensor p = tensor({0.5, 1.0, 4.0}, kFloat64);
  CHECK(vals(log(p)) == std::vector<double>{std::log(0.5), 0.0, std::log(4.0)});
  CHECK(vals(sqrt(p)) == std::vector<double>{std::sqrt(0.5), 1.0, 2.0});
  CHECK(std::isnan(log(tensor({-1.})).item()));
}

TEST_CASE("sigmoid is stable for large inputs", "[elementwise][unary]") {
  const auto s = vals(sigmoid(tensor({-1000.f, -50.f, 50.f, 1000.f})));
  CHECK(s[0] == 0.0);
  CHECK(s[1] == Approx(std::exp(-50.0)).epsilon(1e-5));
  CHECK(s[2] == 1.0);
  CHECK(s[3] == 1.0);
  for (double v : s) CHECK(std::isfinite(v));
}

TEST_CASE("unary dtype rules: real functions give float32 for integers", "[elementwise][dtype]") {
  Tensor i = tensor({1, 4});
  CHECK(exp(i).dtype() == kFloat32);
  CHECK(vals(sqrt(i)) == std::vector<double>{1, 2});
  CHECK(abs(tensor({-2, 3})).dtype() == kInt64);
  CHECK(relu(tensor({-2, 3})).to_vector<int64_t>() == std::vector<int64_t>{0, 3});
  CHECK(neg(tensor({2})).to_vector<int64_t>() == std::vector<int64_t>{-2});
}

TEST_CASE("large elementwise ops take the parallel path and agree with the serial one", "[elementwise]") {
  manual_seed(3);
  const int before = get_num_threads();
  set_num_threads(2);
  Tensor a = randn({300, 500}), b = randn({500});
  Tensor c = a * b;  // 150000 elements: above loops::kParallelGrain
  const auto av = vals(a), bv = vals(b), cv = vals(c);
  for (int64_t i = 0; i < 300 * 500; i += 997)
    CHECK(cv[i] == static_cast<double>(static_cast<float>(av[i]) * static_cast<float>(bv[i % 500])));
  Tensor t = a.t();  // strided input, large
  CHECK(allclose(exp(t).t(), exp(a)));

  // A contiguous in-place update is ONE row of 150000 elements after coalescing, which the loop
  // cuts into pieces for the threads (the last piece shorter): every element still updated once.
  Tensor w = a.clone();
  w.sub_(a, 0.5);  // w = a - 0.5 a
  const auto wv = vals(w);
  bool all = true;
  for (size_t i = 0; i < wv.size(); ++i)
    all = all && wv[i] == static_cast<double>(static_cast<float>(av[i]) - 0.5f * static_cast<float>(av[i]));
  CHECK(all);
  set_num_threads(before);
}

TEST_CASE("ops refuse tensors on different devices", "[elementwise][errors]") {
  // Both on the CPU is fine; this documents the message for the CUDA build (tests/test_cuda).
  CHECK_NOTHROW(add(zeros({1}), zeros({1})));
}
