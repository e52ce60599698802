// tests/test_parity_grads.cpp — does Tandem's autograd compute what PyTorch's does?
//
// tests/fixtures/grads.txt (written by scripts/fixtures/gen_grads.py; format in tests/fixture.h)
// holds small composite expressions — an MLP with its cross-entropy, an attention head, a layer
// norm, chains of views, repeated indices, a value used five times — with the inputs PyTorch was
// given, the value it computed, and the gradient every input received from backward(). The table
// below holds the same expressions in Tandem's API, under the same names. For each case the test
//   1. makes a fresh leaf of every input and calls requires_grad_() on exactly those that have a
//      `grad` line in the file (labels, targets and `upstream` have none);
//   2. runs the expression and compares its value with PyTorch's;
//   3. runs backward(): out.backward() for a scalar output, out.backward(upstream) otherwise, where
//      `upstream` is the fixed random dL/d(out) the generator stored as an input;
//   4. compares every leaf's grad with PyTorch's: dtype, shape and values.
// Tolerances: float32 rtol 1e-4, atol 1e-5 — a gradient is a longer chain of rounded operations
// than one forward op, so a few more float32 ulps than tests/test_parity.cpp allows, still far
// below what a wrong formula gives; float64 rtol 1e-10, atol 1e-12.
//
// A case in the file without an expression here fails, and so does an expression here without a
// case in the file, so the two lists cannot drift apart.
//
// Run one case:  tandem_tests "[parity][autograd]" -c "attention"
// Read next: autograd/derivatives.h (the rules under test), tests/test_parity.cpp (forward only).
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <map>
#include <set>

#include "autograd/engine.h"
#include "tandem.h"
#include "tests/fixture.h"

using namespace tandem;

