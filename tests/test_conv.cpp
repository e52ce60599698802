// tests/test_conv.cpp — conv2d and max_pool2d (core/ops/conv.cpp), in eager and graph mode.
//
// Values are checked against the definitions written out as plain loops here (a convolution is
// six nested sums; a max pool a max over each window), on odd sizes, strides and paddings.
// Gradients are covered by tests/test_gradcheck.cpp (finite differences) and
// tests/test_parity_grads.cpp (PyTorch); this file adds the error messages and graph mode.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <sstream>

#include "graph/gradients.h"
#include "graph/ops.h"
#include "graph/session.h"
#include "core/ops/conv_geometry.h"
#include "core/ops/conv_loops.h"
#include "core/ops/reference.h"
#include "core/threads.h"
#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;

namespace {

// y[n,o,ho,wo] = Σ_{c,i,j} x[n, c, ho·sh + i - ph, wo·sw + j - pw] · w[o,c,i,j], zero outside x.
std::vector<double> conv_by_loops(const Tensor& x, const Tensor& w, Pair s, Pair p) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t O = w.size(0), kh = w.size(2), kw = w.size(3);
  const int64_t Ho = (H + 2 * p[0] - kh) / s[0] + 1, Wo = (W + 2 * p[1] - kw) / s[1] + 1;
  std::vector<double> y;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t ho = 0; ho < Ho; ++ho)
        for (int64_t wo = 0; wo < Wo; ++wo) {
          double sum = 0;
          for (int64_t c = 0; c < C; ++c)
            for (int64_t i = 0; i < kh; ++i)
              for (int64_t j = 0; j < kw; ++j) {
                const int64_t h = ho * s[0] + i - p[0], ww = wo * s[1] + j - p[1];
                if (h >= 0 && h < H && ww >= 0 && ww < W) sum += x.at({n, c, h, ww}) * w.at({o, c, i, j});
              }
          y.push_back(sum);
        }
  return y;
}

std::string str(const g::Output& o) {
  std::ostringstream os;
  os << o;
  return os.str();
}

void check_close(const std::vector<double>& got, const std::vector<double>& want, double tol) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i);
    CHECK(got[i] == Approx(want[i]).margin(tol));
  }
}

}  // namespace

TEST_CASE("conv2d: a 2x2 filter worked by hand", "[conv]") {
  // w = [[1, 0], [0, -1]] computes x[h][w] - x[h+1][w+1]: on 1..9 laid out in rows that is
  // 1-5, 2-6, 4-8, 5-9 = -4 everywhere.
  const Tensor x = arange(1, 10).to(kFloat32).reshape({1, 1, 3, 3});
  const Tensor w = tensor({1.f, 0.f, 0.f, -1.f}).reshape({1, 1, 2, 2});
  const Tensor y = conv2d(x, w);
  CHECK(y.shape() == Shape{1, 1, 2, 2});
  CHECK(y.to_vector<float>() == std::vector<float>{-4, -4, -4, -4});
  // With padding 1 the window also overhangs the border (zeros there): the corners read
  // 0 - x[0][0] = -1 and x[2][2] - 0 = 9.
  const Tensor yp = conv2d(x, w, {1, 1}, {1, 1});
  CHECK(yp.shape() == Shape{1, 1, 4, 4});
  CHECK(yp.at({0, 0, 0, 0}) == -1);
  CHECK(yp.at({0, 0, 3, 3}) == 9);
}

