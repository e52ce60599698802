// dist/data_parallel.h — eager mode, PyTorch's DistributedDataParallel shape: backward, then
// average the gradients across ranks, in buckets, then the unchanged optimizer steps.
//
//     dist::broadcast(model, 0);                         // DDP's constructor: rank 0's weights
//     for (const data::Example& batch : loader) {        // this rank's share (dist/sampler.h)
//       optimizer.zero_grad();
//       Tensor loss = F::cross_entropy(model(batch[0]), batch[1]);
//       loss.backward();
//       dist::all_reduce_gradients(model);               // ← the one new line
//       optimizer.step();
//     }
//
// WHY A CALL, NOT A WRAPPER. PyTorch wraps the model (DDP(model)) because it hooks the
// all-reduce into backward() itself: each parameter's gradient, when the tape produces it, fires
// a hook, and a bucket is sent the moment its last gradient is ready — while backward goes on
// computing the earlier layers' gradients. Communication then overlaps computation. Tandem's tape
// has no per-parameter hooks, so a wrapper could only do what this call does — after backward —
// and would hide it. The explicit call keeps the one extra step of data-parallel training in
// plain sight in the loop (as Horovod's and llm.c's loops do), and it is where a student would
// add the overlap.
//
// WHY BUCKETS. One all-reduce per parameter would pay the start-up cost of a collective (α: tens
// of microseconds on a machine, more across a network, multiplied by the ring's 2(N−1) messages)
// once per tensor — a ResNet-50 has 161 of them, many tiny (biases, batch norm). One all-reduce
// of everything would need a second copy of every gradient at once, and nothing could start until
// the last gradient exists. DDP packs gradients into buckets of about 25 MB (bucket_cap_mb),
// filled in REVERSE parameter order — roughly the order backward produces them, so the first
// bucket is ready first — and all-reduces each bucket as one message: few messages, bounded extra
// memory, and (with hooks) overlap. Here: the same packing, bucket by bucket, after backward.
//
// Every rank must reduce the same buckets in the same order (collectives match by order, not by
// name). Parameters are walked in one order on every rank, and a parameter that received no
// gradient (a layer this batch skipped) is reduced as zeros — so the buckets always agree
// (PyTorch's DDP needs find_unused_parameters=True for that case).
//
// Read next: dist/distributed_optimizer.h (the same thing as graph nodes).
#pragma once

#include <cstdint>
#include <vector>

#include "dist/all_reduce.h"
#include "layers/module.h"

namespace tandem::dist {

struct BucketOptions {
  int64_t bucket_bytes = 25 << 20;         // DDP's bucket_cap_mb = 25
  Algorithm algorithm = dist::algorithm();  // MPI_Allreduce or the ring
};

// One bucket: which parameters it packs (indices into the list given), and its size.
struct Bucket {
  std::vector<size_t> params;
  int64_t elements = 0;
  DType dtype = kFloat32;
};

// The buckets for tensors of these sizes and dtypes: reverse order, one dtype per bucket, each at
// most bucket_bytes (a tensor larger than that gets a bucket of its own). Entries with
// include[k] false are left out. Graph mode's fusion (dist/distributed_optimizer.h) uses it too.
std::vector<Bucket> make_buckets(const std::vector<int64_t>& numels, const std::vector<DType>& dtypes,
                                 const std::vector<bool>& include, int64_t bucket_bytes);
// The buckets for a model's parameters (those that require grad).
std::vector<Bucket> make_buckets(const std::vector<Tensor>& parameters, int64_t bucket_bytes);

// Averages every parameter's .grad() over the ranks, bucket by bucket (pack, all-reduce, divide by
// the world size, unpack). Returns how many buckets it sent.
int64_t all_reduce_gradients(const std::vector<Tensor>& parameters, BucketOptions options = {});
int64_t all_reduce_gradients(const nn::Module& model, BucketOptions options = {});

}  // namespace tandem::dist
