// tests/test_autograd.cpp — the eager tape: requires_grad, backward, accumulation, the walk's order,
// retain_graph, no_grad, detach, in-place checks, autograd::grad, higher order, anomaly mode.
// Expected gradients are derived by hand in the comments.
#include <catch2/catch.hpp>

#include <cmath>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "tandem.h"

using namespace tandem;

namespace {
std::vector<double> vals(const Tensor& t) { return t.to_vector<double>(); }
}  // namespace

TEST_CASE("leaves, grad_fn names and is_leaf", "[autograd]") {
  Tensor w = tensor({1., 2., 3.}).requires_grad_();
  Tensor x = tensor({4., 5., 6.});
  CHECK(w.requires_grad());
  CHECK(w.is_leaf());
  CHECK_FALSE(x.requires_grad());
  Tensor y = w * x;
  CHECK(y.requires_grad());
  CHECK_FALSE(y.is_leaf());
  REQUIRE(y.grad_fn());
  CHECK(y.grad_fn()->name() == "MulBackward0");
  CHECK(sum(y).grad_fn()->name() == "SumBackward0");
  CHECK(log_softmax(w, 0).grad_fn()->name() == "LogSoftmaxBackward0");
  CHECK_FALSE((x * x).requires_grad());      // no input requires grad: nothing recorded
  CHECK_FALSE((w > x).requires_grad());      // comparisons are not differentiable
  CHECK_FALSE(argmax(w).requires_grad());
}

TEST_CASE("backward of a product: d(sum(w*x))/dw = x", "[autograd]") {
  Tensor w = tensor({1., 2., 3.}).requires_grad_();
  Tensor x = tensor({4., 5., 6.});
  sum(w * x).backward();
  CHECK(vals(w.grad()) == std::vector<double>{4, 5, 6});
  CHECK_FALSE(x.grad().defined());
}

TEST_CASE("the diamond: b = a + a, c = b + b gives dc/da = 4", "[autograd]") {
  Tensor a = tensor(3.).requires_grad_();
  Tensor b = a + a;
  Tensor c = b + b;
  c.backward();
  CHECK(a.grad().item() == 4.0);
  // A diamond with a nonlinearity: y = x*x + x*x*x at x = 2: dy/dx = 2x + 3x² = 16.
  Tensor x = tensor(2.).requires_grad_();
  Tensor sq = x * x;
  (sq + sq * x).backward();
  CHECK(x.grad().item() == 16.0);
}

TEST_CASE("gradients accumulate across backward calls until reset", "[autograd]") {
  Tensor w = tensor({1., -1.}).requires_grad_();
  sum(w * 3).backward();
  sum(w * 3).backward();
  CHECK(vals(w.grad()) == std::vector<double>{6, 6});
  w.set_grad(Tensor());  // like `w.grad = None`
  sum(w * 2).backward();
  CHECK(vals(w.grad()) == std::vector<double>{2, 2});
}

TEST_CASE("broadcast inputs receive gradients summed to their shape", "[autograd][broadcast]") {
  Tensor x = ones({4, 3});
  Tensor b = tensor({1., 2., 3.}).requires_grad_();  // a bias, broadcast over 4 rows
  sum(x * b + b).backward();
  CHECK(vals(b.grad()) == std::vector<double>{8, 8, 8});  // 4 rows x (x + 1) = 4 x 2
}

TEST_CASE("a deep chain of 10^5 ops neither overflows the stack forward, backward nor on teardown",
          "[autograd]") {
  Tensor x = tensor(1.).requires_grad_();
  Tensor y = x;
  for (int i = 0; i < 100000; ++i) y = y * 1.0;
  y.backward();
  CHECK(x.grad().item() == 1.0);
  y = Tensor();  // the tape is freed here, iteratively
  CHECK(x.grad().item() == 1.0);
}

TEST_CASE("non-scalar backward needs an explicit gradient", "[autograd][errors]") {
  Tensor w = tensor({1., 2.}).requires_grad_();
  Tensor y = w * 2;
  REQUIRE_THROWS_WITH(y.backward(), Catch::Contains("grad can be implicitly created only for scalar outputs"));
  y.backward(tensor({1., 10.}));
  CHECK(vals(w.grad()) == std::vector<double>{2, 20});
  REQUIRE_THROWS_WITH(tensor(1.).backward(), Catch::Contains("does not require grad and does not have a grad_fn"));
}

