// cuda/optim.cu — the optimizer updates on the GPU: sgd_update, momentum_update, adam_update,
// rmsprop_update, adagrad_update and TensorFlow's RMSProp and Adagrad.
//
// Each update is one kernel: a thread takes weights i, i + stride, ... (a grid-stride loop, see
// cuda/launch.h) and applies the step functor of core/ops/update_math.h — the same code the CPU
// kernels run, so tests/test_optim.cpp's comparisons with torch.optim check this arithmetic too.
// What makes the fused kernel fast is what it does not do: w, g and the state are read once and
// written once, with no temporaries; an optimizer step is bound by memory bandwidth, and Adam
// moves 7 numbers per weight (read w, m, v, g; write w, m, v) where an unfused Adam moves ~30.
//
// Adam's step count t lives on the GPU, in a 0-dim tensor (graph mode keeps it in a variable).
// Its bias corrections 1 − β^t depend on t only: the first thread of each block computes them once
// into shared memory, and the block's threads wait for it (__syncthreads) before using them.
// A second, one-thread kernel then advances t; kernels queued on one stream run in order, so it
// runs after every block of the update has read the old t.
//
// Adagrad's step count works the same way (its decayed learning rate needs t). RMSprop keeps a
// momentum buffer and a mean gradient only in some configurations; a state it does not keep is
// passed as a null pointer and each thread uses a scratch number in its place.
//
// Read next: optim/optim.h (the optimizers that run these).
#include <cuda_runtime.h>

#include "core/ops.h"
#include "core/ops/update_math.h"
#include "cuda/check.h"
#include "cuda/launch.h"

namespace tandem::cuda {
namespace {

template <typename T> T* ptr(const Tensor& t) { return static_cast<T*>(t.raw_data()); }

// The first weight of this thread, and the distance to its next one (the grid-stride loop).
__device__ int64_t first_index() {
  return blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
}
__device__ int64_t grid_stride() { return static_cast<int64_t>(blockDim.x) * gridDim.x; }

template <typename T>
__global__ void sgd_elems(int64_t n, math::SgdStep<T> step, T* w, const T* g) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) step(w[i], g[i]);
}

template <typename T>
__global__ void momentum_elems(int64_t n, math::MomentumStep<T> step, T* w, T* b, const T* g) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) step(w[i], b[i], g[i]);
}

// Adam's hyper-parameters as the host knows them (the step's constants need t, which is on the
// GPU).
struct AdamHyper {
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled;
};
struct AdagradHyper {
  double lr, lr_decay, eps, weight_decay;
};

template <typename T, typename S>
__global__ void adam_elems(int64_t n, AdamHyper h, const S* count, T* w, T* m, T* v, const T* g) {
  __shared__ math::AdamStep<T> step;
  if (threadIdx.x == 0)
    step = math::AdamStep<T>::at(static_cast<double>(*count) + 1.0, h.lr, h.beta1, h.beta2, h.eps,
                                 h.weight_decay, h.decoupled);
  __syncthreads();
  for (int64_t i = first_index(); i < n; i += grid_stride()) step(w[i], m[i], v[i], g[i]);
}

template <typename S> __global__ void advance_count(S* count) { *count = *count + S(1); }

template <typename T>
__global__ void rmsprop_elems(int64_t n, math::RmspropStep<T> step, T* w, T* v, T* b, T* m, const T* g) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    T unused_b = 0, unused_m = 0;
    step(w[i], v[i], b ? b[i] : unused_b, m ? m[i] : unused_m, g[i]);
  }
}

template <typename T, typename S>
__global__ void adagrad_elems(int64_t n, AdagradHyper h, const S* count, T* w, T* s, const T* g) {
  __shared__ math::AdagradStep<T> step;
  if (threadIdx.x == 0)
    step = math::AdagradStep<T>::at(static_cast<double>(*count) + 1.0, h.lr, h.lr_decay, h.eps, h.weight_decay);
  __syncthreads();
  for (int64_t i = first_index(); i < n; i += grid_stride()) step(w[i], s[i], g[i]);
}

template <typename T>
__global__ void rmsprop_tf_elems(int64_t n, math::TfRmsPropStep<T> step, T* w, T* ms, T* mom, T* mg, const T* g) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    T unused = 0;
    step(w[i], ms[i], mom[i], mg ? mg[i] : unused, g[i]);
  }
}

template <typename T>
__global__ void adagrad_tf_elems(int64_t n, math::TfAdagradStep<T> step, T* w, T* accum, const T* g) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) step(w[i], accum[i], g[i]);
}

// The kernels: inputs contiguous and of one dtype (call_update and the Session make sure).
void sgd_update_kernel(std::span<const Tensor> in, const Attrs& a, Tensor&) {
  const int64_t n = in[0].numel();
  if (n == 0) return;
  visit_floating(in[0].dtype(), [&]<typename T>() {
    const math::SgdStep<T> step{T(a.lr), T(a.weight_decay)};
    sgd_elems<T><<<blocks_for(n), kThreads>>>(n, step, ptr<T>(in[0]), ptr<T>(in[1]));
  });
  check_launch("sgd_elems", "sgd_update");
}

