// cuda/launch.h — how a GPU op is cut into threads, and where each thread reads.
//
// A CUDA kernel is one function run by many threads at once, grouped in *blocks* (up to 1024
// threads that can share fast on-chip memory and wait for each other) that form a *grid*. The
// host code of every op in cuda/ answers the same questions, and the answers live here, in
// plain C++ that the CPU tests exercise (tests/test_cuda.cpp, tag [cuda-logic]):
//
//   1. How many blocks?  An elementwise op over n elements launches blocks_for(n) blocks of
//      kThreads threads, and each thread runs a *grid-stride loop*:
//
//          for (i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
//
//      so the grid may be smaller than n (we cap it at kMaxBlocks; a GPU keeps only a few
//      thousand blocks in flight anyway) and one launch still covers any n.
//
//   2. Where does element i live in each operand?  The output is contiguous, so element i of it
//      is at offset i. An input may be transposed, sliced or broadcast (stride 0): its offset is
//      Σ_d index_d · stride_d, with index_d the digits of i in the "mixed radix" of the shape.
//      OffsetCalc does that arithmetic on the GPU. Before that, make_offset_calc merges
//      dimensions that are back to back in every operand (the same coalescing the CPU loops
//      use, core/ops/loops.h), so a contiguous [64, 784] tensor costs one division per element
//      instead of two, and most tensors need very few.
//
//   3. (reductions and softmax) Which elements does one block combine?  split_reduction puts
//      the kept dims first and the reduced dims last, so that after one permuted copy every
//      output reduces one contiguous row of `inner` elements.
//
// Read next: cuda/elementwise.cu, which uses all of this.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "core/ops/loops.h"
#include "core/ops/math.h"  // TANDEM_HD: __host__ __device__ under nvcc
#include "core/shape.h"

namespace tandem::cuda {

// ---- grid size ------------------------------------------------------------------------------

// 256 threads per block: a multiple of the 32-thread warp, small enough that several blocks fit
// on one streaming multiprocessor (which hides the latency of memory reads), large enough that
// launching blocks costs little.
inline constexpr int kThreads = 256;
inline constexpr int64_t kMaxBlocks = 65535;

// Blocks for n elements, one element per thread, capped (the grid-stride loop does the rest).
// At least 1, so that even an empty launch is a valid one.
inline int64_t blocks_for(int64_t n, int threads = kThreads) {
  const int64_t blocks = (n + threads - 1) / threads;
  return blocks < 1 ? 1 : (blocks > kMaxBlocks ? kMaxBlocks : blocks);
}

// Threads for a block that cooperates on one row of n elements (a reduction, a softmax): n
// rounded up to whole warps, at most kThreads. A row of 10 logits gets one warp, not 256
// threads of which 246 would idle.
inline int row_threads(int64_t n) {
  const int64_t warps = (n + 31) / 32;
  const int64_t t = (warps < 1 ? 1 : warps) * 32;
  return static_cast<int>(t > kThreads ? kThreads : t);
}

// ---- offsets of strided operands ------------------------------------------------------------

// Dimensions an OffsetCalc can hold after coalescing. Tensors of higher rank whose dimensions
// cannot be merged are refused with an error (PyTorch's limit is 25; 8 covers every model here).
inline constexpr int kMaxDims = 8;

// The offsets of N operands for one element of a common (broadcast) shape. Plain arrays, not
// std::vector: the struct is copied by value into the kernel's parameters.
template <int N> struct OffsetCalc {
  int rank = 0;
  int64_t sizes[kMaxDims] = {};
  int64_t strides[N][kMaxDims] = {};

  // off[k] = element offset in operand k of element `linear` (row-major over `sizes`). Peel the
  // index digits off from the last dimension, which varies fastest.
  TANDEM_HD void get(int64_t linear, int64_t (&off)[N]) const {
    for (int k = 0; k < N; ++k) off[k] = 0;
    for (int d = rank - 1; d >= 0; --d) {
      const int64_t i = linear % sizes[d];
      linear /= sizes[d];
      for (int k = 0; k < N; ++k) off[k] += i * strides[k][d];
    }
  }
};

// An OffsetCalc for `shape`, operand k read with strides[k] (for a broadcast input, its
// broadcast_strides). Throws naming `op` if more than kMaxDims dimensions remain after merging.
template <int N>
OffsetCalc<N> make_offset_calc(const Shape& shape, std::array<Strides, N> strides, const char* op) {
  const Shape merged = loops::coalesce(shape, strides);
  if (merged.size() > static_cast<size_t>(kMaxDims))
    throw Error(msg(op, ": the CUDA kernels handle tensors of at most ", kMaxDims,
                    " dimensions that cannot be merged, but this one has ", merged.size(),
                    " (shape ", shape_str(shape), "); reshape it or make it contiguous first"));
  OffsetCalc<N> calc;
  calc.rank = static_cast<int>(merged.size());
  for (size_t d = 0; d < merged.size(); ++d) {
    calc.sizes[d] = merged[d];
    for (int k = 0; k < N; ++k) calc.strides[k][d] = strides[k][d];
  }
  return calc;
}

// ---- reductions: kept dims first, reduced dims last ---------------------------------------------

struct ReductionSplit {
  std::vector<int64_t> order;  // a permutation: the kept dims in order, then the reduced ones
  bool reorders = false;       // false when `order` is the identity (no permute needed)
  int64_t outer = 1;           // number of outputs: product of the kept sizes
  int64_t inner = 1;           // elements per output: product of the reduced sizes
};

// mask[d] is true for the dims being reduced.
inline ReductionSplit split_reduction(const Shape& shape, const std::vector<bool>& mask) {
  ReductionSplit s;
  for (int pass = 0; pass < 2; ++pass)
    for (size_t d = 0; d < shape.size(); ++d)
      if (mask[d] == (pass == 1)) {
        s.order.push_back(static_cast<int64_t>(d));
        (pass == 1 ? s.inner : s.outer) *= shape[d];
      }
  for (size_t i = 0; i < s.order.size(); ++i)
    if (s.order[i] != static_cast<int64_t>(i)) s.reorders = true;
  return s;
}

// The dims a reduction over `dims` removes (empty: all of them), as a mask. The shape rule has
// already rejected repeated or out-of-range dims, so this only normalises negative ones.
inline std::vector<bool> reduced_mask(int64_t rank, const std::vector<int64_t>& dims) {
  std::vector<bool> mask(static_cast<size_t>(rank), dims.empty());
  for (int64_t d : dims)
    if (rank > 0) mask[static_cast<size_t>(normalize_dim(d, rank, "reduce"))] = true;
  return mask;
}

// sum_to(x, target): the leading dims target lacks, and the dims where target has 1 and x not.
inline std::vector<bool> sum_to_mask(const Shape& x, const Shape& target) {
  const size_t lead = x.size() - target.size();
  std::vector<bool> mask(x.size());
  for (size_t d = 0; d < x.size(); ++d) mask[d] = d < lead || (target[d - lead] == 1 && x[d] != 1);
  return mask;
}

}  // namespace tandem::cuda
