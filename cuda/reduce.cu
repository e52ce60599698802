// cuda/reduce.cu — sum, mean, var, amax, amin, argmax, argmin and sum_to on the GPU: one block
// per output.
//
// The CPU version (core/ops/reduce.cpp) plans its way around every layout. Here one layout is
// enough, because the GPU copies fast: the input is permuted so that the kept dims come first
// and the reduced dims last, and made contiguous (one copy, skipped when it is already laid out
// that way, as it is for the common "reduce the trailing dims of a contiguous tensor"). It is
// then a matrix of `outer` rows of `inner` elements, and output o reduces row o:
//
//     block o:   thread t folds x[o][t], x[o][t + T], x[o][t + 2T], ...   (T threads, strided,
//                                                                         so a warp reads 32
//                                                                         neighbours at a time)
//                then block_reduce (cuda/common.cuh) combines the T partial results
//
// With more rows than the grid has blocks, each block takes every gridDim.x-th row.
//
// Numerics: sums accumulate in double, as the CPU's do, so both backends agree to float
// rounding of the final result. A double add per element costs nothing noticeable: the kernel
// waits on memory, not on arithmetic. amax/amin combine with the NaN-propagating functors of
// core/ops/math.h, so a NaN anywhere in a row gives NaN, as on the CPU.
//
// var takes the CPU's two passes, both inside the row's block: a block sum gives the mean, which
// block_reduce hands to every thread, then a second block sum adds up (x - mean)². Subtracting
// the mean before squaring is what keeps the variance accurate (core/ops/reduce.cpp explains the
// cancellation the one-pass formula E[x²] - E[x]² suffers). The row is read twice; the second
// read finds much of it still in the GPU's cache.
//
// argmax/argmin carry (value, index) pairs. Threads see the elements out of order, so "the first
// occurrence wins" cannot mean "the first one seen": ties are broken by the smaller index, and a
// NaN beats every number (the first NaN, every other). With that rule the combination no longer
// depends on the order, and the GPU picks the element the CPU picks.
//
// Read next: cuda/softmax.cu, the same block-per-row pattern with three passes.
#include <cuda_runtime.h>

#include <cmath>
#include <limits>
#include <type_traits>

#include "core/op.h"
#include "core/ops.h"
#include "core/ops/math.h"
#include "cuda/common.cuh"