TEST_CASE("conv2d matches the six-loop definition on odd sizes, strides and paddings", "[conv]") {
  manual_seed(21);
  struct Setup {
    Shape x, w;
    Pair stride, padding;
  };
  for (const Setup& s : {Setup{{2, 3, 7, 6}, {4, 3, 3, 3}, {1, 1}, {1, 1}},
                         Setup{{1, 2, 9, 8}, {3, 2, 5, 4}, {2, 1}, {2, 1}},
                         Setup{{3, 1, 5, 5}, {2, 1, 5, 5}, {1, 1}, {0, 0}},  // one output pixel
                         Setup{{1, 4, 8, 11}, {5, 4, 1, 1}, {3, 2}, {0, 0}}}) {
    INFO("x " << shape_str(s.x) << " w " << shape_str(s.w));
    const Tensor x = randn(s.x, kFloat64), w = randn(s.w, kFloat64);
    check_close(conv2d(x, w, s.stride, s.padding).to_vector<double>(), conv_by_loops(x, w, s.stride, s.padding),
                1e-12);
    // A non-contiguous input (a transposed view) gives the same numbers.
    const Tensor xt = x.transpose(2, 3).contiguous().transpose(2, 3);
    CHECK(allclose(conv2d(xt, w, s.stride, s.padding), conv2d(x, w, s.stride, s.padding)));
  }
  // float32, with the bias overload: conv2d(x, w, b) = conv2d(x, w) + b per output channel.
  const Tensor x = randn({2, 3, 6, 6}), w = randn({4, 3, 3, 3}), b = tensor({1.f, -2.f, 0.5f, 3.f});
  const Tensor with_bias = conv2d(x, w, b);
  check_close((with_bias - conv2d(x, w)).select(1, 1).to_vector<double>(),
              std::vector<double>(2 * 4 * 4, -2.0), 1e-5);
}

TEST_CASE("max_pool2d by hand: maxima, the first of ties gets the gradient, NaN wins", "[conv]") {
  Tensor x = tensor({{1.f, 5.f, 2.f, 2.f},  //
                     {3.f, 0.f, 2.f, 1.f},  //
                     {7.f, 7.f, -1.f, -2.f},
                     {6.f, 7.f, -3.f, -4.f}})
                 .reshape({1, 1, 4, 4})
                 .requires_grad_();
  const Tensor y = max_pool2d(x, {2, 2});
  CHECK(y.to_vector<float>() == std::vector<float>{5, 2, 7, -1});
  sum(y * tensor({1.f, 10.f, 100.f, 1000.f}).reshape({1, 1, 2, 2})).backward();
  // Window (0,1) has two 2s: the first one in row-major order takes the 10; window (1,0) has three
  // 7s: the first takes the 100 (PyTorch's rule).
  CHECK(x.grad().to_vector<float>() ==
        std::vector<float>{0, 1, 10, 0, 0, 0, 0, 0, 100, 0, 1000, 0, 0, 0, 0, 0});

  // Overlapping windows (3x3, stride 2, padding 1): an element that wins two windows collects
  // both gradients. The padding counts as -inf: a window of negatives still returns its maximum.
  const Tensor neg = tensor({-5.f, -1.f, -3.f, -2.f, -9.f, -4.f, -6.f, -8.f, -7.f}).reshape({1, 1, 3, 3});
  CHECK(max_pool2d(neg, {3, 3}, {2, 2}, {1, 1}).to_vector<float>() == std::vector<float>{-1, -1, -2, -4});

  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor with_nan = tensor({1.f, nan, 3.f, 4.f}).reshape({1, 1, 2, 2});
  CHECK(std::isnan(max_pool2d(with_nan, {2, 2}).item()));
}

TEST_CASE("conv2d and max_pool2d errors say what is wrong, as PyTorch does", "[conv][errors]") {
  const Tensor x = randn({2, 3, 8, 8}), w = randn({6, 4, 3, 3});
  CHECK_THROWS_AS(conv2d(x, w), ShapeError);
  CHECK_THROWS_WITH(conv2d(x, w), Catch::Contains("weight of size [6, 4, 3, 3], expected input[2, 3, 8, 8] "
                                                  "to have 4 channels, but got 3 channels instead"));
  CHECK_THROWS_WITH(conv2d(randn({3, 8, 8}), randn({6, 3, 3, 3})),
                    Catch::Contains("expected a 4-D input [N, C, H, W], but got a 3-D one of shape [3, 8, 8]"));
  CHECK_THROWS_WITH(conv2d(randn({1, 1, 4, 4}), randn({1, 1, 5, 5})),
                    Catch::Contains("Kernel size can't be greater than actual input size"));
  CHECK_THROWS_WITH(conv2d(x, randn({6, 3, 3, 3}), {0, 1}), Catch::Contains("stride must be positive"));
  CHECK_THROWS_AS(conv2d(x, randn({6, 3, 3, 3}, kFloat64)), DTypeError);
  CHECK_THROWS_WITH(conv2d(x, randn({6, 3, 3, 3}), tensor({1.f, 2.f})),
                    Catch::Contains("expected a bias of shape [6]"));
  CHECK_THROWS_WITH(max_pool2d(x, {2, 2}, {2, 2}, {2, 2}),
                    Catch::Contains("pad should be at most half of effective kernel size"));
  CHECK_THROWS_AS(max_pool2d(tensor({1, 2, 3, 4}).reshape({1, 1, 2, 2}), {2, 2}), DTypeError);
}

