// graph/executor.h — running a plan's steps: one function per kind of step.
//
// Session::run (graph/session.cpp) is the loop — feeds in, each step once in order, fetches out.
// This file is what happens at each step. A step's inputs are earlier steps' values, so by the time
// the loop reaches step i everything it reads is ready in `Run::values`:
//
//   constant     its value, stored in the plan
//   variable     its current value, from the Session
//   assign       write the variable (in place when nobody else holds its storage)
//   update       an optimizer step on variables, with the kernel eager mode's optimizers run
//   op           the catalogue op: a view, a compute kernel writing into its slot, or a fused loop
//   no_op        nothing: it only orders its control dependencies
//   control      a cond or a while_loop: runs its bodies' plans (graph/control_flow_run.cpp)
//   result       one of a control step's results
//   placeholder  reaching one means it was not fed: TF's "You must feed a value" error
//
// and, after each step, liveness: a value nobody will read again is dropped at once (with memory
// planning on), so its buffer is free for the next step.
//
// Read next: graph/session.cpp.
#pragma once

#include <map>
#include <vector>

#include "graph/arena.h"
#include "graph/plan.h"

namespace tandem::graph {

struct SessionOptions;

// Everything the steps of one Session::run share.
struct Run {
  Run(const Plan& plan, const SessionOptions& options, std::map<const Node*, Tensor>& variables,
      const FeedDict& feeds);

  const Plan& plan;
  const SessionOptions& options;
  std::map<const Node*, Tensor>& variables;  // the Session's: read, and written by assignments
  std::vector<Tensor> values;                // per step, while someone will still read it
  std::vector<bool> fed;                     // per step: its value came from the feeds
  Arena* arena = nullptr;                    // buffers for these shapes; null: no memory plan
  int64_t kernels = 0;                       // kernels launched (RunStats)
  std::vector<Tensor> inputs;                // the current step's inputs (scratch, reused)
  std::map<size_t, std::vector<Tensor>> results_of;  // control steps' results, until their result
                                                     // steps take them

  // What the run knows before it starts: fed values and initialized variables (for the memory
  // plan), and the same as a key (graph/arena.h, signature_of).
  std::vector<std::optional<ValueInfo>> sources() const;
  std::vector<int64_t> signature() const;
  // Sets up liveness: counts each value's readers (call once `arena` is chosen).
  void start();
  // Drops the values that step i was the last to read.
  void release_after(size_t i);
  // The fetched values, in fetch order.
  std::vector<Tensor> results() const;

 private:
  std::vector<int> remaining_;  // per step: readers still to run
  std::vector<bool> keep_;      // per step: never dropped (fetched, fed, state...)
};

// Runs step i of the plan (its inputs are ready). Errors name the node and the user's line.
void run_step(Run& run, size_t i);

}  // namespace tandem::graph
