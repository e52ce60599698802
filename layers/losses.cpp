// layers/losses.cpp — the losses' argument checks, and the loss modules' constructors.
#include "layers/losses.h"

namespace tandem::nn {

namespace functional::detail {

void check_reduction(const std::string& reduction, const char* loss) {
  if (reduction != "mean" && reduction != "sum" && reduction != "none")
    throw Error(msg(loss, ": reduction must be \"mean\", \"sum\" or \"none\", but got \"", reduction, "\""));
}

void check_class_target(const Shape& input, const Shape& target, DType target_dtype, const char* loss) {
  if (target_dtype != kInt64)
    throw DTypeError(msg(loss, ": expected class indices of dtype int64 as the target, but got ", to_string(target_dtype),
                         is_floating(target_dtype) ? " (probabilities per class go to cross_entropy, with the input's shape)"
                                                   : "; convert the labels with .to(kInt64)"));
  if (input.size() < 2)
    throw ShapeError(msg(loss, ": expected scores [N, C] (or [N, C, d...]), but got ", shape_str(input)));
  Shape expected = {input[0]};
  expected.insert(expected.end(), input.begin() + 2, input.end());
  bool ok = target.size() == expected.size();
  for (size_t i = 0; ok && i < target.size(); ++i)
    ok = target[i] == expected[i] || target[i] == kUnknown || expected[i] == kUnknown;
  if (!ok)
    throw ShapeError(msg(loss, ": expected labels of shape ", shape_str(expected), " for scores of shape ",
                         shape_str(input), " (one class index per sample), but got labels of shape ", shape_str(target),
                         target.size() == expected.size() + 1 ? "; squeeze the extra dimension" : ""));
}

void check_label_values(const Tensor& target, int64_t classes, int64_t ignore_index, const char* loss) {
  if (target.numel() == 0 || classes == kUnknown) return;
  const std::vector<int64_t> labels = target.cpu().contiguous().to_vector<int64_t>();
  for (size_t i = 0; i < labels.size(); ++i) {
    const int64_t y = labels[i];
    if (y == ignore_index || (y >= 0 && y < classes)) continue;
    throw IndexError(msg(loss, ": label ", y, " (at index ", i, " of the labels) is out of range for ", classes,
                         " classes: labels must be in [0, ", classes - 1, "]",
                         ignore_index < 0 || ignore_index >= classes ? msg(", or ignore_index = ", ignore_index) : ""));
  }
}

void check_same_shape(const Shape& input, const Shape& target, const char* loss) {
  bool ok = input.size() == target.size();
  for (size_t i = 0; ok && i < input.size(); ++i) ok = input[i] == target[i] || input[i] == kUnknown || target[i] == kUnknown;
  if (!ok)
    throw ShapeError(msg(loss, ": the target's shape ", shape_str(target), " must be the input's, ", shape_str(input),
                         " (one target per prediction)"));
}

}  // namespace functional::detail

namespace {
Tensor buffer_or_none(Module& m, const char* name, const Tensor& t) {
  return t.defined() ? m.register_buffer(name, t) : Tensor();
}
}  // namespace

CrossEntropyLossImpl::CrossEntropyLossImpl(functional::CrossEntropyLossOptions options, Tensor weight)
    : options(std::move(options)), weight(buffer_or_none(*this, "weight", weight)) {
  functional::detail::check_reduction(this->options.reduction, "CrossEntropyLoss");
}

NLLLossImpl::NLLLossImpl(functional::NLLLossOptions options, Tensor weight)
    : options(std::move(options)), weight(buffer_or_none(*this, "weight", weight)) {
  functional::detail::check_reduction(this->options.reduction, "NLLLoss");
}

MSELossImpl::MSELossImpl(std::string reduction) : reduction(std::move(reduction)) {
  functional::detail::check_reduction(this->reduction, "MSELoss");
}

L1LossImpl::L1LossImpl(std::string reduction) : reduction(std::move(reduction)) {
  functional::detail::check_reduction(this->reduction, "L1Loss");
}

SmoothL1LossImpl::SmoothL1LossImpl(std::string reduction, double beta) : reduction(std::move(reduction)), beta(beta) {
  functional::detail::check_reduction(this->reduction, "SmoothL1Loss");
}

BCELossImpl::BCELossImpl(std::string reduction, Tensor weight)
    : reduction(std::move(reduction)), weight(buffer_or_none(*this, "weight", weight)) {
  functional::detail::check_reduction(this->reduction, "BCELoss");
}

BCEWithLogitsLossImpl::BCEWithLogitsLossImpl(std::string reduction, Tensor weight, Tensor pos_weight)
    : reduction(std::move(reduction)), weight(buffer_or_none(*this, "weight", weight)),
      pos_weight(buffer_or_none(*this, "pos_weight", pos_weight)) {
  functional::detail::check_reduction(this->reduction, "BCEWithLogitsLoss");
}

}  // namespace tandem::nn
