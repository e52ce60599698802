// tests/test_reduce.cpp — reductions: sum, mean, max/min, argmax/argmin, var, sum_to.
//
// Expected values are worked out by hand in the test, computed by a plain loop written here, or
// (where marked) taken from PyTorch 1.13 with the Python expression quoted.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "core/factories.h"
#include "core/ops.h"

using namespace tandem;

namespace {

// var takes dims as a list, var(x, Dims{1}), so that var(x, 1) cannot be misread as dim 1 or correction 1.
using Dims = std::vector<int64_t>;

// A [rows, cols] float32 matrix with varied, exactly representable values: m[i][j] = f(i, j).
double cell(int64_t i, int64_t j) { return static_cast<double>((i * 7 + j * 13) % 23) - 11.0 + 0.25 * (j % 4); }
Tensor test_matrix(int64_t rows, int64_t cols) {
  std::vector<float> v(static_cast<size_t>(rows * cols));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) v[i * cols + j] = static_cast<float>(cell(i, j));
  return from_vector(v, {rows, cols});
}

void check_values(const Tensor& t, const std::vector<double>& expected, double tol = 1e-6) {
  const std::vector<double> got = t.to_vector<double>();
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) {  // report the first mismatch only
    if (got[i] == Approx(expected[i]).margin(tol)) continue;
    INFO("first mismatch at flat index " << i);
    CHECK(got[i] == Approx(expected[i]).margin(tol));
    return;
  }
}

}  // namespace

TEST_CASE("seed example: mean([[1,2],[3,4]]) is 2.5", "[reduce]") {
  Tensor x = tensor({{1., 2.}, {3., 4.}});
  Tensor m = mean(x);
  CHECK(m.dim() == 0);
  CHECK(m.dtype() == kFloat32);
  CHECK(m.item<double>() == 2.5);
  CHECK(x.mean().item<double>() == 2.5);  // the method spelling
}

TEST_CASE("mean of an integer tensor is a dtype error, as in PyTorch", "[reduce]") {
  Tensor x = tensor({{1, 2}, {3, 4}});
  REQUIRE(x.dtype() == kInt64);
  CHECK_THROWS_AS(mean(x), DTypeError);
  CHECK_THROWS_WITH(mean(x), Catch::Contains("mean(): could not infer output dtype") &&
                                 Catch::Contains("Got: int64"));
  CHECK_THROWS_AS(mean(tensor({true, false})), DTypeError);
  CHECK(mean(x.to(kFloat32)).item<double>() == 2.5);  // the fix the message suggests
}

TEST_CASE("sum over all elements, over dims, with keepdim and negative dims", "[reduce]") {
  Tensor x = tensor({{1., 2., 3.}, {4., 5., 6.}});
  CHECK(sum(x).item<double>() == 21);
  CHECK(sum(x).dim() == 0);

  Tensor s0 = sum(x, {0});
  CHECK(s0.shape() == Shape{3});
  check_values(s0, {5, 7, 9});
  Tensor s1 = sum(x, {1});
  CHECK(s1.shape() == Shape{2});
  check_values(s1, {6, 15});

  CHECK(sum(x, {0}, true).shape() == Shape{1, 3});
  CHECK(sum(x, {1}, true).shape() == Shape{2, 1});
  CHECK(sum(x, {-1}).shape() == Shape{2});
  check_values(sum(x, {-1}), {6, 15});
  check_values(sum(x, {-2}), {5, 7, 9});
  CHECK(sum(x, {0, 1}).item<double>() == 21);
  CHECK(sum(x, {1, 0}, true).shape() == Shape{1, 1});

  // An empty dims list means "all dims" (PyTorch: x.sum(dim=[]) is x.sum()).
  CHECK(sum(x, {}).dim() == 0);
  CHECK(sum(x, {}).item<double>() == 21);
  CHECK(sum(x, {}, true).shape() == Shape{1, 1});
}

