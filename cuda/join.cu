// cuda/join.cu — cat, stack, slice_scatter and select_scatter on the GPU: copies into windows.
//
// These four ops do no arithmetic. Each writes its inputs into *windows* of the output:
//
//   cat([a, b], dim)                 a into out.narrow(dim, 0, a's size), b into the next window
//   stack([a, b], dim)               a into out.select(dim, 0), b into out.select(dim, 1)
//   slice_scatter(x, src, window)    x into all of out, then src into out.slice(window)
//   select_scatter(x, src, dim, i)   x into all of out, then src into out.select(dim, i)
//
// A window is a view (core/ops/views.cpp): the same storage as `out`, seen through an offset and
// strides. So all the index arithmetic of these ops — where row 3 of b lands in a cat along dim
// 0, where slice 2 of a stack goes — is done once, on the CPU, when the view is made, and what
// is left is a copy from one strided tensor into another. That is a kernel we already have:
// copy_on_device (cuda/elementwise.cu), one thread per element, OffsetCalc (cuda/launch.h)
// finding the element in both the source and the window, the dtype converted on the way (cat
// promotes: an int64 tensor joined to a float32 one becomes float32). A contiguous source of the
// right dtype copied into a contiguous window (cat of contiguous tensors along dim 0, or the
// first copy of the scatters) becomes a single cudaMemcpyAsync.
//
// These follow the CPU kernels (core/ops/join.cpp, core/ops/scatter.cpp) step for step, with the
// GPU's copy in place of the CPU's copy_into: every dtype, any layout of the inputs. The same
// plan, run on the CPU with OffsetCalc, is checked in tests/test_cuda.cpp ([cuda-logic]).
//
// The cost is one launch per input. For a few tensors (the usual case in a model) that costs a
// few microseconds; for hundreds of small tensors, one launch that copies them all would be
// faster (PyTorch's cat gives each block of threads a batch of inputs to copy).
//
// Read next: cuda/gemm_plan.h and cuda/matmul.cu.
#include "core/op.h"
#include "core/ops.h"
#include "cuda/common.cuh"

namespace tandem::cuda {
namespace {

void cat_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  const int64_t d = normalize_dim(a.dim, out.dim(), "cat");
  int64_t at = 0;  // where along dim the next input starts
  for (const Tensor& t : in) {
    copy_on_device(t, out.narrow(d, at, t.shape()[d]), "cat");
    at += t.shape()[d];
  }
}

void stack_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  const int64_t d = normalize_dim(a.dim, out.dim(), "stack");
  for (size_t k = 0; k < in.size(); ++k)
    copy_on_device(in[k], out.select(d, static_cast<int64_t>(k)), "stack");
}

// out = x, then out[window] = src. The source must have the window's shape (the shape rule only
// knows x's): checked before anything is copied, with the CPU kernel's message.
void slice_scatter_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  const Tensor window = out.slice(a.dim, a.start, a.end, a.step);
  if (window.shape() != in[1].shape())
    throw ShapeError(msg("slice_scatter: the source ", shape_str(in[1].shape()),
                         " must have the shape of the slice ", shape_str(window.shape())));
  copy_on_device(in[0], out, "slice_scatter");
  copy_on_device(in[1], window, "slice_scatter");
}

void select_scatter_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  const Tensor window = out.select(a.dim, a.start);
  if (window.shape() != in[1].shape())
    throw ShapeError(msg("select_scatter: the source ", shape_str(in[1].shape()),
                         " must have the shape of the selected slice ", shape_str(window.shape())));
  copy_on_device(in[0], out, "select_scatter");
  copy_on_device(in[1], window, "select_scatter");
}

// split_like: out = the window of g that piece `a.start` occupies (core/ops/join.cpp), its offset
// the sizes of the pieces before it.
void split_like_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  const int64_t d = normalize_dim(a.dim, out.dim(), "split_like");
  int64_t offset = 0;
  for (int64_t k = 1; k <= a.start; ++k) offset += in[k].shape()[d];
  copy_on_device(in[0].narrow(d, offset, out.shape()[d]), out, "split_like");
}

// Attaches the kernels to the catalogue at start-up (see the note in cuda/elementwise.cu).
struct Registrar {
  Registrar() {
    ops::cat.cuda = cat_kernel;
    ops::stack.cuda = stack_kernel;
    ops::split_like.cuda = split_like_kernel;
    ops::slice_scatter.cuda = slice_scatter_kernel;
    ops::select_scatter.cuda = select_scatter_kernel;
  }
} registrar;

}  // namespace
}  // namespace tandem::cuda
