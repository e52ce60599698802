// layers/simple_losses.h — the common losses, written once for eager tensors and graph outputs.
//
// Each is a few ops of the catalogue, so each has its gradient already (the derivative sheet
// differentiates the ops it is made of) and runs in both modes, like the model templates of the
// examples. They follow PyTorch's torch.nn.functional: mean over the samples.
//
//   nll_loss(log_probs, labels)    -mean_i log_probs[i, labels[i]]         (F.nll_loss)
//   cross_entropy(logits, labels)  nll_loss(log_softmax(logits, 1), labels) (F.cross_entropy)
//   mse_loss(input, target)        mean((input - target)^2)                 (F.mse_loss)
//
// The classification losses take PyTorch's three layouts; the class dim is 1, or 0 for one sample:
//
//   scores [N, C]            labels [N]            a batch of samples (the usual case)
//   scores [C]               labels []             one sample, unbatched: -log_probs[label]
//   scores [N, C, d1, ...]   labels [N, d1, ...]   a label per position (per pixel, per token):
//                                                  the mean runs over N·d1·... positions
//
// All three are one formula: pick the score of the true class along the class dim with a gather,
// whose index is the labels with a size-1 class dim put in, and average what was picked:
//
//     loss = -mean(gather(log_probs, class_dim, unsqueeze(labels, class_dim)))
//
// labels are int64 class indices. They first go through check_labels (core/ops/labels.cpp), which
// reports a wrong dtype (one-hot rows: use argmax(y, 1)), a wrong count or a label out of range by
// name — in a graph, at the line that declares the loss, or when Session::run meets the values.
// Cross-entropy goes through log_softmax, never log(softmax(x)), for the reason
// core/ops/softmax.cpp explains. Not offered (yet): class weights, ignore_index, label smoothing,
// reduction other than the mean.
#pragma once

#include "core/error.h"

namespace tandem {

namespace detail {
// The class dim of scores of this rank: 0 for one sample's [C], 1 for [N, C, ...].
inline int64_t class_dim(int64_t rank, const char* loss) {
  if (rank == 0)
    throw ShapeError(msg(loss, ": expected scores of shape [N, C], [C] (one sample) or [N, C, d1, ...], "
                               "but got a 0-dim tensor"));
  return rank == 1 ? 0 : 1;
}

template <class T> T nll(const T& log_probs, const T& labels, const char* loss) {
  const int64_t c = class_dim(log_probs.dim(), loss);
  const T index = unsqueeze(check_labels(labels, log_probs, c, loss), c);
  return -mean(gather(log_probs, c, index));
}
}  // namespace detail

template <class T> T nll_loss(const T& log_probs, const T& labels) {
  return detail::nll(log_probs, labels, "nll_loss");
}

template <class T> T cross_entropy(const T& logits, const T& labels) {
  const T log_probs = log_softmax(logits, detail::class_dim(logits.dim(), "cross_entropy"));
  return detail::nll(log_probs, labels, "cross_entropy");
}

template <class T> T mse_loss(const T& input, const T& target) {
  const T d = input - target;
  return mean(d * d);
}

}  // namespace tandem
