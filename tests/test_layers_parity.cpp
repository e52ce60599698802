// tests/test_layers_parity.cpp — do Tandem's layers and losses compute what PyTorch's do, in both modes?
//
// tests/fixtures/layers.txt (scripts/fixtures/gen_layers.py) holds, for each PyTorch layer, its
// input, its whole state (state_dict), the output, and the gradients of the input and of every
// parameter after backward() with a fixed random upstream gradient; for layers in training mode
// that update buffers (batch norm), the buffers after the forward ("after.running_mean"). The
// table below builds the same layer in Tandem for each case, loads that state, and checks
//   - eager mode: forward, backward(upstream): output and every gradient;
//   - graph mode: the same on a placeholder whose batch size is unknown, Variables bound to the
//     layer, gradients() of Σ y·upstream, one Session::run: output and every gradient;
//   - the updated buffers, in each mode (graph mode's come back through copy_from).
// The losses and the new ops are expressions of named inputs, written once (a generic lambda) and
// run in both modes the same way.
//
// Tolerances: float32 rtol 1e-4, atol 1e-5 (as tests/test_parity_grads.cpp: a gradient is a long
// chain of rounded operations, summed in another order than PyTorch's); float64 1e-10, 1e-12.
//
// A fixture case without an entry below fails, and so does an entry without a case.
// Run one case:  tandem_tests "[layers][parity]" -c "conv2d_groups"
#include <catch2/catch.hpp>

#include <set>

#include "tests/fixture.h"
#include "tests/layers_check.h"
#include "tests/seed_models.h"

using namespace tandem;
using testing::both;
using testing::Expr;