TEST_CASE("a second backward through freed buffers is an error unless retain_graph", "[autograd][errors]") {
  Tensor w = tensor({1., 2.}).requires_grad_();
  Tensor loss = sum(w * w);
  loss.backward(Tensor(), /*retain_graph=*/true);
  loss.backward();  // the first kept the saved values
  CHECK(vals(w.grad()) == std::vector<double>{4, 8});
  REQUIRE_THROWS_WITH(loss.backward(), Catch::Contains("Trying to backward through the graph a second time") &&
                                           Catch::Contains("retain_graph=true"));
}

TEST_CASE("no_grad records nothing, detach cuts the history but shares storage", "[autograd]") {
  Tensor w = tensor({1., 2.}).requires_grad_();
  {
    no_grad guard;
    Tensor y = w * 2;
    CHECK_FALSE(y.requires_grad());
    CHECK_FALSE(y.grad_fn());
  }
  CHECK(autograd::is_grad_enabled());
  Tensor d = (w * 2).detach();
  CHECK_FALSE(d.requires_grad());
  Tensor y = w * 2;
  Tensor yd = y.detach();
  CHECK(yd.storage() == y.storage());
  // Through detach, no gradient flows: d(sum(w * detach(w)))/dw = detach(w) = w.
  sum(w * w.detach()).backward();
  CHECK(vals(w.grad()) == std::vector<double>{1, 2});
}

TEST_CASE("in-place ops: version counter and PyTorch's two errors", "[autograd][inplace]") {
  Tensor w = tensor({1., 2.}).requires_grad_();
  REQUIRE_THROWS_WITH(w.add_(ones({2})), Catch::Contains("a leaf Variable that requires grad is being used in an in-place operation"));
  {
    no_grad guard;  // how an optimizer updates a weight
    const uint64_t v = w.version();
    w.sub_(tensor({0.5, 0.5}));
    CHECK(w.version() == v + 1);
  }
  CHECK(vals(w) == std::vector<double>{0.5, 1.5});

  // A value saved for backward (x, by mul) is modified before backward: error names the op.
  Tensor x = tensor({1., 2.});
  Tensor y = w * x;
  x.mul_(2);
  REQUIRE_THROWS_WITH(sum(y).backward(),
                      Catch::Contains("modified by an inplace operation") && Catch::Contains("MulBackward0") &&
                          Catch::Contains("is at version 1; expected version 0 instead"));

  // In-place on a non-leaf continues the history: z = (w*3).add_(1), dz/dw = 3.
  w.set_grad(Tensor());
  Tensor z = w * 3;
  z.add_(ones({2}));
  CHECK(z.grad_fn()->name() == "AddBackward0");
  sum(z).backward();
  CHECK(vals(w.grad()) == std::vector<double>{3, 3});
  REQUIRE_THROWS_WITH(zeros({2}).add_(zeros({3, 2})), Catch::Contains("doesn't match the broadcast shape [3, 2]"));
  REQUIRE_THROWS_WITH(zeros({2}).add_(zeros({3})), Catch::Contains("cannot be broadcast"));
}

TEST_CASE("in-place ops without autograd: add_ with alpha, mul_, copy_, zero_ on a view", "[inplace]") {
  Tensor t = zeros({2, 3});
  t.add_(tensor({1., 2., 3.}), 2);  // broadcast over rows
  CHECK(vals(t) == std::vector<double>{2, 4, 6, 2, 4, 6});
  t.mul_(0.5);
  CHECK(vals(t) == std::vector<double>{1, 2, 3, 1, 2, 3});
  t.select(0, 1).zero_();  // writes through the view
  CHECK(vals(t) == std::vector<double>{1, 2, 3, 0, 0, 0});
  t.t().copy_(ones({3, 2}) * 7);
  CHECK(vals(t) == std::vector<double>(6, 7.0));
  t.fill_(-1);
  CHECK(vals(t) == std::vector<double>(6, -1.0));
}

TEST_CASE("retain_grad keeps the gradient of a non-leaf", "[autograd]") {
  Tensor w = tensor({1., 2.}).requires_grad_();
  Tensor h = w * 3;
  h.retain_grad();
  sum(h * h).backward();
  CHECK(vals(h.grad()) == std::vector<double>{6, 12});   // 2h
  CHECK(vals(w.grad()) == std::vector<double>{18, 36});  // 2h * 3
  REQUIRE_THROWS_WITH(h.requires_grad_(false), Catch::Contains("only change requires_grad flags of leaf"));
  REQUIRE_THROWS_WITH(tensor({1, 2}).requires_grad_(), Catch::Contains("only Tensors of floating point dtype"));
}

