// tests/test_softmax_index.cpp — softmax / log_softmax, and the indexing ops index_select,
// gather and one_hot.
//
// Expected values are worked out by hand, computed by a loop written here, or (where marked)
// taken from PyTorch 1.13 with the Python expression quoted.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "core/factories.h"
#include "core/ops.h"

using namespace tandem;

namespace {

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

// softmax / log_softmax of one list of numbers, straight from the definition, in double.
std::vector<double> ref_softmax(const std::vector<double>& x, bool log) {
  double m = x[0];
  for (double v : x) m = std::max(m, v);
  double s = 0;
  for (double v : x) s += std::exp(v - m);
  std::vector<double> out;
  for (double v : x) out.push_back(log ? (v - m) - std::log(s) : std::exp(v - m) / s);
  return out;
}

// A [rows, cols] float32 matrix of varied values in about [-6, 6].
double cell(int64_t i, int64_t j) { return 0.5 * static_cast<double>((i * 5 + j * 11) % 25) - 6.0; }
Tensor test_matrix(int64_t rows, int64_t cols) {
  std::vector<float> v;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) v.push_back(static_cast<float>(cell(i, j)));
  return from_vector(v, {rows, cols});
}

}  // namespace

// ---- softmax ---------------------------------------------------------------------------------

TEST_CASE("softmax of a row: the definition, and rows sum to 1", "[softmax]") {
  Tensor x = tensor({{0.5, -1., 2.}, {3., 3., 3.}});
  Tensor p = softmax(x, 1);
  CHECK(p.shape() == Shape{2, 3});
  CHECK(p.dtype() == kFloat32);
  const std::vector<double> r0 = ref_softmax({0.5, -1, 2}, false);
  check_values(p, {r0[0], r0[1], r0[2], 1.0 / 3, 1.0 / 3, 1.0 / 3});
  // PyTorch: torch.softmax(torch.tensor([[0.5,-1.,2.],[3.,3.,3.]]), 1)[0]
  //          -> [0.17529039084911346, 0.03911257162690163, 0.785597026348114]
  check_values(p.select(0, 0), {0.17529039084911346, 0.03911257162690163, 0.785597026348114});
  check_values(sum(p, {1}), {1, 1});
  check_values(softmax(x, -1), p.to_vector<double>(), 0);  // -1 is the last dim
}

TEST_CASE("softmax and log_softmax are stable for large inputs", "[softmax]") {
  Tensor big = tensor({1000., 1001., 1002.});
  Tensor small = tensor({0., 1., 2.});
  // Same results, bit for bit: the max is subtracted before anything is exponentiated.
  CHECK(equal(softmax(big, 0), softmax(small, 0)));
  CHECK(equal(log_softmax(big, 0), log_softmax(small, 0)));
  // PyTorch: torch.softmax(torch.tensor([1000.,1001.,1002.]), 0)
  //          -> [0.09003057330846786, 0.2447284758090973, 0.6652409434318542]
  check_values(softmax(big, 0), {0.09003057330846786, 0.2447284758090973, 0.6652409434318542});
  // PyTorch: torch.log_softmax(torch.tensor([1000.,1001.,1002.]), 0)
  //          -> [-2.4076058864593506, -1.4076058864593506, -0.40760594606399536]
  check_values(log_softmax(big, 0), {-2.4076058864593506, -1.4076058864593506, -0.40760594606399536});
  // Very negative inputs: log_softmax stays finite where log(softmax) would give -inf.
  Tensor spread = tensor({0., -200.});
  check_values(log_softmax(spread, 0), ref_softmax({0, -200}, true), 1e-4);
  CHECK(std::isinf(log(softmax(spread, 0)).to_vector<double>()[1]));  // the naive way fails
}