namespace {

namespace F = nn::functional;
using ModulePtr = std::shared_ptr<nn::Module>;

struct LayerCase {
  std::function<ModulePtr()> make;
  bool training = false;
  Tolerance tol{1e-4, 1e-5};
};

const std::map<std::string, LayerCase>& layer_table() {
  static const std::map<std::string, LayerCase> table = {
      {"linear", {[] { return nn::Linear(5, 3).ptr(); }}},
      {"linear_nobias_3d", {[] { return nn::Linear(4, 2, false).ptr(); }}},
      {"conv2d", {[] { return nn::Conv2d(3, 4, 3).ptr(); }}},
      {"conv2d_stride_pad", {[] { return nn::Conv2d(nn::Conv2dOptions(2, 3, nn::Size2(3, 2)).stride(2).padding(1)).ptr(); }}},
      {"conv2d_dilation", {[] { return nn::Conv2d(nn::Conv2dOptions(2, 3, 3).padding(2).dilation(2)).ptr(); }}},
      {"conv2d_dilation_stride",
       {[] { return nn::Conv2d(nn::Conv2dOptions(2, 2, nn::Size2(3, 2)).stride(nn::Size2(2, 1)).dilation(nn::Size2(1, 3))).ptr(); }}},
      {"conv2d_groups", {[] { return nn::Conv2d(nn::Conv2dOptions(4, 6, 3).padding(1).groups(2)).ptr(); }}},
      {"conv2d_depthwise_nobias", {[] { return nn::Conv2d(nn::Conv2dOptions(3, 3, 3).groups(3).bias(false)).ptr(); }}},
      {"conv2d_same_even", {[] { return nn::Conv2d(2, 2, 4, 1, "same").ptr(); }}},
      {"conv2d_same_dilated",
       {[] { return nn::Conv2d(nn::Conv2dOptions(2, 3, nn::Size2(3, 2)).padding("same").dilation(2)).ptr(); }}},
      {"conv2d_valid", {[] { return nn::Conv2d(1, 2, 3, 1, "valid").ptr(); }}},
      {"maxpool2d", {[] { return nn::MaxPool2d(2).ptr(); }}},
      {"maxpool2d_overlap_pad", {[] { return nn::MaxPool2d(3, 2, 1).ptr(); }}},
      {"avgpool2d", {[] { return nn::AvgPool2d(2).ptr(); }}},
      {"avgpool2d_uneven", {[] { return nn::AvgPool2d(2).ptr(); }}},
      {"avgpool2d_overlap_pad", {[] { return nn::AvgPool2d(3, 2, 1).ptr(); }}},
      {"avgpool2d_exclude_pad", {[] { return nn::AvgPool2d(nn::Size2(3, 2), nn::Size2(2, 1), 1, false).ptr(); }}},
      {"adaptiveavgpool2d_global", {[] { return nn::AdaptiveAvgPool2d(1).ptr(); }}},
      {"adaptiveavgpool2d_even", {[] { return nn::AdaptiveAvgPool2d(nn::Size2(2, 3)).ptr(); }}},
      {"adaptiveavgpool2d_uneven", {[] { return nn::AdaptiveAvgPool2d(nn::Size2(3, 2)).ptr(); }}},
      {"batchnorm1d_train", {[] { return nn::BatchNorm1d(4).ptr(); }, true}},
      {"batchnorm1d_3d_train", {[] { return nn::BatchNorm1d(3, 1e-5, 0.3).ptr(); }, true}},
      {"batchnorm2d_train", {[] { return nn::BatchNorm2d(3).ptr(); }, true}},
      {"batchnorm2d_eval", {[] { return nn::BatchNorm2d(3, 1e-3).ptr(); }}},
      {"batchnorm2d_noaffine_train", {[] { return nn::BatchNorm2d(2, 1e-5, 0.1, false).ptr(); }, true}},
      {"layernorm", {[] { return nn::LayerNorm(5).ptr(); }}},
      {"layernorm_2d", {[] { return nn::LayerNorm(Shape{4, 5}).ptr(); }}},
      {"embedding", {[] { return nn::Embedding(10, 4).ptr(); }}},
      {"embedding_padding", {[] { return nn::Embedding(6, 3, 0).ptr(); }}},
      {"relu", {[] { return nn::ReLU().ptr(); }}},
      {"leakyrelu", {[] { return nn::LeakyReLU(0.2).ptr(); }}},
      {"sigmoid", {[] { return nn::Sigmoid().ptr(); }}},
      {"tanh", {[] { return nn::Tanh().ptr(); }}},
      {"gelu", {[] { return nn::GELU().ptr(); }}},
      {"gelu_tanh", {[] { return nn::GELU("tanh").ptr(); }}},
      {"softplus", {[] { return nn::Softplus().ptr(); }}},
      {"softplus_beta2", {[] { return nn::Softplus(2.0).ptr(); }}},
      {"softmax", {[] { return nn::Softmax(1).ptr(); }}},
      {"logsoftmax", {[] { return nn::LogSoftmax(-1).ptr(); }}},
      {"flatten", {[] { return nn::Flatten().ptr(); }}},
      {"flatten_1_2", {[] { return nn::Flatten(0, 1).ptr(); }}},
      // the seed models (tests/seed_models.h)
      {"seed_net_eval", {[] { return seeds::Net().ptr(); }}},
      {"seed_mlp", {[] { return seeds::PyTorchModel().ptr(); }}},
      {"seed_sentiment", {[] { return seeds::SentimentModel(50, 8).ptr(); }}},
      // a dozen layers of float32 batch statistics, summed in another order than PyTorch's
      {"resnet_train", {[] { return seeds::ResNet(std::array<int64_t, 3>{4, 8, 8}).ptr(); }, true, {2e-4, 2e-5}}},
  };
  return table;
}

struct ExprCase {
  Expr expr;
  std::vector<std::string> with_grad;
};

// The losses and the new ops: the same expression as gen_layers.py, under the same name.
const std::map<std::string, ExprCase>& expr_table() {
  static const std::map<std::string, ExprCase> table = {
      {"ce", {both([](const auto& in) { return F::cross_entropy(in("z"), in("y")); }), {"z"}}},
      {"ce_sum", {both([](const auto& in) { return F::cross_entropy(in("z"), in("y"), {.reduction = "sum"}); }), {"z"}}},
      {"ce_none", {both([](const auto& in) { return F::cross_entropy(in("z"), in("y"), {.reduction = "none"}); }), {"z"}}},
      {"ce_ignore", {both([](const auto& in) { return F::cross_entropy(in("z"), in("y")); }), {"z"}}},
      {"ce_ignore_index_2", {both([](const auto& in) { return F::cross_entropy(in("z"), in("y"), {.ignore_index = 2}); }), {"z"}}},
      {"ce_weight", {both([](const auto& in) { return F::cross_entropy(in("z"), in("y"), {}, in("w")); }), {"z"}}},
      {"ce_smoothing", {both([](const auto& in) { return F::cross_entropy(in("z"), in("y"), {.label_smoothing = 0.1}); }), {"z"}}},
      {"ce_smoothing_weight_ignore",
       {both([](const auto& in) { return F::cross_entropy(in("z"), in("y"), {.label_smoothing = 0.2}, in("w")); }), {"z"}}},
      {"ce_smoothing_none",
       {both([](const auto& in) {
          return F::cross_entropy(in("z"), in("y"), {.label_smoothing = 0.3, .reduction = "none"});
        }),
        {"z"}}},
      {"ce_probs", {both([](const auto& in) { return F::cross_entropy(in("z"), in("p")); }), {"z"}}},
      {"ce_one_hot_smoothing_weight",
       {both([](const auto& in) { return F::cross_entropy(in("z"), in("p"), {.label_smoothing = 0.1}, in("w")); }), {"z"}}},
      {"ce_kdim", {both([](const auto& in) { return F::cross_entropy(in("z"), in("y")); }), {"z"}}},
      {"ce_unbatched", {both([](const auto& in) { return F::cross_entropy(in("z"), in("y")); }), {"z"}}},
      {"nll_weight_ignore",
       {both([](const auto& in) { return F::nll_loss(log_softmax(in("z"), 1), in("y"), {}, in("w")); }), {"z"}}},
      {"nll_sum",
       {both([](const auto& in) { return F::nll_loss(log_softmax(in("z"), 1), in("y"), {.reduction = "sum"}); }), {"z"}}},
      {"mse", {both([](const auto& in) { return F::mse_loss(in("a"), in("b")); }), {"a", "b"}}},
      {"mse_sum", {both([](const auto& in) { return F::mse_loss(in("a"), in("b"), "sum"); }), {"a", "b"}}},
      {"l1", {both([](const auto& in) { return F::l1_loss(in("a"), in("b")); }), {"a", "b"}}},
      {"l1_none", {both([](const auto& in) { return F::l1_loss(in("a"), in("b"), "none"); }), {"a", "b"}}},
      {"smooth_l1", {both([](const auto& in) { return F::smooth_l1_loss(in("a"), in("b")); }), {"a", "b"}}},
      {"smooth_l1_beta", {both([](const auto& in) { return F::smooth_l1_loss(in("a"), in("b"), "sum", 0.5); }), {"a", "b"}}},
      {"bce", {both([](const auto& in) { return F::binary_cross_entropy(sigmoid(in("z")), in("t")); }), {"z"}}},
      {"bce_weight_sum",
       {both([](const auto& in) { return F::binary_cross_entropy(in("p"), in("t"), in("w"), "sum"); }), {"p"}}},
      {"bce_saturated", {both([](const auto& in) { return F::binary_cross_entropy(in("p"), in("t")); }), {}}},
      {"bce_logits", {both([](const auto& in) { return F::binary_cross_entropy_with_logits(in("z"), in("t")); }), {"z"}}},
      {"bce_logits_pos_weight",
       {both([](const auto& in) {
          return F::binary_cross_entropy_with_logits(in("z"), in("t"), in("w"), "mean", in("pw"));
        }),
        {"z"}}},
      {"bce_logits_extreme",
       {both([](const auto& in) {
          using T = std::remove_cvref_t<decltype(in("z"))>;
          return F::binary_cross_entropy_with_logits(in("z"), in("t"), T(), "none");
        }),
        {"z"}}},
      {"clamp", {both([](const auto& in) { return clamp(in("x"), -0.5, 0.5); }), {"x"}}},
      {"clamp_min", {both([](const auto& in) { return clamp_min(in("x"), 0.2); }), {"x"}}},
      {"clamp_max_float64", {both([](const auto& in) { return clamp_max(in("x"), 0.0); }), {"x"}}},
      {"leaky_relu_zero", {both([](const auto& in) { return F::leaky_relu(in("x"), 0.1); }), {"x"}}},
  };
  return table;
}

const std::vector<FixtureCase>& fixtures() {
  static const std::vector<FixtureCase> all = load_fixtures(fixture_path("layers.txt"));
  return all;
}

Tolerance tol_for(const Tensor& expected, Tolerance float32) {
  return expected.dtype() == kFloat64 ? Tolerance{1e-10, 1e-12} : float32;
}

// The case's state_dict: every input but x, upstream and the after.* expectations.
StateDict state_of(const FixtureCase& c) {
  StateDict state;
  for (const auto& [k, v] : c.inputs.items())
    if (k != "x" && k != "upstream" && k.rfind("after.", 0) != 0) state.insert(k, v);
  return state;
}

void check_run(const FixtureCase& c, const testing::Run& r, Tolerance tol, const char* mode) {
  INFO(mode << " mode, case " << c.name << " (" << c.where() << "): " << c.expr);
  CHECK(compare_with_fixture(r.output, c.output, tol_for(c.output, tol)) == "");
  for (const auto& [name, expected] : c.grads.items()) {
    INFO("gradient of " << name);
    auto it = r.grads.find(name);
    REQUIRE(it != r.grads.end());
    CHECK(compare_with_fixture(it->second, expected, tol_for(expected, tol)) == "");
  }
  CHECK(r.grads.size() == c.grads.size());  // no gradient PyTorch did not compute
}

void check_buffers(const FixtureCase& c, const nn::Module& m, const char* mode) {
  for (const auto& [k, expected] : c.inputs.items()) {
    if (k.rfind("after.", 0) != 0) continue;
    INFO(mode << " mode, case " << c.name << ": buffer " << k.substr(6) << " after the training forward");
    bool found = false;
    for (const auto& [n, t] : m.state_dict())
      if (n == k.substr(6)) {
        found = true;
        CHECK(compare_with_fixture(t, expected, default_tolerance(expected.dtype())) == "");
      }
    CHECK(found);
  }
}

}  // namespace

