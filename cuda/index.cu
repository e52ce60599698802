// cuda/index.cu — index_select, gather and their backwards, index_add and scatter_add, and one_hot,
// on the GPU.
//
// index_select(x, dim, index) (an embedding lookup is index_select(table, 0, ids)): x, made
// contiguous, is [outer, size, inner] around the selected dim and the output is
// [outer, count, inner]: output element (o, k, i) copies x[o][index[k]][i]. One thread per
// output element; neighbouring threads take neighbouring i, so both the reads of a row of x and
// the writes are coalesced.
//
// index_add(x, dim, index, src) sends values the other way: out = x, then out[o][index[k]][i] +=
// src[o][k][i]. One thread per *source* element. Two threads may now write the same place (an
// index that repeats: a word that appears twice in a batch), and `out[j] += v` is a read, an add
// and a write — two threads interleaving them lose one of the additions. atomicAdd does the three
// as one indivisible step. The order in which the additions land varies from run to run, so
// repeated indices give results that may differ in the last bit between runs (and from the CPU).
//
// gather(x, dim, index) (picking the logit of the true class) and scatter_add, its backward, do
// the same one element at a time: thread t takes element t of `index`, and OffsetCalc (cuda/
// launch.h) finds that position in out, in index and in x — in x with the stride of `dim` set to
// 0, to which the index value times that stride is then added, exactly as core/ops/index.cpp.
//
// Bad indices. The CPU checks every index before writing and names the bad one. A GPU thread
// cannot throw, so the indices (a short vector) are first copied to the CPU and checked there,
// with the CPU's message; the copy waits for the GPU, a price paid for an error that says
// "index 7 is out of range for dimension 0 with size 5" instead of a crash.
//
// one_hot(labels, C) is the simplest of all: the output is zeroed (cudaMemset), then one thread
// per label writes a single 1, at column labels[t] of row t. Its labels are checked the same way,
// on the CPU, with the CPU kernel's messages ("Class values must be non-negative").
//
// Read next: cuda/join.cu, ops that copy their inputs into windows of the output.
#include <cuda_runtime.h>

#include "core/factories.h"
#include "core/op.h"
#include "core/ops.h"
#include "cuda/common.cuh"

namespace tandem::cuda {
namespace {

template <typename T>
__global__ void index_select_rows(int64_t n, const T* x, const int64_t* index, int64_t index_stride,
                                  T* out, int64_t size, int64_t count, int64_t inner) {
  for (int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; t < n;
       t += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t i = t % inner, k = (t / inner) % count, o = t / (inner * count);
    out[t] = x[(o * size + index[k * index_stride]) * inner + i];
  }
}

void index_select_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  const Tensor x = in[0].contiguous();
  const Tensor& index = in[1];
  const int64_t rank = x.dim();
  const int64_t dim = normalize_dim(a.dim, rank, "index_select");
  const int64_t size = rank == 0 ? 1 : x.shape()[dim];

  for (int64_t k : index.cpu().to_vector<int64_t>())
    if (k < 0 || k >= size)
      throw IndexError(msg("index_select(): index ", k, " is out of range for dimension ", dim,
                           " with size ", size, " (valid indices are 0 to ", size - 1,
                           "; negative indices are not accepted here)"));

