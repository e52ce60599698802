// core/storage.cpp — the CPU allocator, the allocator registry and the memory counters.
#include "core/storage.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "core/error.h"

namespace tandem {

std::string to_string(Device d) {
  return d.is_cpu() ? std::string("cpu") : "cuda:" + std::to_string(d.index);
}

namespace {

// 64-byte alignment: a whole cache line, and enough for any SIMD load (AVX-512 included).
struct CpuAllocator final : Allocator {
  void* allocate(size_t nbytes) override {
    const size_t rounded = (nbytes + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
    if (!p) throw Error(msg("out of CPU memory: could not allocate ", nbytes, " bytes"));
    return p;
  }
  void deallocate(void* ptr, size_t) override { std::free(ptr); }
};

CpuAllocator cpu_allocator;
Allocator* cuda_allocator = nullptr;

MemoryStats stats[2];  // indexed by Device::Type

}  // namespace

Allocator& allocator_for(Device d) {
  if (d.is_cpu()) return cpu_allocator;
  if (!cuda_allocator)
    throw Error(msg("device ", to_string(d),
                    " is not available: this build of Tandem has no CUDA backend. Configure with "
                    "-DTANDEM_CUDA=ON on a machine with the CUDA toolkit."));
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
  MemoryStats& s = stats[static_cast<int>(device.type)];
  s.allocations += 1;
  s.bytes_in_use += static_cast<int64_t>(nbytes);
  if (s.bytes_in_use > s.peak_bytes) s.peak_bytes = s.bytes_in_use;
}

Storage::~Storage() {
  allocator_for(device_).deallocate(data_, nbytes_);
  stats[static_cast<int>(device_.type)].bytes_in_use -= static_cast<int64_t>(nbytes_);
}

MemoryStats memory_stats(Device::Type type) { return stats[static_cast<int>(type)]; }

void reset_peak_memory_stats(Device::Type type) {
  MemoryStats& s = stats[static_cast<int>(type)];
  s.allocations = 0;
  s.peak_bytes = s.bytes_in_use;
}

}  // namespace tandem
