// cuda/conv.cu — conv2d and max_pool2d on the GPU: im2col + cuBLAS, and one thread per window.
//
// The CPU kernels (core/ops/conv.cpp) turn a convolution into one GEMM by copying every window of
// the image into a column of `cols` (im2col). The GPU does the same, in three launches:
//
//   im2col     one thread per entry of cols [N, C·kh·kw, Ho·Wo]: it computes which input element
//              its entry copies (ConvGeometry::source) and copies it, or writes 0 in the padding;
//   GEMM       y[n] = W2 · cols[n] for every image, through the matmul op's CUDA kernel (cuBLAS,
//              batched: cuda/matmul.cu), written straight into the output;
//   col2im     (the input's gradient) one thread per *input* element, summing the entries of
//              dcols = W2ᵀ · g that were copied from it (ConvGeometry::gather_cols). Gathering
//              per input element, rather than scattering from cols, means no two threads write
//              the same place, so no atomics are needed.
//
// The filters' gradient is the batched product g[n] · cols[n]ᵀ summed over images: two ops
// (matmul, sum over dim 0) that already have CUDA kernels.
//
// Max pooling: one thread per output element finds its window's winner
// (ConvGeometry::window_argmax, the first maximum, a NaN first) and reads it. The backward sends
// each output's gradient to its winner; overlapping windows may share a winner, so there the
// additions are atomic (atomicAdd on float and double, sm_60 and later).
//
// The index arithmetic is the same __host__ __device__ code the CPU tests run
// (tests/test_conv.cpp, [cuda-logic]), so a wrong index would fail there first.
//
// Read next: cuda/matmul.cu (the GEMM these launch).
#include <cuda_runtime.h>

#include "core/factories.h"
#include "core/op.h"
#include "core/ops.h"
#include "core/ops/conv_geometry.h"
#include "cuda/common.cuh"

