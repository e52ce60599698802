// graph/control_flow_run.cpp — running a control step: a body's plan, once or once per iteration.
//
// A body (graph/control_flow.h) was lowered to a Plan when it was declared. Running it is a
// Session run in miniature, with the same pieces: a Run over the body's plan whose fed steps are its
// arguments, then run_step for each step in order, dropping each value after its last reader — the
// very loop of Session::run, inside one step of the outer run. So everything a step does (kernels,
// shape checks, errors that name the node and the user's line) is the same inside a body. An error
// inside a body names the inner node first, then the cond / while node around it.
//
//   cond         run the true branch if pred holds, else the false branch; its results are the
//                cond's. The other branch is not run at all.
//   while_loop   vars = inits; while (t < maximum_iterations && cond(vars)) vars = body(vars).
//   while_grad   the gradient of a loop (graph/control_flow_grad.cpp builds it): the forward loop
//                again, keeping each iteration's vars — history[0] = inits ... history[n] — then
//                the body's derivative from the last iteration back to the first:
//
//                    g_n = dL/d(results)
//                    for t = n-1 ... 0:   (g_t, dc_t) = body'(history[t], captured, g_{t+1})
//                    dL/d(inits) = g_0,   dL/d(captured) = Σ_t dc_t
//
//                The history is TF1's stack of forward values, kept in this step for its duration.
//
// Read next: graph/control_flow_grad.cpp.
#include "graph/control_flow.h"
#include "graph/executor.h"
#include "graph/session.h"

namespace tandem::graph {

namespace {

// Runs a body's plan with `args` fed to its arguments, in order; returns its results. The loop is
// Session::run's (graph/session.cpp), without a memory plan.
std::vector<Tensor> run_body(Run& outer, const Body& body, const std::vector<Tensor>& args) {
  FeedDict feeds;
  for (size_t k = 0; k < body.args.size() && k < args.size(); ++k) feeds.emplace_back(Output(body.args[k]), args[k]);
  Run run(body.plan, outer.options, outer.variables, feeds);
  run.start();
  for (size_t i = 0; i < body.plan.steps.size(); ++i) {
    if (run.fed[i]) continue;
    run_step(run, i);
    run.release_after(i);
  }
  outer.kernels += run.kernels;
  return run.results();
}

std::vector<Tensor> joined(const std::vector<Tensor>& a, std::span<const Tensor> b) {
  std::vector<Tensor> out(a);
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

std::vector<Tensor> run_cond(Run& run, const ControlFlow& f, const std::vector<Tensor>& in) {
  const bool taken = in[0].cpu().item<bool>();
  const std::vector<Tensor> captured(in.begin() + 1, in.end());
  return run_body(run, *f.bodies[taken ? 0 : 1], captured);
}

// The forward loop. With `history`, every iteration's loop variables are kept there (the inits
// first, the final values last); the final values are returned either way.
std::vector<Tensor> run_loop(Run& run, const ControlFlow& f, std::span<const Tensor> in,
                             std::vector<std::vector<Tensor>>* history) {
  const auto k = static_cast<size_t>(f.loop_vars);
  std::vector<Tensor> vars(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(k));
  const std::span<const Tensor> captured = in.subspan(k);
  const Body &cond = *f.bodies[0], &body = *f.bodies[1];
  if (history) history->push_back(vars);
  for (int64_t t = 0; f.maximum_iterations < 0 || t < f.maximum_iterations; ++t) {
    if (!run_body(run, cond, joined(vars, captured))[0].cpu().item<bool>()) break;
    vars = run_body(run, body, joined(vars, captured));
    if (history) history->push_back(vars);
  }
  return vars;
}

std::vector<Tensor> run_loop_gradient(Run& run, const ControlFlow& f, const std::vector<Tensor>& in) {
  const auto k = static_cast<size_t>(f.loop_vars);
  const size_t m = in.size() - 2 * k;  // inputs: inits (k), captured (m), dL/d(results) (k)
  const std::span<const Tensor> all(in);
  std::vector<std::vector<Tensor>> history;
  run_loop(run, f, all.first(k + m), &history);
  const std::span<const Tensor> captured = all.subspan(k, m);
  std::vector<Tensor> g(in.begin() + static_cast<std::ptrdiff_t>(k + m), in.end());
  std::vector<Tensor> g_captured(m);
  const Body& backward = *f.bodies[2];
  for (size_t t = history.size() - 1; t-- > 0;) {  // iterations n-1 ... 0
    std::vector<Tensor> args = joined(history[t], captured);
    args.insert(args.end(), g.begin(), g.end());
    const std::vector<Tensor> out = run_body(run, backward, args);
    g.assign(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(k));
    for (size_t j = 0; j < m; ++j)
      g_captured[j] = g_captured[j].defined() ? g_captured[j] + out[k + j] : out[k + j];
  }
  for (size_t j = 0; j < m; ++j)  // a loop that ran no iteration: captured values had no effect
    if (!g_captured[j].defined()) g_captured[j] = zeros_like(captured[j]);
  g.insert(g.end(), g_captured.begin(), g_captured.end());
  return g;
}

}  // namespace

std::vector<Tensor> run_control(Run& run, size_t i, const std::vector<Tensor>& in) {
  const ControlFlow& f = *run.plan.steps[i].source->flow;
  switch (f.form) {
    case ControlFlow::Form::cond: return run_cond(run, f, in);
    case ControlFlow::Form::while_loop: return run_loop(run, f, in, nullptr);
    case ControlFlow::Form::while_grad: return run_loop_gradient(run, f, in);
  }
  throw Error("internal error: a control step of unknown form");
}

}  // namespace tandem::graph