TEST_CASE("layers parity: every fixture case has a Tandem counterpart, and every counterpart a case",
          "[layers][parity]") {
  std::set<std::string> in_file;
  for (const FixtureCase& c : fixtures()) {
    in_file.insert(c.name);
    INFO("fixture case " << c.name << " (" << c.where() << ") has no entry in tests/test_layers_parity.cpp");
    CHECK((layer_table().count(c.name) + expr_table().count(c.name)) == 1);
  }
  for (const auto& [name, e] : layer_table()) CHECK(in_file.count(name) == 1);
  for (const auto& [name, e] : expr_table()) CHECK(in_file.count(name) == 1);
}

TEST_CASE("layers parity: each layer's forward and backward match PyTorch's, eagerly and as a graph",
          "[layers][parity]") {
  for (const FixtureCase& c : fixtures()) {
    auto it = layer_table().find(c.name);
    if (it == layer_table().end()) continue;
    const LayerCase& lc = it->second;
    const Tensor& x = c.inputs["x"];
    const Tensor& upstream = c.inputs["upstream"];
    {
      const ModulePtr m = lc.make();
      m->load_state_dict(state_of(c));
      m->train(lc.training);
      check_run(c, testing::run_eager(*m, x, upstream), lc.tol, "eager");
      check_buffers(c, *m, "eager");
    }
    {
      const ModulePtr m = lc.make();
      m->load_state_dict(state_of(c));
      m->train(lc.training);
      check_run(c, testing::run_graph(*m, x, upstream), lc.tol, "graph");
      check_buffers(c, *m, "graph");
    }
  }
}

TEST_CASE("layers parity: the losses and new ops match PyTorch's, eagerly and as a graph", "[layers][parity]") {
  for (const FixtureCase& c : fixtures()) {
    auto it = expr_table().find(c.name);
    if (it == expr_table().end()) continue;
    std::map<std::string, Tensor> inputs;
    for (const auto& [k, v] : c.inputs.items())
      if (k != "upstream") inputs[k] = v;
    const Tensor upstream = c.inputs.contains("upstream") ? c.inputs["upstream"] : Tensor();
    const Tolerance tol{1e-4, 1e-5};
    check_run(c, testing::run_expr_eager(it->second.expr, inputs, it->second.with_grad, upstream), tol, "eager");
    check_run(c, testing::run_expr_graph(it->second.expr, inputs, it->second.with_grad, upstream), tol, "graph");
  }
}