namespace {

using In = FixtureTensors;
using Expr = std::function<Tensor(const In&)>;
using Activation = std::function<Tensor(const Tensor&)>;

Tolerance grad_tolerance(DType dtype) {
  if (dtype == kFloat64) return {1e-10, 1e-12};
  return {1e-4, 1e-5};
}

// ---- the pieces the MLP cases share (same names as in gen_grads.py) -----------------------------

// act(x W1 + b1) W2 + b2
Tensor mlp_logits(const Activation& act, const In& in) {
  return matmul(act(matmul(in["x"], in["w1"]) + in["b1"]), in["w2"]) + in["b2"];
}

// -mean_i log_softmax(logits)[i, label_i]: F.cross_entropy spelled with the ops it is made of.
Tensor cross_entropy_gather(const Tensor& logits, const Tensor& labels) {
  return -mean(gather(log_softmax(logits, 1), 1, labels.unsqueeze(1)));
}

// The same loss with the labels as one-hot rows: -mean_i sum_j onehot[i,j] * log_softmax[i,j].
Tensor cross_entropy_one_hot(const Tensor& logits, const Tensor& labels) {
  const Tensor targets = one_hot(labels, logits.size(1)).to(logits.dtype());
  return -mean(sum(targets * log_softmax(logits, 1), {1}));
}

// softmax(q kᵀ / √d) v, the attention of one head.
Tensor attention(const In& in) {
  const Tensor& q = in["q"];
  const double d = static_cast<double>(q.size(-1));
  return matmul(softmax(matmul(q, in["k"].transpose(-2, -1)) / std::sqrt(d), -1), in["v"]);
}

// (x - mean) / sqrt(var + eps) * gamma + beta, over the last dim, with the biased variance.
Tensor layer_norm(const In& in) {
  const Tensor& x = in["x"];
  const Tensor mu = mean(x, {-1}, true);
  const Tensor v = var(x, {-1}, /*correction=*/0, true);
  return (x - mu) / sqrt(v + 1e-5) * in["gamma"] + in["beta"];
}

// Case name -> the Tandem expression, in the order of gen_grads.py.
const std::map<std::string, Expr>& expressions() {
  static const std::map<std::string, Expr> table = [] {
    // The MLP cases differ only in the activation and in how the loss reads the labels.
    auto mlp = [](Activation act, bool one_hot_labels) -> Expr {
      return [act, one_hot_labels](const In& in) {
        const Tensor logits = mlp_logits(act, in);
        return one_hot_labels ? cross_entropy_one_hot(logits, in["labels"])
                              : cross_entropy_gather(logits, in["labels"]);
      };
    };
    const Activation act_relu = [](const Tensor& h) { return relu(h); };
    const Activation act_gelu = [](const Tensor& h) { return gelu(h); };
    std::map<std::string, Expr> t{
        // ---- the MLP and its cross-entropy ----
        {"mlp_relu_ce_gather", mlp(act_relu, false)},
        {"mlp_tanh_ce_gather", mlp([](const Tensor& h) { return tanh(h); }, false)},
        {"mlp_sigmoid_ce_gather", mlp([](const Tensor& h) { return sigmoid(h); }, false)},
        {"mlp_gelu_ce_gather", mlp(act_gelu, false)},
        {"mlp_relu_ce_one_hot", mlp(act_relu, true)},
        {"mlp_relu_ce_gather_float64", mlp(act_relu, false)},
        {"mlp_gelu_ce_one_hot_float64", mlp(act_gelu, true)},
        // ---- attention, softmax, normalisation ----
        {"attention", attention},
        {"attention_float64", attention},
        {"soft_target_ce",
         [](const In& in) {
           return -mean(sum(softmax(in["t"], 1) * log_softmax(in["z"], 1), {1}));
         }},
        {"softmax_dim0", [](const In& in) { return softmax(in["x"], 0) * in["w"]; }},
        {"layer_norm", layer_norm},
        {"layer_norm_float64", layer_norm},
        // ---- broadcasting and reductions ----
        {"broadcast_outer",
         [](const In& in) {
           const Tensor &x = in["x"], &b = in["b"], &u = in["u"], &v = in["v"];
           return (x + b) * (u * v) + u - v / 2;
         }},
        {"broadcast_rank3", [](const In& in) { return sum(in["a"] * in["b"] + in["c"]); }},
        {"matmul_broadcast_batch",
         [](const In& in) { return matmul(in["a"], in["b"]) + in["bias"]; }},
        {"matmul_vectors",
         [](const In& in) {
           const Tensor &x = in["x"], &M = in["M"], &y = in["y"];
           return matmul(matmul(x, M), y) + matmul(matmul(M, y), matmul(M, y));
         }},
        {"reductions_mixed",
         [](const In& in) {
           const Tensor& x = in["x"];
           return var(x, {1}, 1, true) * mean(x, {0}, true) + max(x, 1, true) - sum(x, {0});
         }},
        {"reductions_rank3",
         [](const In& in) {
           const Tensor& y = in["y"];
           return mean(y, {0, 2}, true) * var(y, {0, 2}, 1, true) + min(y, -1, true);
         }},
        {"amax_ties",
         [](const In& in) {
           const Tensor& x = in["x"];
           return amax(x, {1}) * in["w"] + max(x) + sum(amin(x, {0}));
         }},
        {"max_dim_ties",
         [](const In& in) {
           const Tensor& x = in["x"];
           return max(x, 1) * in["w"] + sum(min(x, 0));
         }},
        // ---- views, joins, indexing ----
        {"views_chain",
         [](const In& in) {
           const Tensor c = cat({in["x"].t().reshape({2, 6}).slice(1, 0, 6, 2), in["y"]}, 0);
           return stack({c, c * 2}, 0) * in["z"].expand({2, 4, 3});
         }},
        {"views_more",
         [](const In& in) {
           const Tensor picked = exp(in["x"].permute({2, 0, 1})).select(1, 1).narrow(1, 1, 2);
           return picked.unsqueeze(0).flatten() * in["w"];
         }},
        {"slice_overlap",
         [](const In& in) {
           const Tensor& x = in["x"];
           const int64_t n = x.size(0);
           return x.slice(0, 1, n) * x.slice(0, 0, -1) + x.slice(0, 0, n, 2).sum();
         }},
        {"index_select_repeated",
         [](const In& in) {
           const Tensor& x = in["x"];
           return index_select(x, 0, in["i"]) * in["w"] +
                  index_select(x, 1, in["j"]).slice(0, 0, 2).sum();
         }},
        {"gather_repeated", [](const In& in) { return gather(in["x"], 1, in["i"]) * in["w"]; }},
        // ---- elementwise compositions ----
        {"where_maximum",
         [](const In& in) {
           const Tensor &x = in["x"], &y = in["y"];
           return where(x > 0, maximum(x, y), x * y);
         }},
        {"minimum_clamp",
         [](const In& in) { return minimum(maximum(in["x"], in["lo"]), in["hi"]); }},
        {"pow_tensor_exponent",
         [](const In& in) {
           const Tensor& a = in["a"];
           return pow(a, in["b"]) + pow(a, 2) + pow(a, 0.5);
         }},
        {"pow_tensor_exponent_float64", [](const In& in) { return pow(in["a"], in["b"]); }},
        {"diamond",
         [](const In& in) {
           const Tensor t = tanh(in["x"]);
           return t * t + t * in["w"] + exp(t) * t.sum();
         }},
        {"diamond_scalar",
         [](const In& in) {
           const Tensor b = in["a"] + in["a"];
           return b * b + b;
         }},
        {"log_sigmoid_bce",
         [](const In& in) {
           const Tensor &z = in["z"], &t = in["t"];
           return -mean(t * log(sigmoid(z)) + (1 - t) * log(1 - sigmoid(z)));
         }},
        {"log_sigmoid_chain",
         [](const In& in) { return log(sigmoid(log(sigmoid(in["x"])) * in["w"])); }},
        {"unary_mix",
         [](const In& in) {
           const Tensor &x = in["x"], &y = in["y"];
           return sqrt(abs(x) + 1) * sin(x) - cos(y) / (2 - y) + 1 - x;
         }},
        {"cast_in_the_middle",
         [](const In& in) {
           const Tensor &x = in["x"], &y = in["y"];
           return (x.to(kFloat64) * y).to(kFloat32) * x;
         }},
        {"mse_loss",
         [](const In& in) { return mean(pow(matmul(in["x"], in["w"]) - in["target"], 2)); }},
        // ---- convolution and pooling ----
        {"conv_pool_relu",
         [](const In& in) { return relu(max_pool2d(conv2d(in["x"], in["w"], in["b"], {1, 1}, {1, 1}), {2, 2})); }},
        {"conv_stride_pad_float64", [](const In& in) { return conv2d(in["x"], in["w"], {2, 1}, {2, 1}); }},
        {"max_pool_overlap_pad",
         [](const In& in) { return max_pool2d(in["x"], {3, 3}, {2, 2}, {1, 1}) * in["w"]; }},
        {"convnet_seed",
         [](const In& in) {
           Tensor h = relu(max_pool2d(conv2d(in["x"], in["c1"], in["b1"]), {2, 2}));
           h = relu(max_pool2d(conv2d(h, in["c2"], in["b2"]), {2, 2}));
           const Tensor logits = matmul(h.reshape({h.size(0), -1}), in["f1"]) + in["fb1"];
           return cross_entropy_gather(logits, in["labels"]);  // F.nll_loss(F.log_softmax(...))
         }},
    };
    return t;
  }();
  return table;
}

const std::vector<FixtureCase>& grad_cases() {
  static const std::vector<FixtureCase> cases = load_fixtures(fixture_path("grads.txt"));
  return cases;
}

// Fresh leaves for one run: the fixture's tensors, detached (new handles over the same values, so
// no grad lingers from an earlier run), with requires_grad_() on those PyTorch took gradients of.
In make_leaves(const FixtureCase& c) {
  In leaves(c.name);
  for (const auto& [name, value] : c.inputs.items()) {
    Tensor leaf = value.detach();
    if (c.grads.contains(name)) leaf.requires_grad_();
    leaves.add(name, leaf);
  }
  return leaves;
}

}  // namespace

