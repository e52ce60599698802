// layers/losses.h — the loss functions of torch.nn.functional, and their module forms.
//
// Every loss compares a prediction with a target and returns, with reduction "mean" (the default),
// one number to minimise; "sum" adds instead, "none" keeps one loss per element. Like the layers,
// each is a composite written once for both modes, so its gradient is the derivative sheet's.
//
//   cross_entropy(logits, target)        target int64 class indices [N] (or [N, d...] for
//                                        [N, C, d...] logits): -log softmax(logits)[target];
//                                        or probabilities / one-hot rows of the logits' shape
//                                        (Keras's categorical_crossentropy, from logits):
//                                        -Σ_c target_c · log softmax(logits)_c.
//                                        Options: weight (per class), ignore_index (labels that
//                                        count for nothing, -100 by default), label_smoothing ε
//                                        (the target becomes (1-ε)·target + ε/C), reduction.
//   nll_loss(log_probs, target)          the same after log_softmax (F.nll_loss)
//   mse_loss(input, target)              (input - target)²
//   l1_loss(input, target)               |input - target|
//   smooth_l1_loss(input, target, β)     ½d²/β where |d| < β, |d| - ½β beyond (Huber's, scaled)
//   binary_cross_entropy(p, target)      -(t·log p + (1-t)·log(1-p)), each log clamped at -100
//                                        as PyTorch does (so p = 0 or 1 costs 100, not inf)
//   binary_cross_entropy_with_logits(x, target)
//                                        the same on logits x, p = σ(x), written stably:
//                                        (1-t)·x + softplus(-x) — finite for x = ±10⁴, where
//                                        σ(x) rounds to exactly 0 or 1 and log(σ(x)) would be -inf.
//                                        pos_weight scales the positive term.
//
// With reduction "mean" and class weights or ignored labels, cross_entropy / nll_loss divide by the
// total weight of the counted labels, as PyTorch does (not by N).
//
// Labels are checked where they can be: their dtype and shape when the loss is built (both modes),
// their values in eager mode — an out-of-range label is an error naming the loss, the label and
// where it is, not an index error from deep inside gather.
//
// The module forms hold the options: nn::CrossEntropyLoss criterion({.label_smoothing = 0.1});
// criterion(logits, labels). (layers/simple_losses.h has the two-argument cross_entropy, nll_loss and
// mse_loss the examples started with; these are the full forms, under nn::functional.)
//
// Read next: layers/summary.h.
#pragma once

#include <string>

#include "layers/functional.h"
#include "layers/module.h"

