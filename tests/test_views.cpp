// tests/test_views.cpp — views share storage: reshape, transpose, slice, select, expand, squeeze.
#include <catch2/catch.hpp>

#include "core/factories.h"
#include "core/ops.h"

using namespace tandem;

namespace {
std::vector<double> vals(const Tensor& t) { return t.to_vector<double>(); }
}  // namespace

TEST_CASE("reshape and view share storage, -1 is inferred", "[views]") {
  Tensor a = arange(6).to(kFloat32);
  Tensor b = a.reshape({2, -1});
  CHECK(b.shape() == Shape{2, 3});
  CHECK(b.storage() == a.storage());
  CHECK(b.view({3, 2}).storage() == a.storage());
  // Writing through the view is visible through the original.
  b.data<float>()[4] = 40.f;
  CHECK(a.at({4}) == 40.0);
  REQUIRE_THROWS_WITH(a.reshape({4, -1}), Catch::Contains("shape [4, -1] is invalid for input of size 6"));
  REQUIRE_THROWS_WITH(a.reshape({-1, -1}), Catch::Contains("only one dimension can be inferred"));
}

TEST_CASE("transpose is a view with swapped strides, reshaping it must copy", "[views]") {
  Tensor a = arange(6).reshape({2, 3});
  Tensor t = a.t();
  CHECK(t.shape() == Shape{3, 2});
  CHECK(t.strides() == Strides{1, 3});
  CHECK_FALSE(t.is_contiguous());
  CHECK(t.storage() == a.storage());
  CHECK(vals(t) == std::vector<double>{0, 3, 1, 4, 2, 5});
  // Flattening a transposed matrix cannot be a view: reshape copies, view() refuses.
  Tensor flat = t.reshape({6});
  CHECK(flat.storage() != a.storage());
  CHECK(vals(flat) == std::vector<double>{0, 3, 1, 4, 2, 5});
  REQUIRE_THROWS_WITH(t.view({6}), Catch::Contains("use .reshape(...) instead"));
  Tensor c = t.contiguous();
  CHECK(c.is_contiguous());
  CHECK(c.storage() != a.storage());
  CHECK(a.contiguous().is_same(a));  // already contiguous: the same tensor back
}

TEST_CASE("permute reorders dimensions", "[views]") {
  Tensor a = arange(24).reshape({2, 3, 4});
  Tensor p = a.permute({2, 0, 1});
  CHECK(p.shape() == Shape{4, 2, 3});
  // p[i][j][k] == a[j][k][i]
  CHECK(p.at({3, 1, 2}) == a.at({1, 2, 3}));
  CHECK(p.at({1, 0, 1}) == a.at({0, 1, 1}));
  REQUIRE_THROWS_WITH(a.permute({0, 0, 1}), Catch::Contains("repeated dim"));
  REQUIRE_THROWS_WITH(a.permute({0, 1}), Catch::Contains("does not match the tensor's rank"));
}

TEST_CASE("slice follows Python slicing, narrow and select", "[views]") {
  Tensor a = arange(10);
  CHECK(vals(a.slice(0, 2, 8, 3)) == std::vector<double>{2, 5});  // a[2:8:3]
  CHECK(vals(a.slice(0, -3, 100)) == std::vector<double>{7, 8, 9});  // a[-3:100]
  CHECK(a.slice(0, 5, 2).numel() == 0);                             // a[5:2] is empty
  CHECK(a.slice(0, 2, 8, 3).storage() == a.storage());

  Tensor m = arange(12).reshape({3, 4});
  CHECK(vals(m.narrow(1, 1, 2)) == std::vector<double>{1, 2, 5, 6, 9, 10});
  CHECK(vals(m.select(0, 1)) == std::vector<double>{4, 5, 6, 7});
  CHECK(vals(m[2]) == std::vector<double>{8, 9, 10, 11});
  CHECK(vals(m.select(1, -1)) == std::vector<double>{3, 7, 11});
  REQUIRE_THROWS_WITH(m.narrow(1, 3, 2), Catch::Contains("exceeds dimension size (4)"));
  REQUIRE_THROWS_WITH(m.select(0, 3), Catch::Contains("index 3 is out of range for dimension 0 with size 3"));
  REQUIRE_THROWS_WITH(m.slice(0, 0, 2, 0), Catch::Contains("step must be positive"));
}