TEST_CASE("conv2d and max_pool2d in a graph: shapes with an unknown batch, same values and gradients",
          "[conv][graph]") {
  manual_seed(22);
  const Tensor xv = randn({3, 1, 12, 12}), wv = randn({4, 1, 5, 5}) * 0.3, bv = randn({4}) * 0.1;

  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output x = g::placeholder(kFloat32, {-1, 1, 12, 12}, "x");
  const g::Output w = g::Variable(wv, true, "w"), b = g::Variable(bv, true, "b");
  const g::Output conv = g::conv2d(x, w, b);
  const g::Output pooled = g::max_pool2d(g::relu(conv), {2, 2});
  CHECK(str(pooled) == "Tensor(\"MaxPool:0\", shape=(?, 4, 4, 4), dtype=float32)");
  const g::Output loss = g::sum(pooled * pooled);
  const std::vector<g::Output> grads = g::gradients({loss}, {w, b, x});
  g::Session session(graph);
  session.run(g::global_variables_initializer(graph));
  const std::vector<Tensor> out = session.run({loss, grads[0], grads[1], grads[2]}, {{x, xv}});

  // The same computation in eager mode.
  const Tensor we = wv.clone().requires_grad_(), be = bv.clone().requires_grad_(), xe = xv.clone().requires_grad_();
  const Tensor pe = max_pool2d(relu(conv2d(xe, we, be)), {2, 2});
  const Tensor le = sum(pe * pe);
  le.backward();
  CHECK(out[0].item() == Approx(le.item()).epsilon(1e-6));
  CHECK(allclose(out[1], we.grad(), 1e-5, 1e-6));
  CHECK(allclose(out[2], be.grad(), 1e-5, 1e-6));
  CHECK(allclose(out[3], xe.grad(), 1e-5, 1e-6));
}

TEST_CASE("the loops without im2col in a graph with an unknown batch: float64's values and gradients",
          "[conv][graph]") {
  // 16 -> 16 channels at stride 1 takes DirectConv (forward and input gradient), 16 -> 32 at stride 2
  // FilterConv; both weights' gradients take FilterWeightGrad. The graph runs float32 with the batch
  // unknown until the feed; the same network in eager float64 runs im2col + GEMM, the path held to
  // the six-loop definition.
  manual_seed(26);
  const Tensor xv = randn({5, 16, 14, 14}), w1v = randn({16, 16, 3, 3}) * 0.2, w2v = randn({32, 16, 3, 3}) * 0.2;
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output x = g::placeholder(kFloat32, {-1, 16, 14, 14}, "x");
  const g::Output w1 = g::Variable(w1v, true, "w1"), w2 = g::Variable(w2v, true, "w2");
  const g::Output y = g::conv2d(g::relu(g::conv2d(x, w1, {1, 1}, {1, 1})), w2, {2, 2}, {1, 1});
  CHECK(str(y) == "Tensor(\"Conv2D_1:0\", shape=(?, 32, 7, 7), dtype=float32)");
  const g::Output loss = g::sum(y * y);
  const std::vector<g::Output> grads = g::gradients({loss}, {w1, w2, x});
  g::Session session(graph);
  session.run(g::global_variables_initializer(graph));
  const std::vector<Tensor> out = session.run({loss, grads[0], grads[1], grads[2]}, {{x, xv}});

  const Tensor w1e = w1v.to(kFloat64).requires_grad_(), w2e = w2v.to(kFloat64).requires_grad_();
  const Tensor xe = xv.to(kFloat64).requires_grad_();
  const Tensor ye = conv2d(relu(conv2d(xe, w1e, {1, 1}, {1, 1})), w2e, {2, 2}, {1, 1});
  const Tensor le = sum(ye * ye);
  le.backward();
  // float32 sums of up to 4704 terms: each result within 1e-5 of the largest entry (measured: 2.3e-7).
  auto close = [](const Tensor& got, const Tensor& want) {
    return (got.to(kFloat64) - want).abs().max().item() <= 1e-5 * want.abs().max().item();
  };
  CHECK(out[0].item() == Approx(le.item()).epsilon(1e-5));
  CHECK(close(out[1], w1e.grad()));
  CHECK(close(out[2], w2e.grad()));
  CHECK(close(out[3], xe.grad()));
}

