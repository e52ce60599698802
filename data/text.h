// data/text.h — from sentences to tensors: tokens, a vocabulary, padded id sequences.
//
// A network reads numbers, so text goes through three steps before an Embedding layer sees it:
//
//   "The Rock's new ''Conan''!"  ─tokenize─►  the  rock's  new  conan
//                                ─encode──►   2    917     57   1        (1 = <unk>: not in the vocabulary)
//                                ─pad_to(8)►  2 917 57 1 0 0 0 0         (0 = <pad>)
//
// tokenize    lower-cases ASCII letters and splits at everything that is not part of a word:
//             spaces and punctuation go, an apostrophe inside a word stays ("don't", "rock's"),
//             the typographic apostrophe ’ counts as ' and other punctuation of UTF-8's General
//             Punctuation block (– — “ ” …) separates; other non-ASCII letters (é) are letters.
//             This is Keras's Tokenizer (lower=True, its punctuation filters), minus its
//             habit of keeping quotes stuck to words.
// Vocabulary  id 0 is <pad>, id 1 is <unk>; then every token seen at least min_freq times in the
//             training texts, most frequent first (ties alphabetical, so the ids never depend on
//             hash order). Rare words become <unk>: they would get an embedding trained on one
//             or two examples, which is noise.
// pad_to      every sequence gets the same length, so a batch is one [N, length] tensor: longer
//             ones are cut at the end, shorter ones filled with <pad> at the end (PyTorch's
//             pad_sequence puts padding after the words; Keras's pad_sequences defaults to before).
//
// TextDataset puts the three together: example i is {ids [length] int64, label (int64, 0-dim)}.
//
// Read next: data/movie_reviews.h (a real labelled set), tests/test_data_text.cpp.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "data/dataset.h"

namespace tandem::data {

std::vector<std::string> tokenize(std::string_view text);

class Vocabulary {
 public:
  static constexpr int64_t kPad = 0;  // "<pad>"
  static constexpr int64_t kUnk = 1;  // "<unk>"

  // The vocabulary of `texts` (each a list of tokens): tokens seen >= min_freq times, most frequent
  // first, at most max_size ids in all counting <pad> and <unk> (-1: no limit).
  static Vocabulary build(const std::vector<std::vector<std::string>>& texts, int64_t min_freq = 1,
                          int64_t max_size = -1);

  int64_t size() const { return static_cast<int64_t>(tokens_.size()); }
  int64_t id(const std::string& token) const;      // kUnk for a token not in the vocabulary
  const std::string& token(int64_t id) const;      // IndexError outside 0..size()-1
  std::vector<int64_t> encode(const std::vector<std::string>& tokens) const;
  int64_t count(const std::string& token) const;   // times seen when built (0 if unknown)

 private:
  std::vector<std::string> tokens_;  // by id
  std::vector<int64_t> counts_;      // by id
  std::unordered_map<std::string, int64_t> ids_;
};

// `ids` cut or filled with `pad` at the end to exactly `length` entries.
std::vector<int64_t> pad_to(std::vector<int64_t> ids, int64_t length, int64_t pad = Vocabulary::kPad);

// Texts with integer labels, tokenized, encoded and padded once when made.
class TextDataset : public TensorDataset {
 public:
  TextDataset(const std::vector<std::string>& texts, const std::vector<int64_t>& labels,
              const Vocabulary& vocabulary, int64_t length);
  const std::vector<std::string>& texts() const { return texts_; }

 private:
  std::vector<std::string> texts_;
};

}  // namespace tandem::data
