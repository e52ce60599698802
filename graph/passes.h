// graph/passes.h — the graph passes, one file each under graph/passes/.
//
// Every pass takes a Plan (graph/plan.h) and rewrites it in place; none changes what the
// fetches compute. SessionOptions chooses which ones run, so the demos can show the difference.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "graph/plan.h"

namespace tandem::graph {

struct SessionOptions;

// Removes every step the fetches do not need (always on: it is what makes run() run "only the
// subgraph the fetches need").
void prune(Plan& plan);

// Replaces each step whose inputs are all constants by a constant holding its value, computed
// while planning. Returns how many steps were folded. (graph/passes/constant_folding.cpp)
int fold_constants(Plan& plan);

// Merges steps that compute the same value from the same inputs into the first of them.
// Returns how many steps were removed. (graph/passes/cse.cpp)
int eliminate_common_subexpressions(Plan& plan);

// Replaces each chain or tree of elementwise steps by one step that makes one loop over memory.
// Returns how many fused steps were made. (graph/passes/fusion.cpp)
int fuse_elementwise(Plan& plan);

// Folds each SGD-style update of a 2-D variable, AssignAdd(v, alpha · MatMul(a, b)), into one GEMM
// that adds into v, so the weight gradient is never stored. Returns how many updates were fused.
// (graph/passes/update_fusion.cpp)
int fuse_updates(Plan& plan);

// Runs the optional passes chosen in `options`, in a fixed order.
void optimize(Plan& plan, const SessionOptions& options);

// ---- memory planning (graph/passes/memory_plan.cpp) -----------------------------------------
// Unlike the passes above it does not rewrite the Plan: it runs once per shape signature of the
// feeds, in the executor, and returns where each value lives.

// What a run knows about a value it did not compute: a fed tensor, a variable's current value.
struct ValueInfo {
  Meta meta;
  Device device;
};

// Runtime shape inference, then liveness-based slot assignment (best fit). `sources[i]` describes
// step i's value when the run provides it (fed steps, initialized variables). With `in_place`, an
// elementwise step may write over an input that dies at that step. Throws what the first failing
// shape rule throws (or a missing-feed error for an unfed placeholder).
MemoryPlan plan_memory(const Plan& plan, const std::vector<std::optional<ValueInfo>>& sources,
                       bool in_place = true);

// A step's concrete output meta from its inputs' concrete metas: the op's shape rule (a fused step's:
// the broadcast of its inputs). The executor uses the same function when it runs without a memory plan.
Meta runtime_meta(const Step& s, std::span<const Meta> inputs);
// The input whose buffer the step's value aliases at run time (-1: none): a view's input.
int runtime_alias(const Step& s, std::span<const Meta> inputs);
// True when the step writes a new buffer (what can be placed in a slot).
bool writes_buffer(const Step& s, std::span<const Meta> inputs);
// True when input k of the step is read for its shape only (OpDef::shape_only_inputs).
inline bool reads_only_shape(const Step& s, size_t k) {
  return s.kind == Kind::op && s.op && k < 32 && ((s.op->shape_only_inputs >> k) & 1u);
}

}  // namespace tandem::graph
