// cuda/check.h — every CUDA and cuBLAS error becomes a tandem::Error.
//
// Every CUDA runtime call returns a status code, and ignoring one is the classic CUDA bug: the
// program carries on with garbage and fails somewhere else, much later. So every call in cuda/
// is wrapped:
//
//     TANDEM_CUDA_CHECK(cudaMemcpy(dst, src, n, kind), "to(cuda:0)");
//     TANDEM_CUBLAS_CHECK(cublasSgemm(handle, ...), "matmul");
//
// On failure this throws tandem::Error naming the op being run, the call as written in the
// source, CUDA's own name and explanation of the status, and a hint for the errors students meet
// (no GPU, out of memory, a kernel that crashed). It is a macro for one reason: `#call` turns
// the call expression into text, which no function can do.
//
// Kernel launches return nothing. A launch that cannot start (a bad block size, say) is reported
// by the next cudaGetLastError(), which check_launch() asks right after each launch. A kernel
// that fails *while running* (an out-of-bounds read) is reported only by a later call that
// waits for the GPU — possibly in another op, because kernels run asynchronously. Setting
// CUDA_LAUNCH_BLOCKING=1 makes every launch wait, so the failing op reports its own error.
//
// Read next: cuda/allocator.h.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

namespace tandem::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t status, const char* call, const char* op);
[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* call, const char* op);

// After a kernel launch: throws if the launch itself failed. `kernel` names it in the message.
void check_launch(const char* kernel, const char* op);

}  // namespace tandem::cuda

#define TANDEM_CUDA_CHECK(call, op)                                               \
  do {                                                                            \
    const cudaError_t tandem_status_ = (call);                                    \
    if (tandem_status_ != cudaSuccess)                                            \
      ::tandem::cuda::throw_cuda_error(tandem_status_, #call, op);                \
  } while (0)

#define TANDEM_CUBLAS_CHECK(call, op)                                             \
  do {                                                                            \
    const cublasStatus_t tandem_status_ = (call);                                 \
    if (tandem_status_ != CUBLAS_STATUS_SUCCESS)                                  \
      ::tandem::cuda::throw_cublas_error(tandem_status_, #call, op);              \
  } while (0)
