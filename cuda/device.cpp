// cuda/device.cpp — is there a GPU? And what the error messages say when something fails.
//
// Asking for the GPU is done lazily, on the first call, never while the program starts: a
// static initialiser that threw (or hung on a missing driver) would kill every program linked
// with Tandem, GPU or not. cudaGetDeviceCount itself reports "no driver" or "no device" as an
// error status, which we turn into "0 devices".
//
// Read next: cuda/allocator.cpp.
#include <cuda_runtime_api.h>

#include "core/error.h"
#include "cuda/check.h"
#include "cuda/cuda.h"

namespace tandem::cuda {

int device_count() {
  // A function-local static: computed on the first call (thread-safe), then remembered.
  static const int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      (void)cudaGetLastError();  // clear the error, so that it is not reported by a later call
      return 0;
    }
    return n;
  }();
  return count;
}

bool is_available() { return device_count() > 0; }

std::string device_name(int index) {
  if (index < 0 || index >= device_count())
    throw Error(msg("cuda::device_name(", index, "): there are ", device_count(),
                    " CUDA devices on this machine"));
  cudaDeviceProp prop{};
  TANDEM_CUDA_CHECK(cudaGetDeviceProperties(&prop, index), "cuda::device_name");
  return prop.name;
}

void synchronize() { TANDEM_CUDA_CHECK(cudaDeviceSynchronize(), "cuda::synchronize"); }

// ---- error messages -----------------------------------------------------------------------------

namespace {
// What to do about the errors one actually meets.
const char* hint(cudaError_t status) {
  switch (status) {
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorCompatNotSupportedOnDevice:
      return "; there is no usable GPU on this machine (cuda::is_available() is false): keep the "
             "tensors on the CPU";
    case cudaErrorNoKernelImageForDevice:
    case cudaErrorUnsupportedPtxVersion:
      return "; this GPU is not among the architectures the library was compiled for: configure "
             "with -DCMAKE_CUDA_ARCHITECTURES=native and rebuild";
    case cudaErrorMemoryAllocation:
      return "; the GPU is out of memory: use smaller batches or free tensors you no longer need";
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorMisalignedAddress:
    case cudaErrorIllegalInstruction:
      return "; a kernel failed while running — this op's or an earlier one's, since kernels run "
             "asynchronously (rerun with CUDA_LAUNCH_BLOCKING=1 to find which). The GPU context "
             "is unusable now: restart the program";
    default:
      return "";
  }
}
}  // namespace

void throw_cuda_error(cudaError_t status, const char* call, const char* op) {
  throw Error(msg(op, ": the CUDA call ", call, " failed with ", cudaGetErrorName(status), " (",
                  cudaGetErrorString(status), ")", hint(status)));
}

void throw_cublas_error(cublasStatus_t status, const char* call, const char* op) {
  throw Error(msg(op, ": the cuBLAS call ", call, " failed with ", cublasGetStatusName(status),
                  " (", cublasGetStatusString(status), ")"));
}

void check_launch(const char* kernel, const char* op) {
  const cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess) throw_cuda_error(status, msg("the launch of ", kernel).c_str(), op);
}

}  // namespace tandem::cuda