TEST_CASE("expand repeats size-1 dimensions with stride 0", "[views]") {
  Tensor col = tensor({{1.}, {2.}, {3.}});  // [3, 1]
  Tensor e = col.expand({3, 4});
  CHECK(e.strides()[1] == 0);
  CHECK(e.storage() == col.storage());
  CHECK(vals(e) == std::vector<double>{1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3});
  CHECK(col.expand({2, -1, 2}).shape() == Shape{2, 3, 2});
  REQUIRE_THROWS_WITH(col.expand({4, 4}),
                      Catch::Contains("must match the existing size (3) at non-singleton dimension 0"));
}

TEST_CASE("squeeze, unsqueeze and flatten", "[views]") {
  Tensor a = zeros({1, 3, 1, 2});
  CHECK(a.squeeze().shape() == Shape{3, 2});
  CHECK(a.squeeze(2).shape() == Shape{1, 3, 2});
  CHECK(a.squeeze(1).shape() == Shape{1, 3, 1, 2});  // not size 1: unchanged, as PyTorch
  CHECK(zeros({3}).unsqueeze(0).shape() == Shape{1, 3});
  CHECK(zeros({3}).unsqueeze(-1).shape() == Shape{3, 1});
  CHECK(zeros({2, 3, 4}).flatten().shape() == Shape{24});
  CHECK(zeros({2, 3, 4}).flatten(1).shape() == Shape{2, 12});
  CHECK(tensor(5.).flatten().shape() == Shape{1});
  REQUIRE_THROWS_AS(zeros({3}).unsqueeze(2), IndexError);
}

TEST_CASE("ops read views correctly (non-contiguous inputs)", "[views][broadcast]") {
  Tensor a = arange(6).reshape({2, 3}).to(kFloat32);
  Tensor t = a.t();  // [[0,3],[1,4],[2,5]]
  CHECK(vals(t * 2) == std::vector<double>{0, 6, 2, 8, 4, 10});
  CHECK(vals(t + t) == std::vector<double>{0, 6, 2, 8, 4, 10});
  CHECK(vals(a.slice(1, 0, 3, 2).exp().log()) == std::vector<double>{0, 2, 3, 5});
}

TEST_CASE("cat and stack", "[views][join]") {
  Tensor a = tensor({{1., 2.}, {3., 4.}});
  Tensor b = tensor({{5., 6.}});
  CHECK(vals(cat({a, b})) == std::vector<double>{1, 2, 3, 4, 5, 6});
  CHECK(cat({a, b}).shape() == Shape{3, 2});
  CHECK(vals(cat({a, a}, 1)) == std::vector<double>{1, 2, 1, 2, 3, 4, 3, 4});
  CHECK(vals(cat({a, a.t()}, -1)) == std::vector<double>{1, 2, 1, 3, 3, 4, 2, 4});
  CHECK(stack({a, a}).shape() == Shape{2, 2, 2});
  CHECK(vals(stack({a, a * 10}, 2)) == std::vector<double>{1, 10, 2, 20, 3, 30, 4, 40});
  // Mixed dtypes promote, as in PyTorch.
  CHECK(cat({tensor({1, 2}), tensor({0.5})}).dtype() == kFloat32);
  REQUIRE_THROWS_WITH(cat({a, tensor({{1., 2., 3.}})}),
                      Catch::Contains("Expected size 2 but got size 3 for tensor number 1"));
  REQUIRE_THROWS_WITH(stack({a, b}), Catch::Contains("expects each tensor to be equal size"));
}