TEST_CASE("autograd::grad returns gradients without touching .grad", "[autograd]") {
  Tensor x = tensor({1., 2., 3.}).requires_grad_();
  Tensor h = x * x;  // a non-leaf input too
  Tensor y = sum(h * x);  // sum(x³)
  auto g = autograd::grad({y}, {x, h}, {}, /*retain_graph=*/true);
  CHECK(vals(g[0]) == std::vector<double>{3, 12, 27});  // 3x²
  CHECK(vals(g[1]) == std::vector<double>{1, 2, 3});    // dy/dh = x
  CHECK_FALSE(x.grad().defined());
  Tensor unused = tensor(1.).requires_grad_();
  REQUIRE_THROWS_WITH(autograd::grad({y}, {unused}, {}, true), Catch::Contains("allow_unused"));
  auto g2 = autograd::grad({y}, {unused}, {}, true, false, /*allow_unused=*/true);
  CHECK_FALSE(g2[0].defined());
}

TEST_CASE("create_graph gives higher-order derivatives", "[autograd]") {
  // y = x³ at x = 2: y' = 3x² = 12, y'' = 6x = 12, y''' = 6.
  Tensor x = tensor(2., kFloat64).requires_grad_();
  Tensor y = x * x * x;
  Tensor d1 = autograd::grad({y}, {x}, {}, true, /*create_graph=*/true)[0];
  CHECK(d1.item() == 12.0);
  Tensor d2 = autograd::grad({d1}, {x}, {}, true, true)[0];
  CHECK(d2.item() == 12.0);
  Tensor d3 = autograd::grad({d2}, {x}, {}, true, true)[0];
  CHECK(d3.item() == 6.0);
  // Through saved outputs too: d²/dx² tanh(x) = -2 tanh(x) (1 - tanh²(x)).
  Tensor t = tensor(0.5, kFloat64).requires_grad_();
  Tensor g1 = autograd::grad({tanh(t)}, {t}, {}, true, true)[0];
  Tensor g2 = autograd::grad({g1}, {t}, {}, true, false)[0];
  const double th = std::tanh(0.5);
  CHECK(g2.item() == Approx(-2 * th * (1 - th * th)).epsilon(1e-12));
}

TEST_CASE("anomaly mode names the op that produced NaN and where it was created", "[autograd][anomaly]") {
  Tensor x = tensor({0., 1.}).requires_grad_();
  Tensor y = sum(sqrt(x) * 0);  // d sqrt(x)/dx at 0 is inf; times 0 gives NaN
  CHECK_NOTHROW(y.backward());  // without anomaly mode, NaN flows silently
  CHECK(std::isnan(x.grad().at({0})));
  autograd::set_detect_anomaly(true);
  Tensor y2 = sum(sqrt(x) * 0);
  CHECK_THROWS_WITH(y2.backward(), Catch::Contains("SqrtBackward0") && Catch::Contains("returned nan values") &&
                                      Catch::Contains("tests/test_autograd.cpp:") &&
                                      Catch::Contains("Its derivative, dx = g/(2y), turned a gradient without NaN"));
  autograd::set_detect_anomaly(false);
}

TEST_CASE("a rule that asks for an input its row does not save gets a clear error", "[autograd]") {
  // add's row saves no inputs, mul's saves both. Asking add's Node for an input names the rule's
  // row; after backward has released the Node it is PyTorch's "second time" error.
  const Tensor a = tensor({1.0f, 2.0f}).requires_grad_(), b = tensor({3.0f, 4.0f}).requires_grad_();
  const Tensor sum = a + b, product = a * b;
  autograd::Node& add_node = *sum.grad_fn();
  autograd::Node& mul_node = *product.grad_fn();

  const autograd::EagerContext add_ctx(add_node, ones_like(sum), false);
  CHECK_THROWS_WITH(add_ctx.input(0), Catch::Contains("asked for input 0") && Catch::Contains("does not save"));
  const autograd::EagerContext mul_ctx(mul_node, ones_like(product), false);
  CHECK(mul_ctx.input(1).to_vector<float>() == std::vector<float>{3.0f, 4.0f});

  add_node.release();
  CHECK_THROWS_WITH(add_ctx.input(0), Catch::Contains("backward through the graph a second time"));
}
