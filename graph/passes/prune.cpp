// graph/passes/prune.cpp — keep only what the fetches need.
//
// Walk backward from the fetched steps along data inputs and control dependencies; a fed step is a
// source, so nothing above it is needed. Everything not reached is removed. This is why an unfed
// placeholder elsewhere in the graph is no error, and why feeding any tensor cuts off its upstream.
#include "graph/passes.h"

namespace tandem::graph {

void prune(Plan& plan) {
  std::vector<bool> needed(plan.steps.size(), false);
  std::vector<bool> fed(plan.steps.size(), false);
  for (int f : plan.feeds) fed[f] = true;
  std::vector<int> stack(plan.fetches.begin(), plan.fetches.end());
  while (!stack.empty()) {
    const int i = stack.back();
    stack.pop_back();
    if (needed[i]) continue;
    needed[i] = true;
    if (fed[i]) continue;
    for (int in : plan.steps[i].inputs) stack.push_back(in);
    for (int c : plan.steps[i].control) stack.push_back(c);
  }
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    if (!needed[i]) plan.steps[i].removed = true;
    if (fed[i]) {  // a fed step is a source now: forget where its value would have come from
      plan.steps[i].inputs.clear();
      plan.steps[i].control.clear();
    }
  }
  plan.compact();
}

}  // namespace tandem::graph
