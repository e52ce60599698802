// tests/test_layers_ops.cpp — the functions of layers/functional.h and layers/losses.h: gradients
// checked by finite differences in both modes, numerics at the edges, and error messages.
//
// Each function is a composite of catalogue ops, so its derivative is the derivative sheet's —
// which is exactly why it must be checked: a composite can still be wrong where the ops it is made
// of have kinks (clamp on its bounds, leaky_relu and softplus at 0) or where it takes a shortcut
// (avg_pool2d's two paths, adaptive pooling's three). Every case runs
//   - gradcheck (autograd/gradcheck.h: eager, float64, central differences, never all zeros) and
//   - graph_gradcheck (tests/layers_check.h: gradients() against central differences through a
//     Session),
// from one generic lambda. PyTorch's values for the same functions are in test_layers_parity.cpp.
#include <catch2/catch.hpp>

#include <cmath>

#include "autograd/gradcheck.h"
#include "tests/layers_check.h"

using namespace tandem;
using testing::both;
using testing::Expr;
namespace F = tandem::nn::functional;
namespace g = tandem::graph;

namespace {

struct GradCase {
  const char* what;
  Expr expr;
  std::map<std::string, Tensor> inputs;  // float64; those in with_grad are checked
  std::vector<std::string> with_grad;
};

Tensor rn(const Shape& s) { return randn(s, kFloat64); }
// Values with |x| in [0.2, 2): away from kinks at 0.
Tensor away(const Shape& s) {
  const Tensor x = randn(s, kFloat64);
  return x + sign(x) * 0.2;
}

std::vector<GradCase> cases() {
  manual_seed(11);
  const Tensor ids = tensor({{1, 3, 1}, {0, 4, 4}});
  std::vector<GradCase> t;
  t.push_back({"clamp(x, -0.5, 0.5), no element on a bound", both([](const auto& in) { return clamp(in("x"), -0.5, 0.5); }),
               {{"x", tensor({{-1.0, -0.3, 0.1}, {0.45, 0.9, -0.7}}, kFloat64)}}, {"x"}});
  t.push_back({"leaky_relu(x, 0.2)", both([](const auto& in) { return F::leaky_relu(in("x"), 0.2); }),
               {{"x", away({3, 4})}}, {"x"}});
  t.push_back({"gelu tanh approximation", both([](const auto& in) { return F::gelu(in("x"), "tanh"); }),
               {{"x", rn({3, 4})}}, {"x"}});
  t.push_back({"softplus(x, beta = 2)", both([](const auto& in) { return F::softplus(in("x"), 2.0); }),
               {{"x", away({3, 4})}}, {"x"}});
  t.push_back({"softplus at exactly 0 (the kink of both its terms)", both([](const auto& in) { return softplus(in("x")); }),
               {{"x", tensor({0.0, 0.0}, kFloat64)}}, {"x"}});
  t.push_back({"linear(x, W, b), x [2, 3, 4]",
               both([](const auto& in) { return F::linear(in("x"), in("w"), in("b")); }),
               {{"x", rn({2, 3, 4})}, {"w", rn({5, 4})}, {"b", rn({5})}}, {"x", "w", "b"}});
  t.push_back({"conv2d with dilation 2 and stride (2, 1)",
               both([](const auto& in) { return F::conv2d(in("x"), in("w"), in("b"), {2, 1}, 1, {2, 2}); }),
               {{"x", rn({1, 2, 7, 6})}, {"w", rn({3, 2, 3, 2})}, {"b", rn({3})}}, {"x", "w", "b"}});
  t.push_back({"conv2d with groups 2",
               both([](const auto& in) {
                 using T = std::remove_cvref_t<decltype(in("x"))>;
                 return F::conv2d(in("x"), in("w"), T(), {1, 1}, 1, {1, 1}, 2);
               }),
               {{"x", rn({2, 4, 4, 4})}, {"w", rn({6, 2, 3, 3})}}, {"x", "w"}});
  t.push_back({"conv2d 'same' with an even kernel",
               both([](const auto& in) {
                 using T = std::remove_cvref_t<decltype(in("x"))>;
                 return F::conv2d(in("x"), in("w"), T(), {1, 1}, "same");
               }),
               {{"x", rn({1, 2, 5, 4})}, {"w", rn({2, 2, 2, 4})}}, {"x", "w"}});
  t.push_back({"avg_pool2d 2x2 (the reshape-and-mean path)",
               both([](const auto& in) { return F::avg_pool2d(in("x"), {2, 2}); }), {{"x", rn({2, 2, 4, 5})}}, {"x"}});
  t.push_back({"avg_pool2d 3x3, stride 2, padding 1 (the pooling-matrix path)",
               both([](const auto& in) { return F::avg_pool2d(in("x"), {3, 3}, {2, 2}, {1, 1}); }),
               {{"x", rn({1, 2, 5, 6})}}, {"x"}});
  t.push_back({"avg_pool2d without the padding in the count",
               both([](const auto& in) { return F::avg_pool2d(in("x"), {3, 2}, {1, 2}, {1, 1}, false); }),
               {{"x", rn({1, 1, 4, 5})}}, {"x"}});
  t.push_back({"adaptive_avg_pool2d to (1, 1), (2, 2) and (3, 2)",
               both([](const auto& in) {
                 const auto& x = in("x");
                 return F::adaptive_avg_pool2d(x, {1, 1}).sum() + F::adaptive_avg_pool2d(x, {2, 2}).sum() * 0.5 +
                        (F::adaptive_avg_pool2d(x, {3, 2}) * F::adaptive_avg_pool2d(x, {3, 2})).sum();
               }),
               {{"x", rn({2, 2, 4, 5})}}, {"x"}});
  t.push_back({"batch_norm in training: batch statistics, affine",
               both([](const auto& in) {
                 using T = std::remove_cvref_t<decltype(in("x"))>;
                 return F::batch_norm(in("x"), T(), T(), in("w"), in("b"), true);
               }),
               {{"x", rn({3, 2, 2, 3})}, {"w", rn({2})}, {"b", rn({2})}}, {"x", "w", "b"}});
  t.push_back({"batch_norm in evaluation: running statistics",
               both([](const auto& in) {
                 return F::batch_norm(in("x"), in("m"), in("v"), in("w"), in("b"), false, 0.1, 1e-3);
               }),
               {{"x", rn({4, 3})}, {"m", rn({3})}, {"v", rand({3}, kFloat64) + 0.5}, {"w", rn({3})}, {"b", rn({3})}},
               {"x", "w", "b"}});
  t.push_back({"layer_norm over the last two dims",
               both([](const auto& in) { return F::layer_norm(in("x"), {3, 4}, in("w"), in("b")); }),
               {{"x", rn({2, 3, 4})}, {"w", rn({3, 4})}, {"b", rn({3, 4})}}, {"x", "w", "b"}});
  t.push_back({"embedding, repeated ids (their gradients add up)",
               both([](const auto& in) { return F::embedding(in("ids"), in("w")); }),
               {{"ids", ids}, {"w", rn({5, 3})}}, {"w"}});
  // (With a padding_idx the padding row's gradient is 0 on purpose, not its derivative: checked by
  // the test below and against PyTorch in test_layers_parity.cpp.)
  // the losses
  const Tensor labels = tensor({2, 0, -100, 1});
  t.push_back({"cross_entropy with weights, an ignored label and smoothing",
               both([](const auto& in) { return F::cross_entropy(in("z"), in("y"), {.label_smoothing = 0.2}, in("cw")); }),
               {{"z", rn({4, 3})}, {"y", labels}, {"cw", rand({3}, kFloat64) + 0.5}}, {"z"}});
  t.push_back({"cross_entropy with probability targets",
               both([](const auto& in) { return F::cross_entropy(in("z"), in("p"), {.label_smoothing = 0.1}); }),
               {{"z", rn({4, 3})}, {"p", softmax(rn({4, 3}), 1)}}, {"z"}});
  t.push_back({"nll_loss, K-dimensional [N, C, d]",
               both([](const auto& in) { return F::nll_loss(log_softmax(in("z"), 1), in("y"), {.reduction = "sum"}); }),
               {{"z", rn({2, 3, 4})}, {"y", tensor({{0, 2, 1, 1}, {2, 2, 0, 1}})}}, {"z"}});
  t.push_back({"mse_loss, l1_loss and smooth_l1_loss (|d| on both sides of beta)",
               both([](const auto& in) {
                 return F::mse_loss(in("a"), in("b")) + F::l1_loss(in("a"), in("b"), "sum") +
                        F::smooth_l1_loss(in("a"), in("b"), "mean", 0.7);
               }),
               {{"a", tensor({0.1, 1.5, -2.0, 0.4}, kFloat64)}, {"b", tensor({0.5, 0.2, -1.0, 0.0}, kFloat64)}},
               {"a", "b"}});
  t.push_back({"binary_cross_entropy with weights",
               both([](const auto& in) { return F::binary_cross_entropy(in("p"), in("t"), in("w")); }),
               {{"p", rand({3, 2}, kFloat64) * 0.8 + 0.1}, {"t", rand({3, 2}, kFloat64)}, {"w", rand({2}, kFloat64)}},
               {"p"}});
  t.push_back({"binary_cross_entropy_with_logits with pos_weight",
               both([](const auto& in) {
                 using T = std::remove_cvref_t<decltype(in("z"))>;
                 return F::binary_cross_entropy_with_logits(in("z"), in("t"), T(), "sum", in("pw"));
               }),
               {{"z", away({3, 2}) * 3.0}, {"t", rand({3, 2}, kFloat64)}, {"pw", tensor({0.5, 3.0}, kFloat64)}}, {"z"}});
  return t;
}

}  // namespace