namespace tandem::cuda {
namespace {

// out[o] = combine over row o of x, divided by `divisor` (1 except for mean). Out is T, except
// for sums of integers and bools, which are int64 (as on the CPU and in PyTorch).
template <typename T, typename Out, typename Acc, typename Combine>
__global__ void reduce_rows(const T* x, Out* out, int64_t outer, int64_t inner, Acc identity, double divisor) {
  const Combine f;
  for (int64_t o = blockIdx.x; o < outer; o += gridDim.x) {
    const T* row = x + o * inner;
    Acc acc = identity;
    for (int64_t i = threadIdx.x; i < inner; i += blockDim.x) acc = f(acc, static_cast<Acc>(row[i]));
    acc = block_reduce(acc, f, identity);
    if (threadIdx.x == 0)
      out[o] = divisor == 1.0 ? static_cast<Out>(acc) : static_cast<Out>(static_cast<double>(acc) / divisor);
  }
}

// var of row o: Σ (x - mean)² / divisor, with divisor = N - correction (see the opening comment).
template <typename T>
__global__ void var_rows(const T* x, T* out, int64_t outer, int64_t inner, double divisor) {
  const math::Add add;
  for (int64_t o = blockIdx.x; o < outer; o += gridDim.x) {
    const T* row = x + o * inner;
    double s = 0;  // pass 1: this thread's share of Σ x
    for (int64_t i = threadIdx.x; i < inner; i += blockDim.x) s += static_cast<double>(row[i]);
    const double mean = block_reduce(s, add, 0.0) / static_cast<double>(inner);  // 0/0: NaN
    double ss = 0;  // pass 2: this thread's share of Σ (x - mean)²
    for (int64_t i = threadIdx.x; i < inner; i += blockDim.x) {
      const double d = static_cast<double>(row[i]) - mean;
      ss += d * d;
    }
    ss = block_reduce(ss, add, 0.0);
    if (threadIdx.x == 0) out[o] = static_cast<T>(ss / divisor);
  }
}

// ---- argmax / argmin ------------------------------------------------------------------------------

// Does (v, i) beat the best so far (b, bi)? bi < 0: nothing so far. See the opening comment.
template <typename T, bool Max> __device__ bool beats(T v, int64_t i, T b, int64_t bi) {
  if (i < 0) return false;
  if (bi < 0) return true;
  const bool v_nan = v != v, b_nan = b != b;
  if (v_nan || b_nan) return v_nan && (!b_nan || i < bi);
  if (v == b) return i < bi;
  return Max ? v > b : v < b;
}

// The pair version of block_reduce (cuda/common.cuh): value and index travel together.
template <typename T, bool Max> __device__ void warp_best(T& v, int64_t& i) {
  for (int k = 16; k > 0; k /= 2) {
    const T ov = __shfl_xor_sync(0xffffffffu, v, k);
    const int64_t oi = __shfl_xor_sync(0xffffffffu, i, k);
    if (beats<T, Max>(ov, oi, v, i)) {
      v = ov;
      i = oi;
    }
  }
}

template <typename T, bool Max>
__global__ void arg_rows(const T* x, int64_t* out, int64_t outer, int64_t inner) {
  __shared__ T values[32];
  __shared__ int64_t indices[32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (int64_t o = blockIdx.x; o < outer; o += gridDim.x) {
    const T* row = x + o * inner;
    T v = T(0);
    int64_t at = -1;
    for (int64_t i = threadIdx.x; i < inner; i += blockDim.x)
      if (beats<T, Max>(row[i], i, v, at)) {
        v = row[i];
        at = i;
      }
    warp_best<T, Max>(v, at);
    if (lane == 0) {
      values[warp] = v;
      indices[warp] = at;
    }
    __syncthreads();
    v = lane < static_cast<int>(blockDim.x / 32) ? values[lane] : T(0);
    at = lane < static_cast<int>(blockDim.x / 32) ? indices[lane] : -1;
    warp_best<T, Max>(v, at);
    if (threadIdx.x == 0) out[o] = at;
    __syncthreads();  // values/indices are reused for the next row
  }
}

enum class Kind { sum, mean, var, amax, amin, argmax, argmin };

// Reduces x over the dims in `mask` into the contiguous `out` (`correction` is var's).
// Dtypes, as on the CPU: sum takes any (integers and bools add up into int64); mean and var need
// float32 or float64; amax, amin, argmax and argmin take numbers, not bools.
void reduce(const Tensor& x, const std::vector<bool>& mask, Tensor& out, Kind kind, const char* op,
            int64_t correction = 1) {
  if (kind == Kind::mean || kind == Kind::var) require_floating(x.dtype(), op);
  if (kind != Kind::sum && x.dtype() == kBool)
    throw DTypeError(msg(op, ": the CUDA backend does not compare bools; convert the tensor with "
                             ".to(kInt64) first"));
  const ReductionSplit split = split_reduction(x.shape(), mask);
  if (split.outer == 0) return;
  // Kept dims first, reduced dims last, contiguous: a view and, when needed, one copy.
  const Tensor rows = (split.reorders ? x.permute(split.order) : x).contiguous();
  const int threads = row_threads(split.inner);
  const auto blocks = static_cast<unsigned>(split.outer < kMaxBlocks ? split.outer : kMaxBlocks);
  visit_dtype(x.dtype(), [&]<typename T>() {
    const T* px = rows.data<T>();
    if constexpr (!std::is_floating_point_v<T>) {
      // int64 or bool: a sum into int64, or (int64 only) an extreme value or its index.
      if (kind == Kind::sum) {
        reduce_rows<T, int64_t, int64_t, math::Add><<<blocks, threads>>>(
            px, out.data<int64_t>(), split.outer, split.inner, int64_t{0}, 1.0);
      } else if constexpr (std::is_same_v<T, int64_t>) {
        constexpr T lowest = std::numeric_limits<T>::lowest(), highest = std::numeric_limits<T>::max();
        if (kind == Kind::amax)
          reduce_rows<T, T, T, math::Maximum><<<blocks, threads>>>(px, out.data<T>(), split.outer, split.inner, lowest, 1.0);
        else if (kind == Kind::amin)
          reduce_rows<T, T, T, math::Minimum><<<blocks, threads>>>(px, out.data<T>(), split.outer, split.inner, highest, 1.0);
        else if (kind == Kind::argmax)
          arg_rows<T, true><<<blocks, threads>>>(px, out.data<int64_t>(), split.outer, split.inner);
        else
          arg_rows<T, false><<<blocks, threads>>>(px, out.data<int64_t>(), split.outer, split.inner);
      }
      return;
    } else {
      if (kind == Kind::argmax || kind == Kind::argmin) {
        int64_t* pi = out.data<int64_t>();
        if (kind == Kind::argmax) arg_rows<T, true><<<blocks, threads>>>(px, pi, split.outer, split.inner);
        else arg_rows<T, false><<<blocks, threads>>>(px, pi, split.outer, split.inner);
        return;
      }
      T* po = out.data<T>();
      constexpr T inf = std::numeric_limits<T>::infinity();
      switch (kind) {
        case Kind::sum:
        case Kind::mean: {
          // mean of an empty row: 0 / 0 = NaN, as in PyTorch.
          const double divisor = kind == Kind::mean ? static_cast<double>(split.inner) : 1.0;
          reduce_rows<T, T, double, math::Add><<<blocks, threads>>>(px, po, split.outer, split.inner, 0.0, divisor);
          break;
        }
        case Kind::var: {
          // N - correction, never below 0: a divisor of 0 gives inf or NaN, as on the CPU.
          const int64_t n = split.inner - correction;
          var_rows<T><<<blocks, threads>>>(px, po, split.outer, split.inner,
                                           n > 0 ? static_cast<double>(n) : 0.0);
          break;
        }
        case Kind::amax:
          reduce_rows<T, T, T, math::Maximum><<<blocks, threads>>>(px, po, split.outer, split.inner, -inf, 1.0);
          break;
        case Kind::amin:
          reduce_rows<T, T, T, math::Minimum><<<blocks, threads>>>(px, po, split.outer, split.inner, inf, 1.0);
          break;
        case Kind::argmax:
        case Kind::argmin:
          break;  // above: they write int64
      }
    }
  });
  check_launch("reduce_rows", op);
}

// ---- kernels of the catalogue ----------------------------------------------------------------------

template <Kind K, const char* Name>
void reduce_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  reduce(in[0], reduced_mask(in[0].dim(), a.dims), out, K, Name);
}

void var_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  reduce(in[0], reduced_mask(in[0].dim(), a.dims), out, Kind::var, "var", a.correction);
}

void sum_to_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  reduce(in[0], sum_to_mask(in[0].shape(), a.dims), out, Kind::sum, "sum_to");
}

constexpr char kSum[] = "sum", kMean[] = "mean", kAmax[] = "amax", kAmin[] = "amin",
               kArgmax[] = "argmax", kArgmin[] = "argmin";

// Attaches the kernels to the catalogue at start-up (see the note in cuda/elementwise.cu).
struct Registrar {
  Registrar() {
    ops::sum.cuda = reduce_kernel<Kind::sum, kSum>;
    ops::mean.cuda = reduce_kernel<Kind::mean, kMean>;
    ops::var.cuda = var_kernel;
    ops::amax.cuda = reduce_kernel<Kind::amax, kAmax>;
    ops::amin.cuda = reduce_kernel<Kind::amin, kAmin>;
    ops::argmax.cuda = reduce_kernel<Kind::argmax, kArgmax>;
    ops::argmin.cuda = reduce_kernel<Kind::argmin, kArgmin>;
    ops::sum_to.cuda = sum_to_kernel;
  }
} registrar;

}  // namespace
}  // namespace tandem::cuda
