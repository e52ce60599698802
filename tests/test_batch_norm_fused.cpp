// tests/test_batch_norm_fused.cpp — batch norm's fused ops (core/ops/batch_norm.cpp) against the
// plain composite (functional::batch_norm_plain), in both modes.
//
// The plain version is the reference: mean, var, mul and add, differentiated by the sheet's rules
// for those, and checked against PyTorch by tests/test_layers_parity.cpp. Here the fused version
// must give its values and gradients — for x, weight and bias, training and evaluation, with and
// without weight and bias, for [N, C] (BatchNorm1d), [N, C, L] and [N, C, H, W], rows short and
// long (the kernels' lanes start at 128 values a row), eagerly and as a graph whose batch size is
// unknown — and the same running estimates. Then the one-pass statistics on data whose mean is
// large next to its spread, float64 gradcheck of the fused path, and a frozen graph keeping eps.
#include <catch2/catch.hpp>

#include "autograd/engine.h"
#include "autograd/gradcheck.h"
#include "io/graph_file.h"
#include "layers/functional.h"
#include "tests/two_modes.h"

using namespace tandem;
namespace F = tandem::nn::functional;
namespace g = tandem::graph;

namespace {

// One configuration: the input shape and which optional parts are there.
struct Config {
  Shape shape;
  bool training, affine;
};

// batch_norm(x, [weight, bias]) with constant running statistics (in evaluation), either version.
// Inputs: x, and with affine weight and bias.
template <bool Fused> auto bn_function(const Config& cfg, const Tensor& running_mean, const Tensor& running_var) {
  return [cfg, running_mean, running_var](const auto& in) {
    using T = std::decay_t<decltype(in[0])>;
    const T w = cfg.affine ? in[1] : T(), b = cfg.affine ? in[2] : T();
    const T rm = cfg.training ? T() : lift(running_mean, in[0]), rv = cfg.training ? T() : lift(running_var, in[0]);
    const T y = Fused ? F::batch_norm(in[0], rm, rv, w, b, cfg.training, 0.1, 1e-5)
                      : F::batch_norm_plain(in[0], rm, rv, w, b, cfg.training, 0.1, 1e-5);
    return std::vector<T>{y};
  };
}

std::vector<Tensor> inputs_for(const Config& cfg, DType dt) {
  std::vector<Tensor> in = {randn(cfg.shape, dt) * 3.0 + 1.5};
  if (cfg.affine) {
    in.push_back(randn({cfg.shape[1]}, dt) + 1.0);
    in.push_back(randn({cfg.shape[1]}, dt));
  }
  return in;
}

}  // namespace

TEST_CASE("batch norm fused: values and gradients equal the plain composite's, eager and graph (batch unknown)",
          "[batch_norm][layers]") {
  manual_seed(3);
  const std::vector<Config> configs = {
      {{8, 3, 5, 5}, true, true},   {{8, 3, 5, 5}, false, true}, {{8, 3, 5, 5}, true, false},
      {{4, 2, 16, 20}, true, true}, {{4, 2, 16, 20}, false, false},  // rows of 320: the lanes
      {{10, 4}, true, true},        {{10, 4}, false, true},          // BatchNorm1d's [N, C]
      {{5, 3, 7}, true, true},
      {{20, 8, 28, 30}, true, true},  // above loops::kParallelGrain: threads, and 3 parts of the batch
  };
  for (DType dt : {kFloat32, kFloat64}) {
    for (const Config& cfg : configs) {
      INFO(shape_str(cfg.shape) << (cfg.training ? " training" : " evaluation") << (cfg.affine ? ", affine" : "")
                                << " " << to_string(dt));
      const std::vector<Tensor> in = inputs_for(cfg, dt);
      const Tensor rm = randn({cfg.shape[1]}, dt), rv = rand({cfg.shape[1]}, dt) + 0.5;
      std::vector<int> wrt(in.size());
      for (size_t k = 0; k < in.size(); ++k) wrt[k] = static_cast<int>(k);
      const std::vector<Tensor> seeds = {randn(cfg.shape, dt)};
      const ModeResult plain = run_eagerly(bn_function<false>(cfg, rm, rv), in, seeds, wrt);
      const ModeResult fused = run_eagerly(bn_function<true>(cfg, rm, rv), in, seeds, wrt);
      const ModeResult graph = run_as_graph(bn_function<true>(cfg, rm, rv), in, seeds, wrt, g::Dims::batch_unknown);
      const double tol = dt == kFloat32 ? 2e-4 : 1e-10;
      CHECK(compare_results(fused, plain, tol, tol) == "");
      CHECK(compare_results(graph, plain, tol, tol) == "");
    }
  }
}

TEST_CASE("batch norm fused: the running estimates move as the plain version moves them, in both modes",
          "[batch_norm][layers]") {
  manual_seed(5);
  const Tensor x = randn({6, 3, 4, 4}) * 2.0 + 0.5;
  auto estimates_after_eager = [&](bool fused) {
    Tensor rm = zeros({3}), rv = ones({3}), count = zeros({}, kInt64);
    for (int step = 0; step < 2; ++step) {
      if (fused) F::batch_norm(x, rm, rv, Tensor(), Tensor(), true, 0.1, 1e-5, count);
      else F::batch_norm_plain(x, rm, rv, Tensor(), Tensor(), true, 0.1, 1e-5, count);
    }
    return std::vector<Tensor>{rm, rv, count};
  };
  const auto plain = estimates_after_eager(false), fused = estimates_after_eager(true);
  CHECK(allclose(fused[0], plain[0], 1e-5, 1e-6));
  CHECK(allclose(fused[1], plain[1], 1e-5, 1e-6));
  CHECK(fused[2].item<int64_t>() == 2);

  // Graph mode: assign nodes that the output waits for; the batch size unknown.
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output px = g::placeholder(kFloat32, {kUnknown, 3, 4, 4});
  const g::Output rm = g::Variable(zeros({3}), false, "running_mean"), rv = g::Variable(ones({3}), false, "running_var");
  const g::Output count = g::Variable(zeros({}, kInt64), false, "num_batches_tracked");
  const g::Output y = F::batch_norm(px, rm, rv, g::Output(), g::Output(), true, 0.1, 1e-5, count);
  g::Session sess(graph);
  sess.run(g::global_variables_initializer());
  for (int step = 0; step < 2; ++step) sess.run(y, {{px, x}});
  const auto got = sess.run(std::vector<g::Output>{rm, rv, count});
  CHECK(allclose(got[0], plain[0], 1e-5, 1e-6));
  CHECK(allclose(got[1], plain[1], 1e-5, 1e-6));
  CHECK(got[2].item<int64_t>() == 2);
}

