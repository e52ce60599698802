// core/device.h — where a tensor's bytes live, and who allocates them.
//
// A Device is a place: the CPU, or one CUDA GPU (`Device::cuda(0)`). Every Storage belongs to
// exactly one device, and an op whose inputs live on different devices is an error (never a
// silent copy). The CPU allocator lives here; the CUDA backend (cuda/) registers its own
// allocator for Device::Type::cuda when it is compiled in, so this file never mentions CUDA APIs.
//
// Read next: core/storage.h.
#pragma once

#include <cstddef>
#include <string>

namespace tandem {

struct Device {
  enum class Type : uint8_t { cpu, cuda };
  Type type = Type::cpu;
  int index = 0;

  static Device cpu() { return {Type::cpu, 0}; }
  static Device cuda(int index = 0) { return {Type::cuda, index}; }
  bool is_cpu() const { return type == Type::cpu; }
  bool is_cuda() const { return type == Type::cuda; }
  bool operator==(const Device&) const = default;
};

// "cpu" or "cuda:0".
std::string to_string(Device d);

// An allocator hands out raw bytes on one device. `allocate` never returns null: it throws
// tandem::OutOfMemoryError when memory is exhausted.
struct Allocator {
  virtual ~Allocator() = default;
  virtual void* allocate(size_t nbytes) = 0;
  virtual void deallocate(void* ptr, size_t nbytes) = 0;
};

// The allocator for a device type. The CPU one always exists; asking for CUDA in a build without
// the CUDA backend throws an Error that says how to build with it.
Allocator& allocator_for(Device d);

// Used once by cuda/ at start-up to plug in its caching allocator.
void register_allocator(Device::Type type, Allocator* allocator);

// Copies raw bytes between devices (host<->device, device<->device). cuda/ registers the one
// real implementation; without it, any copy that involves a GPU throws the same clear Error.
using CopyBytesFn = void (*)(void* dst, Device dst_device, const void* src, Device src_device,
                             size_t nbytes);
void register_copy_bytes(CopyBytesFn fn);
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes);

}  // namespace tandem
