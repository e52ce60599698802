// tests/test_reference.cpp — the fast kernels against the plain loops of core/ops/reference.h.
//
// The references are first checked on inputs small enough to work out by hand (so that a wrong
// formula cannot pass by agreeing with a wrong kernel), then every fast kernel — matmul (2-D and
// batched), the reductions, conv2d and its two gradients, max_pool2d and its gradient — meets its
// reference on random inputs of awkward sizes: primes, sizes of 1, sizes past the thread grain and
// the GEMM's blocks, and non-contiguous layouts (transposed, sliced with a step, broadcast with
// stride 0, channels-last). float32 is compared with a tolerance for its rounding; float64 nearly
// exactly.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/ops/reference.h"
#include "tandem.h"

using namespace tandem;
namespace ref = tandem::reference;

namespace {

// float32 results differ from the double reference by rounding: a few units in the last place of
// each partial sum, so relative to the size of the numbers involved (a long sum of terms of both
// signs can end near zero while its rounding error stays that of its terms); float64 ones only
// in the last bits. A wrong index or a missed term is off by the size of a term, far beyond both.
void check_matches(const Tensor& fast, const Tensor& want, const char* what) {
  INFO(what << ": fast " << shape_str(fast.shape()) << " " << to_string(fast.dtype())
            << ", reference " << shape_str(want.shape()) << " " << to_string(want.dtype()));
  REQUIRE(fast.shape() == want.shape());
  REQUIRE(fast.dtype() == want.dtype());
  const bool single = fast.dtype() == kFloat32;
  const double scale = want.numel() == 0 ? 1.0 : std::max(1.0, amax(want.abs(), {}).item());
  const double rtol = single ? 2e-5 : 1e-11, atol = (single ? 4e-6 : 1e-12) * scale;
  if (!allclose(fast, want, rtol, atol)) {
    const Tensor diff = (fast.to(kFloat64) - want.to(kFloat64)).abs();
    INFO("largest difference " << amax(diff, {}).item() << " at flat index "
                               << argmax(diff).item<int64_t>());
    CHECK(false);
  }
}

// A random tensor of `shape` seen through each of the layouts a kernel must handle. The values are
// the same in every layout: only the strides change.
std::vector<std::pair<const char*, Tensor>> layouts(const Shape& shape, DType dtype) {
  const Tensor x = randn(shape, dtype);
  std::vector<std::pair<const char*, Tensor>> out{{"contiguous", x}};
  const int64_t r = x.dim();
  if (r >= 2) {
    // transposed storage: the same values stored with the last two dims swapped, then viewed back
    out.emplace_back("transposed", x.transpose(r - 2, r - 1).contiguous().transpose(r - 2, r - 1));
  }
  // every other element of a twice-as-long last dim
  Shape wide = shape;
  if (r >= 1) {
    wide[r - 1] *= 2;
    Tensor big = zeros(wide, dtype);
    Tensor view = big.slice(r - 1, 0, wide[r - 1], 2);
    view.copy_(x);
    out.emplace_back("sliced with step 2", view);
  }
  return out;
}

}  // namespace

// ---- the references themselves, by hand ---------------------------------------------------------

