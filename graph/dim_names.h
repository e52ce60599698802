// graph/dim_names.h — which ? is which: names for the unknown dims of a graph.
//
// A static shape [?, 8] says nothing about its ?: a placeholder's batch size, perhaps, or the
// broadcast of two different batch sizes. Two shapes that both read [?, 8] may be [1, 8] and
// [4, 8] at run time, which is why gradients() must not treat them as equal (graph/gradients.cpp).
// But often they *are* the same ?: sigmoid(y) and tanh(y) both have y's batch size, whatever it
// is. Naming the unknowns makes that visible:
//
//   a known size is named by itself (8);
//   a placeholder's ? gets a fresh name (?1), and every op passes names on where it surely keeps
//   the size: an elementwise op's output dim is named like its inputs' when they all agree (a
//   size-1 or absent input dim does not count: broadcasting copies the other); a shape-preserving
//   op (softmax, identity, a scatter into its input) copies its input's names, and the shape-reading
//   *_like ops the names of the value whose shape they read.
//   Anything else — two different names meeting, a reduction, a reshape — gets a fresh name.
//
//     x: [?1, 8]   b: [?2, 1]   x * a: [?1, 8]   x * a + b: [?3, 8]   relu(...): [?3, 8]
//
// Two shapes with equal names are surely equal when the values exist; different names prove
// nothing either way (a run may still feed equal sizes). It is the symbolic-dimension bookkeeping
// of shape inference (XLA's dynamic dimensions, TF's shape functions "merging" dims), kept small.
//
// Read next: graph/gradients.cpp (where gradients() uses it to skip run-time reductions).
#pragma once

#include <vector>

#include "graph/graph.h"

namespace tandem::graph {

class DimNames {
 public:
  // The names of n's output dims: a known size is itself (>= 0), an unknown one a name < -1.
  const std::vector<int64_t>& of(const Node* n);
  // True when a and b surely have the same shape when the graph runs.
  bool same_shape(const Output& a, const Output& b);

 private:
  std::vector<int64_t> name(const Node& n);
  std::vector<std::vector<int64_t>> names_;  // by node id, filled in creation order
  int64_t next_ = -2;                        // the next fresh name
};

}  // namespace tandem::graph
