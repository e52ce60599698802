// cuda/common.cuh — what the kernel files share: dtype checks, and reductions inside a block.
//
// Combining values across threads (a sum, a max) is the one thing elementwise kernels never do
// and reductions and softmax always do. The fast way has two levels:
//
//   1. Inside a warp (32 threads that execute in lockstep), warp shuffles: __shfl_xor_sync(mask,
//      v, k) hands each thread the `v` of the thread whose lane number differs in bit k —
//      directly from register to register, no memory involved. Five rounds (k = 16, 8, 4, 2, 1)
//      form a butterfly: after them, every lane holds the combination of all 32 values.
//
//          lane:   0  1  2  3 ...      round k=16: lane i combines with lane i^16
//                                      round k=8:  lane i combines with lane i^8   ... and so on
//
//   2. Across the warps of a block, shared memory: lane 0 of each warp writes its warp's result,
//      and warp 0 combines those (at most 32) values with one more butterfly.
//
// block_reduce does both and gives every thread of the block the result. Every thread of the
// block must call it (it contains __syncthreads, which waits for all of them).
//
// Read next: cuda/reduce.cu.
#pragma once

#include <cuda_runtime.h>

#include "core/op.h"
#include "cuda/check.h"
#include "cuda/launch.h"

namespace tandem::cuda {

// ---- host helpers -------------------------------------------------------------------------------

// The GPU kernels here compute in float32 and float64; int64 and bool math stays on the CPU.
void require_floating(DType dt, const char* op);

// dst[i] = src[i] converted to dst's dtype, for every index of dst; src broadcasts to dst's shape
// and either may be strided. The CUDA twin of core/ops/copy.h (cuda/elementwise.cu).
void copy_on_device(const Tensor& src, const Tensor& dst, const char* op);

// ---- device helpers -----------------------------------------------------------------------------

// Every lane ends with f(v of all 32 lanes). All 32 lanes must take part (mask 0xffffffff).
template <typename T, typename F> __device__ T warp_reduce(T v, F f) {
  for (int k = 16; k > 0; k /= 2) v = f(v, __shfl_xor_sync(0xffffffffu, v, k));
  return v;
}

// Every thread of the block ends with f(v of all threads). blockDim.x must be a multiple of 32.
// `identity` fills the slots of absent warps (0 for a sum, -inf for a max).
template <typename T, typename F> __device__ T block_reduce(T v, F f, T identity) {
  __shared__ T partial[32];  // one value per warp (a block has at most 1024 / 32 = 32 warps)
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  v = warp_reduce(v, f);
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  v = lane < static_cast<int>(blockDim.x / 32) ? partial[lane] : identity;
  v = warp_reduce(v, f);  // every warp combines the partials: no second broadcast needed
  __syncthreads();        // `partial` may be reused by the next call
  return v;
}

// The largest of two values; a NaN loses here (softmax's max only shifts the exponents, and any
// NaN in the row reaches the output through exp anyway, as on the CPU).
struct MaxOp {
  template <typename T> __device__ T operator()(T a, T b) const { return b > a ? b : a; }
};

}  // namespace tandem::cuda
