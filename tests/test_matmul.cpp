// tests/test_matmul.cpp — matmul against a triple loop written out here, for every rank rule of
// torch.matmul, broadcast batches, transposed and sliced operands, empty sizes, int64, and the
// errors a student meets first ("mat1 and mat2 shapes cannot be multiplied").
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

#include "core/factories.h"
#include "core/op.h"
#include "core/ops.h"
#include "core/threads.h"

using namespace tandem;

namespace {

// Small integers in [-5, 5], different for each `seed`: every product and sum of them is exact in
// float32, so results can be compared exactly, whatever order the GEMM adds them in.
std::vector<double> small_ints(int64_t n, int seed) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<double>((i * 7 + seed * 13 + i / 3) % 11 - 5);
  return v;
}

template <typename T> Tensor make(const Shape& shape, int seed) {
  const std::vector<double> v = small_ints(numel(shape), seed);
  return from_vector(std::vector<T>(v.begin(), v.end()), shape);
}

// The reference: torch.matmul's definition as plain loops, in double.
//   1. a 1-D a becomes a 1 x k row, a 1-D b a k x 1 column (that dimension is dropped at the end);
//   2. the batch dims (all but the last two) broadcast: aligned at the right, size 1 repeats;
//   3. for each batch index, C[i][j] = Σ_p A[i][p] · B[p][j].
struct Ref {
  Shape shape;
  std::vector<double> values;
};
Ref naive_matmul(const std::vector<double>& a, Shape sa, const std::vector<double>& b, Shape sb) {
  const bool drop_m = sa.size() == 1, drop_n = sb.size() == 1;
  if (drop_m) sa.insert(sa.begin(), 1);
  if (drop_n) sb.push_back(1);
  const int64_t m = sa[sa.size() - 2], k = sa.back(), n = sb.back();
  REQUIRE(sb[sb.size() - 2] == k);
  const Shape ba(sa.begin(), sa.end() - 2), bb(sb.begin(), sb.end() - 2);
  const size_t rank = std::max(ba.size(), bb.size());
  // Batch sizes of a and b, padded with leading 1s to the same rank, and the broadcast result.
  Shape pa(rank, 1), pb(rank, 1), batch(rank);
  std::copy(ba.begin(), ba.end(), pa.begin() + (rank - ba.size()));
  std::copy(bb.begin(), bb.end(), pb.begin() + (rank - bb.size()));
  int64_t batches = 1;
  for (size_t d = 0; d < rank; ++d) {
    REQUIRE((pa[d] == pb[d] || pa[d] == 1 || pb[d] == 1));
    batch[d] = std::max(pa[d], pb[d]);
    batches *= batch[d];
  }
  Ref r;
  r.values.assign(static_cast<size_t>(batches * m * n), 0.0);
  for (int64_t t = 0; t < batches; ++t) {
    // Row-major index of batch t inside a and inside b (a size-1 dim always reads index 0).
    int64_t ia = 0, ib = 0, rem = t, sa_stride = 1, sb_stride = 1;
    for (size_t d = rank; d-- > 0;) {
      const int64_t i = rem % batch[d];
      rem /= batch[d];
      ia += (pa[d] == 1 ? 0 : i) * sa_stride;
      ib += (pb[d] == 1 ? 0 : i) * sb_stride;
      sa_stride *= pa[d];
      sb_stride *= pb[d];
    }
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t p = 0; p < k; ++p) s += a[ia * m * k + i * k + p] * b[ib * k * n + p * n + j];
        r.values[t * m * n + i * n + j] = s;
      }
  }
  r.shape = batch;
  if (!drop_m) r.shape.push_back(m);
  if (!drop_n) r.shape.push_back(n);
  return r;
}

// matmul(a, b) must equal the reference computed from the *values* a and b show (whatever their
// strides), to a relative tolerance (0 means exactly).
void check_matmul(const Tensor& a, const Tensor& b, double rtol = 0.0) {
  const Ref ref = naive_matmul(a.to_vector<double>(), a.shape(), b.to_vector<double>(), b.shape());
  const Tensor c = matmul(a, b);
  INFO("a " << shape_str(a.shape()) << " strides " << shape_str(a.strides()) << ", b "
            << shape_str(b.shape()) << " strides " << shape_str(b.strides()));
  REQUIRE(c.shape() == ref.shape);
  REQUIRE(c.dtype() == a.dtype());
  REQUIRE(c.is_contiguous());
  const std::vector<double> got = c.to_vector<double>();
  REQUIRE(got.size() == ref.values.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i);
    if (rtol == 0.0) REQUIRE(got[i] == ref.values[i]);
    else REQUIRE(std::abs(got[i] - ref.values[i]) <= rtol * (1.0 + std::abs(ref.values[i])));
  }
}