  const int64_t n = out.numel();
  if (n == 0) return;
  int64_t inner = 1;
  for (int64_t d = dim + 1; d < rank; ++d) inner *= x.shape()[d];
  const int64_t count = index.numel();
  const int64_t index_stride = index.dim() == 1 ? index.stride(0) : 0;
  visit_dtype(x.dtype(), [&]<typename T>() {
    index_select_rows<T><<<blocks_for(n), kThreads>>>(n, x.data<T>(), index.data<int64_t>(),
                                                      index_stride, out.data<T>(), size, count, inner);
  });
  check_launch("index_select_rows", "index_select");
}

// ---- index_add ---------------------------------------------------------------------------------------

template <typename T>
__global__ void index_add_rows(int64_t n, const T* src, const int64_t* index, T* out, int64_t size,
                               int64_t count, int64_t inner) {
  for (int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; t < n;
       t += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t i = t % inner, k = (t / inner) % count, o = t / (inner * count);
    atomicAdd(out + (o * size + index[k]) * inner + i, src[t]);
  }
}

void index_add_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  require_floating(out.dtype(), "index_add");  // atomicAdd exists for float and double
  copy_on_device(in[0], out, "index_add");
  const int64_t rank = out.dim();
  const int64_t d = normalize_dim(a.dim, rank, "index_add");
  const int64_t size = rank == 0 ? 1 : out.shape()[d];
  // The indices, checked (and negative ones wrapped) on the CPU, as core/ops/scatter.cpp does.
  std::vector<int64_t> idx = in[1].cpu().to_vector<int64_t>();
  const auto count = static_cast<int64_t>(idx.size());
  const Tensor& src_in = in[2];
  if (rank > 0 && count != src_in.shape()[d])
    throw ShapeError(msg("index_add: the index has ", count, " entries but the source has size ",
                         src_in.shape()[d], " along dimension ", d));
  for (int64_t& j : idx) {
    const int64_t given = j;
    if (j < 0) j += size;
    if (j < 0 || j >= size)
      throw IndexError(msg("index_add: index ", given, " is out of bounds for dimension ", d,
                           " with size ", size));
  }
  // The source as [outer, count, inner], contiguous, in out's dtype (it may broadcast).
  Shape src_shape = out.shape();
  if (rank > 0) src_shape[d] = count;
  const Tensor src = src_in.to(out.dtype()).expand(src_shape).contiguous();
  const Tensor index = from_vector(idx, {count}).to(out.device());
  const int64_t n = src.numel();
  if (n == 0) return;
  int64_t inner = 1;
  for (int64_t k = d + 1; k < rank; ++k) inner *= out.shape()[k];
  visit_floating(out.dtype(), [&]<typename T>() {
    index_add_rows<T><<<blocks_for(n), kThreads>>>(n, src.data<T>(), index.data<int64_t>(),
                                                   out.data<T>(), size, count, inner);
  });
  check_launch("index_add_rows", "index_add");
}

// ---- gather and scatter_add ---------------------------------------------------------------------------

// Every value of `index` in [0, size), checked on the CPU with `op`'s message.
void check_indices(const Tensor& index, int64_t dim, int64_t size, const char* op) {
  for (int64_t k : index.cpu().to_vector<int64_t>())
    if (k < 0 || k >= size)
      throw IndexError(msg(op, ": index ", k, " is out of bounds for dimension ", dim, " with size ", size));
}

// Element t of index: off[0] in out (gather) or src (scatter_add), off[1] in index, off[2] in x
// (gather) or out (scatter_add) with dim's stride zeroed.
template <typename T>
__global__ void gather_elems(int64_t n, OffsetCalc<3> calc, const T* x, const int64_t* index, T* out,
                             int64_t dim_stride) {
  for (int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; t < n;
       t += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t off[3];
    calc.get(t, off);
    out[off[0]] = x[off[2] + index[off[1]] * dim_stride];
  }
}

template <typename T>
__global__ void scatter_add_elems(int64_t n, OffsetCalc<3> calc, const T* src, const int64_t* index,
                                  T* out, int64_t dim_stride) {
  for (int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; t < n;
       t += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t off[3];
    calc.get(t, off);
    atomicAdd(out + off[2] + index[off[1]] * dim_stride, src[off[0]]);
  }
}

void gather_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  const Tensor& x = in[0];
  const Tensor& index = in[1];
  const int64_t rank = x.dim();
  const int64_t dim = normalize_dim(a.dim, rank, "gather");
  const int64_t size = rank == 0 ? 1 : x.shape()[dim];
  check_indices(index, dim, size, "gather()");
  const int64_t n = index.numel();
  if (n == 0) return;
  Strides xs = x.strides();
  if (rank > 0) xs[dim] = 0;
  const auto calc = make_offset_calc<3>(index.shape(), {out.strides(), index.strides(), xs}, "gather");
  const int64_t dim_stride = rank == 0 ? 0 : x.strides()[dim];
  visit_dtype(x.dtype(), [&]<typename T>() {
    gather_elems<T><<<blocks_for(n), kThreads>>>(n, calc, x.data<T>(), index.data<int64_t>(),
                                                 out.data<T>(), dim_stride);
  });
  check_launch("gather_elems", "gather");
}

