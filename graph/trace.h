// graph/trace.h — tracing: an eager function, run once on placeholders, becomes a graph.
//
// Tandem's op functions are templates over the tensor type (core/ops.h), so a function written once,
//
//     template <class T> T model(const T& x) { return relu(x * 2.0) - 1.0; }
//
// runs eagerly on Tensors and, called with a graph Output, adds nodes instead. trace() makes that a
// tool, as tf.function and torch.jit.trace do: it calls the function once on placeholders (declared
// from TensorSpecs or example tensors) and keeps the graph that the call built, ready to run:
//
//     graph::TracedFunction f = graph::trace([](const auto& x) { return model(x); }, {{kFloat32, {-1, 3}}});
//     Tensor y = f(x_batch);   // a Session::run of the traced graph: passes, memory plan and all
//
// WHAT TRACING CAPTURES: every op the call made on the traced values — that is, on the placeholders.
// WHAT IT SILENTLY MISSES: everything the C++ did with ordinary values while tracing. That code ran
// once, at trace time, and only its effect on the ops survives:
//   - a C++ loop of a fixed count is unrolled: `for (int i = 0; i < 3; ++i) x = x * 2.0` traces
//     three Mul nodes, and changing the count later changes nothing;
//   - a C++ number read during the call is baked in as a constant (a learning rate in a variable);
//   - side effects run once: a `std::cout` inside the function prints while tracing and never again
//     (graph's print() op prints on every run);
//   - a branch on a *static* size (`if (x.size(0) > 2)`) is decided with the placeholder's size —
//     -1 for an unknown batch — and frozen that way.
// A branch on a *value* cannot be traced at all: `if (x.sum().item() > 0)` has no value to read on a
// placeholder. torch.jit.trace warns and bakes the branch taken by the example; TF's AutoGraph
// rewrites the `if` into tf.cond. Tandem stops with an Error that says to write graph::cond (or
// while_loop for a loop) — the branch must be in the graph to be decided at run time.
//
// Read next: graph/control_flow.h, examples/09_dynamic_control_flow.cpp.
#pragma once

#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "graph/ops.h"
#include "graph/session.h"

namespace tandem::graph {

// What a traced function is called with (tf.TensorSpec): a dtype and a shape, -1 for a dim any run
// may choose.
struct TensorSpec {
  DType dtype = kFloat32;
  Shape shape = {};
  std::string name = "";
  static TensorSpec like(const Tensor& t) { return {t.dtype(), t.shape(), ""}; }  // exactly t's
};

// A traced graph, with its inputs (placeholders, one per spec), its outputs and a Session to run it.
class TracedFunction {
 public:
  TracedFunction() : graph_(std::make_unique<Graph>()) {}

  // Runs the graph on these values, one per input: a Session::run.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs) {
    if (inputs.size() != inputs_.size())
      throw Error(msg("traced function: called with ", inputs.size(), " values, but it was traced with ",
                      inputs_.size(), " inputs"));
    FeedDict feeds;
    for (size_t k = 0; k < inputs.size(); ++k) feeds.emplace_back(inputs_[k], inputs[k]);
    return session_->run(outputs_, feeds);
  }
  // One input, one output.
  Tensor operator()(const Tensor& x) { return run({x})[0]; }

  Graph& graph() { return *graph_; }
  const std::vector<Output>& inputs() const { return inputs_; }
  const std::vector<Output>& outputs() const { return outputs_; }
  Session& session() { return *session_; }

  // Used by trace(): the placeholders, then the traced call's results.
  void set_inputs(std::vector<Output> in) { inputs_ = std::move(in); }
  void finish(std::vector<Output> out) {
    outputs_ = std::move(out);
    session_ = std::make_unique<Session>(*graph_);
  }

 private:
  std::unique_ptr<Graph> graph_;  // first: the Session and the Outputs point into it
  std::vector<Output> inputs_, outputs_;
  std::unique_ptr<Session> session_;
};

// Traces fn, called with one Output per spec: fn(x) for one spec, fn(std::vector<Output>) for any
// number. fn returns an Output or a std::vector<Output>. A C++ branch on a value inside it is an
// Error (Output::item(): use cond / while_loop).
template <class F> TracedFunction trace(F&& fn, const std::vector<TensorSpec>& specs) {
  TracedFunction f;
  DefaultGraph use(f.graph());
  std::vector<Output> in;
  for (const TensorSpec& s : specs) in.push_back(placeholder(s.dtype, s.shape, s.name));
  f.set_inputs(in);
  auto call = [&] {
    if constexpr (std::is_invocable_v<F, const Output&>) {
      if (in.size() != 1)
        throw Error(msg("trace: the function takes one value, but ", in.size(), " specs were given"));
      return fn(in[0]);
    } else {
      return fn(in);
    }
  };
  using R = decltype(call());
  if constexpr (std::is_same_v<std::decay_t<R>, Output>) f.finish({call()});
  else f.finish(call());
  return f;
}

// Traces with placeholders shaped exactly like these example tensors (torch.jit.trace's way).
template <class F> TracedFunction trace(F&& fn, const std::vector<Tensor>& examples) {
  std::vector<TensorSpec> specs;
  for (const Tensor& e : examples) specs.push_back(TensorSpec::like(e));
  return trace(std::forward<F>(fn), specs);
}

}  // namespace tandem::graph
