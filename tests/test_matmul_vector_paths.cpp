// tests/test_matmul_vector_paths.cpp — the products of a batch-1 Linear layer, which matmul computes
// with plain loops instead of a GEMM (core/ops/matmul.cpp, vector_product): a row vector times a
// weight (forward), an outer product xᵀ·g (the weight's gradient) and g·Wᵀ (the input's gradient),
// for every layout each operand can have, checked exactly against sums written out here.
#include <catch2/catch.hpp>

#include <utility>
#include <vector>

#include "core/factories.h"
#include "core/ops.h"
#include "core/threads.h"

using namespace tandem;

namespace {

// Small integers in [-4, 4]: every product and partial sum is exact in float32, so any order of
// summation gives the same bits and results compare with ==.
template <typename T> Tensor ints(const Shape& shape, int seed) {
  std::vector<T> v(static_cast<size_t>(numel(shape)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<T>(static_cast<int>((i * 5 + seed * 3 + i / 7) % 9) - 4);
  return from_vector(v, shape);
}

// C[i][j] = Σ_p A[i][p] · B[p][j] for 2-D a and b, read element by element whatever their strides.
std::vector<double> reference(const Tensor& a, const Tensor& b) {
  const int64_t m = a.size(0), k = a.size(1), n = b.size(1);
  std::vector<double> c(static_cast<size_t>(m * n), 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t p = 0; p < k; ++p) c[i * n + j] += a.at({i, p}) * b.at({p, j});
  return c;
}

void check(const Tensor& a, const Tensor& b) {
  INFO("a " << shape_str(a.shape()) << " strides " << shape_str(a.strides()) << ", b "
            << shape_str(b.shape()) << " strides " << shape_str(b.strides()));
  const Tensor c = matmul(a, b);
  REQUIRE(c.shape() == Shape{a.size(0), b.size(1)});
  CHECK(c.to_vector<double>() == reference(a, b));
}

template <typename T> void all_layouts() {
  const Tensor x = ints<T>({1, 37}, 1);  // a batch of one input row
  const Tensor w = ints<T>({37, 21}, 2);  // a weight, row-major
  const Tensor g = ints<T>({1, 21}, 3);  // the gradient of the layer's output

  // Forward: row vector · row-major matrix, and · column-major matrix (a transposed weight).
  check(x, w);
  check(x, ints<T>({21, 37}, 4).t());
  // Backward to the input: g · Wᵀ (W read in place, column-major).
  check(g, w.t());
  // Backward to the weight: xᵀ · g, an outer product (k = 1); xᵀ has strides (1, 37).
  check(x.t(), g);
  // Outer products whose operands are not unit-stride: a column of a matrix, a transposed row.
  const Tensor big = ints<T>({6, 37}, 5);
  check(big.slice(1, 2, 3).slice(0, 0, 6), g.slice(1, 0, 21, 2).slice(1, 0, 6).t().t());
  check(big.select(1, 4).unsqueeze(1), w.select(1, 3).unsqueeze(0));  // strides (37, ·) and (·, 21)
  // Matrix · column vector, row-major and column-major matrix, unit and strided vector.
  check(w.t(), ints<T>({37, 1}, 6));
  check(ints<T>({37, 21}, 7).t().contiguous(), w.select(1, 5).unsqueeze(1));
  check(ints<T>({21, 37}, 8).t(), ints<T>({21, 1}, 9));
  // A row vector read through a stride (a column of a matrix, transposed to a row).
  check(big.select(1, 6).unsqueeze(1).t(), ints<T>({6, 21}, 10));
  check(big.select(1, 6).unsqueeze(1).t(), ints<T>({21, 6}, 11).t());
}

}  // namespace

TEST_CASE("matmul: batch-1 products (vector times matrix, outer products) in every layout", "[matmul]") {
  all_layouts<float>();
  all_layouts<double>();
}

TEST_CASE("matmul: dot products four at a time, and the ones left over", "[matmul]") {
  // g · Wᵀ and W · v run dot_products (core/ops/matmul.cpp): four dot products per pass, then the
  // plain loop for the last n % 4. Every count of dot products from 1 to 9, so that the four-wide
  // pass runs 0, 1 or 2 times and the plain loop 0 to 3 times; k = 1, 5 and 33 (shorter than a
  // vector register, one register and a tail, two and a tail).
  for (int64_t k : {1, 5, 33})
    for (int64_t n = 1; n <= 9; ++n) {
      check(ints<float>({1, k}, 1), ints<float>({n, k}, 2).t());         // row vector · column-major
      check(ints<double>({n, k}, 3), ints<double>({k, 1}, 4));           // row-major · column vector
    }
}

TEST_CASE("matmul: a product with a dimension of 1 but too large for the plain loops", "[matmul]") {
  // 1 x 1100 · 1100 x 1000 is over kSmallVectorProduct (2^20 multiply-adds): the library's GEMM.
  const Tensor x = ints<float>({1, 1100}, 1), w = ints<float>({1100, 1000}, 2);
  check(x, w);
}

TEST_CASE("matmul: batch-1 products big enough to share among threads give the same numbers", "[matmul]") {
  // 784 x 256 = 200,704 multiply-adds, over loops::kParallelGrain: with two threads each product
  // below is split (rows of an outer product, chunks of rows of a vector-matrix product). The
  // integers keep every sum exact, so each thread count must match the written-out sum exactly.
  const Tensor x = ints<float>({1, 784}, 1), w = ints<float>({784, 256}, 2), g = ints<float>({1, 256}, 3);
  const int before = get_num_threads();
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    INFO(threads << " threads");
    check(x, w);          // forward: row vector · row-major weight, chunks of its rows
    check(g, w.t());      // backward to the input: g · Wᵀ, one dot product per column
    check(x.t(), g);      // backward to the weight: the outer product, by rows
    check(w, g.t());      // weight · column vector, one dot product per row
  }
  set_num_threads(before);
}

TEST_CASE("matmul: a row vector times a matrix gives the same bits on one thread or two", "[matmul]") {
  // Random floats, whose sums do depend on their order: the chunks of rows that threads share are
  // fixed by the shape, not by the thread count, and their parts are added in chunk order. Shapes:
  // 25 whole chunks (the 784 x 256 layer); 18 chunks of 85 rows, the last one short; and rows
  // longer than a chunk (9000 columns), which threads share by blocks of columns instead.
  manual_seed(31);
  const int before = get_num_threads();
  for (const auto& [k, n] : std::vector<std::pair<int64_t, int64_t>>{{784, 256}, {1500, 96}, {40, 9000}}) {
    INFO(k << " x " << n);
    const Tensor x = randn({1, k}), w = randn({k, n});
    set_num_threads(1);
    const std::vector<float> one = matmul(x, w).to_vector<float>();
    set_num_threads(2);
    const std::vector<float> two = matmul(x, w).to_vector<float>();
    CHECK(one == two);
    const std::vector<double> exact = matmul(x.to(kFloat64), w.to(kFloat64)).to_vector<double>();
    for (size_t j = 0; j < exact.size(); ++j) CHECK(one[j] == Approx(exact[j]).margin(1e-3));
  }
  set_num_threads(before);
}