namespace tandem::cuda {
namespace {

// ---- kernels ------------------------------------------------------------------------------------

template <typename T>
__global__ void im2col_kernel(int64_t n, ConvGeometry geo, const T* x, T* cols) {
  const int64_t rows = geo.C * geo.kh * geo.kw, cols_per_row = geo.Ho * geo.Wo;
  const int64_t plane = geo.C * geo.H * geo.W;
  for (int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; t < n;
       t += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t q = t % cols_per_row, r = (t / cols_per_row) % rows, img = t / (cols_per_row * rows);
    const int64_t e = geo.source(r, q);
    cols[t] = e < 0 ? T(0) : x[img * plane + e];
  }
}

template <typename T>
__global__ void col2im_kernel(int64_t n, ConvGeometry geo, const T* cols, T* x) {
  const int64_t plane = geo.C * geo.H * geo.W, image_cols = geo.C * geo.kh * geo.kw * geo.Ho * geo.Wo;
  for (int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; t < n;
       t += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t img = t / plane;
    x[t] = geo.gather_cols(cols + img * image_cols, t % plane);
  }
}

// out[p][o] = x[p][winner of window o]: the pooled value (values == x), or the derivative of the
// backward (values = the incoming gradient of the pooled input's shape).
template <typename T>
__global__ void pool_gather_kernel(int64_t n, ConvGeometry geo, const T* x, const T* values, T* out) {
  const int64_t in_plane = geo.H * geo.W, out_plane = geo.Ho * geo.Wo;
  for (int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; t < n;
       t += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t p = t / out_plane;
    const int64_t i = geo.window_argmax(x + p * in_plane, t % out_plane);
    out[t] = i < 0 ? T(0) : values[p * in_plane + i];
  }
}

// dx[p][winner of window o] += g[p][o], atomically (windows may overlap). dx starts at 0.
template <typename T>
__global__ void pool_scatter_kernel(int64_t n, ConvGeometry geo, const T* x, const T* g, T* dx) {
  const int64_t in_plane = geo.H * geo.W, out_plane = geo.Ho * geo.Wo;
  for (int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; t < n;
       t += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t p = t / out_plane;
    const int64_t i = geo.window_argmax(x + p * in_plane, t % out_plane);
    if (i >= 0) atomicAdd(dx + p * in_plane + i, g[t]);
  }
}

// ---- host side ------------------------------------------------------------------------------------

// The window attributes (layouts in core/ops/conv.cpp) and the sizes, as one ConvGeometry.
ConvGeometry conv_geometry(const Attrs& a, int64_t C, int64_t H, int64_t W, int64_t kh, int64_t kw) {
  const int64_t sh = a.dims[0], sw = a.dims[1], ph = a.dims[2], pw = a.dims[3];
  return {C, H, W, kh, kw, sh, sw, ph, pw, (H + 2 * ph - kh) / sh + 1, (W + 2 * pw - kw) / sw + 1};
}
ConvGeometry pool_geometry(const Attrs& a, int64_t H, int64_t W) {
  const int64_t kh = a.dims[0], kw = a.dims[1], sh = a.dims[2], sw = a.dims[3], ph = a.dims[4], pw = a.dims[5];
  return {1, H, W, kh, kw, sh, sw, ph, pw, (H + 2 * ph - kh) / sh + 1, (W + 2 * pw - kw) / sw + 1};
}

// cols [N, C·kh·kw, Ho·Wo] of a contiguous batch x on the device.
Tensor im2col(const Tensor& x, const ConvGeometry& geo, const char* op) {
  const int64_t N = x.size(0);
  Tensor cols = Tensor::empty({N, geo.C * geo.kh * geo.kw, geo.Ho * geo.Wo}, x.dtype(), x.device());
  const int64_t n = cols.numel();
  visit_floating(x.dtype(), [&]<typename T>() {
    im2col_kernel<T><<<blocks_for(n), kThreads>>>(n, geo, x.data<T>(), cols.data<T>());
  });
  check_launch("im2col_kernel", op);
  return cols;
}

void conv2d_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  require_floating(out.dtype(), "conv2d");
  const Tensor x = in[0].contiguous(), w = in[1].contiguous();
  if (out.numel() == 0) return;
  const ConvGeometry geo = conv_geometry(a, x.size(1), x.size(2), x.size(3), w.size(2), w.size(3));
  const Tensor cols = im2col(x, geo, "conv2d");
  Tensor y = out.reshape({x.size(0), w.size(0), geo.Ho * geo.Wo});  // a view of out
  const std::array<Tensor, 2> operands{w.reshape({w.size(0), cols.size(1)}), cols};
  ops::matmul.cuda(operands, {}, y);
}

void conv2d_input_grad_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  require_floating(out.dtype(), "conv2d_input_grad");
  const Tensor g = in[0].contiguous(), w = in[1].contiguous();
  const int64_t N = out.size(0), O = w.size(0);
  const ConvGeometry geo = conv_geometry(a, out.size(1), out.size(2), out.size(3), w.size(2), w.size(3));
  const int64_t rows = geo.C * geo.kh * geo.kw;
  Tensor dcols = Tensor::empty({N, rows, geo.Ho * geo.Wo}, g.dtype(), g.device());
  const std::array<Tensor, 2> operands{w.reshape({O, rows}).t(), g.reshape({N, O, geo.Ho * geo.Wo})};
  ops::matmul.cuda(operands, {}, dcols);
  const int64_t n = out.numel();
  visit_floating(out.dtype(), [&]<typename T>() {
    col2im_kernel<T><<<blocks_for(n), kThreads>>>(n, geo, dcols.data<T>(), out.data<T>());
  });
  check_launch("col2im_kernel", "conv2d_input_grad");
}