TEST_CASE("layers ops: gradcheck of every new composite, eagerly", "[layers][ops][gradcheck]") {
  for (const GradCase& c : cases()) {
    INFO(c.what);
    std::vector<std::string> order;
    std::vector<Tensor> leaves;
    for (const auto& [k, v] : c.inputs) {
      order.push_back(k);
      Tensor t = v.clone();
      if (std::find(c.with_grad.begin(), c.with_grad.end(), k) != c.with_grad.end()) t.requires_grad_();
      leaves.push_back(t);
    }
    autograd::GradcheckOptions o;
    o.require_nonzero = true;
    const auto r = autograd::gradcheck(
        [&](const std::vector<Tensor>& xs) {
          testing::Named<Tensor> in;
          for (size_t i = 0; i < xs.size(); ++i) in.values[order[i]] = xs[i];
          return c.expr.eager(in);
        },
        leaves, o);
    INFO(r.message);
    CHECK(r.ok);
  }
}

TEST_CASE("layers ops: the same functions' gradients in graph mode, by central differences", "[layers][ops][graph]") {
  for (const GradCase& c : cases()) {
    INFO(c.what);
    CHECK(testing::graph_gradcheck(c.expr, c.inputs, c.with_grad) == "");
  }
}

TEST_CASE("layers ops: the padding row of an embedding is read but never trained", "[layers][ops]") {
  nn::Embedding embedding(5, 2, /*padding_idx=*/0);
  CHECK(embedding->weight.select(0, 0).abs().sum().item() == 0.0);  // starts at zeros
  {
    no_grad guard;
    embedding->weight.select(0, 0).fill_(1.0);  // a value that would show in the output
  }
  const Tensor ids = tensor({{0, 3, 0}});
  const Tensor out = embedding(ids);
  CHECK(out.select(1, 0).to_vector<float>() == std::vector<float>{1.f, 1.f});
  (out * out).sum().backward();
  const Tensor grad = embedding->weight.grad();
  CHECK(grad.select(0, 0).abs().sum().item() == 0.0);  // used twice, no gradient
  CHECK(grad.select(0, 3).abs().sum().item() > 0.0);
}

