// dist/data_parallel.cpp — gradients packed into buckets, each all-reduced as one message.
//
// Read dist/data_parallel.h first (why a call, why buckets).
#include "dist/data_parallel.h"

#include "autograd/grad_mode.h"
#include "core/factories.h"

namespace tandem::dist {

std::vector<Bucket> make_buckets(const std::vector<int64_t>& numels, const std::vector<DType>& dtypes,
                                 const std::vector<bool>& include, int64_t bucket_bytes) {
  std::vector<Bucket> buckets;
  for (size_t k = numels.size(); k-- > 0;) {  // reverse: the order backward produces them
    if (!include[k]) continue;
    const int64_t item = static_cast<int64_t>(itemsize(dtypes[k]));
    const bool fits = !buckets.empty() && buckets.back().dtype == dtypes[k] &&
                      (buckets.back().elements + numels[k]) * item <= bucket_bytes;
    if (!fits) buckets.push_back({.params = {}, .elements = 0, .dtype = dtypes[k]});
    buckets.back().params.push_back(k);
    buckets.back().elements += numels[k];
  }
  return buckets;
}

std::vector<Bucket> make_buckets(const std::vector<Tensor>& parameters, int64_t bucket_bytes) {
  std::vector<int64_t> numels;
  std::vector<DType> dtypes;
  std::vector<bool> include;
  for (const Tensor& p : parameters) {
    numels.push_back(p.numel());
    dtypes.push_back(p.dtype());
    include.push_back(p.requires_grad());
  }
  return make_buckets(numels, dtypes, include, bucket_bytes);
}

namespace {

// A parameter's gradient, made zeros when backward gave it none (see the header).
Tensor grad_or_zeros(const Tensor& p) {
  if (!p.grad().defined()) p.set_grad(zeros(p.shape(), p.dtype(), p.device()));
  return p.grad();
}

void reduce_bucket(const std::vector<Tensor>& parameters, const Bucket& bucket, Algorithm algorithm) {
  // Pack: each gradient, flattened, at its offset in one buffer. (Plain version: a copy in and a
  // copy out. DDP avoids both by making each .grad a view INTO its bucket ("gradient_as_bucket_view"),
  // so backward writes straight into the buffer that is sent.)
  const Tensor buffer = empty({bucket.elements}, bucket.dtype);
  int64_t offset = 0;
  for (size_t k : bucket.params) {
    const Tensor g = grad_or_zeros(parameters[k]);
    buffer.narrow(0, offset, g.numel()).copy_(g.reshape({-1}));
    offset += g.numel();
  }
  all_reduce(buffer, /*average=*/true, algorithm);  // Σ over ranks, ÷ N
  // Unpack into the gradients, in place (an optimizer holds these very tensors).
  offset = 0;
  for (size_t k : bucket.params) {
    const Tensor g = parameters[k].grad();
    g.copy_(buffer.narrow(0, offset, g.numel()).reshape(g.shape()));
    offset += g.numel();
  }
}

}  // namespace

int64_t all_reduce_gradients(const std::vector<Tensor>& parameters, BucketOptions options) {
  no_grad guard;
  const std::vector<Bucket> buckets = make_buckets(parameters, options.bucket_bytes);
  for (const Bucket& bucket : buckets) reduce_bucket(parameters, bucket, options.algorithm);
  return static_cast<int64_t>(buckets.size());
}

int64_t all_reduce_gradients(const nn::Module& model, BucketOptions options) {
  return all_reduce_gradients(model.parameters(), options);
}

}  // namespace tandem::dist
