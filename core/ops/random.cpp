// core/ops/random.cpp — random numbers as an op, so that a graph draws new ones on every run.
//
// In eager mode a random tensor is just a factory call (rand(), core/factories.h): it runs once,
// now. In a graph, "a tensor of random numbers" must be a *node*, drawn afresh each time
// Session::run reaches it — the mask of a dropout layer changes from step to step. So
// rand_like(x) is an op of the catalogue: uniform numbers in [0, 1) with x's shape and dtype
// (x's values are not read), from the same generator as rand() (manual_seed makes runs repeat).
//
// Two graph passes must know that such an op is not a function of its inputs
// (OpDef::random): constant folding must not freeze its value at planning time, and common-
// subexpression elimination must not merge two draws into one.
//
// With attrs.dims, the draw is shared along those dims (they get size 1 and broadcast):
// dropout2d drops whole channels with one number per (image, channel), dims {2, 3}.
//
// Read next: layers/dropout_ops.h (dropout, built from this op and ordinary arithmetic).
#include "core/ops.h"
#include "core/factories.h"
#include "core/op.h"
#include "core/ops.h"

namespace tandem {
namespace {

Meta rand_like_shape(std::span<const Meta> in, const Attrs& a) {
  if (!is_floating(in[0].dtype))
    throw DTypeError(msg("rand_like: expected a floating point tensor, but got dtype ", to_string(in[0].dtype)));
  Shape shape = in[0].shape;
  for (int64_t d : a.dims) shape[normalize_dim(d, static_cast<int64_t>(shape.size()), "rand_like")] = 1;
  return {shape, in[0].dtype};
}

// Drawn on the host from the one generator, then copied to the output's device: the same seed
// gives the same numbers on the CPU and on a GPU (so dropout masks match across devices too).
// The output is a fresh contiguous buffer, so one byte copy fills it. Serves both devices.
void rand_like_kernel(std::span<const Tensor>, const Attrs&, Tensor& out) {
  const Tensor host = rand(out.shape(), out.dtype());
  copy_bytes(out.raw_data(), out.device(), host.raw_data(), Device::cpu(), out.nbytes());
}

}  // namespace

namespace ops {
// One kernel for every device: it draws on the CPU, from the default generator, and copies.
TANDEM_OP(rand_like, .shape = rand_like_shape, .cpu = rand_like_kernel, .cuda = rand_like_kernel,
          .random = true, .no_derivative = "its values are random draws, not a function of its input");
}  // namespace ops

}  // namespace tandem