TEST_CASE("sum of a 3-D tensor over inner, middle, outer and pairs of dims", "[reduce]") {
  // x[i][j][k] = 100 i + 10 j + k, shape [2, 3, 4].
  std::vector<float> v;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) v.push_back(static_cast<float>(100 * i + 10 * j + k));
  Tensor x = from_vector(v, {2, 3, 4});
  auto ref = [&](bool ri, bool rj, bool rk) {  // the reduction written as a loop
    std::vector<double> out;
    for (int i = 0; i < (ri ? 1 : 2); ++i)
      for (int j = 0; j < (rj ? 1 : 3); ++j)
        for (int k = 0; k < (rk ? 1 : 4); ++k) {
          double s = 0;
          for (int a = 0; a < 2; ++a)
            for (int b = 0; b < 3; ++b)
              for (int c = 0; c < 4; ++c)
                if ((ri || a == i) && (rj || b == j) && (rk || c == k)) s += 100 * a + 10 * b + c;
          out.push_back(s);
        }
    return out;
  };
  check_values(sum(x, {2}), ref(false, false, true));
  check_values(sum(x, {1}), ref(false, true, false));
  check_values(sum(x, {0}), ref(true, false, false));
  check_values(sum(x, {0, 2}), ref(true, false, true));
  check_values(sum(x, {0, 1}), ref(true, true, false));
  check_values(sum(x, {-1, -3}), ref(true, false, true));
  CHECK(sum(x, {0, 2}, true).shape() == Shape{1, 3, 1});
  CHECK(sum(x, {1}).shape() == Shape{2, 4});
}

TEST_CASE("sum of a large matrix over each dim matches a loop (parallel and strip paths)", "[reduce]") {
  const int64_t R = 300, C = 700;  // 210000 elements: above the parallel threshold, 3 strips
  Tensor x = test_matrix(R, C);
  std::vector<double> rows(R, 0.0), cols(C, 0.0);
  double all = 0;
  for (int64_t i = 0; i < R; ++i)
    for (int64_t j = 0; j < C; ++j) {
      rows[i] += cell(i, j);
      cols[j] += cell(i, j);
      all += cell(i, j);
    }
  check_values(sum(x, {1}), rows);
  check_values(sum(x, {0}), cols);
  CHECK(sum(x).item<double>() == Approx(all));

  // The same through views that are not contiguous: a transpose swaps the two layouts.
  Tensor xt = x.t();
  REQUIRE(!xt.is_contiguous());
  check_values(sum(xt, {0}), rows);
  check_values(sum(xt, {1}), cols);
  CHECK(sum(xt).item<double>() == Approx(all));
}

TEST_CASE("sum of sliced and expanded views", "[reduce]") {
  Tensor x = tensor({{1., 2., 3., 4.}, {5., 6., 7., 8.}, {9., 10., 11., 12.}});
  Tensor every_other = x.slice(1, 0, 4, 2);  // columns 0 and 2: [[1,3],[5,7],[9,11]]
  REQUIRE(!every_other.is_contiguous());
  check_values(sum(every_other, {1}), {4, 12, 20});
  check_values(sum(every_other, {0}), {15, 21});
  CHECK(sum(every_other).item<double>() == 36);

  Tensor rows = x.slice(0, 1, 3);  // rows 1 and 2, an offset into the storage
  check_values(sum(rows, {0}), {14, 16, 18, 20});

  Tensor e = tensor({1., 2., 3.}).expand({4, 3});  // stride 0 along dim 0
  check_values(sum(e, {0}), {4, 8, 12});
  check_values(sum(e, {1}), {6, 6, 6, 6});
  CHECK(sum(e).item<double>() == 24);
}

TEST_CASE("sum dtypes: int64 stays int64, bool counts, floats keep their dtype", "[reduce]") {
  Tensor i = tensor({{1, 2}, {3, 4}});
  CHECK(sum(i).dtype() == kInt64);
  CHECK(sum(i).item<int64_t>() == 10);
  Tensor b = tensor({true, false, true});
  CHECK(sum(b).dtype() == kInt64);
  CHECK(sum(b).item<int64_t>() == 2);
  CHECK(sum(tensor({1., 2.}, kFloat64)).dtype() == kFloat64);
  // Large int64 values are summed exactly (a double accumulator would round 2^53 + 1).
  Tensor big = tensor({int64_t{1} << 53, int64_t{1}});
  CHECK(sum(big).item<int64_t>() == (int64_t{1} << 53) + 1);
}

TEST_CASE("sum of a million float32 ones is exact, a float accumulator would not be", "[reduce]") {
  CHECK(sum(ones({1000000})).item<double>() == 1000000.0);
  // 0.1f summed 1e6 times: the exact answer is 1e6 * 0.1f (as a double); a float32 running sum
  // drifts by about 1% here, a double accumulator stays within float32 rounding of the answer.
  const double exact = 1e6 * static_cast<double>(0.1f);
  CHECK(sum(full({1000000}, 0.1, kFloat32)).item<double>() == Approx(exact).epsilon(1e-7));
  float naive = 0;
  for (int i = 0; i < 1000000; ++i) naive += 0.1f;
  CHECK(std::abs(naive - exact) > 100);  // the failure the double accumulator avoids
}