TEST_CASE("a graph conv2d whose input size is unknown is differentiated with the size read at run time",
          "[conv][graph]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output x = g::placeholder(kFloat32, {-1, 1, -1, -1}, "x");
  const g::Output w = g::Variable(randn({2, 1, 3, 3}), true, "w");
  const g::Output y = g::conv2d(x, w);
  CHECK(y.shape() == Shape{kUnknown, 2, kUnknown, kUnknown});
  // The input's gradient needs its H and W: the gradient op takes x as a third input, for its shape.
  const std::vector<g::Output> d = g::gradients({g::sum(y)}, {x, w});
  CHECK(d[0].node()->inputs.size() == 3);
  CHECK(d[0].shape() == Shape{kUnknown, 1, kUnknown, kUnknown});
  g::Session s(graph);
  s.run(g::global_variables_initializer());
  const Tensor xv = randn({2, 1, 6, 5});
  const Tensor dx = s.run(d[0], {{x, xv}});
  CHECK(dx.shape() == xv.shape());
  Tensor xe = xv.detach().requires_grad_();
  sum(conv2d(xe, s.variable_value(w))).backward();
  CHECK(allclose(dx, xe.grad(), 1e-5, 1e-6));
}

TEST_CASE("the per-element geometry of the GPU kernels rebuilds the CPU's im2col and col2im",
          "[conv][cuda-logic]") {
  // cuda/conv.cu computes one element per thread with core/ops/conv_geometry.h. Here the same
  // functions, run on the CPU, must reproduce what the CPU kernels compute with their loops.
  manual_seed(23);
  struct Setup {
    int64_t C, H, W, O, kh, kw, sh, sw, ph, pw;
  };
  for (const Setup& s : {Setup{3, 7, 6, 4, 3, 3, 1, 1, 1, 1}, Setup{2, 9, 8, 3, 5, 4, 2, 1, 2, 1},
                         Setup{1, 5, 5, 2, 2, 2, 2, 2, 0, 0}}) {
    const int64_t N = 2, Ho = (s.H + 2 * s.ph - s.kh) / s.sh + 1, Wo = (s.W + 2 * s.pw - s.kw) / s.sw + 1;
    const int64_t rows = s.C * s.kh * s.kw, plane = s.C * s.H * s.W;
    const ConvGeometry geo{s.C, s.H, s.W, s.kh, s.kw, s.sh, s.sw, s.ph, s.pw, Ho, Wo};
    const Tensor x = randn({N, s.C, s.H, s.W}, kFloat64), w = randn({s.O, s.C, s.kh, s.kw}, kFloat64);
    const std::vector<double> xv = x.to_vector<double>();

    // im2col entry by entry, then one GEMM per image: the convolution.
    std::vector<double> cols(static_cast<size_t>(N * rows * Ho * Wo));
    for (int64_t n = 0; n < N; ++n)
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t q = 0; q < Ho * Wo; ++q) {
          const int64_t e = geo.source(r, q);
          cols[(n * rows + r) * Ho * Wo + q] = e < 0 ? 0.0 : xv[n * plane + e];
        }
    const Tensor y = matmul(w.reshape({s.O, rows}), from_vector(cols, {N, rows, Ho * Wo}));
    CHECK(allclose(y.reshape({N, s.O, Ho, Wo}), conv2d(x, w, {s.sh, s.sw}, {s.ph, s.pw}), 1e-12, 1e-12));

    // col2im element by element: the input's gradient.
    const Tensor g = randn({N, s.O, Ho, Wo}, kFloat64);
    const std::vector<double> dcols = matmul(w.reshape({s.O, rows}).t(), g.reshape({N, s.O, Ho * Wo})).to_vector<double>();
    std::vector<double> dx(static_cast<size_t>(N * plane));
    for (int64_t n = 0; n < N; ++n)
      for (int64_t e = 0; e < plane; ++e) dx[n * plane + e] = geo.gather_cols(dcols.data() + n * rows * Ho * Wo, e);
    CHECK(allclose(from_vector(dx, {N, s.C, s.H, s.W}),
                   conv2d_input_grad(g, w, {s.sh, s.sw, s.ph, s.pw, s.H, s.W}), 1e-12, 1e-12));
  }
}