TEST_CASE("layers ops: avg_pool2d's two paths and adaptive pooling's three agree", "[layers][ops]") {
  manual_seed(12);
  const Tensor x = randn({2, 3, 6, 8});
  // Tiles (reshape + mean) against the pooling matrices of the same windows.
  const Tensor ph = nn::functional::pooling_matrix(6, 2, 2, 0, true, kFloat32);
  const Tensor pw = nn::functional::pooling_matrix(8, 2, 2, 0, true, kFloat32);
  CHECK(allclose(F::avg_pool2d(x, {2, 2}), matmul(matmul(ph, x), pw.t()), 1e-6, 1e-6));
  // A pooling matrix's rows: each window's weights, summing to 1 (count_include_pad: 1/k each).
  const Tensor p = nn::functional::pooling_matrix(5, 3, 2, 1, true, kFloat64);
  CHECK(p.shape() == Shape{3, 5});
  CHECK(p.to_vector<double>() == std::vector<double>{1. / 3, 1. / 3, 0, 0, 0, 0, 1. / 3, 1. / 3, 1. / 3, 0, 0, 0, 0,
                                                     1. / 3, 1. / 3});
  // Adaptive windows of 7 -> 3: [0, 3), [2, 5), [4, 7) (PyTorch's floor / ceil rule).
  const Tensor a = nn::functional::adaptive_pooling_matrix(7, 3, kFloat64);
  CHECK(a.sum({1}).to_vector<double>() == std::vector<double>{1, 1, 1});
  CHECK(a.at({1, 1}) == 0.0);
  CHECK(a.at({1, 2}) == Approx(1.0 / 3));
  CHECK(a.at({1, 4}) == Approx(1.0 / 3));
  CHECK(allclose(F::adaptive_avg_pool2d(x, {1, 1}), x.mean({2, 3}, true)));
  CHECK(allclose(F::adaptive_avg_pool2d(x, {3, 4}), F::avg_pool2d(x, {2, 2}), 1e-6, 1e-6));
}

