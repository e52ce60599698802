// tests/test_graph_constant.cpp — g::constant holds a copy of its tensor, as tf.constant does.
//
// A graph is built now and run later. If a constant shared the eager tensor's memory, an in-place
// change made between the two (t.add_(1), an optimizer step on a tensor that was also baked into
// a graph) would silently change what the graph computes.
#include <catch2/catch.hpp>

#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;

TEST_CASE("g::constant copies its tensor: later in-place changes do not reach the graph",
          "[graph]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  Tensor t = tensor({1.f, 2.f, 3.f});
  g::Output c = g::constant(t);
  g::Output twice = c + c;
  t.add_(tensor({10.f, 10.f, 10.f}));  // after the graph was built, before it runs
  t.mul_(tensor(0.f)).add_(tensor(7.f));
  g::Session session(graph);
  CHECK(equal(session.run(c), tensor({1.f, 2.f, 3.f})));
  CHECK(equal(session.run(twice), tensor({2.f, 4.f, 6.f})));
  CHECK(equal(t, tensor({7.f, 7.f, 7.f})));  // the eager tensor did change
  // A view is copied as what it shows (contiguous), not as the storage behind it.
  Tensor m = tensor({{1.f, 2.f}, {3.f, 4.f}});
  g::Output ct = g::constant(m.t());
  m.fill_(0.f);
  CHECK(equal(session.run(ct), tensor({{1.f, 3.f}, {2.f, 4.f}})));
}