void momentum_update_kernel(std::span<const Tensor> in, const Attrs& a, Tensor&) {
  const int64_t n = in[0].numel();
  if (n == 0) return;
  visit_floating(in[0].dtype(), [&]<typename T>() {
    const math::MomentumStep<T> step{T(a.lr), T(a.momentum), T(1.0 - a.dampening),
                                     T(a.weight_decay), a.nesterov};
    momentum_elems<T>
        <<<blocks_for(n), kThreads>>>(n, step, ptr<T>(in[0]), ptr<T>(in[1]), ptr<T>(in[2]));
  });
  check_launch("momentum_elems", "momentum_update");
}

void adam_update_kernel(std::span<const Tensor> in, const Attrs& a, Tensor&) {
  const int64_t n = in[0].numel();
  const AdamHyper h{a.lr, a.beta1, a.beta2, a.eps, a.weight_decay, a.decoupled_weight_decay};
  visit_floating(in[3].dtype(), [&]<typename S>() {
    S* count = ptr<S>(in[3]);
    if (n > 0) {
      visit_floating(in[0].dtype(), [&]<typename T>() {
        adam_elems<T, S><<<blocks_for(n), kThreads>>>(n, h, count, ptr<T>(in[0]), ptr<T>(in[1]),
                                                      ptr<T>(in[2]), ptr<T>(in[4]));
      });
      check_launch("adam_elems", "adam_update");
    }
    advance_count<S><<<1, 1>>>(count);
    check_launch("advance_count", "adam_update");
  });
}

void rmsprop_update_kernel(std::span<const Tensor> in, const Attrs& a, Tensor&) {
  const int64_t n = in[0].numel();
  if (n == 0) return;
  visit_floating(in[0].dtype(), [&]<typename T>() {
    const math::RmspropStep<T> step{T(a.lr),           T(a.alpha),      T(1.0 - a.alpha), T(a.eps),
                                    T(a.weight_decay), T(a.momentum), a.centered};
    T* b = a.momentum > 0 ? ptr<T>(in[2]) : nullptr;
    T* m = a.centered ? ptr<T>(in[3]) : nullptr;
    rmsprop_elems<T><<<blocks_for(n), kThreads>>>(n, step, ptr<T>(in[0]), ptr<T>(in[1]), b, m, ptr<T>(in[4]));
  });
  check_launch("rmsprop_elems", "rmsprop_update");
}

void adagrad_update_kernel(std::span<const Tensor> in, const Attrs& a, Tensor&) {
  const int64_t n = in[0].numel();
  const AdagradHyper h{a.lr, a.lr_decay, a.eps, a.weight_decay};
  visit_floating(in[2].dtype(), [&]<typename S>() {
    S* count = ptr<S>(in[2]);
    if (n > 0) {
      visit_floating(in[0].dtype(), [&]<typename T>() {
        adagrad_elems<T, S><<<blocks_for(n), kThreads>>>(n, h, count, ptr<T>(in[0]), ptr<T>(in[1]), ptr<T>(in[3]));
      });
      check_launch("adagrad_elems", "adagrad_update");
    }
    advance_count<S><<<1, 1>>>(count);
    check_launch("advance_count", "adagrad_update");
  });
}

// TensorFlow's RMSProp: inputs (w, ms, mom, g), or (w, mg, ms, mom, g) when centered.
template <bool kCentered> void rmsprop_tf_update_kernel(std::span<const Tensor> in, const Attrs& a, Tensor&) {
  const int64_t n = in[0].numel();
  if (n == 0) return;
  const int k = kCentered ? 1 : 0;
  visit_floating(in[0].dtype(), [&]<typename T>() {
    const math::TfRmsPropStep<T> step{T(a.lr), T(1) - T(a.alpha), T(a.momentum), T(a.eps), kCentered};
    T* mg = kCentered ? ptr<T>(in[1]) : nullptr;
    rmsprop_tf_elems<T><<<blocks_for(n), kThreads>>>(n, step, ptr<T>(in[0]), ptr<T>(in[1 + k]),
                                                     ptr<T>(in[2 + k]), mg, ptr<T>(in[3 + k]));
  });
  check_launch("rmsprop_tf_elems", kCentered ? "centered_rmsprop_tf_update" : "rmsprop_tf_update");
}

void adagrad_tf_update_kernel(std::span<const Tensor> in, const Attrs& a, Tensor&) {
  const int64_t n = in[0].numel();
  if (n == 0) return;
  visit_floating(in[0].dtype(), [&]<typename T>() {
    const math::TfAdagradStep<T> step{T(a.lr)};
    adagrad_tf_elems<T><<<blocks_for(n), kThreads>>>(n, step, ptr<T>(in[0]), ptr<T>(in[1]), ptr<T>(in[2]));
  });
  check_launch("adagrad_tf_elems", "adagrad_tf_update");
}

// Attaches the kernels to the catalogue at start-up (see the note in cuda/elementwise.cu).
struct Registrar {
  Registrar() {
    ops::sgd_update.cuda = sgd_update_kernel;
    ops::momentum_update.cuda = momentum_update_kernel;
    ops::adam_update.cuda = adam_update_kernel;
    ops::rmsprop_update.cuda = rmsprop_update_kernel;
    ops::adagrad_update.cuda = adagrad_update_kernel;
    ops::rmsprop_tf_update.cuda = rmsprop_tf_update_kernel<false>;
    ops::centered_rmsprop_tf_update.cuda = rmsprop_tf_update_kernel<true>;
    ops::adagrad_tf_update.cuda = adagrad_tf_update_kernel;
  }
} registrar;

}  // namespace
}  // namespace tandem::cuda