TEST_CASE("layers ops: binary_cross_entropy_with_logits is finite at logits of +-1e4", "[layers][ops][losses]") {
  // σ(1e4) is exactly 1 in float32 and σ(-1e4) exactly 0: log σ would be -inf. The stable form
  // (1-t)·x + softplus(-x) gives the exact answers: 0 when right, 1e4 when wrong, and gradients
  // σ(x) - t in {0, ±1}.
  for (bool graph_mode : {false, true}) {
    INFO((graph_mode ? "graph" : "eager") << " mode");
    const std::map<std::string, Tensor> in = {{"z", tensor({1e4f, -1e4f, 1e4f, -1e4f})},
                                              {"t", tensor({1.f, 0.f, 0.f, 1.f})}};
    const Expr e = both([](const auto& v) {
      using T = std::remove_cvref_t<decltype(v("z"))>;
      return F::binary_cross_entropy_with_logits(v("z"), v("t"), T(), "none");
    });
    const testing::Run r = graph_mode ? testing::run_expr_graph(e, in, {"z"}, ones({4}))
                                      : testing::run_expr_eager(e, in, {"z"}, ones({4}));
    CHECK(r.output.to_vector<float>() == std::vector<float>{0.f, 0.f, 1e4f, 1e4f});
    CHECK(r.grads.at("z").to_vector<float>() == std::vector<float>{0.f, 0.f, 1.f, -1.f});
  }
  // The naive formula fails exactly there: log(0) = -inf, and 0·(-inf) = nan.
  const Tensor p = sigmoid(tensor({1e4f, -1e4f}));
  const Tensor naive = -(tensor({0.f, 1.f}) * log(p) + (1.0 - tensor({0.f, 1.f})) * log(1.0 - p));
  CHECK(std::isinf(naive.to_vector<float>()[0]));
}

TEST_CASE("layers ops: F::dropout with a fed rate (seed-002's keep_prob)", "[layers][ops][graph]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output x = g::placeholder(kFloat32, {-1, 1000});
  const g::Output rate = g::placeholder(kFloat32, {}, "rate");  // 1 - keep_prob
  const g::Output y = F::dropout(x, rate);
  g::Session s(graph);
  const Tensor ones_in = ones({4, 1000});
  // rate 0: the identity; rate 0.25: a quarter dropped, the rest scaled by 4/3.
  CHECK(equal(s.run(y, {{x, ones_in}, {rate, tensor(0.f)}}), ones_in));
  manual_seed(3);
  const Tensor dropped = s.run(y, {{x, ones_in}, {rate, tensor(0.25f)}});
  const double kept = (dropped > 0.0).to(kFloat32).mean().item();
  CHECK(kept == Approx(0.75).margin(0.02));
  CHECK(dropped.max().item() == Approx(4.0 / 3.0));
  // The same draws as eager dropout with the same number, from the same seed.
  manual_seed(3);
  CHECK(allclose(F::dropout(ones_in, 0.25), dropped));
  CHECK_THROWS_WITH(F::dropout(x, g::placeholder(kFloat32, {2})), Catch::Contains("0-dim"));
}

