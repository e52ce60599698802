// layers/embedding.h — Embedding: a table of vectors, one row per token id.
//
//     nn::Embedding embedding(10000, 100);      // 10 000 words, 100 numbers each, drawn from N(0, 1)
//     Tensor v = embedding(ids);                // ids int64 [N, L]  ->  [N, L, 100]
//
// Looking a row up is index_select; its gradient, by the derivative sheet's rule for index_select,
// is index_add: each row used gets the sum of the gradients of its uses (a scatter-add), the rows
// not used get nothing. With padding_idx the padding row starts at zeros and never gets a gradient,
// so padding tokens stay zero vectors through training.
//
// Read next: layers/container.h.
#pragma once

#include "layers/functional.h"
#include "layers/module.h"

namespace tandem::nn {

class EmbeddingImpl : public Layer<EmbeddingImpl> {
 public:
  EmbeddingImpl(int64_t num_embeddings, int64_t embedding_dim, std::optional<int64_t> padding_idx = std::nullopt);
  template <class T> T forward(const T& indices) { return functional::embedding(indices, bind(weight, indices), padding_idx); }
  void reset_parameters();  // N(0, 1), the padding row zeroed
  std::string extra_repr() const override;

  Tensor weight;  // [num_embeddings, embedding_dim]
  const int64_t num_embeddings, embedding_dim;
  const std::optional<int64_t> padding_idx;  // made non-negative (PyTorch accepts -1 for the last row)
};
TANDEM_MODULE(Embedding);

}  // namespace tandem::nn
