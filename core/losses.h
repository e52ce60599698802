// core/losses.h — the common losses, written once for eager tensors and graph outputs.
//
// Each is a few ops of the catalogue, so each has its gradient already (the derivative sheet
// differentiates the ops it is made of) and runs in both modes, like the model templates of the
// examples. They follow PyTorch's torch.nn.functional: mean over the batch.
//
//   nll_loss(log_probs, labels)    -mean_i log_probs[i, labels[i]]         (F.nll_loss)
//   cross_entropy(logits, labels)  nll_loss(log_softmax(logits, 1), labels) (F.cross_entropy)
//   mse_loss(input, target)        mean((input - target)^2)                 (F.mse_loss)
//
// labels: int64 class indices of shape [N], logits and log_probs [N, classes]. Cross-entropy goes
// through log_softmax, never log(softmax(x)), for the reason core/ops/softmax.cpp explains.
#pragma once

#include "core/error.h"

namespace tandem {

template <class T> T nll_loss(const T& log_probs, const T& labels) {
  if (log_probs.shape().size() != 2 || labels.shape().size() != 1)
    throw ShapeError(msg("nll_loss: expected log-probabilities [N, classes] and labels [N], but got ",
                         shape_str(log_probs.shape()), " and ", shape_str(labels.shape())));
  return -mean(gather(log_probs, 1, unsqueeze(labels, 1)));
}

template <class T> T cross_entropy(const T& logits, const T& labels) {
  return nll_loss(log_softmax(logits, 1), labels);
}

template <class T> T mse_loss(const T& input, const T& target) {
  const T d = input - target;
  return mean(d * d);
}

}  // namespace tandem