TEST_CASE("reductions reject bad and repeated dims", "[reduce]") {
  Tensor x = ones({2, 3});
  CHECK_THROWS_AS(sum(x, {2}), IndexError);
  CHECK_THROWS_WITH(sum(x, {2}), Catch::Contains("sum") && Catch::Contains("[-2, 1]") &&
                                     Catch::Contains("got 2"));
  CHECK_THROWS_AS(sum(x, {-3}), IndexError);
  CHECK_THROWS_WITH(sum(x, {0, 0}), Catch::Contains("dim 0 appears multiple times"));
  CHECK_THROWS_WITH(sum(x, {1, -1}), Catch::Contains("dim 1 appears multiple times"));
  CHECK_THROWS_AS(mean(x, {5}), IndexError);
  CHECK_THROWS_AS(max(x, 2), IndexError);
  CHECK_THROWS_AS(argmax(x, -3), IndexError);
  CHECK_THROWS_AS(var(x, Dims{3}), IndexError);
}

TEST_CASE("reductions of empty and 0-dim tensors", "[reduce]") {
  Tensor e = zeros({0, 3});
  Tensor s = sum(e, {0});
  CHECK(s.shape() == Shape{3});
  check_values(s, {0, 0, 0});
  CHECK(sum(e).item<double>() == 0);
  CHECK(std::isnan(mean(e).item<double>()));  // 0 / 0, as in PyTorch
  CHECK(sum(e, {1}).shape() == Shape{0});

  Tensor five = tensor(5.);
  CHECK(sum(five).item<double>() == 5);
  CHECK(sum(five, {0}).dim() == 0);  // a 0-dim tensor accepts dim 0, as in PyTorch
  CHECK(sum(five, {-1}).item<double>() == 5);
  CHECK(argmax(five, 0).item<int64_t>() == 0);
  CHECK(max(five).item<double>() == 5);
}

TEST_CASE("mean over dims, keepdim, float64", "[reduce]") {
  Tensor x = tensor({{1., 2., 3.}, {4., 5., 6.}});
  check_values(mean(x, {0}), {2.5, 3.5, 4.5});
  check_values(mean(x, {1}), {2, 5});
  CHECK(mean(x, {1}, true).shape() == Shape{2, 1});
  check_values(mean(x, {-1, 0}), {3.5});
  Tensor d = tensor({{1., 2.}, {3., 5.}}, kFloat64);
  CHECK(mean(d).dtype() == kFloat64);
  CHECK(mean(d).item<double>() == 2.75);
  check_values(mean(x.t(), {1}), {2.5, 3.5, 4.5});  // non-contiguous
}

TEST_CASE("max and min: values over all elements and along a dim", "[reduce]") {
  Tensor x = tensor({{3., 7., -1.}, {8., 0., 5.}});
  CHECK(max(x).item<double>() == 8);
  CHECK(min(x).item<double>() == -1);
  check_values(max(x, 0), {8, 7, 5});
  check_values(max(x, 1), {7, 8});
  check_values(min(x, 0), {3, 0, -1});
  check_values(min(x, -1), {-1, 0});
  CHECK(max(x, 1, true).shape() == Shape{2, 1});
  check_values(max(x.t(), 0), {7, 8});  // transposed
  // The ops behind them reduce several dims at once (torch.amax / amin).
  Attrs a;
  a.dims = {0, 1};
  CHECK(call(ops::amax, {x}, a).item<double>() == 8);
  CHECK(call(ops::amin, {x}, a).item<double>() == -1);
  // dtype is kept.
  Tensor i = tensor({{1, 5}, {7, 2}});
  CHECK(max(i).dtype() == kInt64);
  check_values(max(i, 0), {7, 5});
  CHECK(max(tensor({true, false})).dtype() == kBool);
  CHECK(max(tensor({true, false})).item<bool>() == true);
  CHECK(min(tensor({true, false})).item<bool>() == false);
  // -inf everywhere is still a maximum (the first element seeds the search, not a sentinel).
  const float ninf = -std::numeric_limits<float>::infinity();
  CHECK(max(from_vector(std::vector<float>{ninf, ninf}, {2})).item<double>() == ninf);
  CHECK(argmax(from_vector(std::vector<float>{ninf, ninf}, {2})).item<int64_t>() == 0);
}