TEST_CASE("reference kernels agree with hand-worked examples", "[reference]") {
  // [[1, 2], [3, 4]] · [[5, 6], [7, 8]] = [[1·5 + 2·7, 1·6 + 2·8], [3·5 + 4·7, 3·6 + 4·8]]
  CHECK(equal(ref::matmul(tensor({{1., 2.}, {3., 4.}}), tensor({{5., 6.}, {7., 8.}})),
              tensor({{19., 22.}, {43., 50.}})));
  const Tensor x = tensor({{1., 5., 3.}, {4., 2., 6.}});
  CHECK(equal(ref::sum(x, {0}), tensor({5., 7., 9.})));
  CHECK(equal(ref::sum(x, {1}, true), tensor({{9.}, {12.}})));
  CHECK(equal(ref::mean(x, {}), tensor(3.5)));
  CHECK(equal(ref::amax(x, {1}), tensor({5., 6.})));
  CHECK(equal(ref::amin(x, {0}), tensor({1., 2., 3.})));
  CHECK(equal(ref::argmax(x, 1), tensor({int64_t{1}, int64_t{2}})));
  CHECK(equal(ref::argmax(tensor({2., 7., 7.}), 0), tensor(int64_t{1})));  // ties: the first
  // var({1, 5, 3}) = ((1-3)² + (5-3)² + 0) / (3 - 1) = 4;  with correction 0: 8 / 3
  CHECK(ref::var(x, {1}).at({0}) == Approx(4.0));
  CHECK(ref::var(x, {1}, 0).at({0}) == Approx(8.0 / 3.0));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK(std::isnan(ref::amax(tensor({1., nan, 3.}), {}).item()));
  CHECK(ref::argmax(tensor({1., nan, 9., nan}), 0).item<int64_t>() == 1);  // the first NaN

  // A 3x3 image of 1..9, a 2x2 filter of ones, stride 1, padding 1: each output is the sum of the
  // pixels under the window; the corner windows see one pixel and three zeros of padding.
  const Tensor img = arange(1, 10).to(kFloat64).reshape({1, 1, 3, 3});
  const Tensor ones22 = ones({1, 1, 2, 2}, kFloat64);
  const Tensor y = ref::conv2d(img, ones22, {1, 1}, {1, 1});
  REQUIRE(y.shape() == Shape{1, 1, 4, 4});
  CHECK(y.at({0, 0, 0, 0}) == 1.0);              // pixel 1 alone
  CHECK(y.at({0, 0, 1, 1}) == 1.0 + 2 + 4 + 5);  // a full window
  CHECK(y.at({0, 0, 3, 3}) == 9.0);              // pixel 9 alone
  // The input gradient of a sum of outputs counts how many windows cover each pixel: 4 each here.
  CHECK(equal(ref::conv2d_input_grad(ones({1, 1, 4, 4}, kFloat64), ones22, {1, 1}, {1, 1}, {3, 3}),
              full({1, 1, 3, 3}, 4.0, kFloat64)));
  // The weight gradient of that sum: each tap sees every pixel once (45 = 1 + ... + 9).
  CHECK(equal(ref::conv2d_weight_grad(img, ones({1, 1, 4, 4}, kFloat64), {1, 1}, {1, 1}, {2, 2}),
              full({1, 1, 2, 2}, 45.0, kFloat64)));
  // Max pool 2x2, stride 2 of 1..16 in a 4x4 image: the bottom-right pixel of each window.
  const Tensor img4 = arange(1, 17).to(kFloat64).reshape({1, 1, 4, 4});
  CHECK(equal(ref::max_pool2d(img4, {2, 2}, {0, 0}), tensor({{{{6., 8.}, {14., 16.}}}}, kFloat64)));
  const Tensor dx = ref::max_pool2d_backward(ones({1, 1, 2, 2}, kFloat64), img4, {2, 2}, {0, 0});
  CHECK(dx.sum().item() == 4.0);
  CHECK(dx.at({0, 0, 1, 1}) == 1.0);
  CHECK(dx.at({0, 0, 0, 0}) == 0.0);
}

// ---- matmul -------------------------------------------------------------------------------------

TEST_CASE("matmul matches its reference: 2-D, every layout, sizes around the fast paths",
          "[reference][matmul]") {
  manual_seed(11);
  // {m, k, n}: 1s (the vector-product paths), primes, and one past Eigen's and OpenBLAS's blocks.
  const std::vector<std::array<int64_t, 3>> sizes{
      {1, 1, 1}, {7, 13, 5}, {1, 300, 257}, {65, 33, 1}, {1, 17, 1}, {67, 130, 71}, {3, 1, 4}};
  for (DType dtype : {kFloat32, kFloat64})
    for (const auto& [m, k, n] : sizes)
      for (const auto& [la, a] : layouts({m, k}, dtype))
        for (const auto& [lb, b] : layouts({k, n}, dtype)) {
          INFO(m << "x" << k << " · " << k << "x" << n << ", a " << la << ", b " << lb);
          check_matches(matmul(a, b), ref::matmul(a, b), "matmul");
        }
}

