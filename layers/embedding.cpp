// layers/embedding.cpp — Embedding's table.
#include "layers/embedding.h"

#include "autograd/grad_mode.h"
#include "layers/init.h"

namespace tandem::nn {

namespace {
std::optional<int64_t> normalized_padding(std::optional<int64_t> p, int64_t n) {
  if (!p) return p;
  if (*p >= n || *p < -n)
    throw IndexError(msg("Embedding: padding_idx must be within num_embeddings (", n, "), but got ", *p));
  return *p < 0 ? *p + n : *p;
}
}  // namespace

EmbeddingImpl::EmbeddingImpl(int64_t num_embeddings, int64_t embedding_dim, std::optional<int64_t> padding_idx)
    : num_embeddings(num_embeddings), embedding_dim(embedding_dim),
      padding_idx(normalized_padding(padding_idx, num_embeddings)) {
  if (num_embeddings <= 0 || embedding_dim <= 0)
    throw Error(msg("Embedding: num_embeddings and embedding_dim must be positive, but got ", num_embeddings, " and ",
                    embedding_dim));
  weight = register_parameter("weight", Tensor::empty({num_embeddings, embedding_dim}));
  reset_parameters();
}

void EmbeddingImpl::reset_parameters() {
  init::normal_(weight);
  if (padding_idx) {
    no_grad guard;
    weight.select(0, *padding_idx).zero_();
  }
}

std::string EmbeddingImpl::extra_repr() const {
  std::string s = msg(num_embeddings, ", ", embedding_dim);
  if (padding_idx) s += msg(", padding_idx=", *padding_idx);
  return s;
}

}  // namespace tandem::nn
