// core/storage.h — a reference-counted block of bytes on one device.
//
// Storage is the memory; a Tensor is a *view* of it (shape + strides + offset + dtype). Several
// tensors can share one Storage: `b = a.transpose(0, 1)` allocates nothing, it reads a's bytes in
// another order. The Storage is freed when the last tensor using it goes away (shared_ptr).
//
// Two counters live here because they belong to the memory, not to any one view of it:
//  - `version` is bumped by every in-place op (add_, mul_, ...). Autograd records it when it saves
//    a tensor for backward and complains if it changed (PyTorch's "modified by an inplace
//    operation" error).
//  - the process-wide memory statistics (allocations, bytes in use, peak): the numbers the
//    eager-vs-graph memory comparison and the session's run statistics report.
//
// Read next: core/tensor.h.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/device.h"

namespace tandem {

class Storage {
 public:
  Storage(size_t nbytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

  uint64_t version = 0;  // bumped by in-place ops; see autograd's saved-tensor check

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
};

// Process-wide counters of tensor memory, per device type (like torch.cuda.memory_stats). Every
// thread's tensors count; the counters are atomic, so reading them while other threads allocate
// is safe (a snapshot of each number, not of the three together).
struct MemoryStats {
  int64_t allocations = 0;   // number of Storage objects ever created
  int64_t bytes_in_use = 0;  // bytes held by live Storage objects
  int64_t peak_bytes = 0;    // high-water mark of bytes_in_use since the last reset
};
MemoryStats memory_stats(Device::Type type = Device::Type::cpu);
// Starts a new measurement: zeroes `allocations` and sets `peak_bytes` to what is in use now.
void reset_peak_memory_stats(Device::Type type = Device::Type::cpu);

}  // namespace tandem