TEST_CASE("batched matmul matches its reference, with broadcast batch dims",
          "[reference][matmul]") {
  manual_seed(12);
  const std::vector<std::pair<Shape, Shape>> cases{
      {{3, 5, 7}, {3, 7, 4}},     // one product per batch entry
      {{2, 1, 5, 6}, {3, 6, 4}},  // batch dims broadcast: [2, 1] with [3] gives [2, 3]
      {{4, 5, 6}, {6, 3}},        // a 2-D right operand shared by the batch (Linear on a sequence)
      {{1, 9, 2}, {5, 2, 11}},    // a size-1 batch on the left
  };
  for (DType dtype : {kFloat32, kFloat64})
    for (const auto& [sa, sb] : cases)
      for (const auto& [la, a] : layouts(sa, dtype))
        for (const auto& [lb, b] : layouts(sb, dtype)) {
          INFO(shape_str(sa) << " · " << shape_str(sb) << ", a " << la << ", b " << lb);
          check_matches(matmul(a, b), ref::matmul(a, b), "batched matmul");
        }
  // A batch broadcast by stride 0: the same matrix seen 4 times without a copy.
  const Tensor w = randn({1, 6, 3}).expand({4, 6, 3});
  const Tensor x = randn({4, 5, 6});
  check_matches(matmul(x, w), ref::matmul(x, w), "stride-0 batch");
}

// ---- reductions ---------------------------------------------------------------------------------

TEST_CASE("reductions match their references over every set of dims and every layout",
          "[reference][reduce]") {
  manual_seed(13);
  const std::vector<std::vector<int64_t>> dim_sets{{},     {0},    {1},    {2},      {-1},
                                                   {0, 2}, {1, 2}, {0, 1}, {0, 1, 2}};
  for (DType dtype : {kFloat32, kFloat64}) {
    auto inputs = layouts({5, 7, 6}, dtype);
    inputs.emplace_back("permuted", randn({6, 5, 7}, dtype).permute({1, 2, 0}));
    inputs.emplace_back("broadcast (stride 0)", randn({5, 1, 6}, dtype).expand({5, 7, 6}));
    for (const auto& [layout, x] : inputs)
      for (const auto& dims : dim_sets)
        for (bool keepdim : {false, true}) {
          INFO(layout << " " << to_string(dtype) << ", dims " << shape_str(Shape(dims))
                      << ", keepdim " << keepdim);
          check_matches(sum(x, dims, keepdim), ref::sum(x, dims, keepdim), "sum");
          check_matches(mean(x, dims, keepdim), ref::mean(x, dims, keepdim), "mean");
          check_matches(amax(x, dims, keepdim), ref::amax(x, dims, keepdim), "amax");
          check_matches(amin(x, dims, keepdim), ref::amin(x, dims, keepdim), "amin");
          check_matches(var(x, dims, 1, keepdim), ref::var(x, dims, 1, keepdim), "var");
          check_matches(var(x, dims, 0, keepdim), ref::var(x, dims, 0, keepdim),
                        "var, correction 0");
        }
  }
}