void scatter_add_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  require_floating(out.dtype(), "scatter_add");  // atomicAdd exists for float and double
  copy_on_device(in[0], out, "scatter_add");
  const int64_t rank = out.dim();
  const int64_t dim = normalize_dim(a.dim, rank, "scatter_add");
  const Tensor& index = in[1];
  const Tensor src = in[2].to(out.dtype());
  for (int64_t k = 0; k < index.dim(); ++k)
    if (index.shape()[k] > src.shape()[k] || (k != dim && index.shape()[k] > out.shape()[k]))
      throw ShapeError(msg("scatter_add: index ", shape_str(index.shape()), " must not be larger than source ",
                           shape_str(src.shape()), " in any dimension, nor than self ",
                           shape_str(out.shape()), " outside dimension ", dim));
  const int64_t size = rank == 0 ? 1 : out.shape()[dim];
  check_indices(index, dim, size, "scatter_add");
  const int64_t n = index.numel();
  if (n == 0) return;
  Strides os = out.strides();
  if (rank > 0) os[dim] = 0;
  const auto calc = make_offset_calc<3>(index.shape(), {src.strides(), index.strides(), os}, "scatter_add");
  const int64_t dim_stride = rank == 0 ? 0 : out.strides()[dim];
  visit_floating(out.dtype(), [&]<typename T>() {
    scatter_add_elems<T><<<blocks_for(n), kThreads>>>(n, calc, src.data<T>(), index.data<int64_t>(),
                                                      out.data<T>(), dim_stride);
  });
  check_launch("scatter_add_elems", "scatter_add");
}

// ---- one_hot -------------------------------------------------------------------------------

// Row t of out (C classes wide) gets a 1 at column labels[t], t counting the labels in row-major
// order (OffsetCalc's merging of dims keeps that order). The labels may be strided (a column of a
// matrix, say): off[0] is label t's offset. They were checked on the CPU.
__global__ void one_hot_rows(int64_t n, OffsetCalc<1> calc, const int64_t* labels, int64_t* out,
                             int64_t classes) {
  for (int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; t < n;
       t += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t off[1];
    calc.get(t, off);
    out[t * classes + labels[off[0]]] = 1;
  }
}

void one_hot_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  const Tensor& labels = in[0];
  const int64_t classes = a.num_classes;
  // The labels, checked on the CPU before anything is written: a negative one first, then one too
  // large, with core/ops/index.cpp's messages.
  const std::vector<int64_t> values = labels.cpu().to_vector<int64_t>();
  for (int64_t c : values)
    if (c < 0) throw IndexError(msg("one_hot: Class values must be non-negative (found ", c, ")"));
  for (int64_t c : values)
    if (c >= classes)
      throw IndexError(msg("one_hot: Class values must be smaller than num_classes (found ", c,
                           " with num_classes = ", classes, ")"));
  const int64_t n = labels.numel();
  if (out.numel() == 0) return;
  TANDEM_CUDA_CHECK(cudaMemsetAsync(out.raw_data(), 0, out.nbytes()), "one_hot");  // all 0 bytes: 0
  const auto calc = make_offset_calc<1>(labels.shape(), {labels.strides()}, "one_hot");
  one_hot_rows<<<blocks_for(n), kThreads>>>(n, calc, labels.data<int64_t>(), out.data<int64_t>(),
                                            classes);
  check_launch("one_hot_rows", "one_hot");
}

// Attaches the kernels to the catalogue at start-up (see the note in cuda/elementwise.cu).
struct Registrar {
  Registrar() {
    ops::index_select.cuda = index_select_kernel;
    ops::index_add.cuda = index_add_kernel;
    ops::gather.cuda = gather_kernel;
    ops::scatter_add.cuda = scatter_add_kernel;
    ops::one_hot.cuda = one_hot_kernel;
    ops::check_labels.cuda = ops::check_labels.cpu;  // reads on the host, copies with copy_: any device
  }
} registrar;

}  // namespace
}  // namespace tandem::cuda