template <typename T> void check_shapes(const Shape& sa, const Shape& sb) {
  check_matmul(make<T>(sa, 1), make<T>(sb, 2));
}

}  // namespace

TEST_CASE("matmul: 1-D · 1-D is a dot product giving a 0-dim tensor", "[matmul]") {
  const Tensor c = matmul(tensor({1., 2., 3.}), tensor({4., 5., 6.}));
  REQUIRE(c.dim() == 0);
  CHECK(c.item<double>() == 1 * 4 + 2 * 5 + 3 * 6);  // 32
  check_shapes<float>({13}, {13});
}

TEST_CASE("matmul: a 2x2 example worked by hand", "[matmul]") {
  // [[1, 2], [3, 4]] · [[5, 6], [7, 8]] = [[1·5+2·7, 1·6+2·8], [3·5+4·7, 3·6+4·8]]
  const Tensor c = matmul(tensor({{1., 2.}, {3., 4.}}), tensor({{5., 6.}, {7., 8.}}));
  REQUIRE(c.shape() == Shape{2, 2});
  CHECK(c.to_vector<float>() == std::vector<float>{19, 22, 43, 50});
  // The method spelling is the same op.
  CHECK(tensor({{1., 2.}}).matmul(tensor({{5.}, {7.}})).item<double>() == 19);
}

TEST_CASE("matmul: matrix · vector and vector · matrix drop the added dimension", "[matmul]") {
  // [[1, 2, 3], [4, 5, 6]] · [1, 0, -1] = [1 - 3, 4 - 6]
  const Tensor mv = matmul(tensor({{1., 2., 3.}, {4., 5., 6.}}), tensor({1., 0., -1.}));
  REQUIRE(mv.shape() == Shape{2});
  CHECK(mv.to_vector<float>() == std::vector<float>{-2, -2});
  // [1, -1] · [[1, 2, 3], [4, 5, 6]] = [1 - 4, 2 - 5, 3 - 6]
  const Tensor vm = matmul(tensor({1., -1.}), tensor({{1., 2., 3.}, {4., 5., 6.}}));
  REQUIRE(vm.shape() == Shape{3});
  CHECK(vm.to_vector<float>() == std::vector<float>{-3, -3, -3});
  check_shapes<float>({7, 13}, {13});
  check_shapes<float>({13}, {13, 5});
}

TEST_CASE("matmul: 2-D · 2-D at odd sizes", "[matmul]") {
  check_shapes<float>({1, 1}, {1, 1});
  check_shapes<float>({7, 13}, {13, 5});
  check_shapes<float>({1, 9}, {9, 4});   // a single row
  check_shapes<float>({6, 9}, {9, 1});   // a single column
  check_shapes<float>({3, 1}, {1, 4});   // an outer product
  check_shapes<float>({65, 70}, {70, 67});  // large enough for the blocked GEMM path
  check_shapes<double>({33, 17}, {17, 29});
}

TEST_CASE("matmul: batched, with broadcast batch dimensions", "[matmul]") {
  // The example of torch.matmul's documentation: [2,1,3,4] · [5,4,6] -> [2,5,3,6].
  const Tensor c = matmul(make<float>({2, 1, 3, 4}, 1), make<float>({5, 4, 6}, 2));
  CHECK(c.shape() == Shape{2, 5, 3, 6});
  check_shapes<float>({2, 1, 3, 4}, {5, 4, 6});
  check_shapes<float>({4, 3, 2}, {4, 2, 5});     // same batch
  check_shapes<float>({3, 2, 3, 4}, {4, 5});     // batch · one matrix (one tall GEMM)
  check_shapes<float>({3, 4}, {2, 3, 4, 5});     // one matrix · batch
  check_shapes<float>({5, 2, 3}, {3});           // batch · vector -> [5, 2]
  check_shapes<float>({3}, {5, 3, 2});           // vector · batch -> [5, 2]
  check_shapes<float>({1, 6, 2, 3}, {4, 1, 3, 2});
  check_shapes<float>({64, 8, 8}, {64, 8, 8});   // many small matrices: threads over the batch
  check_shapes<float>({2, 70, 80}, {2, 80, 90}); // few large ones: threads inside each GEMM
}

