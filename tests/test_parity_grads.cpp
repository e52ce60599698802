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
// case in the file, so the two lists cannot drift apart. The expressions are written once for both
// modes (tests/two_modes.h): tests/test_unknown_dims.cpp runs them as graphs too, with the batch
// dim or every dim of the inputs unknown, against the same fixtures.
//
// Run one case:  tandem_tests "[parity][autograd]" -c "attention"
// Read next: autograd/derivatives.h (the rules under test), tests/test_parity.cpp (forward only).
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include "autograd/engine.h"
#include "tandem.h"
#include "tests/fixture.h"
#include "tests/two_modes.h"

using namespace tandem;

namespace {

using In = FixtureTensors;
using Expr = ParityExpr;  // one generic expression, both modes (tests/two_modes.h)
constexpr int64_t kEnd = std::numeric_limits<int64_t>::max();  // a slice to the end: x[1:]

Tolerance grad_tolerance(DType dtype) {
  if (dtype == kFloat64) return {1e-10, 1e-12};
  return {1e-4, 1e-5};
}

// ---- the pieces the MLP cases share (same names as in gen_grads.py) -----------------------------

// act(x W1 + b1) W2 + b2
template <class I, class Act> auto mlp_logits(const Act& act, const I& in) {
  return matmul(act(matmul(in["x"], in["w1"]) + in["b1"]), in["w2"]) + in["b2"];
}

// -mean_i log_softmax(logits)[i, label_i]: F.cross_entropy spelled with the ops it is made of.
template <class T> T cross_entropy_gather(const T& logits, const T& labels) {
  return -mean(gather(log_softmax(logits, 1), 1, unsqueeze(labels, 1)));
}

// The same loss with the labels as one-hot rows: -mean_i sum_j onehot[i,j] * log_softmax[i,j].
// (The number of classes from w2's value: a graph with unknown dims cannot read it off a shape.)
template <class I, class Act> auto cross_entropy_one_hot(const Act& act, const I& in) {
  const auto logits = mlp_logits(act, in);
  const auto targets = to(one_hot(in["labels"], in.value("w2").size(1)), in.value("w2").dtype());
  return -mean(sum(targets * log_softmax(logits, 1), {1}));
}

// softmax(q kᵀ / √d) v, the attention of one head.
template <class I> auto attention(const I& in) {
  const auto& q = in["q"];
  const double d = static_cast<double>(in.value("q").size(-1));
  return matmul(softmax(matmul(q, transpose(in["k"], -2, -1)) / std::sqrt(d), -1), in["v"]);
}

// (x - mean) / sqrt(var + eps) * gamma + beta, over the last dim, with the biased variance.
template <class I> auto layer_norm(const I& in) {
  const auto& x = in["x"];
  const auto mu = mean(x, {-1}, true);
  const auto v = var(x, {-1}, /*correction=*/0, true);
  return (x - mu) / sqrt(v + 1e-5) * in["gamma"] + in["beta"];
}

// Case name -> the Tandem expression, in the order of gen_grads.py.
const std::map<std::string, Expr>& expressions() {
  static const std::map<std::string, Expr> table = [] {
    // The MLP cases differ only in the activation and in how the loss reads the labels.
    auto mlp = [](auto act, bool one_hot_labels) -> Expr {
      return [act, one_hot_labels](const auto& in) {
        return one_hot_labels ? cross_entropy_one_hot(act, in)
                              : cross_entropy_gather(mlp_logits(act, in), in["labels"]);
      };
    };
    auto act_relu = [](const auto& h) { return relu(h); };
    auto act_gelu = [](const auto& h) { return gelu(h); };
    auto attention_expr = [](const auto& in) { return attention(in); };
    auto layer_norm_expr = [](const auto& in) { return layer_norm(in); };
    std::map<std::string, Expr> t{
        // ---- the MLP and its cross-entropy ----
        {"mlp_relu_ce_gather", mlp(act_relu, false)},
        {"mlp_tanh_ce_gather", mlp([](const auto& h) { return tanh(h); }, false)},
        {"mlp_sigmoid_ce_gather", mlp([](const auto& h) { return sigmoid(h); }, false)},
        {"mlp_gelu_ce_gather", mlp(act_gelu, false)},
        {"mlp_relu_ce_one_hot", mlp(act_relu, true)},
        {"mlp_relu_ce_gather_float64", mlp(act_relu, false)},
        {"mlp_gelu_ce_one_hot_float64", mlp(act_gelu, true)},
        // ---- attention, softmax, normalisation ----
        {"attention", attention_expr},
        {"attention_float64", attention_expr},
        {"soft_target_ce",
         [](const auto& in) {
           return -mean(sum(softmax(in["t"], 1) * log_softmax(in["z"], 1), {1}));
         }},
        {"softmax_dim0", [](const auto& in) { return softmax(in["x"], 0) * in["w"]; }},
        {"layer_norm", layer_norm_expr},
        {"layer_norm_float64", layer_norm_expr},
        // ---- broadcasting and reductions ----
        {"broadcast_outer",
         [](const auto& in) {
           const auto &x = in["x"], &b = in["b"], &u = in["u"], &v = in["v"];
           return (x + b) * (u * v) + u - v / 2;
         }},
        {"broadcast_rank3", [](const auto& in) { return sum(in["a"] * in["b"] + in["c"]); }},
        {"matmul_broadcast_batch",
         [](const auto& in) { return matmul(in["a"], in["b"]) + in["bias"]; }},
        {"matmul_vectors",
         [](const auto& in) {
           const auto &x = in["x"], &M = in["M"], &y = in["y"];
           return matmul(matmul(x, M), y) + matmul(matmul(M, y), matmul(M, y));
         }},
        {"reductions_mixed",
         [](const auto& in) {
           const auto& x = in["x"];
           return var(x, {1}, 1, true) * mean(x, {0}, true) + max(x, 1, true) - sum(x, {0});
         }},
        {"reductions_rank3",
         [](const auto& in) {
           const auto& y = in["y"];
           return mean(y, {0, 2}, true) * var(y, {0, 2}, 1, true) + min(y, -1, true);
         }},
        {"amax_ties",
         [](const auto& in) {
           const auto& x = in["x"];
           return amax(x, {1}) * in["w"] + max(x) + sum(amin(x, {0}));
         }},
        {"max_dim_ties",
         [](const auto& in) {
           const auto& x = in["x"];
           return max(x, 1) * in["w"] + sum(min(x, 0));
         }},
        // ---- views, joins, indexing ----
        {"views_chain",
         [](const auto& in) {
           const auto c = cat(std::vector{slice(reshape(transpose(in["x"], 0, 1), {2, 6}), 1, 0, 6, 2), in["y"]}, 0);
           return stack(std::vector{c, c * 2}, 0) * expand(in["z"], {2, 4, 3});
         }},
        {"views_more",
         [](const auto& in) {
           const auto picked = narrow(select(exp(permute(in["x"], {2, 0, 1})), 1, 1), 1, 1, 2);
           return flatten(unsqueeze(picked, 0)) * in["w"];
         }},
        {"slice_overlap",
         [](const auto& in) {
           const auto& x = in["x"];
           return slice(x, 0, 1, kEnd) * slice(x, 0, 0, -1) + sum(slice(x, 0, 0, kEnd, 2));
         }},
        {"index_select_repeated",
         [](const auto& in) {
           const auto& x = in["x"];
           return index_select(x, 0, in["i"]) * in["w"] +
                  sum(slice(index_select(x, 1, in["j"]), 0, 0, 2));
         }},
        {"gather_repeated", [](const auto& in) { return gather(in["x"], 1, in["i"]) * in["w"]; }},
        // ---- elementwise compositions ----
        {"where_maximum",
         [](const auto& in) {
           const auto &x = in["x"], &y = in["y"];
           return where(gt(x, scalar_like(0, x)), maximum(x, y), x * y);  // x > 0
         }},
        {"minimum_clamp",
         [](const auto& in) { return minimum(maximum(in["x"], in["lo"]), in["hi"]); }},
        {"pow_tensor_exponent",
         [](const auto& in) {
           const auto& a = in["a"];
           return pow(a, in["b"]) + pow(a, 2) + pow(a, 0.5);
         }},
        {"pow_tensor_exponent_float64", [](const auto& in) { return pow(in["a"], in["b"]); }},
        {"diamond",
         [](const auto& in) {
           const auto t = tanh(in["x"]);
           return t * t + t * in["w"] + exp(t) * sum(t);
         }},
        {"diamond_scalar",
         [](const auto& in) {
           const auto b = in["a"] + in["a"];
           return b * b + b;
         }},
        {"log_sigmoid_bce",
         [](const auto& in) {
           const auto &z = in["z"], &t = in["t"];
           return -mean(t * log(sigmoid(z)) + (1 - t) * log(1 - sigmoid(z)));
         }},
        {"log_sigmoid_chain",
         [](const auto& in) { return log(sigmoid(log(sigmoid(in["x"])) * in["w"])); }},
        {"unary_mix",
         [](const auto& in) {
           const auto &x = in["x"], &y = in["y"];
           return sqrt(abs(x) + 1) * sin(x) - cos(y) / (2 - y) + 1 - x;
         }},
        {"cast_in_the_middle",
         [](const auto& in) {
           const auto &x = in["x"], &y = in["y"];
           return to(to(x, kFloat64) * y, kFloat32) * x;
         }},
        {"mse_loss",
         [](const auto& in) { return mean(pow(matmul(in["x"], in["w"]) - in["target"], 2)); }},
        // ---- convolution and pooling ----
        {"conv_pool_relu",
         [](const auto& in) { return relu(max_pool2d(conv2d(in["x"], in["w"], in["b"], {1, 1}, {1, 1}), {2, 2})); }},
        {"conv_stride_pad_float64", [](const auto& in) { return conv2d(in["x"], in["w"], {2, 1}, {2, 1}); }},
        {"max_pool_overlap_pad",
         [](const auto& in) { return max_pool2d(in["x"], {3, 3}, {2, 2}, {1, 1}) * in["w"]; }},
        {"convnet_seed",
         [](const auto& in) {
           auto h = relu(max_pool2d(conv2d(in["x"], in["c1"], in["b1"]), {2, 2}));
           h = relu(max_pool2d(conv2d(h, in["c2"], in["b2"]), {2, 2}));
           const auto logits = matmul(flatten(h, 1), in["f1"]) + in["fb1"];  // h.reshape(N, -1)
           return cross_entropy_gather(logits, in["labels"]);  // F.nll_loss(F.log_softmax(...))
         }},
        // ---- gradient edge points: PyTorch's answers where a formula would say 0·inf = NaN ----
        {"pow_zero_exponent",
         [](const auto& in) { return pow(in["a"], in["b"]) + pow(in["a"], 0.0) * in["w"]; }},
        {"maximum_minimum_inf_upstream",
         [](const auto& in) { return stack(std::vector{maximum(in["a"], in["b"]), minimum(in["c"], in["d"])}); }},
        {"max_min_inf_upstream", [](const auto& in) { return stack(std::vector{max(in["x"]), min(in["x"])}) * in["w"]; }},
        {"var_0dim", [](const auto& in) { return var(in["x"]); }},
        // ---- the losses of layers/simple_losses.h in PyTorch's three layouts ----
        {"cross_entropy_batched", [](const auto& in) { return cross_entropy(in["z"], in["labels"]); }},
        {"cross_entropy_unbatched", [](const auto& in) { return cross_entropy(in["z"], in["label"]); }},
        {"nll_loss_unbatched", [](const auto& in) { return nll_loss(log_softmax(in["z"], 0), in["label"]); }},
        {"cross_entropy_kdim", [](const auto& in) { return cross_entropy(in["z"], in["labels"]); }},
        {"nll_loss_kdim_float64", [](const auto& in) { return nll_loss(log_softmax(in["z"], 1), in["labels"]); }},
    };
    return t;
  }();
  return table;
}

}  // namespace

const std::map<std::string, ParityExpr>& tandem::parity_grad_expressions() { return expressions(); }

namespace {

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
