// graph/plan.h — what a Session actually runs: a Plan, lowered from the graph.
//
// The Graph is what the user declared, and it stays as declared (so it can be drawn, saved and
// differentiated). To run a set of fetches, the Session *lowers* the graph into a Plan: a flat list
// of steps in execution order, each naming its inputs by step index. Graph passes then rewrite the
// Plan — never the user's Graph:
//
//   prune            keep only the steps the fetches need       (graph/passes/prune.cpp)
//   fold constants   precompute steps whose inputs are all constants
//   CSE              merge steps that compute the same thing from the same inputs
//   fuse updates     fold an optimizer step into the GEMM that computes its weight gradient
//   fuse             turn chains of elementwise steps into one loop over memory
//   plan memory      give each step's output a reusable buffer, by liveness
//
// Each pass is optional (SessionOptions) and tested for semantic equivalence: the same fetches give
// the same values with the pass on or off (tests/test_graph_passes.cpp).
//
// Read next: graph/passes.h, graph/session.cpp (the executor).
#pragma once

#include <functional>
#include <span>
#include <vector>

#include "graph/graph.h"

namespace tandem::graph {

struct Step {
  Kind kind = Kind::op;
  const OpDef* op = nullptr;  // Kind::op
  Attrs attrs;
  std::vector<int> inputs;    // indices of earlier steps
  std::vector<int> control;   // steps that must run before this one (control dependencies)
  Meta meta;                  // static shape and dtype (unknown dims allowed)
  Tensor value;               // Kind::constant
  Node* source = nullptr;     // the graph node this step came from (errors, variables, drawing)
  std::string label;          // name shown in drawings ("MatMul", "Fused[Add,Relu]")
  // A pass may replace how a step computes (elementwise fusion does): when set, the executor calls
  // this instead of the op's kernel, with the step's input values and a fresh output buffer.
  std::function<void(std::span<const Tensor>, Tensor&)> kernel_override;
  bool removed = false;       // set by passes; compact() drops removed steps
};

struct Plan {
  std::vector<Step> steps;
  std::vector<int> fetches;  // step index per fetch (in fetch order)
  std::vector<int> feeds;    // step index per feed (in feed order); fed steps are sources

  // Drops removed steps and renumbers every reference.
  void compact();
  // How many steps read each step's output (data inputs only).
  std::vector<int> reader_counts() const;
};

// The steps whose values are wanted outside the plan's data edges — fed by the caller, fetched by
// it, or named by a control dependency — which a rewriting pass must leave in place.
struct StepRoles {
  std::vector<bool> fed, fetched, control_target;
  bool pinned(int i) const { return fed[i] || fetched[i] || control_target[i]; }
};
StepRoles roles_of(const Plan& plan);

// True when a run-time shape keeps the promise of a static one: same rank, equal known sizes (a ?
// matches any size).
bool fits_static_shape(const Shape& declared, const Shape& actual);

// A step whose output is (a view of) one of its inputs' storage: no buffer of its own.
// Returns the input position it aliases, or -1.
int aliased_input(const Step& s);

// Lowers the whole graph (every node, in creation order) into a Plan with the given fetches and fed
// nodes. Fed nodes become sources: their upstream is cut off.
Plan lower(const Graph& g, const std::vector<Output>& fetches, const std::vector<Node*>& fed);

// Buffer assignment from the memory-planning pass (graph/passes/memory_plan.cpp), made for one
// shape signature of the feeds. Indexed by step unless said otherwise.
struct MemoryPlan {
  std::vector<Meta> metas;         // concrete shape and dtype of each value (runtime shape inference)
  std::vector<Device> devices;     // where each value lives
  std::vector<int> buffer_of;      // the step whose buffer holds the value: itself, or for a view or
                                   // alias the step it aliases, followed to the end (-1: no value)
  std::vector<int> last_use;       // per buffer: the last step that reads it or a view of it
  std::vector<int> slot_of_step;   // the slot a step writes into (-1: none: it allocates its own
                                   // buffer, aliases an input, or writes nothing)
  std::vector<int> writes_over;    // the input step whose slot an elementwise step overwrites in
                                   // place, because that input dies at this step (-1: none)
  std::vector<size_t> slot_bytes;  // per slot: its size
  std::vector<Device> slot_devices;  // per slot: its device
  size_t total_bytes() const;
};

}  // namespace tandem::graph