TEST_CASE("softmax with -inf entries (masked logits)", "[softmax]") {
  const float ninf = -std::numeric_limits<float>::infinity();
  Tensor x = from_vector(std::vector<float>{ninf, 0.f}, {2});
  // PyTorch: torch.softmax(torch.tensor([float('-inf'), 0.]), 0) -> [0., 1.];
  //          torch.log_softmax(...) -> [-inf, 0.]
  check_values(softmax(x, 0), {0, 1});
  const std::vector<double> ls = log_softmax(x, 0).to_vector<double>();
  CHECK(std::isinf(ls[0]));
  CHECK(ls[0] < 0);
  CHECK(ls[1] == 0);
  // A NaN poisons its whole row, and only its row (PyTorch: softmax([1., nan]) is [nan, nan]).
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor with_nan = from_vector(std::vector<float>{1.f, nan, 0.f, 0.f}, {2, 2});
  for (bool dim0 : {false, true}) {
    const Tensor t = dim0 ? with_nan.t() : with_nan;
    const std::vector<double> p = softmax(t, dim0 ? 0 : 1).to_vector<double>();
    const std::vector<double> lp = log_softmax(t, dim0 ? 0 : 1).to_vector<double>();
    CHECK(std::isnan(p[0]));
    CHECK(std::isnan(p[dim0 ? 2 : 1]));
    CHECK(std::isnan(lp[dim0 ? 2 : 1]));
    CHECK(p[dim0 ? 1 : 2] == Approx(0.5));
  }
}

TEST_CASE("log_softmax equals x - max - log(sum(exp(x - max)))", "[softmax]") {
  Tensor x = tensor({{0.5, -1., 2.}, {3., 3., 3.}});
  // PyTorch: torch.log_softmax(torch.tensor([[0.5,-1.,2.],[3.,3.,3.]]), 0)
  check_values(log_softmax(x, 0), {-2.578889846801758, -4.0181498527526855, -1.31326162815094,
                                   -0.07888974994421005, -0.018149960786104202, -0.31326165795326233});
  const std::vector<double> r = ref_softmax({0.5, -1, 2}, true);
  check_values(log_softmax(x, 1).select(0, 0), r);
}

TEST_CASE("softmax along any dim, on large and non-contiguous inputs, matches a loop", "[softmax]") {
  const int64_t R = 300, C = 400;  // large enough for the parallel and strip paths
  Tensor x = test_matrix(R, C);
  for (bool use_log : {false, true}) {
    auto f = [use_log](const Tensor& t, int64_t d) { return use_log ? log_softmax(t, d) : softmax(t, d); };
    // Along dim 1 (rows) and dim 0 (columns, the strided layout).
    std::vector<double> by_row, by_col(R * C);
    for (int64_t i = 0; i < R; ++i) {
      std::vector<double> row;
      for (int64_t j = 0; j < C; ++j) row.push_back(cell(i, j));
      for (double v : ref_softmax(row, use_log)) by_row.push_back(v);
    }
    for (int64_t j = 0; j < C; ++j) {
      std::vector<double> col;
      for (int64_t i = 0; i < R; ++i) col.push_back(cell(i, j));
      const std::vector<double> s = ref_softmax(col, use_log);
      for (int64_t i = 0; i < R; ++i) by_col[i * C + j] = s[i];
    }
    check_values(f(x, 1), by_row, 1e-5);
    check_values(f(x, 0), by_col, 1e-5);
    // A transposed view: softmax over its dim 1 is softmax over x's columns, transposed back.
    Tensor xt = x.t();
    REQUIRE(!xt.is_contiguous());
    check_values(f(xt, 1).t(), by_col, 1e-5);
  }
  // A middle dim of a 3-D tensor: [2, 3, 4] along dim 1.
  std::vector<float> v;
  for (int i = 0; i < 24; ++i) v.push_back(static_cast<float>((i * 7) % 5) - 2.0f);
  Tensor t = from_vector(v, {2, 3, 4});
  Tensor p = softmax(t, 1);
  for (int a = 0; a < 2; ++a)
    for (int c = 0; c < 4; ++c) {
      const std::vector<double> r =
          ref_softmax({v[a * 12 + c], v[a * 12 + 4 + c], v[a * 12 + 8 + c]}, false);
      for (int b = 0; b < 3; ++b) CHECK(p.at({a, b, c}) == Approx(r[b]).margin(1e-6));
    }
}

