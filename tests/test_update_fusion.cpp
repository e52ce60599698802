// tests/test_update_fusion.cpp — update fusion (graph/passes/update_fusion.cpp) and the kernel
// it calls, matmul_accumulate (core/ops/matmul.h).
//
// The pass rewrites W = AssignAdd(W, alpha · MatMul(A, B)) into one GEMM that adds into W. Checked:
//   - the kernel against matmul + add, for every operand layout and for the batch-1 rank-1 case;
//   - a training step gives the same weights with the pass on and off (to float rounding: GEMM adds
//     alpha·(A·B) in one operation where the unfused steps round three times);
//   - its effect: the weight gradients are never stored, so the step's peak memory drops below the
//     size of the largest weight gradient (hand-computed bytes);
//   - where it must not fire, or must not move the update early: a scale that is not a constant,
//     a later reader of the weight, a product that reads the weight itself.
#include <catch2/catch.hpp>

#include <string>

#include "graph/gradients.h"
#include "graph/ops.h"
#include "graph/passes.h"
#include "graph/session.h"
#include "core/ops/matmul.h"
#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;

namespace {

g::SessionOptions with_update_fusion(bool on) {
  g::SessionOptions o;  // every pass on...
  o.fuse_updates = on;  // ...but this one as asked
  return o;
}

int count_label_prefix(const g::Session& s, const std::string& prefix) {
  int n = 0;
  for (const g::Step& step : s.last_plan().steps) n += step.label.rfind(prefix, 0) == 0;
  return n;
}

// A 784-64-10 MLP with a cross-entropy loss and SGD by hand, as bench/bench_mlp_step.cpp builds it.
struct TrainStep {
  g::Graph graph;
  g::Output x, y, loss, train;
  std::vector<g::Output> params;

  explicit TrainStep(double lr) {
    g::DefaultGraph use(graph);
    manual_seed(3);
    x = g::placeholder(kFloat32, {-1, 784}, "x");
    y = g::placeholder(kInt64, {-1, 1}, "y");
    params = {g::Variable(randn({784, 64}) * 0.05, true, "w1"), g::Variable(randn({64}) * 0.1, true, "b1"),
              g::Variable(randn({64, 10}) * 0.1, true, "w2"), g::Variable(randn({10}) * 0.1, true, "b2")};
    const g::Output h = g::relu(g::matmul(x, params[0]) + params[1]);
    const g::Output z = g::matmul(h, params[2]) + params[3];
    loss = -g::mean(g::gather(g::log_softmax(z, 1), 1, y));
    const std::vector<g::Output> grads = g::gradients({loss}, params);
    std::vector<g::Output> updates;
    for (size_t k = 0; k < params.size(); ++k) updates.push_back(g::assign_sub(params[k], grads[k] * lr));
    train = g::group(updates, "train");
  }
};

}  // namespace

TEST_CASE("matmul_accumulate adds alpha times the product, for every operand layout", "[matmul][passes]") {
  manual_seed(11);
  for (const auto& [m, k, n] : {std::tuple{5, 7, 3}, {64, 1, 33}, {1, 9, 4}, {6, 5, 1}}) {
    for (int layout = 0; layout < 4; ++layout) {
      INFO("m=" << m << " k=" << k << " n=" << n << " layout=" << layout);
      // Transposed views are read in place by GEMM (BLAS's 'T' flag): all four combinations.
      const Tensor a = layout & 1 ? randn({k, m}).t() : randn({m, k});
      const Tensor b = layout & 2 ? randn({n, k}).t() : randn({k, n});
      const Tensor c0 = randn({m, n});
      const Tensor c = c0.clone();
      REQUIRE(matmul_accumulate(c, a, b, -0.25));
      CHECK(allclose(c, c0 + matmul(a, b) * -0.25, 1e-5, 1e-6));
      CHECK(c.storage()->version > 0);  // an in-place write bumps the version, as add_ does
    }
  }
}

TEST_CASE("matmul_accumulate refuses what it cannot add in place, and checks shapes", "[matmul][passes]") {
  const Tensor a = randn({3, 4}), b = randn({4, 2});
  CHECK_FALSE(matmul_accumulate(zeros({3, 2}, kFloat64), a, b, 1.0));  // dtypes differ
  CHECK_FALSE(matmul_accumulate(zeros({2, 3}).t(), a, b, 1.0));        // c not contiguous
  const Tensor square = randn({4, 4});
  CHECK_FALSE(matmul_accumulate(square, square, randn({4, 4}), 1.0));  // c is an operand
  CHECK_THROWS_AS(matmul_accumulate(zeros({3, 3}), a, b, 1.0), ShapeError);
  CHECK_THROWS_WITH(matmul_accumulate(zeros({3, 2}), a, randn({5, 2}), 1.0),
                    Catch::Contains("mat1 [3, 4] and mat2 [5, 2]"));
}

