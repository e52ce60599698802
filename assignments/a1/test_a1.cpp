// assignments/a1/test_a1.cpp — the tests of assignment 1 (tensors: strides, views, broadcasting).
//
// Each TEST_CASE is tagged with its task ([a1.t1] ... [a1.t4]); `make grade` runs them one by one
// and gives each task's points to its passing cases. Every expected value is worked out by hand in
// the comment beside it, from the index formula
//     element (i0, ..., ik) lives at  data[offset + i0·stride0 + ... + ik·stridek].
// Read them as examples: they show what each function you write must do.
//
// Read next: assignments/a1/README.md.
#include <catch2/catch.hpp>

#include <vector>

#include "core/ops/reference.h"
#include "tandem.h"

using namespace tandem;

namespace {
std::vector<int64_t> vec(const SmallVector<int64_t, 6>& s) { return {s.begin(), s.end()}; }
using V = std::vector<int64_t>;
using D = std::vector<double>;
}  // namespace

// ---- t1: row-major strides -----------------------------------------------------------------------

TEST_CASE("a1.t1: contiguous strides are row-major", "[a1.t1]") {
  // Moving one step along dim d skips the product of the sizes after d.
  CHECK(vec(contiguous_strides({2, 3, 4})) == V{12, 4, 1});
  CHECK(vec(contiguous_strides({64, 28, 28})) == V{784, 28, 1});
  CHECK(vec(contiguous_strides({5})) == V{1});
  CHECK(contiguous_strides({}).empty());  // a 0-dim tensor has no dims, so no strides
}

TEST_CASE("a1.t1: a new tensor and its transpose share one storage", "[a1.t1]") {
  const Tensor x = tensor({{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}});  // [2, 3]
  CHECK(vec(x.strides()) == V{3, 1});
  const Tensor xt = x.t();  // [3, 2], the same bytes read with swapped strides
  CHECK(vec(xt.strides()) == V{1, 3});
  CHECK(xt.storage() == x.storage());
  CHECK_FALSE(xt.is_contiguous());
  // xt.contiguous() copies into a fresh row-major [3, 2] block: strides {2, 1}.
  const Tensor c = xt.contiguous();
  CHECK(vec(c.strides()) == V{2, 1});
  CHECK(c.to_vector<float>() == std::vector<float>{1, 4, 2, 5, 3, 6});
}

// BEGIN HIDDEN TESTS
TEST_CASE("a1.t1: strides of sizes of one and of a 4-D batch", "[a1.t1][hidden]") {
  CHECK(vec(contiguous_strides({1, 1})) == V{1, 1});
  CHECK(vec(contiguous_strides({2, 1, 3})) == V{3, 3, 1});
  CHECK(vec(contiguous_strides({8, 3, 5, 7})) == V{105, 35, 7, 1});
}
// END HIDDEN TESTS

// ---- t2: broadcasting ----------------------------------------------------------------------------

TEST_CASE("a1.t2: broadcast shapes align at the last dim", "[a1.t2]") {
  CHECK(vec(broadcast_shapes({3, 1}, {1, 4}, "test")) == V{3, 4});
  CHECK(vec(broadcast_shapes({2, 3}, {3}, "test")) == V{2, 3});      // a missing dim counts as 1
  CHECK(vec(broadcast_shapes({5, 1, 4}, {3, 1}, "test")) == V{5, 3, 4});
  CHECK(vec(broadcast_shapes({}, {2, 2}, "test")) == V{2, 2});       // a scalar goes with anything
}

TEST_CASE("a1.t2: shapes that cannot broadcast raise a ShapeError naming both", "[a1.t2]") {
  CHECK_THROWS_AS(broadcast_shapes({2, 3}, {4}, "mul"), ShapeError);
  CHECK_THROWS_WITH(broadcast_shapes({2, 3}, {4}, "mul"), Catch::Contains("[2, 3]") && Catch::Contains("[4]"));
}

TEST_CASE("a1.t2: a broadcast dim reads with stride 0", "[a1.t2]") {
  // A [3, 1] tensor read as [3, 4]: the column repeats, so its stride is 0.
  CHECK(vec(broadcast_strides({3, 1}, {1, 1}, {3, 4})) == V{1, 0});
  // A [4] row read as [2, 4]: the new leading dim repeats it.
  CHECK(vec(broadcast_strides({4}, {1}, {2, 4})) == V{0, 1});
}

TEST_CASE("a1.t2: a row times a column is their outer product", "[a1.t2]") {
  const Tensor a = tensor({{3.f, 4.f, 8.f}});       // [1, 3]
  const Tensor b = tensor({{2.f}, {3.f}, {9.f}});   // [3, 1]
  const Tensor c = a * b;                           // [3, 3]: c[i][j] = b[i] * a[j]
  CHECK(vec(c.shape()) == V{3, 3});
  CHECK(c.to_vector<float>() == std::vector<float>{6, 8, 16, 9, 12, 24, 27, 36, 72});
}

// BEGIN HIDDEN TESTS
TEST_CASE("a1.t2: unknown sizes and longer ranks", "[a1.t2][hidden]") {
  CHECK(vec(broadcast_shapes({kUnknown, 3}, {1, 3}, "test")) == V{kUnknown, 3});
  CHECK(vec(broadcast_shapes({1}, {2, 1, 5}, "test")) == V{2, 1, 5});
  CHECK(vec(broadcast_strides({2, 1, 5}, {5, 5, 1}, {3, 2, 4, 5})) == V{0, 5, 0, 1});
}
// END HIDDEN TESTS

// ---- t3: a strided loop --------------------------------------------------------------------------

