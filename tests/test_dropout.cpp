// tests/test_dropout.cpp — rand_like as an op, and dropout built on it (core/ops/random.cpp,
// layers/dropout_ops.h), in eager and graph mode.
#include <catch2/catch.hpp>

#include "graph/gradients.h"
#include "graph/ops.h"
#include "graph/session.h"
#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;

TEST_CASE("dropout zeroes about p of the elements and scales the rest by 1/(1-p)", "[dropout]") {
  manual_seed(31);
  const Tensor x = ones({100, 100}).requires_grad_();
  const Tensor y = dropout(x, 0.25);
  const std::vector<float> v = y.to_vector<float>();
  int64_t zeros = 0;
  bool only_two_values = true;
  for (float e : v) {
    zeros += e == 0.0f;
    only_two_values = only_two_values && (e == 0.0f || e == Approx(1.0 / 0.75));
  }
  CHECK(only_two_values);
  // 10,000 draws with p = 0.25: the count of zeros is 2500 ± 43 (one standard deviation); 5σ here.
  CHECK(std::abs(zeros - 2500) < 5 * 43);
  // The gradient is the mask over (1 - p): y itself, for x = 1.
  sum(y).backward();
  CHECK(allclose(x.grad(), y.detach()));

  CHECK(dropout(x, 0.25, /*training=*/false).impl_ptr() == x.impl_ptr());  // the identity
  CHECK(sum(dropout(x, 1.0)).item() == 0.0);
  CHECK_THROWS_WITH(dropout(x, 1.5), Catch::Contains("dropout probability has to be between 0 and 1, but got 1.5"));
}

TEST_CASE("dropout2d drops whole channels", "[dropout]") {
  manual_seed(32);
  const Tensor y = dropout2d(ones({4, 8, 3, 3}), 0.5);
  int dropped = 0;
  for (int64_t n = 0; n < 4; ++n)
    for (int64_t c = 0; c < 8; ++c) {
      const Tensor plane = y.select(0, n).select(0, c);
      const double lo = amin(plane, {0, 1}).item(), hi = amax(plane, {0, 1}).item();
      CHECK(lo == hi);  // one draw per (n, c): the plane is all 0 or all 2
      CHECK((hi == 0.0 || hi == 2.0));
      dropped += hi == 0.0;
    }
  CHECK(dropped > 0);
  CHECK(dropped < 32);
  CHECK_THROWS_AS(dropout2d(ones({4, 8}), 0.5), ShapeError);
}

TEST_CASE("in a graph, dropout draws a new mask on every run, and two dropouts differ", "[dropout][graph]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output x = g::placeholder(kFloat32, {-1, 64}, "x");
  const g::Output a = g::dropout(x, 0.5), b = g::dropout(x, 0.5);
  // A dropout of a constant is not folded into a constant either.
  const g::Output c = g::dropout(g::constant(ones({64})), 0.5);
  g::Session s(graph);  // every pass on: folding and CSE must both leave the draws alone
  const Tensor xv = ones({2, 64});
  const std::vector<Tensor> r1 = s.run({a, b, c}, {{x, xv}});
  const std::vector<Tensor> r2 = s.run({a, b, c}, {{x, xv}});
  CHECK_FALSE(equal(r1[0], r1[1]));  // two dropout nodes: two masks
  CHECK_FALSE(equal(r1[0], r2[0]));  // one node, two runs: two masks
  CHECK_FALSE(equal(r1[2], r2[2]));

  // Same seed, same draws: a graph run and an eager call give the same mask.
  manual_seed(33);
  const Tensor from_graph = s.run(a, {{x, xv}});
  manual_seed(33);
  CHECK(equal(from_graph, dropout(xv, 0.5)));

  // Its gradient is the mask over (1 - p), through the ordinary rules of the ops it is made of.
  const g::Output dx = g::gradients({g::sum(a)}, {x})[0];
  const std::vector<Tensor> both = s.run({a, dx}, {{x, xv}});
  CHECK(equal(both[0], both[1]));  // x = 1: y = mask/(1-p) = dy/dx
}