TEST_CASE("argmax matches its reference, ties and NaNs included", "[reference][reduce]") {
  manual_seed(14);
  // Values from {0, 1, 2}: most rows have ties, and the first of equal maxima must win.
  const Tensor ties = randint(0, 3, {6, 5, 7}).to(kFloat32);
  Tensor with_nan = randn({6, 5, 7});
  with_nan.narrow(2, 3, 1).narrow(0, 1, 2).fill_(NAN);
  for (const Tensor& x : {ties, ties.permute({2, 0, 1}), with_nan, with_nan.slice(1, 0, 5, 2)})
    for (int64_t dim = 0; dim < 3; ++dim)
      for (bool keepdim : {false, true}) {
        INFO("shape " << shape_str(x.shape()) << ", dim " << dim << ", keepdim " << keepdim);
        CHECK(equal(argmax(x, dim, keepdim), ref::argmax(x, dim, keepdim)));
      }
  // amax / amin propagate the NaN, like the reference.
  for (int64_t dim = 0; dim < 3; ++dim) {
    const Tensor fast = amax(with_nan, {dim}), want = ref::amax(with_nan, {dim});
    CHECK(equal(ne(fast, fast), ne(want, want)));  // NaN is the one value unequal to itself
    CHECK(allclose(where(ne(fast, fast), zeros_like(fast), fast),
                   where(ne(want, want), zeros_like(want), want)));
  }
}

TEST_CASE("reductions past the thread grain match their references", "[reference][reduce]") {
  manual_seed(15);
  // 300 x 701 = 210300 elements > 2^17: the fast kernels split these among threads.
  const Tensor x = randn({300, 701}), xt = randn({701, 300}).t();
  for (const Tensor& t : {x, xt})
    for (const std::vector<int64_t>& dims : {std::vector<int64_t>{}, {0}, {1}}) {
      INFO("dims " << shape_str(Shape(dims)) << (t.is_contiguous() ? "" : ", transposed"));
      check_matches(sum(t, dims), ref::sum(t, dims), "sum");
      check_matches(amax(t, dims), ref::amax(t, dims), "amax");
      check_matches(var(t, dims), ref::var(t, dims), "var");
    }
  CHECK(equal(argmax(x, 1), ref::argmax(x, 1)));
  CHECK(equal(argmax(xt, 0), ref::argmax(xt, 0)));
}

// ---- conv2d and its gradients -------------------------------------------------------------------

namespace {

struct ConvCase {
  int64_t N, C, H, W, O, kh, kw;
  Pair stride, padding;
};

// An [N, C, H, W] batch stored channels-last ([N, H, W, C] in memory), as images often are: a
// permuted view whose channel stride is 1.
Tensor channels_last(const Shape& nchw, DType dtype) {
  return randn({nchw[0], nchw[2], nchw[3], nchw[1]}, dtype).permute({0, 3, 1, 2});
}

}  // namespace