void conv2d_weight_grad_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  require_floating(out.dtype(), "conv2d_weight_grad");
  const Tensor x = in[0].contiguous(), g = in[1].contiguous();
  const int64_t N = x.size(0), O = out.size(0);
  const ConvGeometry geo = conv_geometry(a, x.size(1), x.size(2), x.size(3), out.size(2), out.size(3));
  const Tensor cols = im2col(x, geo, "conv2d_weight_grad");
  // Σ_n g[n] · cols[n]ᵀ: a batched product [N, O, rows], then the sum over images.
  const Tensor per_image = matmul(g.reshape({N, O, geo.Ho * geo.Wo}), cols.transpose(1, 2));
  copy_on_device(sum(per_image, {0}).reshape(out.shape()), out, "conv2d_weight_grad");
}

// Max pooling and its two derivatives share one gather and one scatter kernel.
void max_pool2d_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  require_floating(out.dtype(), "max_pool2d");
  const Tensor x = in[0].contiguous();
  const ConvGeometry geo = pool_geometry(a, x.size(2), x.size(3));
  const int64_t n = out.numel();
  visit_floating(x.dtype(), [&]<typename T>() {
    pool_gather_kernel<T><<<blocks_for(n), kThreads>>>(n, geo, x.data<T>(), x.data<T>(), out.data<T>());
  });
  check_launch("pool_gather_kernel", "max_pool2d");
}

void max_pool2d_gather_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  require_floating(out.dtype(), "max_pool2d_gather");
  const Tensor values = in[0].to(out.dtype()).contiguous(), x = in[1].contiguous();  // as on the CPU
  if (values.shape() != x.shape())
    throw ShapeError(msg("max_pool2d_gather: values of shape ", shape_str(values.shape()),
                         " must have the pooled input's shape ", shape_str(x.shape())));
  const ConvGeometry geo = pool_geometry(a, x.size(2), x.size(3));
  const int64_t n = out.numel();
  visit_floating(x.dtype(), [&]<typename T>() {
    pool_gather_kernel<T><<<blocks_for(n), kThreads>>>(n, geo, x.data<T>(), values.data<T>(), out.data<T>());
  });
  check_launch("pool_gather_kernel", "max_pool2d_gather");
}

void max_pool2d_backward_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  require_floating(out.dtype(), "max_pool2d_backward");
  const Tensor g = in[0].to(out.dtype()).contiguous(), x = in[1].contiguous();  // as on the CPU
  const ConvGeometry geo = pool_geometry(a, x.size(2), x.size(3));
  if (g.shape() != Shape{x.size(0), x.size(1), geo.Ho, geo.Wo})
    throw ShapeError(msg("max_pool2d_backward: the gradient has shape ", shape_str(g.shape()), " but pooling ",
                         shape_str(x.shape()), " gives ", shape_str(Shape{x.size(0), x.size(1), geo.Ho, geo.Wo})));
  TANDEM_CUDA_CHECK(cudaMemset(out.raw_data(), 0, out.nbytes()), "max_pool2d_backward");
  const int64_t n = g.numel();
  visit_floating(x.dtype(), [&]<typename T>() {
    pool_scatter_kernel<T><<<blocks_for(n), kThreads>>>(n, geo, x.data<T>(), g.data<T>(), out.data<T>());
  });
  check_launch("pool_scatter_kernel", "max_pool2d_backward");
}

// Attaches the kernels to the catalogue at start-up (see the note in cuda/elementwise.cu).
struct Registrar {
  Registrar() {
    ops::conv2d.cuda = conv2d_kernel;
    ops::conv2d_input_grad.cuda = conv2d_input_grad_kernel;
    ops::conv2d_weight_grad.cuda = conv2d_weight_grad_kernel;
    ops::max_pool2d.cuda = max_pool2d_kernel;
    ops::max_pool2d_backward.cuda = max_pool2d_backward_kernel;
    ops::max_pool2d_gather.cuda = max_pool2d_gather_kernel;
  }
} registrar;

}  // namespace
}  // namespace tandem::cuda
