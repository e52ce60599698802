// graph/run_stats.cpp — counting what a run allocates and how high its memory goes.
#include "graph/run_stats.h"

namespace tandem::graph {

namespace {
constexpr Device::Type kTypes[2] = {Device::Type::cpu, Device::Type::cuda};
}  // namespace

StatsRecorder::StatsRecorder(int64_t nodes_in_graph, int64_t steps_planned, const Arena* arena) {
  stats_.nodes_in_graph = nodes_in_graph;
  stats_.steps_planned = steps_planned;
  // peak_bytes is measured above what was in use before the run, except that the slots this plan
  // kept from an earlier run count as the run's own memory (they are what it computes in): so a
  // second run reports the same peak as the first, only without allocating.
  for (int t = 0; t < 2; ++t) {
    reset_peak_memory_stats(kTypes[t]);
    baseline_[t] = memory_stats(kTypes[t]).bytes_in_use - (arena ? arena->kept_bytes(kTypes[t]) : 0);
  }
}

RunStats StatsRecorder::finish(int64_t nodes_executed, int64_t kernels_launched) const {
  RunStats s = stats_;
  s.nodes_executed = nodes_executed;
  s.kernels_launched = kernels_launched;
  for (int t = 0; t < 2; ++t) {
    const MemoryStats after = memory_stats(kTypes[t]);
    s.buffers_allocated += after.allocations;
    s.peak_bytes += after.peak_bytes - baseline_[t];
  }
  return s;
}

}  // namespace tandem::graph