TEST_CASE("conv2d and both its gradients match their references, with stride and padding",
          "[reference][conv]") {
  manual_seed(16);
  const std::vector<ConvCase> cases{
      {2, 3, 11, 9, 4, 3, 5, {2, 3}, {1, 2}},   // everything odd and unequal
      {1, 1, 5, 5, 1, 5, 5, {1, 1}, {0, 0}},    // the kernel covers the whole image: one output
      {3, 2, 8, 13, 5, 2, 2, {3, 1}, {0, 1}},   // stride that skips rows
      {2, 4, 7, 7, 3, 3, 3, {1, 1}, {1, 1}},    // "same" padding
      {8, 3, 28, 28, 6, 5, 5, {1, 1}, {2, 2}},  // large enough that im2col splits images among
                                                // threads
  };
  for (DType dtype : {kFloat32, kFloat64})
    for (const ConvCase& c : cases) {
      INFO("x [" << c.N << ", " << c.C << ", " << c.H << ", " << c.W << "], w [" << c.O << ", "
                 << c.C << ", " << c.kh << ", " << c.kw << "], stride " << c.stride[0] << ","
                 << c.stride[1] << ", padding " << c.padding[0] << "," << c.padding[1] << ", "
                 << to_string(dtype));
      const Tensor x = randn({c.N, c.C, c.H, c.W}, dtype),
                   x_cl = channels_last({c.N, c.C, c.H, c.W}, dtype);
      const Tensor w = randn({c.O, c.C, c.kh, c.kw}, dtype);
      const Tensor w_t =
          randn({c.C, c.O, c.kh, c.kw}, dtype).transpose(0, 1);  // a non-contiguous weight
      const Tensor y = ref::conv2d(x, w, c.stride, c.padding);
      check_matches(conv2d(x, w, c.stride, c.padding), y, "conv2d");
      check_matches(conv2d(x_cl, w_t, c.stride, c.padding),
                    ref::conv2d(x_cl, w_t, c.stride, c.padding),
                    "conv2d, channels-last input and transposed weight");

      const int64_t Ho = y.size(2), Wo = y.size(3);
      const Tensor g = randn({c.N, c.O, Ho, Wo}, dtype),
                   g_nc = channels_last({c.N, c.O, Ho, Wo}, dtype);
      const Shape in_window{c.stride[0], c.stride[1], c.padding[0], c.padding[1], c.H, c.W};
      const Shape w_window{c.stride[0], c.stride[1], c.padding[0], c.padding[1], c.kh, c.kw};
      for (const Tensor& gg : {g, g_nc}) {
        check_matches(conv2d_input_grad(gg, w, in_window),
                      ref::conv2d_input_grad(gg, w, c.stride, c.padding, {c.H, c.W}),
                      "conv2d_input_grad");
        check_matches(conv2d_input_grad(gg, w_t, in_window),
                      ref::conv2d_input_grad(gg, w_t, c.stride, c.padding, {c.H, c.W}),
                      "conv2d_input_grad, w_t");
        check_matches(conv2d_weight_grad(x, gg, w_window),
                      ref::conv2d_weight_grad(x, gg, c.stride, c.padding, {c.kh, c.kw}),
                      "conv2d_weight_grad");
        check_matches(conv2d_weight_grad(x_cl, gg, w_window),
                      ref::conv2d_weight_grad(x_cl, gg, c.stride, c.padding, {c.kh, c.kw}),
                      "conv2d_weight_grad, channels-last input");
      }
    }
}

// ---- max pooling --------------------------------------------------------------------------------

TEST_CASE("max_pool2d and its gradient match their references, ties and padding included",
          "[reference][conv]") {
  manual_seed(17);
  struct PoolCase {
    Shape x;
    Pair kernel, stride, padding;
  };
  const std::vector<PoolCase> cases{
      {{2, 3, 8, 8}, {2, 2}, {0, 0}, {0, 0}},      // the ConvNet's pool: stride = kernel
      {{1, 2, 9, 7}, {3, 2}, {2, 1}, {1, 1}},      // overlapping windows over the padding
      {{2, 1, 5, 6}, {3, 3}, {1, 1}, {1, 1}},      // every pixel under up to 9 windows
      {{16, 10, 24, 24}, {2, 2}, {0, 0}, {0, 0}},  // enough windows to split planes among threads
      {{1, 2, 6, 150}, {2, 2}, {0, 0}, {0, 0}},     // rows of 75 windows: more than one run of 64
      {{1, 1, 7, 140}, {3, 3}, {2, 2}, {1, 1}},     // long rows with padding at both ends
      {{1, 1, 4, 9}, {2, 5}, {1, 1}, {0, 2}},       // only the middle column of windows is inside
  };
  for (DType dtype : {kFloat32, kFloat64})
    for (const PoolCase& c : cases) {
      INFO("x " << shape_str(c.x) << ", kernel " << c.kernel[0] << "x" << c.kernel[1] << ", stride "
                << c.stride[0] << "," << c.stride[1] << ", padding " << c.padding[0] << ","
                << c.padding[1]);
      // Small integers: many windows hold equal maxima, and the first one must win.
      const Tensor ties = randint(-3, 3, c.x).to(dtype);
      const Tensor x_cl = channels_last(c.x, dtype);
      for (const Tensor& x : {ties, x_cl, ties.transpose(2, 3).contiguous().transpose(2, 3)}) {
        const Tensor y = ref::max_pool2d(x, c.kernel, c.stride, c.padding);
        check_matches(max_pool2d(x, c.kernel, c.stride, c.padding), y, "max_pool2d");
        const Pair s = c.stride[0] == 0 ? c.kernel : c.stride;
        const Tensor g = randn(y.shape(), dtype);
        check_matches(max_pool2d_backward(
                          g, x, {c.kernel[0], c.kernel[1], s[0], s[1], c.padding[0], c.padding[1]}),
                      ref::max_pool2d_backward(g, x, c.kernel, c.stride, c.padding),
                      "max_pool2d_backward");
      }
    }
}