namespace tandem::nn::functional {

struct NLLLossOptions {
  int64_t ignore_index = -100;   // target entries equal to it count for nothing
  std::string reduction = "mean";  // "mean", "sum" or "none"
};

struct CrossEntropyLossOptions {
  int64_t ignore_index = -100;
  double label_smoothing = 0.0;  // in [0, 1]
  std::string reduction = "mean";
};

template <TensorLike T>
T nll_loss(const T& log_probs, const T& target, const NLLLossOptions& options = {}, const T& weight = T());
template <TensorLike T>
T cross_entropy(const T& input, const T& target, const CrossEntropyLossOptions& options = {}, const T& weight = T());
template <TensorLike T> T mse_loss(const T& input, const T& target, const std::string& reduction = "mean");
template <TensorLike T> T l1_loss(const T& input, const T& target, const std::string& reduction = "mean");
template <TensorLike T>
T smooth_l1_loss(const T& input, const T& target, const std::string& reduction = "mean", double beta = 1.0);
template <TensorLike T>
T binary_cross_entropy(const T& input, const T& target, const T& weight = T(), const std::string& reduction = "mean");
template <TensorLike T>
T binary_cross_entropy_with_logits(const T& input, const T& target, const T& weight = T(),
                                   const std::string& reduction = "mean", const T& pos_weight = T());

// ==== definitions ==========================================================================================

namespace detail {
// "mean", "sum" or "none", else an error naming the loss.
void check_reduction(const std::string& reduction, const char* loss);
// The checks of a class-index target against [N, C, d...] scores: dtype int64, shape [N, d...]; and,
// for eager tensors, every value in [0, C) or equal to ignore_index.
void check_class_target(const Shape& input, const Shape& target, DType target_dtype, const char* loss);
void check_label_values(const Tensor& target, int64_t classes, int64_t ignore_index, const char* loss);
// Same shape (known dims) for the elementwise losses.
void check_same_shape(const Shape& input, const Shape& target, const char* loss);
}  // namespace detail

template <TensorLike T> T apply_reduction(const T& loss, const std::string& reduction, const char* name) {
  detail::check_reduction(reduction, name);
  if (reduction == "none") return loss;
  return reduction == "sum" ? sum(loss) : mean(loss);
}

// The per-element class-index loss -w[y]·s[y] of scores s [N, C, d...], and the per-element
// weights w[y] (0 where ignored): what nll_loss reduces, and cross_entropy with label smoothing.
template <TensorLike T>
std::pair<T, T> class_index_terms(const T& scores, const T& target, int64_t ignore_index, const T& weight,
                                  const char* name) {
  detail::check_class_target(scores.shape(), target.shape(), target.dtype(), name);
  if constexpr (is_eager<T>) detail::check_label_values(target, scores.shape()[1], ignore_index, name);
  const T ignored = target == ignore_index;
  const T safe = where(ignored, 0, target);  // a valid index where ignored: gather must not fail
  const T picked = squeeze(gather(scores, 1, unsqueeze(safe, 1)), 1);
  T w = weight.defined() ? reshape(index_select(weight, 0, reshape(safe, {-1})), safe.shape())
                         : to(target != ignore_index, scores.dtype());
  if (weight.defined()) w = where(ignored, 0.0, w);
  return {-picked * w, w};
}

template <TensorLike T>
T nll_loss(const T& log_probs, const T& target, const NLLLossOptions& o, const T& weight) {
  detail::check_reduction(o.reduction, "nll_loss");
  if (log_probs.dim() == 1) {  // one unbatched sample: [C] and a 0-dim label
    const T l = nll_loss(unsqueeze(log_probs, 0), unsqueeze(target, 0), o, weight);
    return o.reduction == "none" ? squeeze(l, 0) : l;
  }
  const auto [loss, w] = class_index_terms(log_probs, target, o.ignore_index, weight, "nll_loss");
  if (o.reduction == "none") return loss;
  return o.reduction == "sum" ? sum(loss) : sum(loss) / sum(w);
}

template <TensorLike T>
T cross_entropy(const T& input, const T& target, const CrossEntropyLossOptions& o, const T& weight) {
  detail::check_reduction(o.reduction, "cross_entropy");
  if (!(o.label_smoothing >= 0 && o.label_smoothing <= 1))
    throw Error(msg("cross_entropy: label_smoothing must be between 0.0 and 1.0, but got ", o.label_smoothing));
  if (input.dim() == 1) {  // one unbatched sample
    const T l = cross_entropy(unsqueeze(input, 0), unsqueeze(target, 0), o, weight);
    return o.reduction == "none" ? squeeze(l, 0) : l;
  }
  const int64_t C = input.shape()[1];
  const double eps = o.label_smoothing;
  const T log_probs = log_softmax(input, 1);
  Shape per_class(static_cast<size_t>(input.dim()), 1);  // weight [C] as [1, C, 1...]
  per_class[1] = C;

  if (is_floating(target.dtype())) {  // probabilities (or one-hot rows) per class
    detail::check_same_shape(input.shape(), target.shape(), "cross_entropy (probability targets)");
    const T t = eps > 0 ? target * (1.0 - eps) + eps / static_cast<double>(C) : target;
    T terms = log_probs * t;
    if (weight.defined()) terms = terms * reshape(weight, per_class);
    return apply_reduction(-sum(terms, {1}), o.reduction, "cross_entropy");  // mean: over the N·d... samples
  }

  auto [loss, w] = class_index_terms(log_probs, target, o.ignore_index, weight, "cross_entropy");
  if (eps > 0) {  // (1-ε)·nll + ε/C · Σ_c (-w_c log p_c), the same normalisation
    const T ignored = target == o.ignore_index;
    T all = weight.defined() ? log_probs * reshape(weight, per_class) : log_probs;
    const T smooth = where(ignored, 0.0, -sum(all, {1}));
    const T denom = weight.defined() ? sum(w) : sum(to(target != o.ignore_index, input.dtype()));
    const double s = eps / static_cast<double>(C);
    if (o.reduction == "none") return loss * (1.0 - eps) + smooth * s;
    if (o.reduction == "sum") return sum(loss) * (1.0 - eps) + sum(smooth) * s;
    return sum(loss) / sum(w) * (1.0 - eps) + sum(smooth) / denom * s;
  }
  if (o.reduction == "none") return loss;
  return o.reduction == "sum" ? sum(loss) : sum(loss) / sum(w);
}

template <TensorLike T> T mse_loss(const T& input, const T& target, const std::string& reduction) {
  detail::check_same_shape(input.shape(), target.shape(), "mse_loss");
  const T d = input - target;
  return apply_reduction(d * d, reduction, "mse_loss");
}

template <TensorLike T> T l1_loss(const T& input, const T& target, const std::string& reduction) {
  detail::check_same_shape(input.shape(), target.shape(), "l1_loss");
  return apply_reduction(abs(input - target), reduction, "l1_loss");
}

template <TensorLike T> T smooth_l1_loss(const T& input, const T& target, const std::string& reduction, double beta) {
  detail::check_same_shape(input.shape(), target.shape(), "smooth_l1_loss");
  if (beta < 0) throw Error(msg("smooth_l1_loss: beta must be non-negative, but got ", beta));
  const T d = abs(input - target);
  if (beta == 0) return apply_reduction(d, reduction, "smooth_l1_loss");  // PyTorch: plain L1 at beta = 0
  return apply_reduction(where(d < beta, d * d * (0.5 / beta), d - 0.5 * beta), reduction, "smooth_l1_loss");
}

template <TensorLike T>
T binary_cross_entropy(const T& input, const T& target, const T& weight, const std::string& reduction) {
  detail::check_same_shape(input.shape(), target.shape(), "binary_cross_entropy");
  if constexpr (is_eager<T>) {
    if (input.numel() > 0 && (min(input).item() < 0 || max(input).item() > 1))
      throw Error("binary_cross_entropy: all elements of input should be between 0 and 1 (probabilities: "
                  "put a sigmoid in front, or use binary_cross_entropy_with_logits on the logits)");
  }
  const T log_p = maximum(log(input), scalar_like(-100.0, input));
  const T log_q = maximum(log(1.0 - input), scalar_like(-100.0, input));
  T loss = -(target * log_p + (1.0 - target) * log_q);
  if (weight.defined()) loss = loss * weight;
  return apply_reduction(loss, reduction, "binary_cross_entropy");
}

template <TensorLike T>
T binary_cross_entropy_with_logits(const T& input, const T& target, const T& weight, const std::string& reduction,
                                   const T& pos_weight) {
  detail::check_same_shape(input.shape(), target.shape(), "binary_cross_entropy_with_logits");
  // -[t·log σ(x) + (1-t)·log(1-σ(x))] = (1-t)·x + log(1 + e^-x) = (1-t)·x + softplus(-x)
  const T sp = tandem::softplus(-input);
  T loss = pos_weight.defined() ? (1.0 - target) * input + ((pos_weight - 1.0) * target + 1.0) * sp
                                : (1.0 - target) * input + sp;
  if (weight.defined()) loss = loss * weight;
  return apply_reduction(loss, reduction, "binary_cross_entropy_with_logits");
}

}  // namespace tandem::nn::functional

