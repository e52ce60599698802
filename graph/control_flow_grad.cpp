// graph/control_flow_grad.cpp — gradients through cond and while_loop.
//
// gradients() (graph/gradients.cpp) walks the graph backward and asks each node for the gradients
// of its inputs. A control node answers with a *body's* gradient: gradients() itself, run on the
// body — its results as ys, its arguments as xs, and new arguments standing for dL/d(results) as
// grad_ys. Those gradient nodes form a new body (a "derivative body"), which reads the forward
// body's values: so its plan runs the forward body's nodes again before its own (the forward
// values are recomputed, not kept from the forward run — see graph/control_flow.h).
//
//   cond      y = cond(p, T, F)            dL/dc = cond(p, T', F')(c, dL/dy)
//             the same pred picks the derivative of the branch that ran: a cond of the gradients.
//
//   while     v_{t+1} = B(v_t, c), n times  dL/dv_0 and dL/dc from a WhileGrad node that runs B'
//             (the derivative body: (v_t, c, g_{t+1}) -> (g_t, dc_t)) from t = n-1 back to 0
//             (graph/control_flow_run.cpp). Checked by finite differences in tests/test_control_flow.cpp.
//
// Read next: graph/trace.h.
#include "graph/control_flow.h"
#include "graph/gradients.h"

namespace tandem::graph {

namespace {

// The derivative body of `forward`: args = forward's args, then one per result (dL/d(result));
// results = dL/d(each forward arg) (zeros where it has no effect).
std::shared_ptr<Body> derivative_body(Graph& g, const Body& forward, const std::string& role) {
  auto body = std::make_shared<Body>();
  body->role = role;
  const int64_t first = g.size();
  body->args = forward.args;
  std::vector<Output> ys, grad_ys, xs;
  for (const Output& r : forward.results) {
    body->args.push_back(make_arg(g, {r.shape(), r.dtype()}, "Arg"));
    if (is_floating(r.dtype())) {  // integer results (a counter) carry no gradient
      ys.push_back(r);
      grad_ys.emplace_back(body->args.back());
    }
  }
  for (Node* a : forward.args) xs.emplace_back(a);
  if (ys.empty()) {
    for (Node* a : forward.args) body->results.push_back(zeros_like(Output(a)));
  } else {
    body->results = gradients(ys, xs, grad_ys, /*unconnected_zeros=*/true);
  }
  std::vector<Node*> extra;  // the forward body's nodes, recomputed first
  for (Node* n : forward.nodes)
    if (std::find(forward.args.begin(), forward.args.end(), n) == forward.args.end()) extra.push_back(n);
  std::vector<Output> captured;
  close_body(g, *body, first, captured, extra);
  if (!captured.empty())
    throw Error(msg("internal error: the derivative of the ", forward.role, " uses '", captured[0].name(),
                    "' from outside it"));
  return body;
}

// dL/d(result k), or zeros of its shape when no gradient flows into it.
std::vector<Output> result_gradients(const ControlFlow& f, const std::vector<Output>& result_grads) {
  std::vector<Output> out;
  for (size_t k = 0; k < f.results.size(); ++k)
    out.push_back(k < result_grads.size() && result_grads[k].defined() ? result_grads[k]
                                                                        : zeros_like(Output(f.results[k])));
  return out;
}

std::vector<Meta> metas_of(const std::vector<Output>& xs) {
  std::vector<Meta> out;
  for (const Output& x : xs) out.push_back({x.shape(), x.dtype()});
  return out;
}

// cond(p, T, F) over inputs {p, c...}: dL/dc = cond(p, T', F') over {p, c..., dL/dy...}.
std::vector<Output> cond_gradients(Graph& g, Node& n, const std::vector<Output>& result_grads) {
  const ControlFlow& f = *n.flow;
  auto flow = std::make_shared<ControlFlow>();
  flow->form = ControlFlow::Form::cond;
  flow->bodies.push_back(derivative_body(g, *f.bodies[0], "derivative of the true branch"));
  flow->bodies.push_back(derivative_body(g, *f.bodies[1], "derivative of the false branch"));
  std::vector<Output> inputs(n.inputs);
  const std::vector<Output> gy = result_gradients(f, result_grads);
  inputs.insert(inputs.end(), gy.begin(), gy.end());
  const std::vector<Output> captured(n.inputs.begin() + 1, n.inputs.end());
  std::vector<Output> grads = add_control_node(g, flow, "Cond", inputs, metas_of(captured), "Merge");
  grads.insert(grads.begin(), Output());  // the pred has none
  return grads;
}

// while_loop over inputs {v0..., c...}: a WhileGrad node over {v0..., c..., dL/d(results)...}.
std::vector<Output> while_gradients(Graph& g, Node& n, const std::vector<Output>& result_grads) {
  const ControlFlow& f = *n.flow;
  if (f.form == ControlFlow::Form::while_grad)
    throw Error(msg("gradients: ", n.describe(), " is the gradient of a while_loop; second derivatives "
                    "through a while_loop are not built. Differentiate the loop once"));
  auto flow = std::make_shared<ControlFlow>(f);
  flow->form = ControlFlow::Form::while_grad;
  flow->results.clear();
  flow->bodies.push_back(derivative_body(g, *f.bodies[1], "derivative of the while_loop body"));
  std::vector<Output> inputs(n.inputs);
  const std::vector<Output> gy = result_gradients(f, result_grads);
  inputs.insert(inputs.end(), gy.begin(), gy.end());
  std::vector<Meta> metas;
  for (Node* r : f.results) metas.push_back(r->meta);  // dL/d(inits): the loop variables' invariants
  for (size_t j = static_cast<size_t>(f.loop_vars); j < n.inputs.size(); ++j)
    metas.push_back({n.inputs[j].shape(), n.inputs[j].dtype()});
  return add_control_node(g, flow, "WhileGrad", inputs, metas, "Exit");
}

}  // namespace

std::vector<Output> control_flow_gradients(Node& n, const std::vector<Output>& result_grads,
                                           const std::vector<bool>& needs) {
  Graph& g = *n.graph;
  DefaultGraph use(g);
  std::vector<Output> grads = n.flow->form == ControlFlow::Form::cond ? cond_gradients(g, n, result_grads)
                                                                      : while_gradients(g, n, result_grads);
  for (size_t k = 0; k < grads.size() && k < needs.size(); ++k)
    if (!needs[k]) grads[k] = Output();
  return grads;
}

}  // namespace tandem::graph
