// graph/run_stats.h — what a run did, in numbers: the figures the demos and benchmarks put beside
// eager mode's (nodes, kernels, allocations, peak memory).
//
// Read next: graph/session.h.
#pragma once

#include <cstdint>

#include "graph/arena.h"

namespace tandem::graph {

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

// Measures one run: made just before the first step, finish() after the last. Memory is read from
// the process-wide counters (core/storage.h), so the figures are exact when one run is going on at
// a time, and include other threads' allocations otherwise.
class StatsRecorder {
 public:
  StatsRecorder(int64_t nodes_in_graph, int64_t steps_planned, const Arena* arena);
  RunStats finish(int64_t nodes_executed, int64_t kernels_launched) const;

 private:
  RunStats stats_;
  int64_t baseline_[2];  // bytes in use before the run, per device type (CPU, CUDA)
};

}  // namespace tandem::graph