TEST_CASE("max/min propagate NaN, and argmax/argmin point at the first NaN", "[reduce]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor x = from_vector(std::vector<float>{1, nan, 3, nan}, {4});
  CHECK(std::isnan(max(x).item<double>()));
  CHECK(std::isnan(min(x).item<double>()));
  // PyTorch: torch.tensor([1., float('nan'), 3., float('nan')]).argmax() is tensor(1); same argmin.
  CHECK(argmax(x).item<int64_t>() == 1);
  CHECK(argmin(x).item<int64_t>() == 1);
  Tensor m = from_vector(std::vector<float>{1, 2, nan, 4}, {2, 2});
  const std::vector<double> cols = max(m, 0).to_vector<double>();
  CHECK(std::isnan(cols[0]));
  CHECK(cols[1] == 4);
}

TEST_CASE("argmax and argmin: flat index, along a dim, ties go to the first", "[reduce]") {
  Tensor x = tensor({{3., 9., 9.}, {9., 0., 5.}});
  CHECK(argmax(x).dtype() == kInt64);
  CHECK(argmax(x).dim() == 0);
  CHECK(argmax(x).item<int64_t>() == 1);  // flat index of the first 9
  CHECK(argmin(x).item<int64_t>() == 4);
  CHECK(argmax(x, 1).to_vector<int64_t>() == std::vector<int64_t>{1, 0});
  CHECK(argmax(x, 0).to_vector<int64_t>() == std::vector<int64_t>{1, 0, 0});
  CHECK(argmin(x, 0).to_vector<int64_t>() == std::vector<int64_t>{0, 1, 1});
  CHECK(argmin(x, -1).to_vector<int64_t>() == std::vector<int64_t>{0, 1});
  CHECK(argmax(x, 1, true).shape() == Shape{2, 1});
  CHECK(x.argmax(1).to_vector<int64_t>() == std::vector<int64_t>{1, 0});
  // Flat index of a transposed view counts in the view's own (logical) order.
  Tensor xt = x.t();  // [[3, 9], [9, 0], [9, 5]]
  CHECK(argmax(xt).item<int64_t>() == 1);
  CHECK(argmin(xt).item<int64_t>() == 3);
  CHECK(argmax(xt, 0).to_vector<int64_t>() == std::vector<int64_t>{1, 0});
  Tensor i = tensor({4, -2, 8, 8});
  CHECK(argmax(i).item<int64_t>() == 2);
  CHECK(argmin(i).item<int64_t>() == 1);
}

TEST_CASE("argmax over a large matrix matches a loop", "[reduce]") {
  const int64_t R = 200, C = 300;
  Tensor x = test_matrix(R, C);
  std::vector<int64_t> by_row(R), by_col(C);
  for (int64_t i = 0; i < R; ++i)
    for (int64_t j = 0; j < C; ++j) {
      if (cell(i, j) > cell(i, by_row[i])) by_row[i] = j;
      if (cell(i, j) > cell(by_col[j], j)) by_col[j] = i;
    }
  CHECK(argmax(x, 1).to_vector<int64_t>() == by_row);
  CHECK(argmax(x, 0).to_vector<int64_t>() == by_col);
}

TEST_CASE("max/min/argmax of nothing is an error, argmax of bool too", "[reduce]") {
  Tensor e = zeros({0, 3});
  CHECK_THROWS_AS(max(e), IndexError);
  CHECK_THROWS_WITH(max(e), Catch::Contains("max(): Expected reduction dim to be specified for "
                                            "input.numel() == 0"));
  CHECK_THROWS_WITH(min(e), Catch::StartsWith("min()"));
  CHECK_THROWS_WITH(max(e, 0), Catch::Contains("Expected reduction dim 0 to have non-zero size"));
  CHECK_THROWS_AS(argmax(e), IndexError);
  CHECK_THROWS_AS(argmin(e, 0), IndexError);
  CHECK(max(e, 1).shape() == Shape{0});  // reducing a non-empty dim of an empty tensor is fine
  CHECK(argmax(e, 1).shape() == Shape{0});
  CHECK_THROWS_AS(argmax(tensor({true, false})), DTypeError);
  Attrs two;
  two.dims = {0, 1};
  CHECK_THROWS_WITH(call(ops::argmax, {ones({2, 2})}, two), Catch::Contains("one dim"));
}