TEST_CASE("update fusion: a training step gives the same weights, without storing weight gradients",
          "[graph][passes]") {
  constexpr double kLr = 0.05;
  TrainStep net(kLr);
  g::Session fused(net.graph, with_update_fusion(true)), plain(net.graph, with_update_fusion(false));
  fused.run(g::global_variables_initializer(net.graph));
  plain.run(g::global_variables_initializer(net.graph));
  manual_seed(4);
  constexpr int64_t kBatch = 32;
  const Tensor xb = randn({kBatch, 784}), yb = randint(0, 10, {kBatch, 1});

  for (int step = 0; step < 3; ++step) {
    const Tensor l1 = fused.run({net.train, net.loss}, {{net.x, xb}, {net.y, yb}})[1];
    const Tensor l2 = plain.run({net.train, net.loss}, {{net.x, xb}, {net.y, yb}})[1];
    CHECK(l1.item() == Approx(l2.item()).epsilon(1e-5));
  }
  for (const g::Output& p : net.params) {
    INFO(p.name());
    CHECK(allclose(fused.variable_value(p), plain.variable_value(p), 1e-5, 1e-6));
  }

  // Both weights fused, both biases (a reduction, not a MatMul) left alone.
  CHECK(count_label_prefix(fused, "AssignAdd[-0.05·MatMul]") == 2);
  CHECK(count_label_prefix(plain, "AssignAdd[") == 0);
  // The largest weight gradient, w1's, is 784 x 64 floats. Unfused, the step's peak holds it; fused,
  // the peak is only activations and small gradients, below that size.
  constexpr int64_t kW1GradBytes = 784 * 64 * 4;
  CHECK(plain.last_run_stats().peak_bytes >= kW1GradBytes);
  CHECK(fused.last_run_stats().peak_bytes < kW1GradBytes);
  // Fewer kernels: the gradient GEMM, the scaling loop and the add become one GEMM, twice.
  CHECK(fused.last_run_stats().kernels_launched == plain.last_run_stats().kernels_launched - 4);
}

TEST_CASE("update fusion at batch 1: the rank-1 update path", "[graph][passes]") {
  TrainStep net(0.1);
  g::Session fused(net.graph, with_update_fusion(true)), plain(net.graph, with_update_fusion(false));
  fused.run(g::global_variables_initializer(net.graph));
  plain.run(g::global_variables_initializer(net.graph));
  manual_seed(5);
  const Tensor xb = randn({1, 784}), yb = randint(0, 10, {1, 1});
  fused.run(net.train, {{net.x, xb}, {net.y, yb}});
  plain.run(net.train, {{net.x, xb}, {net.y, yb}});
  for (const g::Output& p : net.params) CHECK(allclose(fused.variable_value(p), plain.variable_value(p), 1e-5, 1e-6));
  CHECK(count_label_prefix(fused, "AssignAdd[") == 2);
}

