// graph/plan.cpp — lowering a graph into a Plan, and the Plan's bookkeeping.
#include "graph/plan.h"

#include <unordered_map>

namespace tandem::graph {

Plan lower(const Graph& g, const std::vector<Output>& fetches, const std::vector<Node*>& fed) {
  Plan plan;
  std::unordered_map<const Node*, int> index;
  for (const auto& node : g.nodes()) {
    Step s;
    s.kind = node->kind;
    s.op = node->op;
    s.attrs = node->attrs;
    s.meta = node->meta;
    s.value = node->value;
    s.source = node.get();
    s.label = node->type;
    for (const Output& in : node->inputs) s.inputs.push_back(index.at(in.node()));
    for (const Node* c : node->control_inputs) s.control.push_back(index.at(c));
    index[node.get()] = static_cast<int>(plan.steps.size());
    plan.steps.push_back(std::move(s));
  }
  for (const Output& f : fetches) plan.fetches.push_back(index.at(f.node()));
  for (const Node* n : fed) plan.feeds.push_back(index.at(n));
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

bool fits_static_shape(const Shape& declared, const Shape& actual) {
  if (declared.size() != actual.size()) return false;
  for (size_t i = 0; i < actual.size(); ++i)
    if (declared[i] != kUnknown && declared[i] != actual[i]) return false;
  return true;
}

size_t MemoryPlan::total_bytes() const {
  size_t t = 0;
  for (size_t b : slot_bytes) t += b;
  return t;
}

}  // namespace tandem::graph