TEST_CASE("var: unbiased by default, correction, dims", "[reduce]") {
  // [1, 2, 3, 4]: mean 2.5, squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5.
  Tensor x = tensor({1., 2., 3., 4.});
  CHECK(var(x).item<double>() == Approx(5.0 / 3));
  CHECK(var(x, Dims{}, 0).item<double>() == Approx(5.0 / 4));
  CHECK(var(x, Dims{}, 2).item<double>() == Approx(5.0 / 2));
  CHECK(std::isinf(var(x, Dims{}, 4).item<double>()));  // N - correction = 0: 5 / 0, as in PyTorch
  CHECK(std::isnan(var(tensor({7.})).item<double>()));  // one sample: 0 / 0

  // PyTorch: x = torch.tensor([[1.,5.,3.],[4.,2.,6.]]); x.var(1) -> [4., 4.];
  // x.var(0) -> [4.5, 4.5, 4.5]; x.var() -> 3.5; torch.var(x, 1, unbiased=False) -> [2.6667, 2.6667]
  Tensor m = tensor({{1., 5., 3.}, {4., 2., 6.}});
  check_values(var(m, Dims{1}), {4, 4});
  check_values(var(m, Dims{0}), {4.5, 4.5, 4.5});
  CHECK(var(m).item<double>() == Approx(3.5));
  check_values(var(m, Dims{1}, 0), {8.0 / 3, 8.0 / 3});
  CHECK(var(m, Dims{1}, 1, true).shape() == Shape{2, 1});
  check_values(var(m.t(), Dims{0}), {4, 4});  // non-contiguous
  check_values(var(m, Dims{}), {3.5});        // empty dims: all
  CHECK(var(m.to(kFloat64)).dtype() == kFloat64);
}

TEST_CASE("var is computed in two passes: no cancellation for a large mean", "[reduce]") {
  // x = 10000 + {1, 2, 3}: variance exactly 1. In float32, E[x^2] - E[x]^2 would have to resolve 1
  // out of 1e8, beyond float32's 7 digits; the two-pass result is exact.
  Tensor x = tensor({10001., 10002., 10003.});
  CHECK(var(x).item<double>() == 1.0);
  // Same on a large column layout (the outer-reduction path): 1000 rows of 10000 + (i % 3).
  std::vector<float> v;
  for (int i = 0; i < 999; ++i)
    for (int j = 0; j < 300; ++j) v.push_back(10000.0f + static_cast<float>(i % 3));
  Tensor big = from_vector(v, {999, 300});
  // 999 samples: 333 each of 10000, 10001, 10002, mean 10001, Σ(x - mean)^2 = 666.
  const std::vector<double> got = var(big, Dims{0}).to_vector<double>();
  for (double g : got) CHECK(g == Approx(666.0 / 998).epsilon(1e-6));
}

TEST_CASE("var of a non-floating tensor is a dtype error", "[reduce]") {
  CHECK_THROWS_AS(var(tensor({1, 2, 3})), DTypeError);
  CHECK_THROWS_WITH(var(tensor({1, 2, 3})), Catch::Contains("floating point"));
}

