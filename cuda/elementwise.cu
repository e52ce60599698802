// cuda/elementwise.cu — elementwise ops on the GPU: one thread per output element.
//
// The CPU file core/ops/binary.cpp loops over the output and calls a functor of core/ops/math.h
// for each element. Here each GPU *thread* takes an element (several, with the grid-stride loop
// of cuda/launch.h) and calls the very same functor: `math::Mul{}(a, b)` is compiled for the CPU
// there and for the GPU here (TANDEM_HD = __host__ __device__). The per-element math is written
// once, and the CPU tests that check it check the GPU's too; what this file adds is only *where*
// each thread reads and writes.
//
// Two kernels per op:
//   - contiguous: every operand has the output's shape and is contiguous, so element i of each
//     is at offset i. Neighbouring threads read neighbouring addresses — the GPU merges the 32
//     reads of a warp into a few wide memory transactions ("coalesced" access), which is what
//     makes this path run at memory speed;
//   - strided: an operand is broadcast (stride 0), transposed or sliced; OffsetCalc turns the
//     element number into each operand's offset (cuda/launch.h).
// As on the CPU, an input of another dtype is converted first (`a.to(dtype)` is itself a CUDA
// op: the cast kernel below).
//
// Also here: the strided, converting copy behind clone, contiguous and to(dtype) on the GPU,
// and the in-place `cuda::add_` used for SGD updates.
//
// Read next: cuda/common.cuh (block reductions), then cuda/reduce.cu.
#include <cuda_runtime.h>

#include "autograd/grad_mode.h"
#include "core/op.h"
#include "core/ops.h"
#include "core/ops/elementwise_ops.h"
#include "core/ops/math.h"
#include "cuda/common.cuh"
#include "cuda/cuda.h"

