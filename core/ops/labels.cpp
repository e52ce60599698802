// core/ops/labels.cpp — check_labels: the class labels a loss is given, checked before use.
//
// nll_loss and cross_entropy (layers/simple_losses.h) read the score of the true class with a gather:
// -mean(gather(log_probs, 1, labels)). Fed bad labels, that gather would complain in its own words
// ("gather(): index 10 is out of range for dimension 1 with size 10"), which names neither the loss
// nor the labels — or, worse, say nothing: gather accepts an index tensor *smaller* than its input,
// so 3 labels for a batch of 4 would quietly average over the first 3 samples. So the losses pass
// their labels through this op first. It returns them unchanged and checks that they are what a
// classification loss needs, naming the loss, the label, the number of classes and what to do:
//
//   dtype   int64 class indices (one-hot float rows are the classic mistake: pass argmax(y, 1));
//   shape   one label per sample: the scores' shape without the class dim
//           ([N] for scores [N, C], [] for one sample's scores [C], [N, d1...] for [N, C, d1...]);
//   values  each in [0, C).
//
// dtype and shape are checked by the shape rule, so in a graph a mistake is reported at the line
// that declares the loss; sizes unknown there (a batch of ?), and the values, are checked by the
// kernel when the values exist. It is the same check in both modes, since it is one op.
//
// Attributes: dim = the class dimension of the scores; start = which loss asks (for the messages:
// 0 nll_loss, 1 cross_entropy). It is a view op: its kernel, the same on every device, reads the
// labels on the host (a copy from a GPU: the labels are a short vector), checks them, and returns
// them as they are.
//
// Read next: layers/simple_losses.h.
#include <cstring>

#include "core/op.h"
#include "core/ops.h"

namespace tandem {
namespace {

constexpr const char* kLosses[] = {"nll_loss", "cross_entropy"};

const char* loss_name(const Attrs& a) { return a.start == 1 ? kLosses[1] : kLosses[0]; }

// The shape the labels must have: the scores' shape without the class dim.
Shape expected_labels(const Shape& scores, int64_t class_dim) {
  Shape s = scores;
  s.erase(s.begin() + class_dim);
  return s;
}

// "[3]": where the flat element `flat` of a tensor of shape `shape` sits ("[]" for 0-dim).
std::string position(const Shape& shape, int64_t flat) {
  Shape index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return shape_str(index);
}

std::string what_scores(const Shape& scores) {
  return msg("scores ", shape_str(scores), " (", scores.size() == 1 ? "one sample's [C]" : "[N, C, ...]", ")");
}

// Two static shapes that may be equal when the values exist (a ? matches any size).
bool may_equal(const Shape& a, const Shape& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i] && a[i] != kUnknown && b[i] != kUnknown) return false;
  return true;
}

// What the labels look like, when it explains the mistake: one-hot rows have the scores' shape;
// a column of labels [N, 1] has a size-1 class dim.
std::string hint(const Shape& labels, const Shape& scores, int64_t class_dim) {
  if (may_equal(labels, scores))
    return msg(" They have the scores' shape, as one-hot rows (or class probabilities) do: pass the class "
               "of each sample instead, argmax(y, ", class_dim, ")");
  Shape column = expected_labels(scores, class_dim);
  column.insert(column.begin() + class_dim, 1);
  if (may_equal(labels, column)) return msg(" A column of labels: pass squeeze(y, ", class_dim, ")");
  return "";
}

Meta check_labels_meta(std::span<const Meta> in, const Attrs& a) {
  const Meta &labels = in[0], &scores = in[1];
  const char* loss = loss_name(a);
  const Shape want = expected_labels(scores.shape, a.dim);
  const std::string why = hint(labels.shape, scores.shape, a.dim);
  if (labels.dtype != kInt64)
    throw DTypeError(msg(loss, ": the labels must be int64 class indices, but got ", to_string(labels.dtype),
                         " labels of shape ", shape_str(labels.shape), " for ", what_scores(scores.shape), ".",
                         why.empty() ? std::string(" Convert them with .to(kInt64)") : why));
  if (labels.shape.size() != want.size())
    throw ShapeError(msg(loss, ": expected one label per sample, of shape ", shape_str(want), " for ",
                         what_scores(scores.shape), ", but got labels of shape ", shape_str(labels.shape),
                         ".", why));
  Shape out = labels.shape;
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i] == kUnknown || out[i] == want[i]) continue;
    if (out[i] != kUnknown)
      throw ShapeError(msg(loss, ": ", i == 0 ? msg(out[0], " labels for a batch of ", want[0]) : std::string("the labels"),
                           ": labels of shape ", shape_str(labels.shape), " do not match ",
                           what_scores(scores.shape), ", which need labels of shape ", shape_str(want),
                           ". Give one label per sample"));
    out[i] = want[i];  // the known size wins; the kernel checks the ? when the values exist
  }
  return {out, kInt64};
}

Tensor check_labels_view(std::span<const Tensor> in, const Attrs& a) {
  const Meta metas[2] = {meta_of(in[0]), meta_of(in[1])};
  check_labels_meta(metas, a);  // the sizes that were unknown (?) when the graph was built
  const int64_t classes = in[1].shape()[a.dim];
  // The labels as a flat int64 array on the host: read in place when they are already that.
  const Tensor host = in[0].device().is_cpu() ? in[0].contiguous() : in[0].cpu().contiguous();
  const std::span<const int64_t> labels(host.data<int64_t>(), static_cast<size_t>(host.numel()));
  for (size_t k = 0; k < labels.size(); ++k) {
    const int64_t label = labels[k];
    if (label >= 0 && label < classes) continue;
    throw IndexError(msg(loss_name(a), ": label ", label, " (at position ", position(in[0].shape(), static_cast<int64_t>(k)),
                         " of the labels) is out of range for ", classes, " classes: a label is a class index from 0 to ",
                         classes - 1, ". ",
                         label < 0 ? "A negative label is no class (Tandem's losses have no ignore_index); "
                                     "drop those samples"
                                   : "Labels numbered from 1? Subtract 1. Or give the model one output per class"));
  }
  auto same = std::make_shared<TensorImpl>(in[0].impl());  // a handle of its own, no history
  same->autograd.reset();
  return Tensor(std::move(same));
}

}  // namespace

namespace ops {
// A view op: its value is the labels themselves; the scores are read for their shape only.
TANDEM_OP(check_labels, .arity = 2, .shape = check_labels_meta, .view = check_labels_view,
          .shape_only_inputs = 0b10, .no_derivative = "its output is integer class labels");
}  // namespace ops

}  // namespace tandem