TEST_CASE("layers ops: errors name the function, the shapes and what to do", "[layers][ops][errors]") {
  const Tensor img = zeros({2, 3, 8, 8});
  CHECK_THROWS_WITH(F::conv2d(img, zeros({4, 3, 3, 3}), Tensor(), {2, 2}, "same"),
                    Catch::Contains("padding='same' is not supported for strided convolutions"));
  CHECK_THROWS_WITH(F::conv2d(img, zeros({4, 2, 3, 3}), Tensor(), {1, 1}, 0, {1, 1}, 2),
                    Catch::Contains("divisible by groups"));
  CHECK_THROWS_WITH(F::conv2d(img, zeros({4, 3, 3, 3}), zeros({3})), Catch::Contains("expected a bias of shape [4]"));
  CHECK_THROWS_WITH(F::avg_pool2d(zeros({2, 8}), {2, 2}), Catch::Contains("avg_pool2d: expected a 4-D input"));
  CHECK_THROWS_WITH(F::avg_pool2d(img, {3, 3}, {1, 1}, {2, 2}), Catch::Contains("pad should be at most half"));
  CHECK_THROWS_WITH(F::linear(zeros({2, 5}), zeros({3, 4})), Catch::Contains("in_features = 4") && Catch::Contains("[2, 5]"));
  CHECK_THROWS_WITH(F::embedding(tensor({0, 7}), zeros({5, 2})),
                    Catch::Contains("index 7 is out of range for a table of 5 rows"));
  CHECK_THROWS_AS(F::embedding(tensor({0.5f}), zeros({5, 2})), DTypeError);
  CHECK_THROWS_WITH(F::layer_norm(zeros({2, 3}), {4}), Catch::Contains("normalized_shape=[4]"));
  CHECK_THROWS_WITH(clamp(img, 1.0, 0.0), Catch::Contains("min (1) is larger than max (0)"));
  CHECK_THROWS_WITH(F::gelu(img, "fast"), Catch::Contains("'none' or 'tanh'"));
  // In a graph, the image size must be known where the pooling matrices need it.
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output unknown = g::placeholder(kFloat32, {-1, 3, -1, -1});
  CHECK_THROWS_WITH(F::avg_pool2d(unknown, {3, 3}, {2, 2}), Catch::Contains("height") && Catch::Contains("must be known"));
  CHECK(F::adaptive_avg_pool2d(unknown, {1, 1}).shape() == Shape{-1, 3, 1, 1});  // the global mean needs no size
}

TEST_CASE("losses: labels are checked, and errors name the loss and the label", "[layers][losses][errors]") {
  const Tensor z = zeros({4, 3});
  CHECK_THROWS_WITH(F::cross_entropy(z, tensor({0, 1, 3, 2})),
                    Catch::Contains("cross_entropy: label 3 (at index 2 of the labels) is out of range for 3 classes") &&
                        Catch::Contains("[0, 2]") && Catch::Contains("ignore_index = -100"));
  CHECK_THROWS_WITH(F::nll_loss(z, tensor({0, -1, 1, 2})), Catch::Contains("nll_loss: label -1"));
  CHECK_THROWS_WITH(F::cross_entropy(z, tensor({{0}, {1}, {2}, {1}})),
                    Catch::Contains("expected labels of shape [4]") && Catch::Contains("squeeze the extra dimension"));
  CHECK_THROWS_AS(F::nll_loss(z, zeros({4})), DTypeError);
  CHECK_THROWS_WITH(F::cross_entropy(z, tensor({0, 1, 2, 1}), {.reduction = "avg"}), Catch::Contains("\"avg\""));
  CHECK_THROWS_WITH(F::mse_loss(z, zeros({4})), Catch::Contains("mse_loss") && Catch::Contains("[4]"));
  CHECK_THROWS_WITH(F::binary_cross_entropy(tensor({1.5f}), tensor({1.f})), Catch::Contains("between 0 and 1"));
  CHECK_THROWS_WITH(nn::CrossEntropyLoss({.reduction = "average"}), Catch::Contains("CrossEntropyLoss"));
  // In a graph, the shapes are checked when the loss is built, with the batch still unknown.
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output logits = g::placeholder(kFloat32, {-1, 3});
  CHECK_THROWS_WITH(F::cross_entropy(logits, g::placeholder(kInt64, {-1, 1})), Catch::Contains("expected labels of shape [?]"));
  CHECK(F::cross_entropy(logits, g::placeholder(kInt64, {-1})).shape() == Shape{});
}

