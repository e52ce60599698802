// graph/control_flow.cpp — declaring cond and while_loop: bodies, their arguments, the checks.
//
// Declaring `cond(pred, true_fn, false_fn)` does, in order:
//   1. call true_fn inside the name scope "cond/true": its nodes are added to the graph as usual;
//   2. close that body (close_body): every value it used from outside becomes an argument, an "Arg"
//      node inside the body, and the outside value an input of the cond node; its nodes are
//      marked as the body's own (Node::body), and the body is lowered to a Plan of its own;
//   3. the same for false_fn in "cond/false";
//   4. check that both branches return the same number of values with the same dtypes and shapes;
//   5. add the control node (type "Cond") with inputs {pred, captured values...}, and a "Merge"
//      result node per value.
// while_loop is the same with two bodies, "while/cond" and "while/body", whose first arguments
// are the loop variables (declared with their shape invariants) — and the body's results must keep
// those invariants, which is step 4 for a loop.
//
// Read next: graph/control_flow_run.cpp.
#include "graph/control_flow.h"

#include <algorithm>
#include <set>

#include "graph/passes.h"
#include "graph/session.h"

namespace tandem::graph {

namespace {

std::string where_str(const Body& b) { return msg("the ", b.role); }

// A body holds computation only: state and inputs are declared outside it.
void check_kinds(const Body& b, const std::vector<Node*>& own) {
  for (const Node* n : own) {
    const bool arg = std::find(b.args.begin(), b.args.end(), n) != b.args.end();
    if (n->kind == Kind::variable || n->kind == Kind::assign || n->kind == Kind::assign_add ||
        n->kind == Kind::update || (n->kind == Kind::placeholder && !arg))
      throw Error(msg(where_str(b), " creates ", n->describe(), ", a ", kind_name(n->kind),
                      ": a cond branch or a while_loop body computes values only. Create placeholders and "
                      "variables before the cond / while_loop and use them inside (they are passed in), "
                      "and change variables outside it, with its results"));
  }
}

// Gives `body` an Arg for each captured value it has none for yet (in the order of `captured`, after
// its first `first_capture` args): the control node passes every captured value to every body.
void pad_args(Graph& g, Body& body, const std::vector<Output>& captured, size_t first_capture) {
  while (body.args.size() < first_capture + captured.size())
    body.args.push_back(make_arg(g, captured[body.args.size() - first_capture].node()->meta, "Arg"));
}

// The value a body uses from outside, as an argument of the body: the Arg standing for it.
Node* arg_for(Graph& g, Body& body, std::vector<Output>& captured, size_t first_capture, Node* outside) {
  auto it = std::find_if(captured.begin(), captured.end(), [&](const Output& c) { return c.node() == outside; });
  const size_t k = static_cast<size_t>(it - captured.begin());
  if (it == captured.end()) captured.emplace_back(outside);
  pad_args(g, body, captured, first_capture);
  return body.args[first_capture + k];
}

// Lowers a closed body to its Plan, with the default passes.
void plan_body(Body& body) {
  body.plan = lower_nodes(body.nodes, body.results, body.args);
  optimize(body.plan, SessionOptions{});
}

// After a later body captured more values: the Args for them (unused here), and the plan again.
void pad_closed_body(Graph& g, Body& body, const std::vector<Output>& captured, size_t first_capture) {
  const size_t before = body.args.size();
  pad_args(g, body, captured, first_capture);
  if (body.args.size() == before) return;
  for (size_t k = before; k < body.args.size(); ++k) {
    body.args[k]->body = &body;
    body.nodes.insert(body.nodes.begin(), body.args[k]);
  }
  plan_body(body);
}

[[noreturn]] void inside_other_body(const Body& b, const Node& user, const Node& used) {
  throw Error(msg(where_str(b), ": ", user.describe(), " uses '", used.name, "', which is computed inside ",
                  used.body ? where_str(*used.body) : std::string("another body"),
                  " of a cond or while_loop. Values made in a branch or a loop body exist only while "
                  "it runs: use that cond's or while_loop's results instead"));
}

}  // namespace

Node* make_arg(Graph& g, const Meta& meta, const std::string& name) {
  return g.add_node(Kind::placeholder, "Arg", {}, meta, name);
}

void close_body(Graph& g, Body& body, int64_t first, std::vector<Output>& captured,
                const std::vector<Node*>& extra) {
  // 1. Its own nodes: made since `first`, and not already claimed by a body nested inside it.
  std::vector<Node*> own;
  for (int64_t k = first; k < g.size(); ++k)
    if (!g.nodes()[k]->body) own.push_back(g.nodes()[k].get());
  check_kinds(body, own);
  std::set<const Node*> inside(own.begin(), own.end());
  inside.insert(extra.begin(), extra.end());
  inside.insert(body.args.begin(), body.args.end());
  const size_t first_capture = body.args.size();  // the args given so far are the loop variables

  // 2. Every value used from outside becomes an argument. (Control dependencies on outside nodes
  //    are dropped: the control node, made in the same ControlDependencies block, waits for them.)
  auto from_inside = [&](Node* user, Node* used) -> Node* {
    if (inside.count(used)) return used;
    if (used->body || used->id >= first) inside_other_body(body, *user, *used);
    Node* a = arg_for(g, body, captured, first_capture, used);
    inside.insert(a);
    return a;
  };
  for (Node* n : own) {
    for (Output& in : n->inputs)
      if (in.defined()) in = Output(from_inside(n, in.node()));
    std::erase_if(n->control_inputs, [&](Node* c) { return !inside.count(c); });
  }
  for (Output& r : body.results) {
    if (!r.defined()) throw Error(msg(where_str(body), " returned an undefined Output"));
    r = Output(from_inside(r.node(), r.node()));
  }
  pad_args(g, body, captured, first_capture);  // Args for what earlier bodies captured, too

  // 3. Mark its nodes; its plan runs the args first (they are fed), then the rest in creation order.
  std::vector<Node*> rest(extra);
  for (Node* n : own)
    if (std::find(body.args.begin(), body.args.end(), n) == body.args.end()) rest.push_back(n);
  for (Node* a : body.args)
    if (!a->body) a->body = &body;
  for (Node* n : rest)
    if (!n->body) n->body = &body;
  std::sort(rest.begin(), rest.end(), [](const Node* a, const Node* b) { return a->id < b->id; });
  body.nodes.assign(body.args.begin(), body.args.end());
  body.nodes.insert(body.nodes.end(), rest.begin(), rest.end());
  plan_body(body);
}

std::vector<Output> add_control_node(Graph& g, std::shared_ptr<ControlFlow> flow, const std::string& type,
                                     const std::vector<Output>& inputs, const std::vector<Meta>& result_metas,
                                     const std::string& result_type) {
  Node* c = g.add_node(Kind::control, type, inputs, {{}, kFloat32});
  c->flow = flow;
  std::vector<Output> out;
  for (size_t k = 0; k < result_metas.size(); ++k) {
    Node* r = g.add_node(Kind::result, result_type, {Output(c)}, result_metas[k]);
    r->attrs.dim = static_cast<int64_t>(k);
    flow->results.push_back(r);
    out.emplace_back(r);
  }
  return out;
}

// ---- cond ------------------------------------------------------------------------------------------

namespace {

void check_pred(const Output& pred, const char* what) {
  if (!pred.defined()) throw Error(msg(what, ": the predicate is undefined"));
  if (pred.dtype() != kBool || !pred.shape().empty())
    throw Error(msg(what, ": the predicate must be a 0-dim bool value (a comparison such as x.sum() > 0), but '",
                    pred.name(), "' is ", to_string(pred.dtype()), " of shape ", tf_shape_str(pred.shape()),
                    ". Reduce it to one value first (sum, max, all of a comparison...)"));
}

// Builds one branch in its own name scope and closes it.
std::shared_ptr<Body> branch(Graph& g, const char* role, const char* scope, const BranchFn& fn,
                             std::vector<Output>& captured) {
  auto body = std::make_shared<Body>();
  body->role = role;
  const int64_t first = g.size();
  NameScope s(scope, g);
  body->results = fn();
  close_body(g, *body, first, captured);  // in the scope: the Args it adds are named "cond/true/Arg"
  return body;
}

// The branches must agree: same count, dtypes and static shapes.
std::vector<Meta> agreed_metas(const std::string& name, const Body& t, const Body& f) {
  if (t.results.size() != f.results.size())
    throw Error(msg(name, ": true_fn and false_fn must return the same number of values, but true_fn returned ",
                    t.results.size(), " and false_fn ", f.results.size()));
  std::vector<Meta> metas;
  for (size_t k = 0; k < t.results.size(); ++k) {
    const Output &a = t.results[k], &b = f.results[k];
    if (a.dtype() != b.dtype() || a.shape() != b.shape())
      throw ShapeError(msg(name, ": the branches must give values of the same dtype and shape, but value ", k,
                           " of true_fn is ", to_string(a.dtype()), " ", tf_shape_str(a.shape()),
                           " and of false_fn ", to_string(b.dtype()), " ", tf_shape_str(b.shape()),
                           ". Make them agree (a reshape, a cast, or the same ops on both sides)"));
    metas.push_back({a.shape(), a.dtype()});
  }
  if (metas.empty()) throw Error(msg(name, ": the branches return no value; return at least one"));
  return metas;
}

}  // namespace

std::vector<Output> cond(const Output& pred, const BranchFn& true_fn, const BranchFn& false_fn,
                         const std::string& name) {
  check_pred(pred, "cond");
  Graph& g = pred.graph();
  DefaultGraph use(g);
  NameScope scope(name, g);
  auto flow = std::make_shared<ControlFlow>();
  flow->form = ControlFlow::Form::cond;
  std::vector<Output> captured;
  flow->bodies.push_back(branch(g, "true branch", "true", true_fn, captured));
  flow->bodies.push_back(branch(g, "false branch", "false", false_fn, captured));
  pad_closed_body(g, *flow->bodies[0], captured, 0);  // Args for what only false_fn captured
  const std::vector<Meta> metas = agreed_metas(name, *flow->bodies[0], *flow->bodies[1]);
  std::vector<Output> inputs{pred};
  inputs.insert(inputs.end(), captured.begin(), captured.end());
  return add_control_node(g, flow, "Cond", inputs, metas, "Merge");
}

Output cond(const Output& pred, const std::function<Output()>& true_fn, const std::function<Output()>& false_fn,
            const std::string& name) {
  return cond(pred, BranchFn([&] { return std::vector<Output>{true_fn()}; }),
              BranchFn([&] { return std::vector<Output>{false_fn()}; }), name)[0];
}

// ---- while_loop ------------------------------------------------------------------------------------

namespace {

// The shape a loop variable keeps: its invariant when given (checked against the initial value),
// else its initial static shape.
Shape invariant_of(const std::string& name, const std::vector<Output>& vars, const WhileOptions& o, size_t k) {
  if (o.shape_invariants.empty()) return vars[k].shape();
  const Shape& inv = o.shape_invariants[k];
  if (!fits_static_shape(inv, vars[k].shape()))
    throw ShapeError(msg(name, ": loop variable ", k, " ('", vars[k].name(), "') has shape ",
                         tf_shape_str(vars[k].shape()), ", which does not fit its shape invariant ",
                         tf_shape_str(inv), "; the invariant may only turn known sizes into -1"));
  return inv;
}

// A body's result must keep its variable's invariant: equal dtype, equal rank, and each size the
// invariant knows (TF's rule: the result may be more specific, never less).
void check_invariant(const std::string& name, const Output& init, const Meta& invariant, const Output& next, size_t k) {
  bool ok = next.dtype() == invariant.dtype && next.shape().size() == invariant.shape.size();
  for (size_t d = 0; ok && d < invariant.shape.size(); ++d)
    ok = invariant.shape[d] == kUnknown || next.shape()[d] == invariant.shape[d];
  if (!ok)
    throw ShapeError(msg(name, ": the body changes loop variable ", k, " ('", init.name(), "'): it enters the "
                         "loop as ", to_string(invariant.dtype), " ", tf_shape_str(invariant.shape),
                         " but the body returns ", to_string(next.dtype()), " ", tf_shape_str(next.shape()),
                         ". Keep its dtype and shape, or declare the dims that change as -1 in "
                         "WhileOptions::shape_invariants (TF's shape_invariants)"));
}

std::shared_ptr<Body> loop_body(Graph& g, const char* role, const std::vector<Meta>& invariants,
                                const std::function<std::vector<Output>(const std::vector<Output>&)>& fn,
                                std::vector<Output>& captured) {
  auto body = std::make_shared<Body>();
  body->role = role;
  const int64_t first = g.size();
  NameScope s(role, g);
  std::vector<Output> vars;
  for (const Meta& m : invariants) {
    body->args.push_back(make_arg(g, m, "Arg"));
    vars.emplace_back(body->args.back());
  }
  body->results = fn(vars);
  close_body(g, *body, first, captured);
  return body;
}

}  // namespace

std::vector<Output> while_loop(const LoopCondFn& cond_fn, const LoopBodyFn& body_fn,
                               const std::vector<Output>& loop_vars, const WhileOptions& options) {
  const std::string& name = options.name;
  if (loop_vars.empty()) throw Error(msg(name, ": while_loop needs at least one loop variable"));
  if (!options.shape_invariants.empty() && options.shape_invariants.size() != loop_vars.size())
    throw Error(msg(name, ": ", options.shape_invariants.size(), " shape invariants for ", loop_vars.size(),
                    " loop variables; give one per variable (or none)"));
  std::vector<Meta> invariants;
  for (size_t k = 0; k < loop_vars.size(); ++k)
    invariants.push_back({invariant_of(name, loop_vars, options, k), loop_vars[k].dtype()});

  Graph& g = loop_vars[0].graph();
  DefaultGraph use(g);
  NameScope scope(name, g);
  auto flow = std::make_shared<ControlFlow>();
  flow->form = ControlFlow::Form::while_loop;
  flow->loop_vars = static_cast<int64_t>(loop_vars.size());
  flow->maximum_iterations = options.maximum_iterations;
  std::vector<Output> captured;
  auto cond_as_list = [&](const std::vector<Output>& v) { return std::vector<Output>{cond_fn(v)}; };
  flow->bodies.push_back(loop_body(g, "cond", invariants, cond_as_list, captured));
  flow->bodies.push_back(loop_body(g, "body", invariants, body_fn, captured));
  Body& c = *flow->bodies[0];
  pad_closed_body(g, c, captured, loop_vars.size());  // Args for what only the body captured

  check_pred(c.results[0], msg(name, " (its cond)").c_str());
  const Body& b = *flow->bodies[1];
  if (b.results.size() != loop_vars.size())
    throw Error(msg(name, ": the body returns ", b.results.size(), " values for ", loop_vars.size(),
                    " loop variables; return one new value per variable, in order"));
  for (size_t k = 0; k < loop_vars.size(); ++k) check_invariant(name, loop_vars[k], invariants[k], b.results[k], k);

  std::vector<Output> inputs(loop_vars);
  inputs.insert(inputs.end(), captured.begin(), captured.end());
  return add_control_node(g, flow, "While", inputs, invariants, "Exit");
}

}  // namespace tandem::graph
