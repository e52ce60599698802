// core/storage.cpp — the CPU allocator, the allocator registry and the memory counters.
#include "core/storage.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "core/error.h"

namespace tandem {

std::string to_string(Device d) {
  return d.is_cpu() ? std::string("cpu") : "cuda:" + std::to_string(d.index);
}

namespace {

// 64-byte alignment: a whole cache line, and enough for any SIMD load (AVX-512 included).
//
// Freed blocks are cached, because a training loop asks for the same sizes step after step and
// the C library is slow at exactly what it would be asked to do:
//   - big blocks (from 128 KiB; glibc raises that threshold as a program frees big blocks) come
//     as fresh pages from the kernel and go back to it on free (munmap, or trimming the heap). A
//     fresh page costs a page fault and the kernel zeroing it on first touch: for the 784x256
//     weight gradient of a small MLP (784 KiB, 196 pages) that is tens of microseconds, every
//     training step — more than the arithmetic done on it;
//   - aligned requests of any size skip malloc's fast per-thread cache (aligned_alloc takes the
//     slow path that carves an aligned piece out of a larger free chunk).
// So a freed block waits on a free list (one per exact size) for the next request of that size —
// a hash lookup and a pop — up to kCacheMaxBytes cached in all; beyond that it is freed. (The same
// idea as the CUDA caching allocator, cuda/allocator.cpp, where the slow call is cudaMalloc.)
// Memory statistics count bytes held by tensors, so a cached block counts as free.
class CpuAllocator final : public Allocator {
 public:
#ifdef __SANITIZE_ADDRESS__
  // Under AddressSanitizer nothing is cached, so that a use of freed memory is still caught.
  static constexpr bool kCaching = false;
#else
  static constexpr bool kCaching = true;
#endif
  static constexpr size_t kCacheMaxBytes = size_t{256} << 20;  // 256 MiB

  void* allocate(size_t nbytes) override {
    const size_t rounded = nbytes == 0 ? 64 : (nbytes + 63) / 64 * 64;
    if (kCaching) {
      std::lock_guard<std::mutex> lock(mutex_);  // tensors may be freed on any thread
      auto it = free_.find(rounded);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        cached_bytes_ -= rounded;
        return p;
      }
    }
    void* p = std::aligned_alloc(64, rounded);
    if (!p) {  // give the cache back to the system and try once more
      release_cached();
      p = std::aligned_alloc(64, rounded);
    }
    if (!p) throw Error(msg("out of CPU memory: could not allocate ", nbytes, " bytes"));
    return p;
  }

  // Called from Storage's destructor: never throws (a full cache frees the block instead).
  void deallocate(void* ptr, size_t nbytes) override {
    const size_t rounded = nbytes == 0 ? 64 : (nbytes + 63) / 64 * 64;
    if (kCaching) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (cached_bytes_ + rounded <= kCacheMaxBytes) {
        try {
          free_[rounded].push_back(ptr);
          cached_bytes_ += rounded;
          return;
        } catch (const std::bad_alloc&) {
          // no room for the list entry: fall through and free the block
        }
      }
    }
    std::free(ptr);
  }

 private:
  void release_cached() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [size, list] : free_) {
      for (void* p : list) std::free(p);
      list.clear();
    }
    cached_bytes_ = 0;
  }

  std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_;  // block size -> cached blocks
  size_t cached_bytes_ = 0;
};

// Created on first use and never destroyed: tensors held by static objects are freed during exit,
// possibly after this file's statics are gone, and must still find their allocator.
CpuAllocator& cpu_allocator() {
  static CpuAllocator* const allocator = new CpuAllocator;
  return *allocator;
}
Allocator* cuda_allocator = nullptr;

// Indexed by Device::Type. Atomic: a DataLoader's worker threads allocate batches while the
// training thread allocates activations (data/dataloader.h).
struct AtomicStats {
  std::atomic<int64_t> allocations{0}, bytes_in_use{0}, peak_bytes{0};
};
AtomicStats stats[2];

}  // namespace

Allocator& allocator_for(Device d) {
  if (d.is_cpu()) return cpu_allocator();
  if (!cuda_allocator)
    throw Error(msg("device ", to_string(d),
                    " is not available: this build of Tandem has no CUDA backend. Configure with "
                    "-DTANDEM_CUDA=ON on a machine with the CUDA toolkit."));
  if (d.index != 0)  // the allocator's interface names no device: it allocates on the current one
    throw Error(msg("allocating memory on ", to_string(d), ": this CUDA backend uses one GPU, "
                    "cuda:0; use Device::cuda(0)"));
  return *cuda_allocator;
}

void register_allocator(Device::Type type, Allocator* allocator) {
  if (type == Device::Type::cuda) cuda_allocator = allocator;
}

namespace {
CopyBytesFn device_copy = nullptr;
}  // namespace

void register_copy_bytes(CopyBytesFn fn) { device_copy = fn; }

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes) {
  if (dst_device.is_cpu() && src_device.is_cpu()) {
    std::memcpy(dst, src, nbytes);
    return;
  }
  if (!device_copy) (void)allocator_for(dst_device.is_cpu() ? src_device : dst_device);  // throws
  device_copy(dst, dst_device, src, src_device, nbytes);
}

Storage::Storage(size_t nbytes, Device device)
    : data_(allocator_for(device).allocate(nbytes)), nbytes_(nbytes), device_(device) {
  AtomicStats& s = stats[static_cast<int>(device.type)];
  s.allocations += 1;
  const int64_t in_use = s.bytes_in_use += static_cast<int64_t>(nbytes);
  int64_t peak = s.peak_bytes.load();
  while (in_use > peak && !s.peak_bytes.compare_exchange_weak(peak, in_use)) {
  }
}

Storage::~Storage() {
  allocator_for(device_).deallocate(data_, nbytes_);
  stats[static_cast<int>(device_.type)].bytes_in_use -= static_cast<int64_t>(nbytes_);
}

MemoryStats memory_stats(Device::Type type) {
  const AtomicStats& s = stats[static_cast<int>(type)];
  return {s.allocations.load(), s.bytes_in_use.load(), s.peak_bytes.load()};
}

void reset_peak_memory_stats(Device::Type type) {
  AtomicStats& s = stats[static_cast<int>(type)];
  s.allocations = 0;
  s.peak_bytes = s.bytes_in_use.load();
}

}  // namespace tandem
