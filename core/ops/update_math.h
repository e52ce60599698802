// core/ops/update_math.h — one optimizer step for one weight, written once for the CPU and the GPU.
//
// An optimizer looks at each weight w on its own: from w's gradient g and a little state kept per
// weight (a velocity, running averages), it computes the new w. So every optimizer is, at heart,
// a function of a handful of numbers at one index, applied to every index of every parameter.
// That function is written here, as a functor like those of core/ops/math.h: the CPU kernels in
// core/ops/update.cpp and the CUDA kernels in cuda/optim.cu call the very same code (TANDEM_HD),
// so the CPU tests, which compare with torch.optim, also test the GPU's arithmetic.
//
// The formulas are PyTorch's (torch/optim/sgd.py and adam.py, version 1.13), operation for
// operation in the same order, so that float32 results agree to the last bit or two.
//
// Read next: core/ops/update.cpp (the ops around these functors), optim/optim.h (the optimizers).
#pragma once

#include <cmath>

#include "core/ops/math.h"  // TANDEM_HD

namespace tandem::math {

// Plain SGD, torch.optim.SGD without momentum:
//     d = g + wd · w          (weight decay: the gradient of (wd/2)·|w|², an L2 penalty)
//     w = w − lr · d
template <typename T> struct SgdStep {
  T lr, weight_decay;
  TANDEM_HD void operator()(T& w, T g) const {
    const T d = weight_decay != T(0) ? g + weight_decay * w : g;
    w = w - lr * d;
  }
};

// SGD with momentum (heavy ball), torch.optim.SGD with momentum μ > 0. The buffer b is a velocity:
// an exponentially weighted sum of past gradients, so steps keep going in directions the gradient
// keeps pointing to, and oscillations across a narrow valley cancel out.
//     d = g + wd · w
//     b = μ · b + (1 − τ) · d        τ: dampening. (PyTorch's first step sets b = d: the caller
//                                    passes τ = 0 then, with b = 0, which is the same thing.)
// Like PyTorch, which computes 1 − τ in Python's doubles, the caller computes `gain` = 1 − τ in
// double and rounds once: 1 − 0.9f in float32 arithmetic would be 0.100000024, not 0.1f.
//     d = nesterov ? d + μ · b : b   Nesterov: look one step ahead along the velocity
//     w = w − lr · d
// TensorFlow's MomentumOptimizer is the same with τ = 0 (its "accumulation" is b).
template <typename T> struct MomentumStep {
  T lr, momentum, gain, weight_decay;  // gain = 1 − dampening
  bool nesterov;
  TANDEM_HD void operator()(T& w, T& b, T g) const {
    T d = weight_decay != T(0) ? g + weight_decay * w : g;
    b = momentum * b + gain * d;
    d = nesterov ? d + momentum * b : b;
    w = w - lr * d;
  }
};

// Adam (Kingma & Ba, 2015), torch.optim.Adam and, with decoupled weight decay, AdamW.
// Two running averages per weight: m of the gradient (its direction) and v of its square (its
// scale). Dividing one by the square root of the other gives every weight a step of about lr, large
// or small as its gradient may be — Adam's whole point. At step t (t = 1, 2, ...):
//     AdamW:  w = w · (1 − lr · wd)          Adam with wd: g = g + wd · w
//     m = β1 · m + (1 − β1) · g
//     v = β2 · v + (1 − β2) · g²
//     w = w − lr / (1 − β1^t) · m / (√v / √(1 − β2^t) + ε)
// m and v start at 0, so early averages are too small; the factors 1 − β^t undo that bias.
// They depend on t only, so they are computed once per step (AdamStep::at below) in double, as
// PyTorch computes them in Python floats; the per-weight loop gets them ready-made. So are 1 − β1
// and 1 − β2: in float32, 1 − 0.999f is 0.000999987, a thousandth of a percent off 0.001.
template <typename T> struct AdamStep {
  T beta1, beta2, one_minus_beta1, one_minus_beta2, eps, weight_decay;
  T decay_factor;           // AdamW: 1 − lr · wd; 1 for Adam
  T step_size;              // lr / (1 − β1^t)
  T bias_correction2_sqrt;  // √(1 − β2^t)
  bool decoupled;

  // The step's constants, from the hyper-parameters and t, the number of this step (t ≥ 1).
  static TANDEM_HD AdamStep at(double t, double lr, double beta1, double beta2, double eps,
                               double weight_decay, bool decoupled) {
    const double bias_correction1 = 1.0 - std::pow(beta1, t);
    const double bias_correction2 = 1.0 - std::pow(beta2, t);
    AdamStep s;
    s.beta1 = T(beta1);
    s.beta2 = T(beta2);
    s.one_minus_beta1 = T(1.0 - beta1);
    s.one_minus_beta2 = T(1.0 - beta2);
    s.eps = T(eps);
    s.weight_decay = T(weight_decay);
    s.decay_factor = T(decoupled ? 1.0 - lr * weight_decay : 1.0);
    s.step_size = T(lr / bias_correction1);
    s.bias_correction2_sqrt = T(std::sqrt(bias_correction2));
    s.decoupled = decoupled;
    return s;
  }

  TANDEM_HD void operator()(T& w, T& m, T& v, T g) const {
    if (decoupled)
      w = w * decay_factor;
    else if (weight_decay != T(0))
      g = g + weight_decay * w;
    m = m * beta1 + one_minus_beta1 * g;
    v = v * beta2 + one_minus_beta2 * (g * g);
    const T denom = std::sqrt(v) / bias_correction2_sqrt + eps;
    w = w - step_size * (m / denom);
  }
};

}  // namespace tandem::math
