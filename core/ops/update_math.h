// core/ops/update_math.h — one optimizer step for one weight, written once for the CPU and the GPU.
//
// An optimizer looks at each weight w on its own: from w's gradient g and a little state kept per
// weight (a velocity, running averages), it computes the new w. So every optimizer is, at heart,
// a function of a handful of numbers at one index, applied to every index of every parameter.
// That function is written here, as a functor like those of core/ops/math.h: the CPU kernels in
// core/ops/update.cpp and the CUDA kernels in cuda/optim.cu call the very same code (TANDEM_HD),
// so the CPU tests, which compare with torch.optim, also test the GPU's arithmetic.
//
// The formulas are PyTorch's (torch/optim/sgd.py, adam.py, rmsprop.py and adagrad.py, version
// 1.13), operation for operation in the same order, so that float32 results agree to the last bit
// or two. RMSprop and Adagrad also have TensorFlow 1's versions (TfRmsPropStep, TfAdagradStep),
// which are not the same formulas: graph mode's tf.train twins use those (optim/train.h).
//
// Read next: core/ops/update.cpp (the ops around these functors), optim/optim.h (the optimizers).
#pragma once

#include <cmath>

#include "core/error.h"     // TANDEM_NOT_IMPLEMENTED, the stub of assignment 4's tasks here
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
    // BEGIN SOLUTION a4.t3
    T d = weight_decay != T(0) ? g + weight_decay * w : g;
    b = momentum * b + gain * d;
    d = nesterov ? d + momentum * b : b;
    w = w - lr * d;
    // END SOLUTION
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
    // BEGIN SOLUTION a4.t4
    if (decoupled)
      w = w * decay_factor;
    else if (weight_decay != T(0))
      g = g + weight_decay * w;
    m = m * beta1 + one_minus_beta1 * g;
    v = v * beta2 + one_minus_beta2 * (g * g);
    const T denom = std::sqrt(v) / bias_correction2_sqrt + eps;
    w = w - step_size * (m / denom);
    // END SOLUTION
  }
};

// ---- RMSprop and Adagrad: a step size per weight, from the history of its gradient's size ----------
//
// Both divide the gradient by a running measure of its magnitude, so that weights whose gradients
// are always large take small steps and rarely-touched weights take large ones. Adagrad
// (Duchi et al., 2011) sums every g² ever seen, so its steps only shrink; RMSprop (Hinton's
// lecture 6e, 2012) keeps an exponential average instead, so it forgets old gradients. Adam is
// RMSprop plus momentum and bias correction.

// RMSprop as torch.optim.RMSprop computes it (α: the smoothing constant, `alpha`):
//     g = g + wd · w                         (weight decay, as SGD)
//     v = α · v + (1 − α) · g²                the running mean of g²  (state: square_avg)
//     centered: m = α · m + (1 − α) · g       the running mean of g   (state: grad_avg)
//               d = √(v − m²) + ε             divide by the standard deviation, not the RMS
//     else:     d = √v + ε                    (ε outside the square root)
//     momentum > 0: b = μ · b + g / d;  w = w − lr · b    (state: momentum_buffer)
//     else:         w = w − lr · g / d
// v starts at 0 (no bias correction, unlike Adam: the first steps are large, lr·g/(√(1−α)·|g|)).
// A state the configuration does not keep (b without momentum, m when not centered) is not
// touched: the caller passes a scratch number for it.
template <typename T> struct RmspropStep {
  T lr, alpha, one_minus_alpha, eps, weight_decay, momentum;  // one_minus_alpha: 1 − α in double
  bool centered;
  TANDEM_HD void operator()(T& w, T& v, T& b, T& m, T g) const {
    if (weight_decay != T(0)) g = g + weight_decay * w;
    v = v * alpha + one_minus_alpha * g * g;
    T d;
    if (centered) {
      m = m * alpha + one_minus_alpha * g;
      d = std::sqrt(v - m * m) + eps;
    } else {
      d = std::sqrt(v) + eps;
    }
    if (momentum > T(0)) {
      b = b * momentum + g / d;
      w = w - lr * b;
    } else {
      w = w - lr * (g / d);
    }
  }
};

// RMSProp as TensorFlow 1 computes it (tf.train.RMSPropOptimizer; the ApplyRMSProp and
// ApplyCenteredRMSProp kernels, ρ: `decay`). Three differences from PyTorch's, each deliberate:
//     ms  = ms + (g² − ms) · (1 − ρ)           the same running mean, written as a correction —
//                                              but TF starts ms at 1, not 0 (the slot's initial
//                                              value), so the first steps are small, not large
//     centered: mg = mg + (g − mg) · (1 − ρ);  d = √(ms − mg² + ε)
//     else:                                    d = √(ms + ε)           (ε inside the square root)
//     mom = μ · mom + lr · g / d               lr inside the velocity: a changed lr acts gradually
//     w   = w − mom
// There is no weight decay (TF1 puts that in the loss). The momentum slot always exists.
template <typename T> struct TfRmsPropStep {
  T lr, one_minus_rho, momentum, eps;
  bool centered;
  TANDEM_HD void operator()(T& w, T& ms, T& mom, T& mg, T g) const {
    ms = ms + (g * g - ms) * one_minus_rho;
    T denominator;
    if (centered) {
      mg = mg + (g - mg) * one_minus_rho;
      denominator = ms - mg * mg + eps;
    } else {
      denominator = ms + eps;
    }
    mom = mom * momentum + (g * lr) / std::sqrt(denominator);
    w = w - mom;
  }
};

// Adagrad as torch.optim.Adagrad computes it, at step t (t = 1, 2, ...):
//     g   = g + wd · w
//     clr = lr / (1 + (t − 1) · lr_decay)      a learning rate that decays with the step count
//     s   = s + g²                             the sum of every squared gradient (state: sum,
//                                              starting at initial_accumulator_value, default 0)
//     w   = w − clr · g / (√s + ε)
// clr depends on t only: computed once per step, in double (AdagradStep::at), as Python does.
template <typename T> struct AdagradStep {
  T clr, eps, weight_decay;

  static TANDEM_HD AdagradStep at(double t, double lr, double lr_decay, double eps, double weight_decay) {
    AdagradStep s;
    s.clr = T(lr / (1.0 + (t - 1.0) * lr_decay));
    s.eps = T(eps);
    s.weight_decay = T(weight_decay);
    return s;
  }

  TANDEM_HD void operator()(T& w, T& s, T g) const {
    if (weight_decay != T(0)) g = g + weight_decay * w;
    s = s + g * g;
    const T d = std::sqrt(s) + eps;
    w = w - clr * (g / d);
  }
};

// Adagrad as TensorFlow 1 computes it (tf.train.AdagradOptimizer, the ApplyAdagrad kernel):
//     accum = accum + g²                       accum starts at initial_accumulator_value = 0.1
//     w     = w − lr · g / √accum              no ε (the 0.1 start keeps √accum away from 0),
//                                              no learning-rate decay, no weight decay
template <typename T> struct TfAdagradStep {
  T lr;
  TANDEM_HD void operator()(T& w, T& accum, T g) const {
    accum = accum + g * g;
    w = w - g * lr * (T(1) / std::sqrt(accum));  // TF: var -= grad * lr * accum.rsqrt()
  }
};

}  // namespace tandem::math