TEST_CASE("softmax keeps float64, accepts 0-dim and empty tensors", "[softmax]") {
  Tensor d = tensor({1., 2.}, kFloat64);
  CHECK(softmax(d, 0).dtype() == kFloat64);
  check_values(softmax(d, 0), ref_softmax({1, 2}, false), 1e-15);
  CHECK(softmax(tensor(3.), 0).item<double>() == 1);  // PyTorch: one element, probability 1
  CHECK(log_softmax(tensor(3.), 0).item<double>() == 0);
  CHECK(softmax(zeros({0, 3}), 1).shape() == Shape{0, 3});
}

TEST_CASE("softmax errors: integer input, bad dim", "[softmax]") {
  // PyTorch: torch.softmax(torch.tensor([1, 2]), 0) raises "softmax_kernel_impl" not
  // implemented for 'Long'.
  CHECK_THROWS_AS(softmax(tensor({1, 2}), 0), DTypeError);
  CHECK_THROWS_WITH(softmax(tensor({1, 2}), 0), Catch::Contains("softmax") && Catch::Contains("int64"));
  CHECK_THROWS_AS(log_softmax(tensor({true}), 0), DTypeError);
  CHECK_THROWS_AS(softmax(ones({2, 2}), 2), IndexError);
  CHECK_THROWS_WITH(log_softmax(ones({2, 2}), -3), Catch::Contains("log_softmax"));
}

// ---- index_select ------------------------------------------------------------------------------

TEST_CASE("index_select picks whole slices, in any order, with repeats", "[index]") {
  Tensor x = tensor({{1., 2., 3.}, {4., 5., 6.}, {7., 8., 9.}});
  Tensor rows = index_select(x, 0, tensor({2, 0, 2}));
  CHECK(rows.shape() == Shape{3, 3});
  check_values(rows, {7, 8, 9, 1, 2, 3, 7, 8, 9});
  Tensor cols = index_select(x, 1, tensor({1, 0}));
  CHECK(cols.shape() == Shape{3, 2});
  check_values(cols, {2, 1, 5, 4, 8, 7});
  check_values(index_select(x, -1, tensor({2})), {3, 6, 9});
  // Non-contiguous input: a transposed view.
  check_values(index_select(x.t(), 0, tensor({2, 0})), {3, 6, 9, 1, 4, 7});
  check_values(index_select(x.t(), 1, tensor({1})), {4, 5, 6});
  // Other dtypes and an empty index.
  Tensor labels = tensor({{10, 20}, {30, 40}});
  CHECK(index_select(labels, 0, tensor({1})).to_vector<int64_t>() == std::vector<int64_t>{30, 40});
  CHECK(index_select(x, 1, zeros({0}, kInt64)).shape() == Shape{3, 0});
  // PyTorch: torch.index_select(x, 0, torch.tensor(1)) has shape [1, 3] (a 0-dim index is one index).
  CHECK(index_select(x, 0, tensor(int64_t{1})).shape() == Shape{1, 3});
}

TEST_CASE("index_select as an embedding lookup on a large table matches a loop", "[index]") {
  const int64_t V = 1000, D = 64;
  std::vector<float> table;
  for (int64_t i = 0; i < V * D; ++i) table.push_back(static_cast<float>(i % 9973));
  Tensor w = from_vector(table, {V, D});
  std::vector<int64_t> ids;
  for (int64_t k = 0; k < 700; ++k) ids.push_back((k * 37) % V);
  Tensor e = index_select(w, 0, from_vector(ids, {700}));
  REQUIRE(e.shape() == Shape{700, D});
  std::vector<double> expect;
  for (int64_t id : ids)
    for (int64_t j = 0; j < D; ++j) expect.push_back(static_cast<double>((id * D + j) % 9973));
  check_values(e, expect, 0);
}

