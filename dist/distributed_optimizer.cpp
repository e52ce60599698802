// dist/distributed_optimizer.cpp — the allreduce_mean op, and the wrapper that puts it between
// compute_gradients and apply_gradients.
//
// Read dist/distributed_optimizer.h first.
#include "dist/distributed_optimizer.h"

#include "dist/all_reduce.h"
#include "dist/data_parallel.h"

namespace tandem::dist {

namespace ops {
namespace {

Meta same_as_input(std::span<const Meta> inputs, const Attrs&) {
  if (inputs[0].dtype != kFloat32 && inputs[0].dtype != kFloat64)
    throw DTypeError(msg("allreduce_mean: float32 or float64 values only, not ", to_string(inputs[0].dtype)));
  return inputs[0];
}

// out = mean over ranks of input. The kernel is a host function; on a GPU the copy_ stays on the
// device and dist::all_reduce stages the bytes through the host (dist/all_reduce.h).
void allreduce_mean_kernel(std::span<const Tensor> inputs, const Attrs&, Tensor& out) {
  out.copy_(inputs[0]);
  all_reduce(out, /*average=*/true);
}

}  // namespace

TANDEM_OP(allreduce_mean, .arity = 1, .shape = same_as_input, .cpu = allreduce_mean_kernel,
          .cuda = allreduce_mean_kernel, .stateful = true,
          .no_derivative = "a collective over processes, run on gradients after differentiation");

}  // namespace ops

DistributedOptimizer::DistributedOptimizer(const graph::train::Optimizer& optimizer, FusionOptions options)
    : optimizer_(optimizer), options_(options) {}

graph::train::GradsAndVars DistributedOptimizer::compute_gradients(const graph::Output& loss,
                                                                   std::vector<graph::Output> var_list) const {
  graph::train::GradsAndVars grads = optimizer_.compute_gradients(loss, std::move(var_list));
  // Buckets over the defined gradients (the same on every rank: the graphs are the same).
  std::vector<int64_t> numels;
  std::vector<DType> dtypes;
  std::vector<bool> include;
  for (const auto& gv : grads) {
    numels.push_back(numel(gv.second.shape()));
    dtypes.push_back(gv.second.dtype());
    include.push_back(gv.first.defined());
  }
  for (const Bucket& bucket : make_buckets(numels, dtypes, include, options_.fusion_bytes)) {
    // Fuse: one flat buffer per bucket, reduced by one node...
    std::vector<graph::Output> flat;
    for (size_t k : bucket.params) flat.push_back(reshape(grads[k].first, {-1}));
    const graph::Output reduced = allreduce_mean(flat.size() == 1 ? flat[0] : cat(flat));
    // ...then cut back into the gradients' shapes.
    int64_t offset = 0;
    for (size_t k : bucket.params) {
      const Shape& shape = grads[k].second.shape();
      grads[k].first = reshape(reduced.narrow(0, offset, numels[k]), shape);
      offset += numels[k];
    }
  }
  return grads;
}

graph::Output DistributedOptimizer::apply_gradients(const graph::train::GradsAndVars& grads_and_vars,
                                                    const graph::Output& global_step, const std::string& name) const {
  return optimizer_.apply_gradients(grads_and_vars, global_step, name);
}

graph::Output DistributedOptimizer::minimize(const graph::Output& loss, const graph::Output& global_step,
                                             std::vector<graph::Output> var_list, const std::string& name) const {
  return apply_gradients(compute_gradients(loss, std::move(var_list)), global_step, name);
}

}  // namespace tandem::dist