TEST_CASE("matmul: transposed operands are read in place, whatever their layout", "[matmul]") {
  const Tensor a = make<float>({13, 7}, 1);  // a.t() is 7 x 13 with strides (1, 7)
  const Tensor b = make<float>({5, 13}, 2);  // b.t() is 13 x 5 with strides (1, 13)
  REQUIRE(a.t().strides() == Strides{1, 7});
  check_matmul(a.t(), make<float>({13, 5}, 3));
  check_matmul(make<float>({7, 13}, 3), b.t());
  check_matmul(a.t(), b.t());
  check_matmul(make<float>({13}, 4), b.t());   // vector · transposed matrix
  check_matmul(a.t(), make<float>({13}, 4));   // transposed matrix · vector
  // Batched transposes: the last two dims swapped in one or both operands.
  const Tensor x = make<double>({3, 9, 4}, 5), y = make<double>({3, 6, 9}, 6);
  check_matmul(x.transpose(1, 2), y.transpose(1, 2));
  // A non-contiguous batch (batch dim moved) against one matrix: no tall-GEMM shortcut here.
  check_matmul(make<float>({4, 3, 5}, 7).transpose(0, 1), make<float>({5, 2}, 8));
}

TEST_CASE("matmul: sliced and expanded operands", "[matmul]") {
  const Tensor big = make<float>({10, 12}, 1);
  // Every other column: stride 2 along a row, neither row- nor column-major -> copied first.
  check_matmul(big.slice(1, 0, 12, 2), make<float>({6, 4}, 2));
  check_matmul(make<float>({3, 10}, 3), big.slice(1, 1, 12, 2));
  // A block of rows and columns: rows 12 apart but only 5 used -> read in place (padded rows).
  check_matmul(big.slice(0, 2, 9).slice(1, 3, 8), make<float>({5, 4}, 4));
  // Every other row: row stride 24 -> still in place.
  check_matmul(big.slice(0, 0, 10, 2), make<float>({12, 3}, 5));
  // Strided vectors.
  check_matmul(big.select(1, 3), make<float>({10, 2}, 6));  // a column of `big`: stride 12
  check_matmul(make<float>({2, 10}, 7), big.select(1, 5));
  // Expanded (stride 0): inside the matrix dims (copied), and along a batch dim (no copy needed).
  check_matmul(make<float>({1, 5}, 8).expand({4, 5}), make<float>({5, 3}, 9));
  check_matmul(make<float>({5, 3}, 10).expand({6, 5, 3}), make<float>({6, 3, 2}, 11));
}

TEST_CASE("matmul: empty sizes", "[matmul]") {
  const Tensor e1 = matmul(zeros({0, 3}), ones({3, 5}));
  CHECK(e1.shape() == Shape{0, 5});
  // k = 0: an empty sum, so every entry is 0 (and the output is not left uninitialised).
  const Tensor e2 = matmul(ones({2, 0}), ones({0, 3}));
  REQUIRE(e2.shape() == Shape{2, 3});
  CHECK(e2.to_vector<float>() == std::vector<float>(6, 0.f));
  const Tensor e3 = matmul(ones({2, 3, 0}), ones({0, 5}));
  REQUIRE(e3.shape() == Shape{2, 3, 5});
  CHECK(e3.to_vector<float>() == std::vector<float>(30, 0.f));
  const Tensor dot0 = matmul(ones({0}), ones({0}));
  REQUIRE(dot0.dim() == 0);
  CHECK(dot0.item<double>() == 0.0);
  CHECK(matmul(ones({0, 2, 3}), ones({3, 4})).shape() == Shape{0, 2, 4});
  CHECK(matmul(ones({2, 3}), ones({3, 0})).shape() == Shape{2, 0});
}

TEST_CASE("matmul: int64 is computed in integers, exactly", "[matmul]") {
  check_shapes<int64_t>({7, 13}, {13, 5});
  check_shapes<int64_t>({2, 1, 3, 4}, {5, 4, 6});
  check_shapes<int64_t>({13}, {13});
  // 2^53 + 1 has no exact double (or float) representation: an integer GEMM keeps it.
  const int64_t big = (int64_t{1} << 53) + 1;
  const Tensor a = from_vector<int64_t>({big, 3}, {1, 2});
  const Tensor b = from_vector<int64_t>({1, 0}, {2, 1});
  const Tensor c = matmul(a, b);
  REQUIRE(c.dtype() == kInt64);
  CHECK(c.to_vector<int64_t>() == std::vector<int64_t>{big});
}