TEST_CASE("update fusion: GradientDescentOptimizer's step fuses like the hand-written one", "[graph][passes][optim]") {
  // train.GradientDescentOptimizer(lr).minimize(loss) applies ApplyGradientDescent(w, dw), which is
  // w += -lr · dw: the pass folds it into the weight-gradient GEMM as it does assign_sub(w, dw · lr).
  constexpr double kLr = 0.05;
  TrainStep by_hand(kLr);
  g::Output train_op;
  {
    g::DefaultGraph use(by_hand.graph);
    train_op = g::train::GradientDescentOptimizer(kLr).minimize(by_hand.loss, {}, by_hand.params);
  }
  g::Session fused(by_hand.graph, with_update_fusion(true)), plain(by_hand.graph, with_update_fusion(false));
  g::Session hand(by_hand.graph, with_update_fusion(false));
  for (g::Session* s : {&fused, &plain, &hand}) s->run(g::global_variables_initializer(by_hand.graph));
  manual_seed(8);
  const Tensor xb = randn({16, 784}), yb = randint(0, 10, {16, 1});
  for (int step = 0; step < 3; ++step) {
    const double l1 = fused.run({by_hand.loss, train_op}, {{by_hand.x, xb}, {by_hand.y, yb}})[0].item();
    const double l2 = plain.run({by_hand.loss, train_op}, {{by_hand.x, xb}, {by_hand.y, yb}})[0].item();
    const double l3 = hand.run({by_hand.loss, by_hand.train}, {{by_hand.x, xb}, {by_hand.y, yb}})[0].item();
    CHECK(l1 == Approx(l2).epsilon(1e-5));
    CHECK(l2 == Approx(l3).epsilon(1e-6));
  }
  for (const g::Output& p : by_hand.params) {
    INFO(p.name());
    CHECK(allclose(fused.variable_value(p), plain.variable_value(p), 1e-5, 1e-6));
    CHECK(allclose(plain.variable_value(p), hand.variable_value(p), 1e-6, 1e-7));
  }
  // The two weights' steps fused (alpha = -lr), the biases' left as ApplyGradientDescent.
  CHECK(count_label_prefix(fused, "AssignAdd[-0.05·MatMul]") == 2);
  CHECK(count_label_prefix(plain, "AssignAdd[") == 0);
  constexpr int64_t kW1GradBytes = 784 * 64 * 4;
  CHECK(plain.last_run_stats().peak_bytes >= kW1GradBytes);
  CHECK(fused.last_run_stats().peak_bytes < kW1GradBytes);
}

TEST_CASE("update fusion: a Linear layer's transposed weight gradient (x·Wᵀ) fuses too", "[graph][passes][layers]") {
  // nn::Linear keeps W as [out, in] and computes x·Wᵀ. The matmul rule gives the column-major Wᵀ
  // its gradient in its own layout, (Gᵀ·X)ᵀ, as eager mode does, and W's is that transposed back:
  // the pass sees through both transposes to W += -lr·Gᵀ·X, one GEMM.
  manual_seed(4);
  nn::Sequential model(nn::Linear(784, 64), nn::ReLU(), nn::Linear(64, 10));
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output x = g::placeholder(kFloat32, {-1, 784}), y = g::placeholder(kInt64, {-1});
  const g::Output loss = cross_entropy(model(x), y);
  const g::Output train = g::train::GradientDescentOptimizer(0.05).minimize(loss);
  g::Session fused(graph, with_update_fusion(true)), plain(graph, with_update_fusion(false));
  for (g::Session* s : {&fused, &plain}) s->run(g::global_variables_initializer(graph));
  const Tensor xb = randn({16, 784}), yb = randint(0, 10, {16});
  for (int step = 0; step < 3; ++step) {
    const double l1 = fused.run({loss, train}, {{x, xb}, {y, yb}})[0].item();
    const double l2 = plain.run({loss, train}, {{x, xb}, {y, yb}})[0].item();
    CHECK(l1 == Approx(l2).epsilon(1e-5));
  }
  for (const g::Output& v : model->variables(graph)) CHECK(allclose(fused.variable_value(v), plain.variable_value(v), 1e-5, 1e-6));
  CHECK(count_label_prefix(fused, "AssignAdd[-0.05·MatMul]") == 2);
  constexpr int64_t kW1GradBytes = 784 * 64 * 4;
  CHECK(plain.last_run_stats().peak_bytes >= kW1GradBytes);
  CHECK(fused.last_run_stats().peak_bytes < kW1GradBytes);  // the weight gradients were never stored
}

TEST_CASE("update fusion: a transposed product, W += alpha·(A·B)ᵀ, fuses as the GEMM Bᵀ·Aᵀ", "[graph][passes]") {
  // Written by hand (a Linear layer's gradient no longer has this form: above): the chain from
  // the MatMul to the update holds one 2-D transpose, which the fused GEMM takes as swapped,
  // transposed operands.
  manual_seed(6);
  g::Graph graph;
  g::DefaultGraph use(graph);
  const Tensor w0 = randn({5, 3}), av = randn({3, 4}), bv = randn({4, 5});
  const g::Output w = g::Variable(w0, true, "w");
  const g::Output a = g::placeholder(kFloat32, {3, 4}), b = g::placeholder(kFloat32, {4, 5});
  const g::Output update = g::assign_add(w, transpose(matmul(a, b), 0, 1) * -0.05);
  g::Session fused(graph, with_update_fusion(true)), plain(graph, with_update_fusion(false));
  for (g::Session* s : {&fused, &plain}) {
    s->run(g::global_variables_initializer(graph));
    s->run(update, {{a, av}, {b, bv}});
  }
  CHECK(count_label_prefix(fused, "AssignAdd[-0.05·MatMulᵀ]") == 1);
  CHECK(count_label_prefix(plain, "AssignAdd[") == 0);
  const Tensor want = w0 + transpose(matmul(av, bv), 0, 1) * -0.05;
  CHECK(allclose(fused.variable_value(w), want, 1e-5, 1e-6));
  CHECK(allclose(plain.variable_value(w), want, 1e-5, 1e-6));
}