namespace tandem::cuda {

void require_floating(DType dt, const char* op) {
  if (!is_floating(dt))
    throw DTypeError(msg(op, ": the CUDA backend computes in float32 and float64, but got a tensor "
                             "of dtype ", to_string(dt), "; convert it with .to(kFloat32), or "
                             "compute on the CPU (.cpu())"));
}

namespace {

// The input converted to dtype `dt` (no copy when it already has it).
Tensor as(const Tensor& t, DType dt) { return t.dtype() == dt ? t : t.to(dt); }

// Global index of this thread, and the step of the grid-stride loop (both int64: a tensor may
// hold more than 2^31 elements).
__device__ inline int64_t thread_index() { return blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; }
__device__ inline int64_t grid_step() { return static_cast<int64_t>(gridDim.x) * blockDim.x; }

// ---- binary ---------------------------------------------------------------------------------------

template <typename F, typename T, typename R>
__global__ void binary_contiguous(int64_t n, const T* a, const T* b, R* out) {
  const F f;
  for (int64_t i = thread_index(); i < n; i += grid_step()) out[i] = f(a[i], b[i]);
}

template <typename F, typename T, typename R>
__global__ void binary_strided(int64_t n, OffsetCalc<3> calc, const T* a, const T* b, R* out) {
  const F f;
  for (int64_t i = thread_index(); i < n; i += grid_step()) {
    int64_t off[3];
    calc.get(i, off);
    out[off[0]] = f(a[off[1]], b[off[2]]);
  }
}

// out = f(a, b) over the broadcast shape; a and b already have the computation dtype T.
template <typename F, typename T, typename R>
void launch_binary(const Tensor& a, const Tensor& b, Tensor& out, const char* op) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  R* po = out.data<R>();
  if (a.shape() == out.shape() && b.shape() == out.shape() && a.is_contiguous() && b.is_contiguous()) {
    binary_contiguous<F, T, R><<<blocks_for(n), kThreads>>>(n, pa, pb, po);
    check_launch("binary_contiguous", op);
    return;
  }
  const auto calc = make_offset_calc<3>(
      out.shape(),
      {out.strides(), broadcast_strides(a.shape(), a.strides(), out.shape()),
       broadcast_strides(b.shape(), b.strides(), out.shape())},
      op);
  binary_strided<F, T, R><<<blocks_for(n), kThreads>>>(n, calc, pa, pb, po);
  check_launch("binary_strided", op);
}

// Arithmetic computes in the output's dtype (the shape rule promoted it): any of the four, as on
// the CPU — counts and labels are int64, masks bool, and math.h's functors handle each.
template <typename F, const char* Name>
void arithmetic_kernel(std::span<const Tensor> in, const Attrs&, Tensor& out) {
  const Tensor a = as(in[0], out.dtype()), b = as(in[1], out.dtype());
  visit_dtype(out.dtype(), [&]<typename T>() { launch_binary<F, T, T>(a, b, out, Name); });
}

// The activations' backward ops (g, y): float32 or float64 only, as their CPU kernels.
template <typename F, const char* Name>
void floating_kernel(std::span<const Tensor> in, const Attrs&, Tensor& out) {
  require_floating(out.dtype(), Name);
  const Tensor a = as(in[0], out.dtype()), b = as(in[1], out.dtype());
  visit_floating(out.dtype(), [&]<typename T>() { launch_binary<F, T, T>(a, b, out, Name); });
}

// Comparisons compute in the promoted dtype of the inputs and write bools. Any dtype: the
// accuracy of a classifier is `argmax(logits, 1) == labels`, two int64 tensors.
template <typename F, const char* Name>
void comparison_kernel(std::span<const Tensor> in, const Attrs&, Tensor& out) {
  const DType dt = promote_for_binary(in[0].dtype(), in[0].dim() == 0, in[1].dtype(), in[1].dim() == 0);
  const Tensor a = as(in[0], dt), b = as(in[1], dt);
  visit_dtype(dt, [&]<typename T>() { launch_binary<F, T, bool>(a, b, out, Name); });
}

// ---- where(cond, a, b) --------------------------------------------------------------------------

template <typename T>
__global__ void where_strided(int64_t n, OffsetCalc<4> calc, const bool* c, const T* a, const T* b, T* out) {
  for (int64_t i = thread_index(); i < n; i += grid_step()) {
    int64_t off[4];
    calc.get(i, off);
    out[off[0]] = c[off[1]] ? a[off[2]] : b[off[3]];
  }
}

constexpr char kWhere[] = "where";
void where_kernel(std::span<const Tensor> in, const Attrs&, Tensor& out) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const Tensor& c = in[0];
  const Tensor a = as(in[1], out.dtype()), b = as(in[2], out.dtype());
  const auto calc = make_offset_calc<4>(
      out.shape(),
      {out.strides(), broadcast_strides(c.shape(), c.strides(), out.shape()),
       broadcast_strides(a.shape(), a.strides(), out.shape()),
       broadcast_strides(b.shape(), b.strides(), out.shape())},
      kWhere);
  visit_dtype(out.dtype(), [&]<typename T>() {  // a select: any dtype
    where_strided<T><<<blocks_for(n), kThreads>>>(n, calc, c.data<bool>(), a.data<T>(), b.data<T>(),
                                                  out.data<T>());
  });
  check_launch("where_strided", kWhere);
}

// ---- unary ----------------------------------------------------------------------------------------

template <typename F, typename T>
__global__ void unary_contiguous(int64_t n, const T* x, T* out) {
  const F f;
  for (int64_t i = thread_index(); i < n; i += grid_step()) out[i] = f(x[i]);
}

template <typename F, typename T>
__global__ void unary_strided(int64_t n, OffsetCalc<2> calc, const T* x, T* out) {
  const F f;
  for (int64_t i = thread_index(); i < n; i += grid_step()) {
    int64_t off[2];
    calc.get(i, off);
    out[off[0]] = f(x[off[1]]);
  }
}

// The unary functors that integer tensors reach: neg, abs, relu and sign keep an int64 tensor
// int64. Every other one (exp, log, sin...) gets float32 from the shape rule, so it is compiled
// for the floating dtypes only.
template <typename F>
constexpr bool kKeepsIntegers = std::is_same_v<F, math::Neg> || std::is_same_v<F, math::Abs> ||
                                std::is_same_v<F, math::Relu> || std::is_same_v<F, math::Sign>;

