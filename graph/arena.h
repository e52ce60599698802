// graph/arena.h — where one run's values live: the memory plan for the feeds' shapes, and the
// buffers (slots) it assigns.
//
// The memory-planning pass (graph/passes/memory_plan.cpp) works out, for given feed shapes, which
// step writes into which slot. An Arena holds that plan and the slots' Storage, made on first use
// and then kept: the next run with the same shapes writes into the same bytes and allocates nothing.
// A plan keeps one Arena per *shape signature* of its feeds (as tf.function keeps one trace per
// input signature), the most recently used first, at most a few.
//
// Threads: two runs of one Session at the same time must never write into one buffer. So a run
// *leases* an Arena for its whole duration; a second run with the same shapes finds that one taken
// and plans an Arena of its own (kept too, for the next pair of concurrent runs).
//
// Read next: graph/executor.h (the steps, which write into the slots).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "graph/passes.h"

namespace tandem::graph {

struct Arena {
  std::vector<int64_t> signature;  // the shapes it was planned for (signature_of)
  MemoryPlan memory;
  std::vector<std::shared_ptr<Storage>> slots;  // made on first use, then kept
  bool leased = false;
  // Liveness, the same for every run of this plan and these shapes, so worked out once
  // (graph/executor.cpp, Run::start): per step, how many steps read its value, and whether it is
  // kept to the end of the run.
  std::vector<int> readers;
  std::vector<bool> kept;

  // A tensor over the slot of step i, contiguous, with the step's shape — or null when the plan
  // gives the step no slot. A slot whose Storage is still held by anyone else (a tensor that escaped
  // the run) is never written over: it gets a new Storage, and the old one lives on with its holder.
  // The one holder allowed is `overwritten`: the input an in-place step writes over, which dies here.
  std::optional<Tensor> slot_for(size_t i, const Meta& meta, const Tensor& overwritten);
  // Bytes of the slots that were already made (and are held by no one else) when the run began.
  int64_t kept_bytes(Device::Type type) const;
};

// The arenas of one plan, keyed by shape signature. Thread-safe.
class ArenaCache {
 public:
  // A lease on an Arena for the run whose sources (fed values, variables' current values) are
  // described by `sources`; given back when the lease is destroyed. Null arena when the shapes cannot
  // be inferred (a missing feed, a shape error): the run then goes on without a memory plan and
  // stops at the failing step with that step's own error.
  class Lease {
   public:
    Lease() = default;
    Lease(ArenaCache* cache, std::shared_ptr<Arena> arena) : cache_(cache), arena_(std::move(arena)) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Arena* get() const { return arena_.get(); }

   private:
    ArenaCache* cache_ = nullptr;
    std::shared_ptr<Arena> arena_;
  };
  // `signature` is signature_of(sources()); sources() is called only when a new plan is needed.
  Lease lease(const Plan& plan, const std::vector<int64_t>& signature,
              const std::function<std::vector<std::optional<ValueInfo>>()>& sources);

 private:
  std::mutex mutex_;
  std::vector<std::shared_ptr<Arena>> arenas_;  // most recently used first
};

// The signature of a run: which steps the run provides values for, and their dtypes, devices and
// shapes, flattened into one key. append_signature adds one step's part.
std::vector<int64_t> signature_of(const std::vector<std::optional<ValueInfo>>& sources);
void append_signature(std::vector<int64_t>& sig, size_t step, const Meta& meta, Device device);

}  // namespace tandem::graph
