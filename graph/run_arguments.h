// graph/run_arguments.h — checking what Session::run is given, before anything is planned.
//
// The fetches and the feed dict come straight from the user, so each is checked against the graph
// the Session runs, and every mistake gets an error that says which key and what to do:
//   - a fetch or feed key that is undefined (a default-constructed Output, a missing gradient);
//   - a key from another graph;
//   - a fed value that is undefined, or of the wrong dtype or shape for its key (TF1's texts:
//     "Cannot feed value of shape (3,) for Tensor 'x:0', which has shape '(?, 2)'");
//   - one node fed twice in the same FeedDict: which value should win? TF1's Python dict could not
//     even say it; a vector of pairs can, so it is refused instead of silently taking the last.
//
// Read next: graph/session.cpp (Session::run, which calls this first).
#pragma once

#include <vector>

#include "graph/session.h"

namespace tandem::graph {

// Throws tandem::Error (ShapeError, DTypeError) on a bad fetch or feed; returns the fed nodes in
// feed order.
std::vector<Node*> check_run_arguments(const Graph& graph, const std::vector<Output>& fetches,
                                       const FeedDict& feeds);

}  // namespace tandem::graph
