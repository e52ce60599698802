// graph/plan.cpp — lowering a graph into a Plan, and the Plan's bookkeeping.
#include "graph/plan.h"

#include <unordered_map>

namespace tandem::graph {

namespace {
// The step of an earlier node. Nodes are created in execution order, and add_node() and
// add_control_input() only accept earlier nodes of the same graph; a node whose inputs were edited
// by hand afterwards may still point forward (a cycle) or into another graph: a clear error then.
int step_of(const std::unordered_map<const Node*, int>& index, const Node* n, const Node& reader,
            const char* edge) {
  if (!n) throw Error(msg(reader.describe(), " has an undefined ", edge, "; it cannot be run"));
  auto it = index.find(n);
  if (it != index.end()) return it->second;
  if (n->body)
    throw Error(msg(reader.describe(), " has a ", edge, " on '", n->name, "', which is computed inside a "
                    "branch of a cond or the body of a while_loop: it exists only while that body runs. "
                    "Use the cond's or the while_loop's results instead"));
  if (n->graph != reader.graph)
    throw Error(msg(reader.describe(), " has a ", edge, " on '", n->name, "', a node of another graph; "
                    "a node can only use nodes of its own graph"));
  throw Error(msg(reader.describe(), " has a ", edge, " on '", n->name, "', which is created after it: "
                  "the dependencies form a cycle (nodes run in creation order). Create the dependency "
                  "first, then the node that needs it"));
}
}  // namespace

Plan lower(const Graph& g, const std::vector<Output>& fetches, const std::vector<Node*>& fed) {
  std::vector<Node*> nodes;
  for (const auto& node : g.nodes())
    if (!node->body) nodes.push_back(node.get());  // a body's nodes run inside its control step
  return lower_nodes(nodes, fetches, fed);
}

Plan lower_nodes(const std::vector<Node*>& nodes, const std::vector<Output>& fetches, const std::vector<Node*>& fed) {
  Plan plan;
  std::unordered_map<const Node*, int> index;
  for (Node* node : nodes) {
    Step s;
    s.kind = node->kind;
    s.op = node->op;
    s.attrs = node->attrs;
    s.meta = node->meta;
    s.value = node->value;
    s.source = node;
    s.label = node->type;
    for (const Output& in : node->inputs) s.inputs.push_back(step_of(index, in.node(), *node, "input"));
    for (const Node* c : node->control_inputs)
      s.control.push_back(step_of(index, c, *node, "control dependency"));
    index[node] = static_cast<int>(plan.steps.size());
    plan.steps.push_back(std::move(s));
  }
  auto reached = [&](const Node* n) {
    auto it = index.find(n);
    if (it != index.end()) return it->second;
    throw Error(msg("Session::run: cannot fetch or feed ", n->describe(), ": it is computed inside a "
                    "branch of a cond or the body of a while_loop, and exists only while that body runs. "
                    "Fetch the cond's or the while_loop's results instead"));
  };
  for (const Output& f : fetches) plan.fetches.push_back(reached(f.node()));
  for (const Node* n : fed) plan.feeds.push_back(reached(n));
  return plan;
}

void Plan::compact() {
  std::vector<int> renumber(steps.size(), -1);
  std::vector<Step> kept;
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].removed) continue;
    renumber[i] = static_cast<int>(kept.size());
    kept.push_back(std::move(steps[i]));
  }
  auto fix = [&](std::vector<int>& refs, bool drop_missing) {
    std::vector<int> out;
    for (int r : refs) {
      if (renumber[r] >= 0) out.push_back(renumber[r]);
      else if (!drop_missing)
        throw Error("internal error: a graph pass removed a step that is still used");
    }
    refs = std::move(out);
  };
  for (Step& s : kept) {
    fix(s.inputs, false);
    fix(s.control, true);
  }
  fix(fetches, false);
  fix(feeds, true);
  steps = std::move(kept);
}

std::vector<int> Plan::reader_counts() const {
  std::vector<int> count(steps.size(), 0);
  for (const Step& s : steps)
    for (int in : s.inputs) ++count[in];
  return count;
}

StepRoles roles_of(const Plan& plan) {
  const size_t n = plan.steps.size();
  StepRoles r{std::vector<bool>(n, false), std::vector<bool>(n, false), std::vector<bool>(n, false)};
  for (int f : plan.feeds) r.fed[f] = true;
  for (int f : plan.fetches) r.fetched[f] = true;
  for (const Step& s : plan.steps)
    for (int c : s.control) r.control_target[c] = true;
  return r;
}

int aliased_input(const Step& s) {
  return s.kind == Kind::op && s.op->is_view() && !s.kernel_override ? 0 : -1;
}

size_t MemoryPlan::total_bytes() const {
  size_t t = 0;
  for (size_t b : slot_bytes) t += b;
  return t;
}

}  // namespace tandem::graph
