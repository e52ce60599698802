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
// Threads (as in TF1): one Session may be run from several threads at once. Runs that only read
// variables (inference) run side by side, each in buffers of its own; a run that writes variables
// (a training step: assign, an optimizer's update) runs alone, so it never races with another.
//
// Read next: graph/session.cpp (the loop), graph/executor.h (the steps), graph/gradients.h.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <utility>
#include <vector>

#include "graph/graph.h"
#include "graph/plan.h"
#include "graph/run_stats.h"

namespace tandem::graph {

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

class Session {
 public:
  explicit Session(Graph& g = default_graph(), SessionOptions options = {});
  ~Session();

  // One fetch: its value (an undefined Tensor for an op that produces none, like an initializer).
  Tensor run(const Output& fetch, const FeedDict& feeds = {});
  // Several fetches, computed together (each node at most once): values in fetch order.
  std::vector<Tensor> run(const std::vector<Output>& fetches, const FeedDict& feeds = {});

  // What the last run that finished did (nodes, kernels, allocations, peak memory).
  RunStats last_run_stats() const;
  SessionOptions& options() { return options_; }
  Graph& graph() const { return graph_; }
  // The current value of a variable in this session (error if not initialized yet): a snapshot,
  // which later runs leave as it is, like a fetched value.
  Tensor variable_value(const Output& variable) const;
  // The Plan the last run executed, after the passes (for drawings and tests).
  const Plan& last_plan() const;

 private:
  struct CachedPlan;
  std::shared_ptr<CachedPlan> plan_for(const std::vector<Output>& fetches, const std::vector<Node*>& fed);

  Graph& graph_;
  SessionOptions options_;
  std::map<const Node*, Tensor> variables_;  // guarded by state_mutex_
  // Runs that write variables hold it alone; runs that only read them share it.
  mutable std::shared_mutex state_mutex_;
  mutable std::mutex mutex_;  // guards the plan cache and the last run's records below
  std::map<std::vector<const Node*>, std::shared_ptr<CachedPlan>> plans_;
  std::shared_ptr<CachedPlan> last_plan_;
  RunStats stats_;
};

}  // namespace tandem::graph
