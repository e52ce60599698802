// tests/two_modes.h — test cases written once and run in both modes: eager tensors and graphs.
//
// A test case is a generic lambda, `[](const auto& x) { return x[0] * exp(x[1]); }`, whose `x` is a
// vector of Tensors in eager mode and a vector of graph::Outputs in graph mode — the same trick the
// derivative sheet plays with its rules (autograd/derivatives.h). TwoModes keeps both instantiations
// of one lambda, so a table of cases written once can be run eagerly (tests/test_gradcheck.cpp,
// tests/test_parity*.cpp) and as graphs with known or unknown dims (tests/test_unknown_dims.cpp).
//
// Written this way, a case may only use what both modes have: the free functions (transpose(x, 0,
// 1) rather than x.t()), call_with() for an op without a user function, lift() for a constant
// tensor, and sizes from the values (FixtureOutputs::value) rather than from static shapes, which
// a graph may not know. Lists are spelled cat(std::vector{a, b}), not cat({a, b}): a braced list
// has no type, so the lookup of cat would not see that a and b are graph Outputs.
//
// Read next: tests/test_unknown_dims.cpp.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/op.h"
#include "graph/gradcheck.h"
#include "graph/ops.h"
#include "tests/fixture.h"

namespace tandem {

// One generic function, instantiated for both modes. In, Out: eager argument and result types;
// GIn, GOut: their graph twins.
template <class In, class Out, class GIn, class GOut> struct TwoModes {
  std::function<Out(const In&)> eager;
  std::function<GOut(const GIn&)> graph;

  TwoModes() = default;
  template <class F>
    requires(!std::is_same_v<std::decay_t<F>, TwoModes>)
  TwoModes(F f) : eager(f), graph(f) {}  // NOLINT: implicit on purpose, so tables read naturally
  Out operator()(const In& in) const { return eager(in); }
};

// ---- the gradcheck table (tests/test_gradcheck.cpp) ------------------------------------------------

using CaseFunction = TwoModes<std::vector<Tensor>, Tensor, std::vector<graph::Output>, graph::Output>;

struct GradcheckCase {
  const char* op;  // the op of the derivative sheet this case is about
  std::string what;
  CaseFunction f;
  std::vector<Tensor> inputs;
  bool second_order = true;  // false: gradgradcheck would fail for a reason given in `what`
  double eps = 1e-6;
};

// Every case of the table, at least one per op of the derivative sheet.
const std::vector<GradcheckCase>& gradcheck_cases();

// An op of the catalogue with explicit attributes, in either mode.
inline Tensor call_with(const OpDef& op, const std::vector<Tensor>& in, Attrs a) { return call(op, in, std::move(a)); }
inline graph::Output call_with(const OpDef& op, const std::vector<graph::Output>& in, Attrs a) {
  return graph::make_op(op, in, a);
}

// A constant tensor next to a value of either mode: the tensor itself, or a graph constant.
inline Tensor lift(const Tensor& value, const Tensor&) { return value; }
inline graph::Output lift(const Tensor& value, const graph::Output&) { return graph::constant(value); }

// ---- the PyTorch parity tables (tests/test_parity.cpp, tests/test_parity_grads.cpp) ----------------

// The graph twin of FixtureTensors: each fixture input as a node (a placeholder), by name, and the
// value it will be fed (for sizes a graph with unknown dims cannot tell).
class FixtureOutputs {
 public:
  FixtureOutputs(const FixtureTensors& values, std::vector<std::pair<std::string, graph::Output>> nodes)
      : values_(values), nodes_(std::move(nodes)) {}
  const graph::Output& operator[](const std::string& name) const;
  const Tensor& value(const std::string& name) const { return values_[name]; }

 private:
  const FixtureTensors& values_;
  std::vector<std::pair<std::string, graph::Output>> nodes_;
};

using ParityExpr = TwoModes<FixtureTensors, Tensor, FixtureOutputs, graph::Output>;

// Case name -> expression, for ops.txt (forward) and grads.txt (values and gradients).
const std::map<std::string, ParityExpr>& parity_op_expressions();
const std::map<std::string, ParityExpr>& parity_grad_expressions();

// ---- running one function in either mode ----------------------------------------------------------

// What a run gives: the outputs' values, and the gradients of Σ_a sum(seeds[a] * outputs[a]) with
// respect to the inputs listed in `wrt` (undefined where no gradient arrives). seeds[a] is
// undefined for an output that is not floating point.
struct ModeResult {
  std::vector<Tensor> values, grads;
};
using EagerFunctionN = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;
using GraphFunctionN = std::function<std::vector<graph::Output>(const std::vector<graph::Output>&)>;

// Eagerly, with backward through autograd::grad.
ModeResult run_eagerly(const EagerFunctionN& f, const std::vector<Tensor>& inputs,
                       const std::vector<Tensor>& seeds, const std::vector<int>& wrt);
// As a graph over placeholders declared as `dims` says, differentiated by gradients() and run by
// a Session with `options`.
ModeResult run_as_graph(const GraphFunctionN& f, const std::vector<Tensor>& inputs, const std::vector<Tensor>& seeds,
                        const std::vector<int>& wrt, graph::Dims dims, const graph::SessionOptions& options = {});

// "" when the two results agree (same shapes and dtypes, values within rtol/atol; an undefined
// gradient counts as zeros), else what differs.
std::string compare_results(const ModeResult& got, const ModeResult& want, double rtol, double atol);

}  // namespace tandem