TEST_CASE("eager: a transposed weight (x·Wᵀ) gets a row-major gradient, no copy", "[autograd][layers]") {
  // The matmul rule computes the gradient of a column-major operand in its own layout, (Gᵀ·X)ᵀ, so
  // the transpose's rule hands W a row-major gradient (autograd/derivatives.cpp, matmul's SPEED note).
  manual_seed(5);
  const Tensor w = randn({3, 5}).requires_grad_(), xv = randn({4, 5}), g = randn({4, 3});
  const Tensor y = matmul(xv, w.t());
  reset_peak_memory_stats();
  y.backward(g);
  const int64_t transposed_allocations = memory_stats().allocations;
  CHECK(w.grad().is_contiguous());
  CHECK(allclose(w.grad(), matmul(g.t(), xv), 1e-6, 1e-6));  // dW = Gᵀ·X
  // As many allocations as for a row-major weight (x·V): the gradient's one GEMM, no copy after it.
  const Tensor v = randn({5, 3}).requires_grad_();
  const Tensor z = matmul(xv, v);
  reset_peak_memory_stats();
  z.backward(g);
  CHECK(transposed_allocations == memory_stats().allocations);
}

TEST_CASE("a Linear layer's weight gradient: the same GEMM, and the same bits, eagerly and as a graph",
          "[autograd][graph][layers]") {
  // dW = Gᵀ·X in both modes (the matmul rule's column-major branch): a graph that computed
  // (Xᵀ·G)ᵀ instead added the same products in another order on AVX2 machines, and the main demo's
  // two ways, trained with Adam, parted after their first step.
  manual_seed(7);
  nn::Sequential model(nn::Linear(784, 64), nn::ReLU(), nn::Linear(64, 10));
  const Tensor xb = randn({16, 784}), yb = randint(0, 10, {16});
  cross_entropy(model(xb), yb).backward();
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output x = g::placeholder(kFloat32, {-1, 784}), y = g::placeholder(kInt64, {-1});
  const g::Output loss = cross_entropy(model(x), y);  // binds the model's Variables to the graph
  const std::vector<g::Output> grads = g::gradients({loss}, model->variables(graph));
  g::Session session(graph);
  session.run(g::global_variables_initializer(graph));
  const std::vector<Tensor> got = session.run(grads, {{x, xb}, {y, yb}});
  const std::vector<Tensor> params = model->parameters();
  REQUIRE(got.size() == params.size());
  for (size_t k = 0; k < params.size(); ++k) {
    INFO("parameter " << k);
    CHECK(equal(got[k], params[k].grad()));  // bit for bit
  }
  // The graph's product has W's own shape, [64, 784] (Gᵀ·X), and none has Wᵀ's, [784, 64] (Xᵀ·G).
  auto matmuls_of_shape = [&](const Shape& shape) {
    int n = 0;
    for (const auto& node : graph.nodes()) n += node->op == &ops::matmul && g::Output(node.get()).shape() == shape;
    return n;
  };
  CHECK(matmuls_of_shape({64, 784}) == 1);
  CHECK(matmuls_of_shape({784, 64}) == 0);
}

TEST_CASE("update fusion: an SGD step with weight decay is not a scaled product, and stays as it is",
          "[graph][passes][optim]") {
  // w -= lr · (dw + wd · w) is not w += alpha · MatMul: the pass fuses an SGD step only without
  // weight decay.
  g::Graph graph;
  g::DefaultGraph use(graph);
  manual_seed(9);
  const g::Output x = g::placeholder(kFloat32, {-1, 3}, "x");
  const g::Output w = g::Variable(randn({3, 2}), true, "w");
  const g::Output dw = g::gradients({g::sum(g::matmul(x, w))}, {w})[0];
  Attrs a;
  a.lr = 0.1;
  a.weight_decay = 0.01;
  const g::Output step = g::apply_update(ops::sgd_update, {w, dw}, a);
  g::Session fused(graph, with_update_fusion(true)), plain(graph, with_update_fusion(false));
  const Tensor xb = randn({4, 3});
  for (g::Session* s : {&fused, &plain}) {
    s->run(g::global_variables_initializer(graph));
    s->run(step, {{x, xb}});
  }
  CHECK(count_label_prefix(fused, "AssignAdd[") == 0);
  CHECK(equal(fused.variable_value(w), plain.variable_value(w)));
}