TEST_CASE("index_select errors name the bad index and the size", "[index]") {
  Tensor x = ones({3, 2});
  CHECK_THROWS_AS(index_select(x, 0, tensor({0, 5})), IndexError);
  CHECK_THROWS_WITH(index_select(x, 0, tensor({0, 5})),
                    Catch::Contains("index 5") && Catch::Contains("size 3"));
  CHECK_THROWS_AS(index_select(x, 0, tensor({-1})), IndexError);  // PyTorch rejects it too
  CHECK_THROWS_AS(index_select(x, 1, tensor({2})), IndexError);
  CHECK_THROWS_AS(index_select(x, 0, tensor({0.})), DTypeError);
  CHECK_THROWS_WITH(index_select(x, 0, tensor({0.})), Catch::Contains("int64"));
  CHECK_THROWS_AS(index_select(x, 0, tensor({{0}})), IndexError);  // must be a vector
  CHECK_THROWS_AS(index_select(x, 2, tensor({0})), IndexError);    // bad dim
}

// ---- gather ------------------------------------------------------------------------------------

TEST_CASE("gather picks one element per index", "[index]") {
  Tensor x = tensor({{1., 2.}, {3., 4.}});
  // PyTorch: torch.gather(torch.tensor([[1.,2.],[3.,4.]]), 1, torch.tensor([[0,1,1],[0,0,0]]))
  //          -> [[1., 2., 2.], [3., 3., 3.]]  (index may be longer than x along dim)
  Tensor g = gather(x, 1, tensor({{0, 1, 1}, {0, 0, 0}}));
  CHECK(g.shape() == Shape{2, 3});
  check_values(g, {1, 2, 2, 3, 3, 3});
  // PyTorch: torch.gather(x, 0, torch.tensor([[0,1],[1,0],[1,1]])) -> [[1., 4.], [3., 2.], [3., 4.]]
  check_values(gather(x, 0, tensor({{0, 1}, {1, 0}, {1, 1}})), {1, 4, 3, 2, 3, 4});
  // out[i][0] = x[i][idx[i][0]]: the classic "logit of the true class".
  Tensor logits = tensor({{0.1, 0.7, 0.2}, {0.5, 0.3, 0.2}});
  Tensor target = tensor({{1}, {0}});
  check_values(gather(logits, -1, target), {0.7, 0.5});
  // index smaller than x along the other dims; non-contiguous x.
  check_values(gather(logits, 1, tensor({{2}})), {0.2});
  check_values(gather(logits.t(), 0, tensor({{1, 0}})), {0.7, 0.5});
  CHECK(gather(tensor(5.), 0, tensor(int64_t{0})).item<double>() == 5);
}

TEST_CASE("gather on a 3-D tensor matches a loop", "[index]") {
  // x[a][b][c] = 100a + 10b + c, shape [2, 3, 4]; index along dim 1, shape [2, 5, 3].
  std::vector<float> xv;
  for (int i = 0; i < 24; ++i) xv.push_back(static_cast<float>(100 * (i / 12) + 10 * (i / 4 % 3) + i % 4));
  Tensor x = from_vector(xv, {2, 3, 4});
  std::vector<int64_t> iv;
  for (int i = 0; i < 30; ++i) iv.push_back((i * 7) % 3);
  Tensor idx = from_vector(iv, {2, 5, 3});
  Tensor g = gather(x, 1, idx);
  REQUIRE(g.shape() == Shape{2, 5, 3});
  std::vector<double> expect;
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 5; ++b)
      for (int c = 0; c < 3; ++c) expect.push_back(100 * a + 10 * iv[a * 15 + b * 3 + c] + c);
  check_values(g, expect, 0);
}