// The convolution kernels hand whole groups of images to threads, and the weight gradient adds the
// groups' partial sums in group order (core/ops/conv.cpp, "one image at a time"): the same bits
// whatever the number of threads. (A GEMM split among threads would round differently.)
TEST_CASE("float32 convolutions (the loops without im2col) match the six-loop definitions", "[conv]") {
  // The forward pass and the input's gradient, on shapes that take conv.cpp's loops (fast_conv,
  // fast_input_grad), with AVX-512's tiles as with AVX2's. DirectConv (stride 1, at most 25% waste):
  // 23 filters leave the last group part empty; non-square kernels and paddings; 1x1 kernels; no
  // padding; batches split across tasks. FilterConv (64 taps or more): 7x7 images, stride 2, uneven
  // strides, 30 filters, and 49 or 45 outputs that fill no whole tile.
  manual_seed(23);
  struct Setup {
    Shape x, w;
    Pair stride, padding;
  };
  for (const Setup& s : {Setup{{2, 23, 14, 12}, {23, 23, 3, 3}, {1, 1}, {1, 1}},
                         Setup{{2, 24, 9, 20}, {24, 24, 5, 3}, {1, 1}, {2, 1}},
                         Setup{{10, 24, 6, 6}, {24, 24, 1, 1}, {1, 1}, {0, 0}},
                         Setup{{1, 24, 5, 30}, {24, 24, 3, 3}, {1, 1}, {0, 0}},
                         Setup{{2, 64, 7, 7}, {64, 64, 3, 3}, {1, 1}, {1, 1}},
                         Setup{{2, 16, 14, 14}, {30, 16, 3, 3}, {2, 2}, {1, 1}},
                         Setup{{3, 8, 11, 9}, {16, 8, 3, 3}, {2, 1}, {0, 1}}}) {
    INFO("x " << shape_str(s.x) << " w " << shape_str(s.w) << " stride " << s.stride[0] << "," << s.stride[1]);
    const Tensor x = randn(s.x), w = randn(s.w);
    const Tensor y = conv2d(x, w, s.stride, s.padding);
    check_close(y.to(kFloat64).to_vector<double>(), conv_by_loops(x, w, s.stride, s.padding), 1e-4);
    const Tensor g = randn(y.shape());
    const Shape window{s.stride[0], s.stride[1], s.padding[0], s.padding[1], s.x[2], s.x[3]};
    check_close(conv2d_input_grad(g, w, window).to(kFloat64).to_vector<double>(),
                reference::conv2d_input_grad(g, w, s.stride, s.padding, {s.x[2], s.x[3]})
                    .to(kFloat64)
                    .to_vector<double>(),
                1e-4);
  }
}

