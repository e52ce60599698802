// tests/test_losses.cpp — cross_entropy, nll_loss and mse_loss (layers/simple_losses.h), in both modes.
// Expected values are worked out by hand in the comments.
#include <catch2/catch.hpp>

#include <cmath>

#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;

TEST_CASE("cross_entropy and its gradient, by hand", "[losses]") {
  // Row 0: logits [0, 0], label 0: log_softmax = [-ln 2, -ln 2], loss ln 2.
  // Row 1: logits [ln 3, 0], label 1: softmax = [3/4, 1/4], loss -ln(1/4) = ln 4.
  // Mean: (ln 2 + ln 4) / 2 = 1.5 ln 2. Gradient (softmax - one_hot) / N:
  // row 0 [0.5 - 1, 0.5] / 2 = [-0.25, 0.25]; row 1 [0.75, 0.25 - 1] / 2 = [0.375, -0.375].
  const Tensor logits = tensor({{0.0, 0.0}, {std::log(3.0), 0.0}}).requires_grad_();
  const Tensor labels = tensor({0, 1});
  const Tensor loss = cross_entropy(logits, labels);
  CHECK(loss.item() == Approx(1.5 * std::log(2.0)));
  loss.backward();
  const std::vector<double> grad = logits.grad().to_vector<double>();
  const std::vector<double> want = {-0.25, 0.25, 0.375, -0.375};
  for (size_t i = 0; i < 4; ++i) CHECK(grad[i] == Approx(want[i]));
  // nll_loss takes log-probabilities: the same number from log_softmax.
  CHECK(nll_loss(log_softmax(logits, 1), labels).item() == Approx(loss.item()));
  // PyTorch's shapes: labels are [N], not [N, 1] (tests/test_unknown_dims.cpp has the other mistakes).
  CHECK_THROWS_WITH(nll_loss(log_softmax(logits, 1), labels.unsqueeze(1)),
                    Catch::Contains("expected one label per sample, of shape [2]") &&
                        Catch::Contains("squeeze(y, 1)"));
}

TEST_CASE("mse_loss by hand", "[losses]") {
  // ((1 - 0)^2 + (2 - 4)^2) / 2 = 2.5; d/dinput = 2 (input - target) / 2 = [1, -2].
  const Tensor input = tensor({1.0, 2.0}).requires_grad_();
  const Tensor loss = mse_loss(input, tensor({0.0, 4.0}));
  CHECK(loss.item() == 2.5);
  loss.backward();
  CHECK(input.grad().to_vector<double>() == std::vector<double>{1.0, -2.0});
}

TEST_CASE("the losses in a graph give the eager values", "[losses][graph]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output z = g::placeholder(kFloat32, {-1, 2}, "z");
  const g::Output y = g::placeholder(kInt64, {-1}, "y");
  const g::Output ce = cross_entropy(z, y), mse = mse_loss(z, g::constant(tensor({{0.0, 1.0}})));
  const g::Output dz = g::gradients({ce}, {z})[0];
  g::Session s(graph);
  const Tensor zv = tensor({{0.0, 0.0}, {std::log(3.0), 0.0}}), yv = tensor({0, 1});
  const std::vector<Tensor> out = s.run({ce, mse, dz}, {{z, zv}, {y, yv}});
  CHECK(out[0].item() == Approx(1.5 * std::log(2.0)));
  // ((0-0)^2 + (0-1)^2 + (ln 3 - 0)^2 + (0 - 1)^2) / 4
  CHECK(out[1].item() == Approx((2.0 + std::log(3.0) * std::log(3.0)) / 4));
  CHECK(allclose(out[2], tensor({{-0.25, 0.25}, {0.375, -0.375}})));
}
