// cuda/cuda.h — the CUDA backend: Tandem's tensors and ops on an NVIDIA GPU.
//
// The backend adds no new concepts to the engine: a CUDA tensor is an ordinary Tensor whose
// Storage lives on Device::cuda(0), and `x.to(Device::cuda())`, `y.cpu()` move values across.
// Ops on CUDA tensors go through the same catalogue as on the CPU (core/op.h): at start-up the
// files here set `ops::mul.cuda = <the CUDA kernel>` beside the CPU kernel, so `a * b`, matmul,
// softmax and the whole eager autograd engine (whose backward rules call ops) run on the GPU
// with no change to their code. An op without a CUDA kernel says so and suggests `.cpu()`.
//
// Reading order of the chapter:
//   1. cuda/check.h         CUDA and cuBLAS errors become tandem::Error (name the call and op)
//   2. cuda/allocator.h/.cpp  device memory: a caching allocator, host<->device copies
//   3. cuda/launch.h        threads, blocks, grid-stride loops; offsets of strided operands
//   4. cuda/elementwise.cu  binary and unary ops with broadcasting, sharing the per-element
//                           math of core/ops/math.h with the CPU; copies and casts; add_
//   5. cuda/common.cuh      warp shuffles and block reductions
//      cuda/reduce.cu       sum, mean, var, amax/amin, argmax/argmin, sum_to: a block per output
//   6. cuda/softmax.cu      softmax / log_softmax: one block per row, three passes
//   7. cuda/index.cu        index_select, gather and their backwards (index_add, scatter_add),
//                           one_hot
//   8. cuda/join.cu         cat, stack, slice_scatter, select_scatter: copies into windows (views)
//   9. cuda/gemm_plan.h, cuda/matmul.cu   matmul through cuBLAS: row-major meets column-major;
//                           matmul_accumulate's c += alpha·a·b with beta = 1
//  10. cuda/matmul_ladder.cu  writing GEMM yourself: naive -> shared-memory tiles -> register tiles
//  11. cuda/conv.cu         conv2d (im2col + cuBLAS) and max pooling
//  12. cuda/optim.cu        the optimizers' fused updates (SGD, momentum, Adam), math shared with the CPU
// and docs/cuda.md, which walks through them.
//
// This header needs no CUDA headers: programs include it in any build, and its functions exist
// when the library is built with the backend (TANDEM_HAVE_CUDA is then defined).
#pragma once

#include <cstdint>
#include <string>

#include "core/tensor.h"

namespace tandem::cuda {

// ---- the device ------------------------------------------------------------------------------
// Whether a GPU and a working driver are present. False — never an exception, never a crash —
// on a machine without either, so programs and tests can ask before using Device::cuda().
bool is_available();
int device_count();       // 0 when unavailable
std::string device_name(int index = 0);  // "NVIDIA H100 80GB HBM3"; throws if unavailable
// Kernels run asynchronously: the CPU queues them and moves on. synchronize() waits until the
// GPU has finished everything queued (timing code needs it; copies to the CPU do it themselves).
void synchronize();

// ---- memory (cuda/allocator.cpp) ---------------------------------------------------------------
struct CacheStats {
  int64_t reserved_bytes = 0;  // obtained from cudaMalloc and not yet returned
  int64_t cached_bytes = 0;    // of those, on free lists waiting for reuse
  int64_t cuda_mallocs = 0;    // calls to cudaMalloc so far
  int64_t reuses = 0;          // requests served from a free list instead
};
CacheStats cache_stats();
void empty_cache();  // returns every cached block to CUDA (cudaFree; waits for the GPU)

// ---- in-place update (cuda/elementwise.cu) -----------------------------------------------------
// self += alpha · other, `other` broadcast to self's shape: the SGD step `w -= lr · grad` on the
// GPU, in one kernel and without allocating. float32 and float64. Like Tensor::add_, it bumps
// the version counter, and refuses a leaf that requires grad unless grad mode is off (no_grad).
const Tensor& add_(const Tensor& self, const Tensor& other, double alpha = 1.0);

// ---- the matmul ladder (cuda/matmul_ladder.cu) and cuBLAS (cuda/matmul.cu) ----------------------
// C = A·B for 2-D float32 CUDA tensors (copied to contiguous first if needed). Each rung is a
// kernel written by hand; matmul_cublas is the vendor library, what `matmul` itself uses.
Tensor matmul_naive(const Tensor& a, const Tensor& b);           // one thread per output element
Tensor matmul_tiled(const Tensor& a, const Tensor& b);           // 32x32 tiles in shared memory
Tensor matmul_register_tiled(const Tensor& a, const Tensor& b);  // 128x128 tiles, 8x8 per thread
Tensor matmul_cublas(const Tensor& a, const Tensor& b);

}  // namespace tandem::cuda