TEST_CASE("losses: the module forms hold their options and run in both modes", "[layers][losses]") {
  manual_seed(13);
  const Tensor z = randn({5, 4}), y = tensor({0, 3, -100, 2, 2});
  nn::CrossEntropyLoss criterion({.label_smoothing = 0.1});  // nn.CrossEntropyLoss(label_smoothing=0.1)
  const Tensor eager = criterion(z, y);
  CHECK(allclose(eager, F::cross_entropy(z, y, {.label_smoothing = 0.1})));
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output zp = g::placeholder(kFloat32, {-1, 4}), yp = g::placeholder(kInt64, {-1});
  CHECK(allclose(g::Session(graph).run(criterion(zp, yp), {{zp, z}, {yp, y}}), eager, 1e-6, 1e-6));
  // Class weights are a buffer of the module, as in PyTorch.
  nn::CrossEntropyLoss weighted({}, tensor({1.f, 2.f, 0.5f, 1.f}));
  CHECK(weighted->named_buffers()[0].first == "weight");
  CHECK(allclose(weighted(z, y), F::cross_entropy(z, y, {}, tensor({1.f, 2.f, 0.5f, 1.f}))));
  nn::BCEWithLogitsLoss bce;
  nn::MSELoss mse("sum");
  const Tensor t = rand({5, 4});
  CHECK(allclose(bce(z, t), F::binary_cross_entropy_with_logits(z, t)));
  CHECK(allclose(mse(z, t), ((z - t) * (z - t)).sum()));
}

TEST_CASE("keras spellings: Keras's losses on a few hand-computed values", "[layers][losses][keras]") {
  // binary_crossentropy(y, p) = -mean over the last axis of y·log(p + ε) + (1-y)·log(1 - p + ε)
  const Tensor y = tensor({{1.f, 0.f}, {0.f, 1.f}}), p = tensor({{0.9f, 0.2f}, {0.3f, 0.6f}});
  const std::vector<float> bce = keras::losses::binary_crossentropy(y, p).to_vector<float>();
  REQUIRE(bce.size() == 2);
  CHECK(bce[0] == Approx(-(std::log(0.9 + 1e-7) + std::log(0.8 + 1e-7)) / 2).epsilon(1e-5));
  CHECK(bce[1] == Approx(-(std::log(0.7 + 1e-7) + std::log(0.6 + 1e-7)) / 2).epsilon(1e-5));
  // from logits (log(p / (1 - p)) gives back p): the stable form, the same numbers without ε
  const std::vector<float> from_logits = keras::losses::binary_crossentropy(y, log(p / (1.0 - p)), true).to_vector<float>();
  CHECK(from_logits[0] == Approx(-(std::log(0.9) + std::log(0.8)) / 2).epsilon(1e-5));
  CHECK(from_logits[1] == Approx(-(std::log(0.7) + std::log(0.6)) / 2).epsilon(1e-5));
  // categorical_crossentropy: -Σ y·log(p / Σp)
  const Tensor onehot = tensor({{0.f, 1.f, 0.f}}), probs = tensor({{0.2f, 0.5f, 0.3f}});
  CHECK(keras::losses::categorical_crossentropy(onehot, probs).item() == Approx(-std::log(0.5)).epsilon(1e-6));
  CHECK(keras::losses::sparse_categorical_crossentropy(tensor({1}), probs).item() == Approx(-std::log(0.5)).epsilon(1e-6));
  CHECK(keras::losses::categorical_crossentropy(onehot, log(probs), true).item() == Approx(-std::log(0.5)).epsilon(1e-6));
}