TEST_CASE("matmul: random float32 and float64 against the double-precision loop", "[matmul]") {
  manual_seed(0);
  check_matmul(randn({37, 150}), randn({150, 41}), 1e-4);
  check_matmul(randn({3, 20, 30}, kFloat64), randn({30, 10}, kFloat64), 1e-12);
  check_matmul(randn({130, 120}, kFloat64), randn({120, 140}, kFloat64).t().t(), 1e-12);
}

TEST_CASE("matmul: the same numbers with one thread or two", "[matmul]") {
  manual_seed(1);
  const Tensor a = randn({128, 96}, kFloat64), b = randn({96, 80}, kFloat64);
  const int before = get_num_threads();
  set_num_threads(1);
  CHECK(get_num_threads() == 1);
  const Tensor one = matmul(a, b);
  set_num_threads(2);
  const Tensor two = matmul(a, b);
  set_num_threads(before);
  CHECK(allclose(one, two, 1e-12, 1e-12));
  CHECK_THROWS_AS(set_num_threads(0), Error);
}

TEST_CASE("matmul: errors name both shapes or dtypes", "[matmul]") {
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(matmul(ones({2, 3}), ones({4, 5})),
                    Contains("mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"));
  CHECK_THROWS_AS(matmul(ones({2, 3}), ones({4, 5})), ShapeError);
  CHECK_THROWS_AS(matmul(ones({3}), ones({4})), ShapeError);
  CHECK_THROWS_WITH(matmul(ones({2, 3}), ones({4})), Contains("(2x3 and 4)"));
  CHECK_THROWS_WITH(matmul(ones({2, 2, 3}), ones({2, 4, 5})), Contains("(2x2x3 and 2x4x5)"));
  // Batch dims that do not broadcast.
  CHECK_THROWS_AS(matmul(ones({2, 2, 3}), ones({3, 3, 5})), ShapeError);
  CHECK_THROWS_WITH(matmul(ones({2, 2, 3}), ones({3, 3, 5})), Contains("batch dimensions"));
  // Mixed dtypes: PyTorch refuses them too (no promotion in matmul).
  CHECK_THROWS_AS(matmul(ones({2, 3}), ones({3, 2}, kFloat64)), DTypeError);
  CHECK_THROWS_WITH(matmul(ones({2, 3}), ones({3, 2}, kFloat64)),
                    Contains("same dtype") && Contains("float32 != float64"));
  CHECK_THROWS_AS(matmul(ones({2, 3}, kInt64), ones({3, 2})), DTypeError);
  CHECK_THROWS_AS(matmul(ones({2, 3}, kBool), ones({3, 2}, kBool)), DTypeError);
  // 0-dim operands.
  CHECK_THROWS_AS(matmul(tensor(2.), ones({3})), ShapeError);
  CHECK_THROWS_WITH(matmul(tensor(2.), ones({3})),
                    Contains("both arguments to matmul need to be at least 1D, but they are 0D and 1D"));
}

TEST_CASE("matmul: the shape rule with unknown dimensions (graph mode)", "[matmul]") {
  auto rule = [](Shape a, Shape b) {
    const std::vector<Meta> in{{a, kFloat32}, {b, kFloat32}};
    return ops::matmul.shape(in, Attrs{}).shape;
  };
  CHECK(rule({kUnknown, 784}, {784, 10}) == Shape{kUnknown, 10});  // TF1's (?, 784) · (784, 10)
  CHECK(rule({2, kUnknown}, {4, 5}) == Shape{2, 5});               // checked when the data comes
  CHECK(rule({kUnknown, 2, 3}, {3, 4}) == Shape{kUnknown, 2, 4});
  CHECK(rule({kUnknown}, {kUnknown}) == Shape{});
  // Two known inner sizes that differ fail at once, with the unknown dim printed as "?".
  CHECK_THROWS_WITH(rule({kUnknown, 3}, {4, 5}),
                    Catch::Matchers::Contains("cannot be multiplied (?x3 and 4x5)"));
}
