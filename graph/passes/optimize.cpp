// graph/passes/optimize.cpp — which passes run, and in which order.
//
// Order matters: folding constants first exposes identical constant steps to CSE; CSE before fusion
// keeps fused loops from recomputing shared values; update fusion before elementwise fusion, which
// would otherwise take the scaling of a weight gradient (lr · G) into a loop of its own. Memory planning runs later, in the executor,
// because buffer sizes depend on the shapes of the values fed in.
#include "graph/passes.h"
#include "graph/session.h"

namespace tandem::graph {

void optimize(Plan& plan, const SessionOptions& options) {
  prune(plan);
  if (options.fold_constants) fold_constants(plan);
  if (options.eliminate_common_subexpressions) eliminate_common_subexpressions(plan);
  if (options.fuse_updates) fuse_updates(plan);
  if (options.fuse_elementwise) fuse_elementwise(plan);
}

}  // namespace tandem::graph
