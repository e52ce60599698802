// dist/distributed_optimizer.h — graph mode, Horovod's shape: an all-reduce NODE between
// compute_gradients and apply_gradients, so the session runs it with the rest of the step.
//
//     # Horovod with TensorFlow 1                      // Tandem
//     opt = tf.train.AdamOptimizer(1e-3 * hvd.size())  g::train::AdamOptimizer adam(1e-3);
//     opt = hvd.DistributedOptimizer(opt)              dist::DistributedOptimizer opt(adam);
//     train_op = opt.minimize(loss)                    g::Output train_op = opt.minimize(loss);
//     hvd.broadcast_global_variables(0)                dist::broadcast(session, variables, 0);
//
// minimize() is the wrapped optimizer's, with one change in the middle:
//
//     grads = compute_gradients(loss)             gradients() nodes, as in one process
//     flat  = cat([reshape(g, [-1]) for g])       Horovod's "Tensor Fusion": one buffer per bucket
//     flat  = allreduce_mean(flat)                ← the collective: Σ over ranks ÷ N, a graph op
//     g_i   = reshape(flat[start_i:end_i], shape_i)
//     apply_gradients(zip(g_i, vars))             the update nodes, as in one process
//
// The only new op is `allreduce_mean` (its kernel calls dist::all_reduce: MPI_Allreduce or the
// ring); the packing is cat, narrow and reshape, ops the catalogue already has. The op is marked
// stateful — it talks to other processes — so constant folding never runs it early and common
// subexpression elimination never merges two of them.
//
// ORDER. Every rank builds the same graph, and a session runs its steps in one fixed order, so
// the ranks' all-reduce nodes meet in the same order. Tensor Fusion keeps it to one node per
// bucket (fusion_bytes, Horovod's HOROVOD_FUSION_THRESHOLD of 64 MB): for these models, one.
//
// Read next: dist/data_parallel.h (eager mode's buckets), docs/data_parallel.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "optim/train.h"

namespace tandem::dist {

namespace ops {
extern OpDef allreduce_mean;  // defined in dist/distributed_optimizer.cpp
}
// allreduce_mean(x): the mean of x over all ranks (float32 or float64), as a node of x's graph —
// or, on an eager tensor, at once. No derivative: it runs on gradients, after differentiation.
template <TensorLike T> T allreduce_mean(const T& x) { return apply<T>(ops::allreduce_mean, {x}); }

struct FusionOptions {
  int64_t fusion_bytes = 64 << 20;  // Horovod's default fusion buffer
};

class DistributedOptimizer {
 public:
  // Wraps `optimizer` (kept by reference: it must outlive this wrapper).
  explicit DistributedOptimizer(const graph::train::Optimizer& optimizer, FusionOptions options = {});

  // The wrapped optimizer's gradients, averaged over the ranks by allreduce_mean nodes.
  graph::train::GradsAndVars compute_gradients(const graph::Output& loss, std::vector<graph::Output> var_list = {}) const;
  // The wrapped optimizer's update nodes (no communication: the gradients are already averaged).
  graph::Output apply_gradients(const graph::train::GradsAndVars& grads_and_vars, const graph::Output& global_step = {},
                                const std::string& name = "") const;
  graph::Output minimize(const graph::Output& loss, const graph::Output& global_step = {},
                         std::vector<graph::Output> var_list = {}, const std::string& name = "") const;

 private:
  const graph::train::Optimizer& optimizer_;
  FusionOptions options_;
};

}  // namespace tandem::dist