namespace tandem::nn {

// ---- the module forms: options held, forward(input, target) in both modes -------------------------------

class CrossEntropyLossImpl : public Module {
 public:
  explicit CrossEntropyLossImpl(functional::CrossEntropyLossOptions options = {}, Tensor weight = Tensor());
  template <TensorLike T> T forward(const T& input, const T& target) {
    return functional::cross_entropy(input, target, options, weight.defined() ? bind(weight, input) : T());
  }
  const functional::CrossEntropyLossOptions options;
  Tensor weight;  // per class, a buffer (as in PyTorch)
};
// A holder with a constructor of its own, so that the options can be designated initializers:
// nn::CrossEntropyLoss criterion({.label_smoothing = 0.1});  (a braced list cannot pass through the
// holder's forwarding constructor).
class CrossEntropyLoss : public ModuleHolder<CrossEntropyLossImpl> {
 public:
  using ModuleHolder<CrossEntropyLossImpl>::ModuleHolder;
  CrossEntropyLoss(functional::CrossEntropyLossOptions options = {}, Tensor weight = Tensor())  // NOLINT
      : ModuleHolder(std::make_shared<CrossEntropyLossImpl>(std::move(options), std::move(weight))) {}
};

class NLLLossImpl : public Module {
 public:
  explicit NLLLossImpl(functional::NLLLossOptions options = {}, Tensor weight = Tensor());
  template <TensorLike T> T forward(const T& input, const T& target) {
    return functional::nll_loss(input, target, options, weight.defined() ? bind(weight, input) : T());
  }
  const functional::NLLLossOptions options;
  Tensor weight;
};
class NLLLoss : public ModuleHolder<NLLLossImpl> {
 public:
  using ModuleHolder<NLLLossImpl>::ModuleHolder;
  NLLLoss(functional::NLLLossOptions options = {}, Tensor weight = Tensor())  // NOLINT
      : ModuleHolder(std::make_shared<NLLLossImpl>(std::move(options), std::move(weight))) {}
};

// The elementwise losses: reduction only (SmoothL1Loss also beta).
class MSELossImpl : public Module {
 public:
  explicit MSELossImpl(std::string reduction = "mean");
  template <TensorLike T> T forward(const T& input, const T& target) { return functional::mse_loss(input, target, reduction); }
  const std::string reduction;
};
TANDEM_MODULE(MSELoss);

class L1LossImpl : public Module {
 public:
  explicit L1LossImpl(std::string reduction = "mean");
  template <TensorLike T> T forward(const T& input, const T& target) { return functional::l1_loss(input, target, reduction); }
  const std::string reduction;
};
TANDEM_MODULE(L1Loss);

class SmoothL1LossImpl : public Module {
 public:
  explicit SmoothL1LossImpl(std::string reduction = "mean", double beta = 1.0);
  template <TensorLike T> T forward(const T& input, const T& target) {
    return functional::smooth_l1_loss(input, target, reduction, beta);
  }
  const std::string reduction;
  const double beta;
};
TANDEM_MODULE(SmoothL1Loss);

class BCELossImpl : public Module {
 public:
  explicit BCELossImpl(std::string reduction = "mean", Tensor weight = Tensor());
  template <TensorLike T> T forward(const T& input, const T& target) {
    return functional::binary_cross_entropy(input, target, weight.defined() ? bind(weight, input) : T(), reduction);
  }
  const std::string reduction;
  Tensor weight;
};
TANDEM_MODULE(BCELoss);

class BCEWithLogitsLossImpl : public Module {
 public:
  explicit BCEWithLogitsLossImpl(std::string reduction = "mean", Tensor weight = Tensor(), Tensor pos_weight = Tensor());
  template <TensorLike T> T forward(const T& input, const T& target) {
    return functional::binary_cross_entropy_with_logits(input, target, weight.defined() ? bind(weight, input) : T(),
                                                        reduction, pos_weight.defined() ? bind(pos_weight, input) : T());
  }
  const std::string reduction;
  Tensor weight, pos_weight;
};
TANDEM_MODULE(BCEWithLogitsLoss);

}  // namespace tandem::nn
