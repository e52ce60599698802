// cuda/softmax.cu — softmax and log_softmax on the GPU: one block per row.
//
// The math and its overflow story are in core/ops/softmax.cpp:
//
//     m = max_j x_j,   s = Σ_j e^{x_j - m},   softmax_i = e^{x_i - m} / s,
//                                            log_softmax_i = (x_i - m) - log s
//
// On the GPU, one *block* handles one row (one sample's logits): its threads stride through
// the row together, so a warp reads 32 neighbouring values at a time. Three passes over the row:
//
//   1. each thread takes the max of its share; block_reduce combines them (warp shuffles inside
//      each warp, then one value per warp through shared memory — cuda/common.cuh);
//   2. each thread sums e^{x_i - m} over its share (in double, as the CPU does); block_reduce;
//   3. each thread writes its share of the outputs.
//
// Why a block per row rather than a thread per row: a thread per row would read with a stride of
// a whole row between neighbouring threads (no coalescing) and leave the GPU idle when there are
// few rows; why not a whole grid per row: rows are rarely long enough to need one, and a block
// can synchronise its threads cheaply, a grid cannot. Rows of up to a few thousand values (class
// logits, attention rows) are the common case, and a block of 256 threads reads them at once;
// the row is read three times, but passes 2 and 3 mostly hit the L2 cache.
//
// A softmax along another dim is turned into this one: permute that dim to the end, copy to
// contiguous, run, and copy the result back through the inverse permutation.
//
// Read next: cuda/index.cu.
#include <cuda_runtime.h>

#include <cmath>
#include <numeric>

#include "core/op.h"
#include "core/ops.h"
#include "core/ops/math.h"
#include "cuda/common.cuh"

namespace tandem::cuda {
namespace {

template <typename T, bool Log>
__global__ void softmax_rows(const T* x, T* y, int64_t rows, int64_t n) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + r * n;
    T* yr = y + r * n;
    // 1. the row's max
    const T minus_inf = -static_cast<T>(INFINITY);  // (std::numeric_limits is host-only code)
    T m = minus_inf;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) m = MaxOp{}(m, xr[i]);
    m = block_reduce(m, MaxOp{}, minus_inf);
    // 2. s = Σ e^{x - m}
    double s = 0;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) s += static_cast<double>(std::exp(xr[i] - m));
    s = block_reduce(s, math::Add{}, 0.0);
    // 3. the outputs
    if constexpr (Log) {
      const T log_s = static_cast<T>(std::log(s));
      for (int64_t i = threadIdx.x; i < n; i += blockDim.x) yr[i] = (xr[i] - m) - log_s;
    } else {
      const T st = static_cast<T>(s);
      for (int64_t i = threadIdx.x; i < n; i += blockDim.x) yr[i] = std::exp(xr[i] - m) / st;
    }
  }
}

// Softmax of the contiguous rows of `x` (rows x n) into the contiguous `y`.
template <bool Log> void launch_rows(const Tensor& x, const Tensor& y, int64_t rows, int64_t n, const char* op) {
  if (rows == 0 || n == 0) return;
  const auto blocks = static_cast<unsigned>(rows < kMaxBlocks ? rows : kMaxBlocks);
  visit_floating(x.dtype(), [&]<typename T>() {
    softmax_rows<T, Log><<<blocks, row_threads(n)>>>(x.data<T>(), y.data<T>(), rows, n);
  });
  check_launch("softmax_rows", op);
}

template <bool Log> void softmax_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  const char* op = Log ? "log_softmax" : "softmax";
  const Tensor& x = in[0];
  require_floating(x.dtype(), op);
  const int64_t rank = x.dim();
  if (rank == 0) {  // one softmax of one element
    launch_rows<Log>(x, out, 1, 1, op);
    return;
  }
  const int64_t dim = normalize_dim(a.dim, rank, op);
  const int64_t n = x.shape()[dim];
  const int64_t rows = n == 0 ? 0 : x.numel() / n;
  if (dim == rank - 1) {  // the usual case: write straight into the output
    launch_rows<Log>(x.contiguous(), out, rows, n, op);
    return;
  }
  // Move `dim` to the end: order = (all other dims..., dim).
  std::vector<int64_t> order;
  for (int64_t d = 0; d < rank; ++d)
    if (d != dim) order.push_back(d);
  order.push_back(dim);
  const Tensor xt = x.permute(order).contiguous();
  const Tensor yt = Tensor::empty(xt.shape(), xt.dtype(), xt.device());
  launch_rows<Log>(xt, yt, rows, n, op);
  // Back to the original order: the inverse permutation puts dim `order[i]` back at place order[i].
  std::vector<int64_t> inverse(static_cast<size_t>(rank));
  for (int64_t i = 0; i < rank; ++i) inverse[static_cast<size_t>(order[i])] = i;
  copy_on_device(yt.permute(inverse), out, op);
}

// Attaches the kernels to the catalogue at start-up (see the note in cuda/elementwise.cu).
struct Registrar {
  Registrar() {
    ops::softmax.cuda = softmax_kernel<false>;
    ops::log_softmax.cuda = softmax_kernel<true>;
  }
} registrar;

}  // namespace
}  // namespace tandem::cuda