TEST_CASE("gather errors", "[index]") {
  Tensor x = tensor({{1., 2.}, {3., 4.}});
  CHECK_THROWS_AS(gather(x, 1, tensor({{0}, {5}})), IndexError);
  CHECK_THROWS_WITH(gather(x, 1, tensor({{0}, {5}})),
                    Catch::Contains("index 5 is out of bounds for dimension 1 with size 2"));
  CHECK_THROWS_AS(gather(x, 1, tensor({{0}, {-1}})), IndexError);
  CHECK_THROWS_AS(gather(x, 1, tensor({0})), ShapeError);  // rank must match
  // PyTorch: "Size does not match at dimension 1 expected index [1, 3] to be smaller than
  //           self [2, 2] apart from dimension 0"
  CHECK_THROWS_AS(gather(x, 0, tensor({{0, 1, 1}})), ShapeError);
  CHECK_THROWS_WITH(gather(x, 0, tensor({{0, 1, 1}})),
                    Catch::Contains("Size does not match at dimension 1"));
  CHECK_THROWS_AS(gather(x, 1, tensor({{0.}})), DTypeError);
  CHECK_THROWS_AS(gather(x, 2, tensor({{0}})), IndexError);
}

// ---- one_hot -----------------------------------------------------------------------------------

TEST_CASE("one_hot turns labels into indicator rows", "[index]") {
  Tensor h = one_hot(tensor({0, 2, 1}), 4);
  CHECK(h.shape() == Shape{3, 4});
  CHECK(h.dtype() == kInt64);
  CHECK(h.to_vector<int64_t>() == std::vector<int64_t>{1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0});
  // num_classes = -1: max label + 1.
  Tensor inferred = one_hot(tensor({{0, 2}, {1, 1}}));
  CHECK(inferred.shape() == Shape{2, 2, 3});
  CHECK(inferred.to_vector<int64_t>() ==
        std::vector<int64_t>{1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0});
  // Non-contiguous labels, a 0-dim label, no labels.
  Tensor lt = tensor({{0, 1}, {2, 0}}).t();  // [[0, 2], [1, 0]]
  CHECK(one_hot(lt, 3).to_vector<int64_t>() ==
        std::vector<int64_t>{1, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 0});
  CHECK(one_hot(tensor(int64_t{2}), 3).to_vector<int64_t>() == std::vector<int64_t>{0, 0, 1});
  CHECK(one_hot(zeros({0}, kInt64), 3).shape() == Shape{0, 3});
}

TEST_CASE("one_hot errors, as PyTorch's", "[index]") {
  CHECK_THROWS_WITH(one_hot(tensor({0, 2}), 2), Catch::Contains("Class values must be smaller than num_classes"));
  CHECK_THROWS_WITH(one_hot(tensor({0, -1}), 3), Catch::Contains("Class values must be non-negative"));
  CHECK_THROWS_AS(one_hot(tensor({0., 1.})), DTypeError);
  CHECK_THROWS_WITH(one_hot(tensor({0., 1.})), Catch::Contains("one_hot is only applicable to index tensor"));
  CHECK_THROWS_WITH(one_hot(zeros({0}, kInt64)), Catch::Contains("Can not infer total number of classes"));
  CHECK_THROWS_AS(one_hot(tensor({1}), -2), Error);
}

TEST_CASE("index shape rules accept unknown dims (graph mode)", "[index]") {
  Attrs a;
  a.dim = 0;
  const std::vector<Meta> sel = {{{kUnknown, 8}, kFloat32}, {{kUnknown}, kInt64}};
  CHECK(ops::index_select.shape(sel, a).shape == Shape{kUnknown, 8});
  a.dim = 1;
  const std::vector<Meta> gat = {{{kUnknown, 10}, kFloat32}, {{kUnknown, 1}, kInt64}};
  CHECK(ops::gather.shape(gat, a).shape == Shape{kUnknown, 1});
  Attrs oh;
  oh.num_classes = 10;
  const std::vector<Meta> lab = {{{kUnknown}, kInt64}};
  CHECK(ops::one_hot.shape(lab, oh).shape == Shape{kUnknown, 10});
  Attrs sm;
  sm.dim = -1;
  const std::vector<Meta> logits = {{{kUnknown, 10}, kFloat32}};
  CHECK(ops::softmax.shape(logits, sm).shape == Shape{kUnknown, 10});
}