TEST_CASE("update fusion leaves alone what it cannot fuse", "[graph][passes]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  manual_seed(6);
  const g::Output x = g::placeholder(kFloat32, {-1, 3}, "x");
  const g::Output lr = g::placeholder(kFloat32, {}, "lr");
  const g::Output w = g::Variable(randn({3, 2}), true, "w");
  const g::Output v = g::Variable(randn({3, 2}), true, "v");
  const g::Output loss = g::sum(g::matmul(x, w) * g::matmul(x, v));
  const std::vector<g::Output> grads = g::gradients({loss}, {w, v});
  // w: scaled by a fed learning rate, not a constant: not fused. v: fused.
  const g::Output train = g::group({g::assign_sub(w, grads[0] * lr), g::assign_sub(v, grads[1] * 0.5)});
  g::Session fused(graph, with_update_fusion(true)), plain(graph, with_update_fusion(false));
  for (g::Session* s : {&fused, &plain}) {
    s->run(g::global_variables_initializer(graph));
    s->run(train, {{x, tensor({{1.f, 2.f, 3.f}, {-1.f, 0.5f, 2.f}})}, {lr, tensor(0.1, kFloat32)}});
  }
  CHECK(count_label_prefix(fused, "AssignAdd[") == 1);
  CHECK(allclose(fused.variable_value(w), plain.variable_value(w)));
  CHECK(allclose(fused.variable_value(v), plain.variable_value(v), 1e-5, 1e-6));
}

TEST_CASE("update fusion keeps the update late when a later step reads the old weight", "[graph][passes]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  manual_seed(7);
  const g::Output x = g::placeholder(kFloat32, {-1, 3}, "x");
  const g::Output w = g::Variable(randn({3, 2}), true, "w");
  const g::Output loss = g::sum(g::relu(g::matmul(x, w)));
  const g::Output grad = g::gradients({loss}, {w})[0];
  // Created after the gradient, before the update: it must see w as it was before this step.
  const g::Output norm_before = g::sum(w * w);
  const g::Output update = g::assign_sub(w, grad * 0.1);
  const Tensor xb = randn({4, 3});

  g::Session fused(graph, with_update_fusion(true)), plain(graph, with_update_fusion(false));
  std::vector<Tensor> a, b;
  for (auto [s, out] : {std::pair{&fused, &a}, {&plain, &b}}) {
    s->run(g::global_variables_initializer(graph));
    const Tensor w0 = s->variable_value(w).clone();
    *out = s->run({update, norm_before}, {{x, xb}});
    CHECK(out->at(1).item() == Approx(sum(w0 * w0).item()));  // the old weight's norm
  }
  CHECK(count_label_prefix(fused, "AssignAdd[") == 1);
  // Not moved: the fused step sits after the step that reads w, and no Identity stands in for it.
  CHECK(count_label_prefix(fused, "Identity") == 0);
  CHECK(allclose(a[0], b[0], 1e-5, 1e-6));
}

TEST_CASE("update fusion: an update whose product reads the weight itself", "[graph][passes]") {
  // w += 0.5 · (w · m): GEMM cannot add into the matrix it reads, so the kernel computes out of place.
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output w = g::Variable(tensor({{1.f, 2.f}, {3.f, 4.f}}), true, "w");
  const g::Output m = g::constant(tensor({{0.f, 1.f}, {1.f, 0.f}}));
  const g::Output step = g::assign_add(w, g::matmul(w, m) * 0.5);
  g::Session s(graph, with_update_fusion(true));
  s.run(g::global_variables_initializer(graph));
  s.run(step);
  CHECK(count_label_prefix(s, "AssignAdd[0.5·MatMul]") == 1);
  // By hand: w · m swaps the columns: [[2, 1], [4, 3]]; w + 0.5 · that = [[2, 2.5], [5, 5.5]].
  CHECK(s.variable_value(w).to_vector<float>() == std::vector<float>{2.f, 2.5f, 5.f, 5.5f});
}