TEST_CASE("float32 weight gradients (the loop without im2col) match the six-loop definition", "[conv]") {
  // These take conv.cpp's FilterWeightGrad (float32, at least 64 taps and 64 outputs per group, at
  // most 25% empty places in its tiles): 30 filters and 72 or 75 taps fill no whole tile; strides 1
  // and 2, a 1x1 kernel, uneven strides and paddings; 7x7 outputs, whose tiles sum 5 images at once
  // (9 images: groups of 8 and 1, passes of 5 and 3).
  manual_seed(25);
  struct Setup {
    Shape x, w;
    Pair stride, padding;
  };
  for (const Setup& s : {Setup{{3, 8, 13, 11}, {30, 8, 3, 3}, {1, 1}, {1, 1}},
                         Setup{{2, 8, 20, 18}, {16, 8, 3, 3}, {2, 2}, {1, 1}},
                         Setup{{3, 64, 18, 18}, {16, 64, 1, 1}, {2, 2}, {0, 0}},
                         Setup{{2, 5, 20, 9}, {32, 5, 5, 3}, {2, 1}, {2, 0}},
                         Setup{{9, 16, 7, 7}, {32, 16, 3, 3}, {1, 1}, {1, 1}}}) {
    INFO("x " << shape_str(s.x) << " w " << shape_str(s.w));
    const Tensor x = randn(s.x), w = randn(s.w);
    const Tensor g = randn(conv2d(x, w, s.stride, s.padding).shape());
    const Shape window{s.stride[0], s.stride[1], s.padding[0], s.padding[1], s.w[2], s.w[3]};
    check_close(conv2d_weight_grad(x, g, window).to(kFloat64).to_vector<double>(),
                reference::conv2d_weight_grad(x, g, s.stride, s.padding, {s.w[2], s.w[3]})
                    .to(kFloat64)
                    .to_vector<double>(),
                1e-4);
  }
}

TEST_CASE("layers of different paddings taking turns each see zeros around their images", "[conv]") {
  // conv.cpp writes a padded image's zeros once per layer and copies only the inside for each
  // image; a layer whose geometry differs (padding, size, channels) zeroes the buffer anew. Layers
  // taking turns here, in the order a network runs them: the same image size with paddings 1, 2,
  // 0 and 1 again, then a smaller image, then the first layer again; each against the six loops.
  manual_seed(29);
  struct Layer {
    Shape x, w;
    Pair padding;
  };
  const Layer a{{3, 16, 12, 12}, {16, 16, 3, 3}, {1, 1}}, b{{3, 16, 12, 12}, {16, 16, 3, 3}, {2, 2}};
  const Layer c{{3, 16, 12, 12}, {16, 16, 3, 3}, {0, 0}}, smaller{{2, 64, 7, 7}, {64, 64, 3, 3}, {1, 1}};
  for (const Layer& s : {a, b, c, a, smaller, a}) {
    INFO("x " << shape_str(s.x) << " padding " << s.padding[0]);
    const Tensor x = randn(s.x) + 5.0, w = randn(s.w);  // no zeros inside: a border not zeroed would show
    check_close(conv2d(x, w, {1, 1}, s.padding).to(kFloat64).to_vector<double>(),
                conv_by_loops(x, w, {1, 1}, s.padding), 1e-3);
    const Tensor g = randn(conv2d(x, w, {1, 1}, s.padding).shape()) + 5.0;
    const Shape window{1, 1, s.padding[0], s.padding[1], s.x[2], s.x[3]};
    check_close(conv2d_input_grad(g, w, window).to(kFloat64).to_vector<double>(),
                reference::conv2d_input_grad(g, w, {1, 1}, s.padding, {s.x[2], s.x[3]})
                    .to(kFloat64)
                    .to_vector<double>(),
                1e-3);
  }
}

