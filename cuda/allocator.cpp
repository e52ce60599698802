// cuda/allocator.cpp — GPU memory: the caching allocator and host<->device copies.
//
// Tensor::empty(shape, dtype, Device::cuda()) asks allocator_for(device) for bytes (core/
// device.h). This file provides that allocator for Device::Type::cuda and the copy function
// behind x.to(Device::cuda()) and y.cpu(), and registers both at start-up.
//
// The allocator caches (the reasons are in cuda/allocator.h): freed blocks wait on a free list,
// one per size class, for the next request of that class. Three details make this safe:
//   - Ordering. Every kernel and copy in cuda/ runs on the default stream, where work runs in
//     the order it was queued. A block freed while a queued kernel still reads it may be handed
//     to a new tensor at once: whatever writes it later is queued after that kernel. (With
//     several streams this no longer holds, and PyTorch records events per block.)
//   - Out of memory. When cudaMalloc fails, the cached blocks are returned to CUDA and the
//     request is tried once more before the error is reported.
//   - Exit. The allocator is created on first use and deliberately never destroyed: at program
//     exit the CUDA runtime may already be shutting down, and freeing into it can fail or hang.
//     The operating system reclaims the memory with the process.
//
// Thread safety: tensors may be freed on any thread (a data loader's, say), so a mutex guards
// the free lists.
//
// One GPU: the Allocator interface (core/device.h) is not told which device to allocate on, so
// this backend uses cuda:0, the current device, and refuses other indices where it can see them
// (copies, kernels).
//
// Read next: cuda/launch.h.
#include <cuda_runtime_api.h>

#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/device.h"
#include "core/error.h"
#include "cuda/allocator.h"
#include "cuda/check.h"
#include "cuda/cuda.h"

namespace tandem::cuda {
namespace {

class CachingAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes) override {
    const size_t size = size_class(nbytes);
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<void*>& list = free_[size];
    if (!list.empty()) {  // a cached block of this class: no CUDA call at all
      void* p = list.back();
      list.pop_back();
      stats_.cached_bytes -= static_cast<int64_t>(size);
      stats_.reuses += 1;
      return p;
    }
    void* p = nullptr;
    cudaError_t status = cudaMalloc(&p, size);
    if (status == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();  // clear it; we try again after giving the cache back
      release_cached_locked();
      status = cudaMalloc(&p, size);
    }
    if (status == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();
      throw OutOfMemoryError(msg("out of CUDA memory: could not allocate ", nbytes, " bytes (block of ", size,
                      " bytes) with ", stats_.reserved_bytes, " bytes in use by tensors; use "
                      "smaller batches, or free tensors you no longer need"));
    }
    if (status != cudaSuccess) throw_cuda_error(status, "cudaMalloc(&p, size)", "allocating memory on cuda:0");
    stats_.reserved_bytes += static_cast<int64_t>(size);
    stats_.cuda_mallocs += 1;
    return p;
  }

  // Called from Storage's destructor, so it must not throw: it only moves the block to its list.
  void deallocate(void* ptr, size_t nbytes) override {
    if (!ptr) return;
    const size_t size = size_class(nbytes);
    std::lock_guard<std::mutex> lock(mutex_);
    free_[size].push_back(ptr);
    stats_.cached_bytes += static_cast<int64_t>(size);
  }

  void release_cached() {
    std::lock_guard<std::mutex> lock(mutex_);
    release_cached_locked();
  }

  CacheStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

 private:
  // cudaFree waits for the GPU to finish all queued work, then returns the block to CUDA.
  void release_cached_locked() {
    for (auto& [size, list] : free_) {
      for (void* p : list) {
        TANDEM_CUDA_CHECK(cudaFree(p), "cuda::empty_cache");
        stats_.reserved_bytes -= static_cast<int64_t>(size);
        stats_.cached_bytes -= static_cast<int64_t>(size);
      }
      list.clear();
    }
  }

  std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_;  // size class -> cached blocks
  CacheStats stats_;
};

CachingAllocator& caching_allocator() {
  static CachingAllocator* const allocator = new CachingAllocator;  // never deleted: see above
  return *allocator;
}

// ---- copies between devices ---------------------------------------------------------------------

void require_cuda0(Device d, const char* op) {
  if (d.is_cuda() && d.index != 0)
    throw Error(msg(op, ": this CUDA backend uses one GPU, cuda:0, but was asked for ",
                    to_string(d), "; use Device::cuda(0)"));
}

// cudaMemcpy runs on the default stream, after every kernel queued before it, and returns once
// the bytes have arrived: a copy to the CPU therefore always sees the finished results.
void copy_bytes_cuda(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes) {
  const char* op = dst_device.is_cpu() ? "cpu()" : "to(cuda:0)";
  require_cuda0(dst_device, op);
  require_cuda0(src_device, op);
  if (nbytes == 0) return;
  const cudaMemcpyKind kind = src_device.is_cpu() ? cudaMemcpyHostToDevice
                              : dst_device.is_cpu() ? cudaMemcpyDeviceToHost
                                                    : cudaMemcpyDeviceToDevice;
  TANDEM_CUDA_CHECK(cudaMemcpy(dst, src, nbytes, kind), op);
}

// ---- registration -------------------------------------------------------------------------------
// A static object whose constructor runs before main(). It only stores two pointers in core/
// (no CUDA call happens here), so a program starts normally on a machine without a GPU; the
// first CUDA tensor is what tries the GPU, and fails with a clear message if there is none.
struct Registrar {
  Registrar() {
    register_allocator(Device::Type::cuda, &caching_allocator());
    register_copy_bytes(copy_bytes_cuda);
  }
} registrar;

}  // namespace

CacheStats cache_stats() { return caching_allocator().stats(); }
void empty_cache() { caching_allocator().release_cached(); }

}  // namespace tandem::cuda