TEST_CASE("a1.t3: the reference matmul reads a transposed operand through its strides", "[a1.t3]") {
  const Tensor a = tensor({{1., 2.}, {3., 4.}, {5., 6.}});  // [3, 2]
  const Tensor b = tensor({{1., 0., 2.}, {0., 1., 3.}});    // [2, 3]
  // a.t() is [2, 3] with strides {1, 2}; a.t() · a.t()^T... here a.t() [2,3] · a [3,2]:
  // (aᵀa)[i][j] = Σ_p a[p][i]·a[p][j]:  [[1+9+25, 2+12+30], [2+12+30, 4+16+36]] = [[35, 44], [44, 56]]
  CHECK(reference::matmul(a.t(), a).to_vector<double>() == D{35, 44, 44, 56});
  // a · b = [[1, 2, 8], [3, 4, 18], [5, 6, 28]]
  CHECK(reference::matmul(a, b).to_vector<double>() == D{1, 2, 8, 3, 4, 18, 5, 6, 28});
}

TEST_CASE("a1.t3: a batch of products walks every batch index", "[a1.t3]") {
  // Two [1, 2] rows times one shared [2, 1] column (the batch dim broadcasts):
  const Tensor a = tensor({{{1., 2.}}, {{3., 4.}}});  // [2, 1, 2]
  const Tensor b = tensor({{10.}, {100.}});           // [2, 1]
  const Tensor c = reference::matmul(a, b);           // [2, 1, 1]: 1·10 + 2·100, 3·10 + 4·100
  CHECK(vec(c.shape()) == V{2, 1, 1});
  CHECK(c.to_vector<double>() == D{210, 430});
}

TEST_CASE("a1.t3: a slice with a step is read in place", "[a1.t3]") {
  const Tensor x = arange(12).to(kFloat64).reshape({3, 4});  // 0 .. 11
  const Tensor every_other = x.slice(1, 0, 4, 2);              // columns 0 and 2: strides {4, 2}
  CHECK(vec(every_other.strides()) == V{4, 2});
  // [[0, 2], [4, 6], [8, 10]] · [[1], [1]] = row sums [2, 10, 18]
  CHECK(reference::matmul(every_other, ones({2, 1}, kFloat64)).to_vector<double>() == D{2, 10, 18});
}

// BEGIN HIDDEN TESTS
TEST_CASE("a1.t3: the reference agrees with the fast matmul on a permuted batch", "[a1.t3][hidden]") {
  manual_seed(7);
  const Tensor a = randn({3, 5, 4}, kFloat64).permute({1, 0, 2});  // [5, 3, 4], not contiguous
  const Tensor b = randn({4, 2}, kFloat64);
  CHECK(allclose(reference::matmul(a, b), matmul(a, b), 1e-12, 1e-12));
}
// END HIDDEN TESTS

// ---- t4: reductions ------------------------------------------------------------------------------

TEST_CASE("a1.t4: sums over one dim, over all, with keepdim", "[a1.t4]") {
  const Tensor x = tensor({{1., 2., 3.}, {4., 5., 6.}});  // [2, 3]
  CHECK(reference::sum(x, {0}).to_vector<double>() == D{5, 7, 9});      // column sums
  CHECK(reference::sum(x, {1}).to_vector<double>() == D{6, 15});        // row sums
  CHECK(reference::sum(x, {}).item() == 21);                             // everything
  CHECK(vec(reference::sum(x, {1}, true).shape()) == V{2, 1});          // keepdim
  CHECK(vec(reference::sum(x, {-1}).shape()) == V{2});                  // -1: the last dim
}

TEST_CASE("a1.t4: a reduction of a transposed view follows its strides", "[a1.t4]") {
  const Tensor x = tensor({{1., 2., 3.}, {4., 5., 6.}});
  // x.t() is [[1, 4], [2, 5], [3, 6]]: its row sums are x's column sums.
  CHECK(reference::sum(x.t(), {1}).to_vector<double>() == D{5, 7, 9});
  CHECK(reference::amax(x.t(), {0}).to_vector<double>() == D{3, 6});
}

TEST_CASE("a1.t4: mean, max and variance", "[a1.t4]") {
  const Tensor x = tensor({{1., 2., 3.}, {4., 5., 9.}});
  CHECK(reference::mean(x, {1}).to_vector<double>() == D{2, 6});
  CHECK(reference::amax(x, {1}).to_vector<double>() == D{3, 9});
  CHECK(reference::amin(x, {0}).to_vector<double>() == D{1, 2, 3});
  // Row 1: mean 6, squared distances 4 + 1 + 9 = 14, divided by N - 1 = 2: 7.
  CHECK(reference::var(x, {1}).to_vector<double>() == D{1, 7});
}

// BEGIN HIDDEN TESTS
TEST_CASE("a1.t4: a 3-D reduction over two dims, and a broadcast input", "[a1.t4][hidden]") {
  const Tensor x = arange(24).to(kFloat64).reshape({2, 3, 4});
  // Over dims 0 and 2: for each j, Σ_i Σ_k (12 i + 4 j + k) = 2·4·4j + 4·(0+12) + 2·(0+1+2+3) = 32j + 60
  CHECK(reference::sum(x, {0, 2}).to_vector<double>() == D{60, 92, 124});
  // A [3] row expanded to [2, 3] (stride 0 along dim 0) sums to twice itself.
  const Tensor row = tensor({1., 2., 3.}).expand({2, 3});
  CHECK(reference::sum(row, {0}).to_vector<double>() == D{2, 4, 6});
}
// END HIDDEN TESTS
