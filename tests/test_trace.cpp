// tests/test_trace.cpp — tracing a function written once into a graph: what it keeps, what it misses.
#include <catch2/catch.hpp>

#include "graph/control_flow.h"
#include "graph/trace.h"
#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;

namespace {
// Written once, over the tensor type: eager on Tensors, nodes on graph Outputs.
template <class T> T model(const T& x) { return relu(x * 2.0f) - 1.0f; }

// A C++ `if` on a value: fine eagerly, impossible on a placeholder.
template <class T> T branchy(const T& x) {
  if (x.sum().template item<double>() > 0) return x * 2.0f;
  return -x;
}
}  // namespace

TEST_CASE("trace runs a function once on placeholders and gives a graph that runs like it", "[trace]") {
  g::TracedFunction f = g::trace([](const auto& x) { return model(x); }, {g::TensorSpec{kFloat32, {-1, 3}}});
  const Tensor batch = tensor({{1.0f, -2.0f, 0.5f}, {0.0f, 3.0f, -1.0f}});
  CHECK(allclose(f(batch), model(batch)));
  CHECK(allclose(f(batch.slice(0, 0, 1)), model(batch.slice(0, 0, 1))));  // any batch size: the dim is ?
  CHECK(f.outputs()[0].shape() == Shape{-1, 3});
  // Several inputs and outputs, specs taken from example tensors (torch.jit.trace's way).
  g::TracedFunction two = g::trace(
      [](const std::vector<g::Output>& in) { return std::vector<g::Output>{in[0] + in[1], in[0] * in[1]}; },
      std::vector<Tensor>{ones({2}), ones({2})});
  const std::vector<Tensor> out = two.run({tensor({1.0f, 2.0f}), tensor({3.0f, 4.0f})});
  CHECK(allclose(out[0], tensor({4.0f, 6.0f})));
  CHECK(allclose(out[1], tensor({3.0f, 8.0f})));
  CHECK_THROWS_WITH(two.run({ones({2})}), Catch::Contains("traced with 2 inputs"));
}

TEST_CASE("tracing misses what the C++ did: loops unrolled, values baked in, side effects once", "[trace]") {
  int calls = 0;
  float scale = 3.0f;
  auto fn = [&](const auto& x) {
    ++calls;  // a side effect: runs while tracing only
    auto y = x;
    for (int i = 0; i < 3; ++i) y = y * scale;  // unrolled into three Mul nodes
    return y;
  };
  g::TracedFunction f = g::trace(fn, {g::TensorSpec{kFloat32, {}}});
  int muls = 0;
  for (const auto& n : f.graph().nodes()) muls += n->type == "Mul";
  CHECK(muls == 3);
  scale = 10.0f;  // the traced graph holds 3 as a constant: the change is not seen
  CHECK(f(tensor(1.0f)).item<float>() == 27.0f);
  CHECK(f(tensor(2.0f)).item<float>() == 54.0f);
  CHECK(calls == 1);
}

TEST_CASE("a C++ branch on a value cannot be traced: the error says to use cond", "[trace]") {
  CHECK(allclose(branchy(tensor({1.0f, 2.0f})), tensor({2.0f, 4.0f})));  // eager: fine
  CHECK_THROWS_WITH(g::trace([](const auto& x) { return branchy(x); }, {g::TensorSpec{kFloat32, {2}}}),
                    Catch::Contains("item()") && Catch::Contains("no value while the graph is being built") &&
                        Catch::Contains("graph::cond") && Catch::Contains("while_loop"));
  // Written with cond, the branch is part of the graph and is decided on each run.
  g::TracedFunction f = g::trace(
      [](const g::Output& x) { return g::cond(x.sum() > 0.0f, [&] { return x * 2.0f; }, [&] { return -x; }); },
      {g::TensorSpec{kFloat32, {2}}});
  CHECK(allclose(f(tensor({1.0f, 2.0f})), tensor({2.0f, 4.0f})));
  CHECK(allclose(f(tensor({-1.0f, -2.0f})), tensor({1.0f, 2.0f})));
}