// A NaN must win its window, and the first NaN of a window win over a later one, in the fast
// kernel's windows inside the image (conv.cpp's interior_winners) as in those over the padding.
TEST_CASE("max_pool2d sends the gradient to the first NaN of a window, as the reference does",
          "[reference][conv]") {
  manual_seed(18);
  const Shape shape{2, 3, 9, 70};
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (DType dtype : {kFloat32, kFloat64}) {
    std::vector<double> values = randn(shape, kFloat64).to_vector<double>();
    for (size_t i = 0; i < values.size(); i += 7) values[i] = nan;  // about two NaNs in a 4x4 window
    const Tensor x = from_vector(values, shape).to(dtype);
    for (const auto& [kernel, stride, padding] : {std::tuple{Pair{2, 2}, Pair{0, 0}, Pair{0, 0}},
                                                   std::tuple{Pair{4, 4}, Pair{1, 1}, Pair{2, 2}},
                                                   std::tuple{Pair{3, 2}, Pair{2, 1}, Pair{1, 0}}}) {
      INFO("kernel " << kernel[0] << "x" << kernel[1] << ", " << to_string(dtype));
      const Tensor y = max_pool2d(x, kernel, stride, padding), want = ref::max_pool2d(x, kernel, stride, padding);
      REQUIRE(y.shape() == want.shape());
      const std::vector<double> got_v = y.to(kFloat64).to_vector<double>(),
                                want_v = want.to(kFloat64).to_vector<double>();
      for (size_t i = 0; i < got_v.size(); ++i)
        CHECK((std::isnan(got_v[i]) ? std::isnan(want_v[i]) : got_v[i] == want_v[i]));
      const Pair s = stride[0] == 0 ? kernel : stride;
      const Tensor g = randn(y.shape(), dtype);
      check_matches(max_pool2d_backward(g, x, {kernel[0], kernel[1], s[0], s[1], padding[0], padding[1]}),
                    ref::max_pool2d_backward(g, x, kernel, stride, padding), "max_pool2d_backward with NaNs");
    }
  }
}

TEST_CASE("the references refuse what their formulas cannot index", "[reference]") {
  const Tensor img = zeros({1, 2, 5, 5}), w = zeros({3, 2, 3, 3});
  CHECK_THROWS_AS(ref::conv2d(zeros({2, 5, 5}), w), ShapeError);       // not [N, C, H, W]
  CHECK_THROWS_AS(ref::conv2d(img, zeros({3, 4, 3, 3})), ShapeError);  // 2 channels meet 4
  CHECK_THROWS_AS(ref::conv2d(img, zeros({3, 2, 7, 7})), ShapeError);  // the window does not fit
  CHECK_THROWS_AS(ref::conv2d_input_grad(zeros({1, 4, 3, 3}), w, {1, 1}, {0, 0}, {5, 5}),
                  ShapeError);
  CHECK_THROWS_AS(ref::conv2d_weight_grad(img, zeros({2, 3, 3, 3}), {1, 1}, {0, 0}, {3, 3}),
                  ShapeError);
  CHECK_THROWS_AS(ref::max_pool2d_backward(zeros({1, 2, 4, 4}), img, {2, 2}, {0, 0}), ShapeError);
  CHECK_THROWS_AS(ref::matmul(zeros({3}), zeros({3, 2})), ShapeError);  // 1-D: use the fast kernel
  CHECK_THROWS_AS(ref::matmul(zeros({2, 3}), zeros({4, 2})), ShapeError);
  CHECK_THROWS_AS(ref::sum(zeros({2, 3}, kInt64), {}), DTypeError);  // floating only
}