TEST_CASE("sum_to undoes broadcasting: the table of cases", "[reduce]") {
  Tensor g = tensor({{1., 2., 3.}, {4., 5., 6.}, {7., 8., 9.}, {10., 11., 12.}});  // [4, 3]
  // [4, 3] -> [3]: sum over the leading dim (the gradient of a bias).
  Tensor b = sum_to(g, {3});
  CHECK(b.shape() == Shape{3});
  check_values(b, {22, 26, 30});
  // [4, 3] -> [4, 1]: sum over dim 1, keeping it.
  Tensor r = sum_to(g, {4, 1});
  CHECK(r.shape() == Shape{4, 1});
  check_values(r, {6, 15, 24, 33});
  // [4, 3] -> [1, 3] and -> [1, 1]
  check_values(sum_to(g, {1, 3}), {22, 26, 30});
  CHECK(sum_to(g, {1, 1}).shape() == Shape{1, 1});
  CHECK(sum_to(g, {1, 1}).item<double>() == 78);
  // scalar target
  Tensor s = sum_to(g, {});
  CHECK(s.dim() == 0);
  CHECK(s.item<double>() == 78);

  // [2, 3, 4] -> [3, 1]: dim 0 goes (leading), dim 2 is summed (target has 1 there).
  std::vector<float> v(24);
  for (int i = 0; i < 24; ++i) v[i] = static_cast<float>(i);  // x[a][b][c] = 12a + 4b + c
  Tensor x = from_vector(v, {2, 3, 4});
  Tensor t = sum_to(x, {3, 1});
  CHECK(t.shape() == Shape{3, 1});
  std::vector<double> expect(3, 0.0);
  for (int a = 0; a < 2; ++a)
    for (int bb = 0; bb < 3; ++bb)
      for (int c = 0; c < 4; ++c) expect[bb] += 12 * a + 4 * bb + c;
  check_values(t, expect);
  // [2, 3, 4] -> [2, 1, 4]
  Tensor u = sum_to(x, {2, 1, 4});
  CHECK(u.shape() == Shape{2, 1, 4});
  check_values(u, {12, 15, 18, 21, 48, 51, 54, 57});
  // Sizes already equal: the tensor itself, no copy (as at::sum_to).
  CHECK(sum_to(g, {4, 3}).is_same(g));
  // An empty dim summed into a 1: zero (PyTorch: torch.ones(0).sum_to_size(1) is tensor([0.])).
  check_values(sum_to(ones({0}), {1}), {0});
  // Through the op with the target in attrs.dims, as graph mode and autograd call it.
  Attrs a;
  a.dims = {3};
  check_values(call(ops::sum_to, {g}, a), {22, 26, 30});
}

TEST_CASE("sum_to of a large gradient into a bias matches a loop", "[reduce]") {
  const int64_t R = 512, C = 300;
  Tensor g = test_matrix(R, C);
  std::vector<double> cols(C, 0.0);
  for (int64_t i = 0; i < R; ++i)
    for (int64_t j = 0; j < C; ++j) cols[j] += cell(i, j);
  check_values(sum_to(g, {C}), cols);
  check_values(sum_to(g.reshape({2, R / 2, C}), {1, C}), cols);
}

TEST_CASE("sum_to rejects a target that does not broadcast to the tensor", "[reduce]") {
  Tensor g = ones({4, 3});
  CHECK_THROWS_AS(sum_to(g, {5}), ShapeError);
  CHECK_THROWS_WITH(sum_to(g, {5}), Catch::Contains("[5]") && Catch::Contains("[4, 3]") &&
                                        Catch::Contains("not expandable"));
  CHECK_THROWS_AS(sum_to(ones({2, 3}), {2, 1, 3}), ShapeError);  // more dims than the tensor
  CHECK_THROWS_AS(sum_to(g, {2, 3}), ShapeError);
}

TEST_CASE("reduction shape rules accept unknown dims (graph mode)", "[reduce]") {
  const Shape q = {kUnknown, 3};  // TF1's (?, 3)
  auto meta = [](OpDef& op, const Shape& s, std::vector<int64_t> dims, bool keepdim = false) {
    Attrs a;
    a.dims = std::move(dims);
    a.keepdim = keepdim;
    const std::vector<Meta> in = {{s, kFloat32}};
    return op.shape(in, a);
  };
  CHECK(meta(ops::sum, q, {0}).shape == Shape{3});                  // the unknown dim disappears
  CHECK(meta(ops::sum, q, {1}).shape == Shape{kUnknown});           // a kept unknown stays unknown
  CHECK(meta(ops::mean, q, {1}, true).shape == Shape{kUnknown, 1});
  CHECK(meta(ops::amax, q, {0}, true).shape == Shape{1, 3});
  CHECK(meta(ops::argmax, q, {-1}).shape == Shape{kUnknown});
  CHECK(meta(ops::argmax, q, {-1}).dtype == kInt64);
  CHECK(meta(ops::var, q, {}).shape == Shape{});
  CHECK(meta(ops::sum_to, q, {3}).shape == Shape{3});
  CHECK(meta(ops::sum_to, q, {1, 3}).shape == Shape{1, 3});
  CHECK(meta(ops::sum_to, {kUnknown, 5}, {kUnknown, 1}).shape == Shape{kUnknown, 1});
  CHECK(meta(ops::sum_to, {4, kUnknown}, {3}).shape == Shape{3});  // checked again at run time
  CHECK_THROWS_AS(meta(ops::sum_to, q, {4}), ShapeError);           // 4 vs a known 3
  CHECK_THROWS_AS(meta(ops::sum, q, {2}), IndexError);
}
