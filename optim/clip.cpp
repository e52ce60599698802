// optim/clip.cpp — clipping by global norm in each framework's words: clip_grad_norm_ (PyTorch,
// eager, in place) and clip_by_global_norm (TensorFlow 1, graph nodes, new tensors).
//
// Both start from the same global_norm (optim/clip.h), written once for both tensor types. They
// differ in what they do with it, as the frameworks do: PyTorch rescales the .grad tensors in
// place, between backward() and step(); TensorFlow returns new gradient nodes, to hand to
// apply_gradients in place of the old ones.
//
// Read next: optim/train.h (apply_gradients), tests/test_clip.cpp.
#include "optim/clip.h"

#include "autograd/grad_mode.h"
#include "optim/train.h"

namespace tandem::optim {

namespace {
// The gradients of the parameters that have one (PyTorch: [p.grad for p in params if p.grad is not None]).
std::vector<Tensor> gradients_of(const std::vector<Tensor>& params, const char* who) {
  std::vector<Tensor> grads;
  for (size_t k = 0; k < params.size(); ++k) {
    if (!params[k].defined()) throw Error(msg(who, ": parameter ", k, " is an undefined tensor"));
    if (params[k].grad().defined()) grads.push_back(params[k].grad());
  }
  return grads;
}
}  // namespace

Tensor clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  no_grad clipping;  // rescaling gradients is not part of any computation to differentiate
  const std::vector<Tensor> grads = gradients_of(params, "clip_grad_norm_");
  if (grads.empty()) return tensor(0.0f);
  const Tensor total = global_norm(grads, norm_type);
  if (error_if_nonfinite && !std::isfinite(total.item()))
    throw Error(msg("clip_grad_norm_: The total norm of order ", norm_type,
                    " for gradients from `parameters` is non-finite (", total.item(),
                    "), so it cannot be clipped. To disable this error and scale the gradients by the "
                    "non-finite norm anyway, set error_if_nonfinite = false"));
  // coef = min(max_norm / (‖g‖ + 1e-6), 1), in the gradients' dtype. Multiplying by it even when it
  // is 1 (PyTorch's choice) saves reading the norm back from a GPU to decide.
  const Tensor coef = minimum(max_norm / (total + 1e-6), scalar_like(1.0, total));
  for (const Tensor& g : grads) g.mul_(coef.to(g.dtype()));
  return total;
}

void clip_grad_value_(const std::vector<Tensor>& params, double clip_value) {
  no_grad clipping;
  for (const Tensor& g : gradients_of(params, "clip_grad_value_"))
    g.copy_(maximum(minimum(g, scalar_like(clip_value, g)), scalar_like(-clip_value, g)));
}

}  // namespace tandem::optim

namespace tandem::graph {

std::pair<std::vector<Output>, Output> clip_by_global_norm(const std::vector<Output>& t_list, double clip_norm) {
  if (!(clip_norm >= 0))
    throw Error(msg("clip_by_global_norm: clip_norm must be a number >= 0, got ", clip_norm));
  std::vector<Output> present;
  for (const Output& t : t_list)
    if (t.defined()) present.push_back(t);
  if (present.empty())
    throw Error(msg("clip_by_global_norm: all ", t_list.size(), " tensors are undefined (no variable "
                    "gets a gradient?); there is nothing to clip"));
  DefaultGraph use(present[0].graph());
  NameScope scope("clip_by_global_norm");
  const Output norm = global_norm(present, 2.0);
  // TF's formula, operation for operation: scale = clip_norm · min(1/‖t‖, 1/clip_norm). Adding
  // ‖t‖ − ‖t‖ changes nothing when the norm is finite and makes the scale NaN when it is inf or
  // NaN, so a diverged step shows as NaN weights instead of silently zero gradients.
  const Output scale = clip_norm * minimum(1.0 / norm, 1.0 / scalar_like(clip_norm, norm)) + (norm - norm);
  std::vector<Output> clipped;
  for (const Output& t : t_list) clipped.push_back(t.defined() ? t * to(scale, t.dtype()) : Output());
  return {clipped, norm};
}

namespace train {

std::pair<GradsAndVars, Output> clip_by_global_norm(const GradsAndVars& grads_and_vars, double clip_norm) {
  std::vector<Output> grads;
  for (const auto& [g, v] : grads_and_vars) grads.push_back(g);
  auto [clipped, norm] = graph::clip_by_global_norm(grads, clip_norm);
  GradsAndVars out;
  for (size_t k = 0; k < grads_and_vars.size(); ++k) out.emplace_back(clipped[k], grads_and_vars[k].second);
  return {out, norm};
}

}  // namespace train
}  // namespace tandem::graph