TEST_CASE("the direct loop's extra outputs never reach a result: inf and NaN stay where the loops put them",
          "[conv]") {
  // The direct loop also computes windows that wrap past an image's right edge and throws them away.
  // An inf in the last column and a NaN in the first would reach such windows; the results must
  // still hold inf and NaN exactly where the definition does, and finite values everywhere else.
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  manual_seed(24);
  const Tensor x = randn({1, 23, 6, 30}), w = rand({23, 23, 3, 3}) + 0.5;  // positive weights: inf stays inf
  x.data<float>()[(0 * 6 + 2) * 30 + 29] = inf;  // [0, 0, 2, 29]
  x.data<float>()[(1 * 6 + 4) * 30 + 0] = nan;   // [0, 1, 4, 0]
  const std::vector<double> want = conv_by_loops(x, w, {1, 1}, {1, 1});
  const std::vector<double> got = conv2d(x, w, {1, 1}, {1, 1}).to(kFloat64).to_vector<double>();
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("output " << i << ": " << got[i] << ", the loops give " << want[i]);
    CHECK(std::isnan(got[i]) == std::isnan(want[i]));
    CHECK(std::isinf(got[i]) == std::isinf(want[i]));
  }
  // The same for the input's gradient, with inf and NaN in g.
  const Tensor g = randn({1, 23, 6, 30});
  g.data<float>()[(1 * 6 + 1) * 30 + 29] = inf;  // [0, 1, 1, 29]
  g.data<float>()[(2 * 6 + 5) * 30 + 0] = nan;   // [0, 2, 5, 0]
  const std::vector<double> want_dx =
      reference::conv2d_input_grad(g, w, {1, 1}, {1, 1}, {6, 30}).to(kFloat64).to_vector<double>();
  const std::vector<double> got_dx =
      conv2d_input_grad(g, w, Shape{1, 1, 1, 1, 6, 30}).to(kFloat64).to_vector<double>();
  REQUIRE(got_dx.size() == want_dx.size());
  for (size_t i = 0; i < got_dx.size(); ++i) {
    INFO("pixel " << i << ": " << got_dx[i] << ", the loops give " << want_dx[i]);
    CHECK(std::isnan(got_dx[i]) == std::isnan(want_dx[i]));
    CHECK(std::isinf(got_dx[i]) == std::isinf(want_dx[i]));
  }
}

TEST_CASE("conv2d_loops names the loop each product takes, on every build's tiles", "[conv]") {
  // Shapes whose loops do not depend on -march (the tiles' sizes): a 1-channel stem has too few taps
  // for either loop; a stride-2 input gradient has no turned convolution (W2ᵀ · g and col2im); 64
  // channels at 7x7 fill the filter loop's tiles but would waste 29% of the direct loop's work.
  auto names = [](const ConvLoops& l) {
    return std::string(l.forward) + "/" + l.input_grad + "/" + l.weight_grad;
  };
  CHECK(names(conv2d_loops(16, 1, 28, 28, {3, 3}, {1, 1}, {1, 1})) == "im2col/im2col/im2col");
  CHECK(std::string(conv2d_loops(32, 16, 28, 28, {3, 3}, {2, 2}, {1, 1}).input_grad) == "im2col");
  CHECK(names(conv2d_loops(64, 64, 7, 7, {3, 3}, {1, 1}, {1, 1})) == "filters/filters/filters");
}

TEST_CASE("conv2d and its gradients give the same bits on 1 and 2 threads", "[conv]") {
  // 37 images: a last group of 5. 5 filters of 3 channels take im2col + GEMM; 16 of 16 a loop without
  // im2col (the direct loop with AVX-512's tiles, the filter loop with AVX2's).
  const int channels = GENERATE(3, 16);
  const ConvLoops loops = conv2d_loops(channels == 3 ? 5 : 16, channels, 13, 11, {3, 3}, {1, 1}, {1, 1});
  CHECK((std::string(loops.forward) == "im2col") == (channels == 3));
  manual_seed(19);
  const Tensor x = randn({37, channels, 13, 11}), w = randn({channels == 3 ? 5 : 16, channels, 3, 3});
  const Shape in_window{1, 1, 1, 1, 13, 11}, w_window{1, 1, 1, 1, 3, 3};
  const int before = get_num_threads();  // the tests keep fixed teams (tests/fixed_threads.cpp)
  auto run = [&](int threads) {
    set_num_threads(threads);
    manual_seed(20);
    const Tensor y = conv2d(x, w, {1, 1}, {1, 1});
    const Tensor g = randn(y.shape());
    return std::vector<Tensor>{y, conv2d_input_grad(g, w, in_window), conv2d_weight_grad(x, g, w_window)};
  };
  const std::vector<Tensor> one = run(1), two = run(2);
  set_num_threads(before);
  for (size_t i = 0; i < one.size(); ++i) {
    INFO("result " << i << " (output, input gradient, weight gradient)");
    CHECK(equal(one[i], two[i]));
  }
}
