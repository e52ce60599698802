// core/graph/passes.h — the graph passes, one file each under core/graph/passes/.
//
// Every pass takes a Plan (core/graph/plan.h) and rewrites it in place; none changes what the
// fetches compute. SessionOptions chooses which ones run, so the demos can show the difference.
#pragma once

#include <vector>

#include "core/graph/plan.h"

namespace tandem::graph {

struct SessionOptions;

// Removes every step the fetches do not need (always on: it is what makes run() run "only the
// subgraph the fetches need").
void prune(Plan& plan);

// Runs the optional passes chosen in `options`, in a fixed order.
void optimize(Plan& plan, const SessionOptions& options);

}  // namespace tandem::graph
