// cuda/allocator.h — the size buckets of the caching GPU allocator (cuda/allocator.cpp).
//
// Why cache at all: cudaMalloc and cudaFree are slow (tens of microseconds to milliseconds,
// against a few microseconds for a small kernel) and cudaFree *synchronises*: it waits until
// every kernel queued on the GPU has finished, which stalls the CPU that should be queueing the
// next ones. A training step allocates and frees hundreds of tensors, the same sizes every step.
// So a freed block is not given back to CUDA but kept on a free list, and the next request of
// the same size class takes it — PyTorch's CUDACachingAllocator in its simplest form.
//
// A block can only serve requests of its own size class, so the classes decide the waste:
//   - up to 1 MiB: multiples of 512 bytes (PyTorch's minimum block size; also a good alignment);
//   - above 1 MiB: four classes per power of two, 2^j·{1¼, 1½, 1¾, 2}, so a block is at most 25%
//     larger than what was asked, and a tensor that grows by a few bytes still finds its block.
//
// This header is plain C++ so that the CPU tests check the buckets (tests/test_cuda.cpp).
#pragma once

#include <cstddef>
#include <cstdint>

namespace tandem::cuda {

inline constexpr size_t kMinBlock = 512;
inline constexpr size_t kSmallLimit = size_t{1} << 20;  // 1 MiB

// The size of the block that serves a request of `nbytes` (0 still gets a real block, so that
// every tensor has a valid address).
inline size_t size_class(size_t nbytes) {
  if (nbytes <= kSmallLimit) {
    const size_t blocks = (nbytes + kMinBlock - 1) / kMinBlock;
    return (blocks == 0 ? 1 : blocks) * kMinBlock;
  }
  // 2^j < nbytes <= 2^(j+1): round up to a multiple of 2^j / 4.
  size_t power = kSmallLimit;
  while (power * 2 < nbytes) power *= 2;
  const size_t step = power / 4;
  return (nbytes + step - 1) / step * step;
}

}  // namespace tandem::cuda
