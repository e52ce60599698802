// graph/session.h — running a graph: Session::run(fetches, feeds).
//
// A Session holds the values of the graph's variables (so two sessions on one graph are
// independent, as in TF1) and runs the graph on request: lower the graph to a Plan for these
// fetches and feeds, apply the passes, work out every value's concrete shape, then execute the
// steps in order, each node at most once per run. Nothing outside the fetches' needs is computed.
//
// Errors name the node and the line of the user's program that created it:
//   "You must feed a value for placeholder tensor 'Placeholder_3' with dtype float32 and shape
//    [?, 784] (node 'Placeholder_3' (Placeholder) created at examples/03_graph_mlp.cpp:27 (in main))"
//
// Read next: graph/gradients.h.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "graph/graph.h"
#include "graph/plan.h"

namespace tandem::graph {

// Values for placeholders (or for any other node, which cuts off its upstream): {{x, batch}, ...}.
using FeedDict = std::vector<std::pair<Output, Tensor>>;

struct SessionOptions {
  bool fold_constants = true;
  bool eliminate_common_subexpressions = true;
  bool fuse_elementwise = true;
  bool plan_memory = true;
  bool fuse_updates = true;  // optimizer steps folded into their gradient GEMMs
  // Where the session computes (TF's `with tf.device('/gpu:0')` around a whole graph). Set, say to
  // Device::cuda(), the session copies the graph's constants there once, each fed value on every
  // run, and gives variables their values there: every kernel then runs on that device, and the
  // memory plan's buffers live there. Fetched values stay on it (call .cpu() to bring one back).
  // Unset, values stay where they are made: on the CPU, unless you feed or initialize with tensors
  // of another device.
  std::optional<Device> device;
  // Everything off: the plain interpreter, which keeps every value until the run ends.
  static SessionOptions no_passes() { return {false, false, false, false, false, std::nullopt}; }
};

// What the last run did (the numbers the demos and benchmarks compare with eager mode).
struct RunStats {
  int64_t nodes_in_graph = 0;     // nodes of the whole graph
  int64_t steps_planned = 0;      // steps left after the passes
  int64_t nodes_executed = 0;     // steps that ran
  int64_t kernels_launched = 0;   // compute kernels called (a fused loop counts once)
  int64_t buffers_allocated = 0;  // tensor storages created during the run
  int64_t peak_bytes = 0;         // peak of tensor memory during the run, above what was in use
                                  // before (the memory plan's slots count as the run's own, even
                                  // when an earlier run allocated them)
};

class Session {
 public:
  explicit Session(Graph& g = default_graph(), SessionOptions options = {});

  // One fetch: its value (an undefined Tensor for an op that produces none, like an initializer).
  Tensor run(const Output& fetch, const FeedDict& feeds = {});
  // Several fetches, computed together (each node at most once): values in fetch order.
  std::vector<Tensor> run(const std::vector<Output>& fetches, const FeedDict& feeds = {});

  const RunStats& last_run_stats() const { return stats_; }
  SessionOptions& options() { return options_; }
  Graph& graph() const { return graph_; }
  // The current value of a variable in this session (error if not initialized yet): a snapshot,
  // which later runs leave as it is, like a fetched value.
  Tensor variable_value(const Output& variable) const;
  // The Plan the last run executed, after the passes (for drawings and tests).
  const Plan& last_plan() const { return *last_plan_; }

 private:
  struct CachedPlan;
  const CachedPlan& plan_for(const std::vector<Output>& fetches, const std::vector<Node*>& fed);

  Graph& graph_;
  SessionOptions options_;
  std::map<const Node*, Tensor> variables_;
  std::map<std::vector<const Node*>, std::shared_ptr<CachedPlan>> plans_;
  const Plan* last_plan_ = nullptr;
  RunStats stats_;
};

}  // namespace tandem::graph