// out = f(x): integer input of exp, log... becomes float32 (the shape rule says so), converted
// here first, as on the CPU.
template <typename F, const char* Name>
void unary_kernel(std::span<const Tensor> in, const Attrs&, Tensor& out) {
  const Tensor x = as(in[0], out.dtype());
  const int64_t n = out.numel();
  if (n == 0) return;
  visit_dtype(out.dtype(), [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      // Only relu, abs and sign accept bools, and each is the identity on {0, 1}.
      if constexpr (kKeepsIntegers<F>) copy_on_device(x, out, Name);
      else require_floating(out.dtype(), Name);  // unreachable: the shape rule converted it
      return;
    } else if constexpr (std::is_integral_v<T> && !kKeepsIntegers<F>) {
      require_floating(out.dtype(), Name);  // unreachable, as above
      return;
    } else if (x.is_contiguous()) {
      unary_contiguous<F, T><<<blocks_for(n), kThreads>>>(n, x.data<T>(), out.data<T>());
      check_launch("unary_contiguous", Name);
    } else {
      const auto calc = make_offset_calc<2>(out.shape(), {out.strides(), x.strides()}, Name);
      unary_strided<F, T><<<blocks_for(n), kThreads>>>(n, calc, x.data<T>(), out.data<T>());
      check_launch("unary_strided", Name);
    }
  });
}

// ---- copies: clone, contiguous, to(dtype) ---------------------------------------------------------

// Converting one value: to bool means "is it nonzero", as in PyTorch and core/ops/copy.cpp.
template <typename D, typename S> __device__ inline D convert(S v) {
  if constexpr (std::is_same_v<D, bool>) return v != S(0);
  else return static_cast<D>(v);
}

template <typename D, typename S>
__global__ void copy_strided(int64_t n, OffsetCalc<2> calc, const S* src, D* dst) {
  for (int64_t i = thread_index(); i < n; i += grid_step()) {
    int64_t off[2];
    calc.get(i, off);
    dst[off[0]] = convert<D>(src[off[1]]);
  }
}

}  // namespace

void copy_on_device(const Tensor& src, const Tensor& dst, const char* op) {
  if (!is_expandable_to(src.shape(), dst.shape()))
    throw ShapeError(msg(op, ": the source shape ", shape_str(src.shape()),
                         " cannot be broadcast to the destination shape ", shape_str(dst.shape())));
  const int64_t n = dst.numel();
  if (n == 0) return;
  // The commonest case, a same-dtype copy of two contiguous blocks, is one device-to-device
  // memcpy, queued on the default stream like a kernel.
  if (src.dtype() == dst.dtype() && src.shape() == dst.shape() && src.is_contiguous() &&
      dst.is_contiguous()) {
    TANDEM_CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), dst.nbytes(),
                                      cudaMemcpyDeviceToDevice),
                      op);
    return;
  }
  const auto calc = make_offset_calc<2>(
      dst.shape(), {dst.strides(), broadcast_strides(src.shape(), src.strides(), dst.shape())}, op);
  visit_dtype(dst.dtype(), [&]<typename D>() {
    visit_dtype(src.dtype(), [&]<typename S>() {
      copy_strided<D, S><<<blocks_for(n), kThreads>>>(n, calc, static_cast<const S*>(src.raw_data()),
                                                       static_cast<D*>(dst.raw_data()));
    });
  });
  check_launch("copy_strided", op);
}

namespace {

// clone and cast are both "copy into a fresh contiguous tensor", converting on the way. All four
// dtypes: moving values around needs no arithmetic.
void clone_kernel(std::span<const Tensor> in, const Attrs&, Tensor& out) { copy_on_device(in[0], out, "clone"); }
void cast_kernel(std::span<const Tensor> in, const Attrs&, Tensor& out) { copy_on_device(in[0], out, "to"); }

// ---- in place: self += alpha * other --------------------------------------------------------------

template <typename T>
__global__ void add_inplace(int64_t n, OffsetCalc<2> calc, T* self, const T* other, T alpha) {
  for (int64_t i = thread_index(); i < n; i += grid_step()) {
    int64_t off[2];
    calc.get(i, off);
    self[off[0]] = self[off[0]] + alpha * other[off[1]];
  }
}

}  // namespace