TEST_CASE("batch_norm_stats: one pass of shifted sums keeps the variance of data far from zero",
          "[batch_norm]") {
  // x = 10000 + N(0, 1) in float32: E[x²] - E[x]² taken naively in float32 would keep no digit of
  // the variance; the kernel's shifted double sums must agree with the two-pass variance in double.
  manual_seed(9);
  const Tensor x = randn({16, 4, 9, 9}) + 10000.0;
  const Tensor stats = batch_norm_stats(x);
  const Tensor x64 = x.to(kFloat64);
  const Tensor mean_ref = mean(x64, {0, 2, 3}), var_ref = var(x64, {0, 2, 3}, /*correction=*/0);
  CHECK(allclose(select(stats, 0, 0).to(kFloat64), mean_ref, 1e-7, 0.0));
  CHECK(allclose(select(stats, 0, 1).to(kFloat64), var_ref, 1e-5, 0.0));
  // A constant channel has variance exactly 0 (the shift is its value), never a negative one.
  const Tensor flat = full({3, 2, 5}, 7.25);
  CHECK(allclose(select(batch_norm_stats(flat), 0, 1), zeros({2}), 0.0, 0.0));
}

TEST_CASE("batch norm fused: float64 gradcheck, training and evaluation, eager and graph", "[batch_norm][gradcheck]") {
  manual_seed(13);
  auto leaf = [](Tensor t) { return t.requires_grad_(); };
  const Tensor x = leaf(randn({5, 3, 4, 3}, kFloat64)), w = leaf(randn({3}, kFloat64)), b = leaf(randn({3}, kFloat64));
  const Tensor rm = randn({3}, kFloat64), rv = rand({3}, kFloat64) + 0.5;
  autograd::GradcheckOptions opts;
  opts.require_nonzero = true;
  for (bool training : {true, false}) {
    INFO((training ? "training" : "evaluation"));
    auto f = [training, rm, rv](const auto& in) {
      using T = std::decay_t<decltype(in[0])>;
      const T y = F::batch_norm(in[0], training ? T() : lift(rm, in[0]), training ? T() : lift(rv, in[0]), in[1],
                                in[2], training);
      return std::vector<T>{y * y};  // a non-linear loss, so that every term of the rule matters
    };
    {  // the layer's function really runs the fused ops (on the CPU)
      const Tensor y = f(std::vector<Tensor>{x, w, b})[0];
      REQUIRE(y.grad_fn());
      REQUIRE(!y.grad_fn()->next.empty());
      CHECK(y.grad_fn()->next[0].node->op == (training ? &ops::batch_norm_train : &ops::batch_norm_eval));
    }
    const auto eager = autograd::gradcheck([&](const std::vector<Tensor>& in) { return f(in); }, {x, w, b}, opts);
    INFO(eager.message);
    CHECK(eager.ok);
    const auto graph = g::gradcheck([&](const std::vector<g::Output>& in) { return f(in); }, {x, w, b}, opts,
                                    g::Dims::batch_unknown);
    INFO(graph.message);
    CHECK(graph.ok);
  }
}

TEST_CASE("batch norm fused: errors name the op and the shapes", "[batch_norm]") {
  const Tensor x = randn({4, 3, 2, 2});
  CHECK_THROWS_WITH(batch_norm_stats(randn({4})), Catch::Contains("at least 2 dimensions"));
  CHECK_THROWS_WITH(batch_norm_eval(x, zeros({2, 3}), ones({4}), zeros({3}), 1e-5),
                    Catch::Contains("batch_norm_eval: expected a weight of shape [3]"));
  CHECK_THROWS_WITH(batch_norm_train(x, zeros({2, 3}, kFloat64), ones({3}), zeros({3}), 1e-5),
                    Catch::Contains("expected stats of dtype float32"));
}

TEST_CASE("batch norm fused: a frozen evaluation graph keeps its eps through the graph file", "[batch_norm][io]") {
  manual_seed(17);
  const Tensor xv = randn({2, 3, 2, 2});
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output x = g::placeholder(kFloat32, {kUnknown, 3, 2, 2}, "x");
  const g::Output rm = g::Variable(zeros({3})), rv = g::Variable(ones({3}));
  const g::Output y = F::batch_norm(x, rm, rv, g::Output(), g::Output(), false, 0.1, /*eps=*/0.5);
  g::Session sess(graph);
  sess.run(g::global_variables_initializer());
  const io::FrozenGraph loaded = io::parse_graph(io::serialize_graph(io::freeze(sess, {y})));
  g::Session again(*loaded.graph);
  const Tensor got = again.run(loaded.outputs[0], {{loaded.input("x"), xv}});
  CHECK(allclose(got, xv / std::sqrt(1.5), 1e-6, 1e-6));  // (x - 0) / √(1 + 0.5)
}