TEST_CASE("PyTorch parity: value and gradients of every case of tests/fixtures/grads.txt",
          "[parity][autograd]") {
  const auto& table = expressions();
  for (const FixtureCase& c : grad_cases()) {
    DYNAMIC_SECTION(c.name) {
      INFO("case " << c.name << " (" << c.where() << "): " << c.expr);
      // The fixture itself: a case checks some gradient, and carries an upstream gradient exactly
      // when its output is not a scalar (see gen_grads.py).
      CHECK_FALSE(c.grads.empty());
      CHECK(c.inputs.contains("upstream") == (c.output.dim() > 0));

      const auto it = table.find(c.name);
      if (it == table.end()) {
        FAIL_CHECK("no Tandem expression for this case: add one named \""
                   << c.name << "\" to the table in tests/test_parity_grads.cpp");
      } else {
        const In leaves = make_leaves(c);
        Tensor out;
        std::string error;
        try {
          out = it->second(leaves);
          if (out.dim() == 0) out.backward();
          else out.backward(leaves["upstream"]);
        } catch (const std::exception& e) {
          error = e.what();
        }
        REQUIRE(error == "");
        {
          INFO("the output");
          CHECK(compare_with_fixture(out, c.output, grad_tolerance(c.output.dtype())) == "");
        }
        for (const auto& [name, expected] : c.grads.items()) {
          INFO("the gradient of " << name);
          const Tensor grad = leaves[name].grad();
          CHECK(compare_with_fixture(grad, expected, grad_tolerance(expected.dtype())) == "");
        }
      }
    }
  }
}

TEST_CASE("PyTorch parity: every expression in the table has a case in grads.txt",
          "[parity][autograd]") {
  std::set<std::string> in_file;
  for (const FixtureCase& c : grad_cases()) in_file.insert(c.name);
  for (const auto& [name, expr] : expressions()) {
    INFO("tests/test_parity_grads.cpp has an expression for \""
         << name << "\", but tests/fixtures/grads.txt has no such case: add it to "
         << "scripts/fixtures/gen_grads.py and run scripts/make_fixtures, or remove the entry");
    CHECK(in_file.count(name) == 1);
  }
}