const Tensor& add_(const Tensor& self, const Tensor& other, double alpha) {
  constexpr const char* op = "cuda::add_";
  if (!self.device().is_cuda() || other.device() != self.device())
    throw Error(msg(op, ": expected both tensors on one CUDA device, got ", to_string(self.device()),
                    " and ", to_string(other.device()), "; on the CPU use Tensor::add_"));
  require_floating(self.dtype(), op);
  if (autograd::is_grad_enabled() && (self.requires_grad() || other.requires_grad()))
    throw Error(msg(op, ": an in-place update of a tensor that requires grad is not recorded by "
                        "autograd; do it inside a no_grad scope: { no_grad guard; cuda::add_(w, g, -lr); }"));
  if (!is_expandable_to(other.shape(), self.shape()))
    throw ShapeError(msg(op, ": output with shape ", shape_str(self.shape()),
                         " doesn't match the broadcast shape ",
                         shape_str(broadcast_shapes(self.shape(), other.shape(), op)),
                         "; an in-place op cannot change the shape of its tensor"));
  const Tensor o = as(other, self.dtype());
  const int64_t n = self.numel();
  if (n > 0) {
    const auto calc = make_offset_calc<2>(
        self.shape(), {self.strides(), broadcast_strides(o.shape(), o.strides(), self.shape())}, op);
    visit_floating(self.dtype(), [&]<typename T>() {
      add_inplace<T><<<blocks_for(n), kThreads>>>(n, calc, self.data<T>(), o.data<T>(), static_cast<T>(alpha));
    });
    check_launch("add_inplace", op);
  }
  self.storage()->version++;
  return self;
}

// ---- attach the kernels to the catalogue ------------------------------------------------------------
// A static object whose constructor runs at start-up, before main(): it fills the `cuda` slot of
// each OpDef (core/op.h) beside the CPU kernel. Only pointers are stored — no CUDA call — so a
// program without a GPU starts normally. An op that no file of cuda/ registers this way has no
// CUDA kernel; calling it on a CUDA tensor raises "no kernel for device cuda:0 ..." (core/op.cpp).
// The elementwise ops come from their table (core/ops/elementwise_ops.h): one kernel per row, the
// row's functor compiled for the GPU, and its name for error messages.
namespace {
#define NAME(name, Functor, rule) constexpr char name##_name[] = #name;
TANDEM_ARITHMETIC_OPS(NAME)
TANDEM_COMPARISON_OPS(NAME)
TANDEM_ACTIVATION_BACKWARD_OPS(NAME)
TANDEM_UNARY_OPS(NAME)
#undef NAME

struct Registrar {
  Registrar() {
#define ARITHMETIC(name, Functor, rule) ops::name.cuda = arithmetic_kernel<math::Functor, name##_name>;
#define COMPARISON(name, Functor, rule) ops::name.cuda = comparison_kernel<math::Functor, name##_name>;
    // The activation backward ops take (g, y) of one floating dtype: arithmetic without promotion.
#define ACTIVATION_BACKWARD(name, Functor, rule) ops::name.cuda = floating_kernel<math::Functor, name##_name>;
#define UNARY(name, Functor, rule) ops::name.cuda = unary_kernel<math::Functor, name##_name>;
    TANDEM_ARITHMETIC_OPS(ARITHMETIC)
    TANDEM_COMPARISON_OPS(COMPARISON)
    TANDEM_ACTIVATION_BACKWARD_OPS(ACTIVATION_BACKWARD)
    TANDEM_UNARY_OPS(UNARY)
#undef ARITHMETIC
#undef COMPARISON
#undef ACTIVATION_BACKWARD
#undef UNARY
    ops::where.cuda = where_kernel;
    ops::clone.cuda = clone_kernel;
    ops::cast.cuda = cast_kernel;
  }
} registrar;
}  // namespace

}  // namespace tandem::cuda
