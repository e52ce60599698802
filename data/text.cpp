// data/text.cpp — the tokenizer as one pass over the bytes; the vocabulary as a sort of counts.
#include "data/text.h"

#include <algorithm>
#include <map>

#include "core/factories.h"

namespace tandem::data {

namespace {
bool is_word_byte(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80; }
}  // namespace

std::vector<std::string> tokenize(std::string_view text) {
  // First normalise: lower-case ASCII; ’ and ‘ (E2 80 99 / E2 80 98) become ', the rest of the
  // General Punctuation block (E2 80 xx: dashes, curly double quotes, ellipsis) a space.
  std::string s;
  s.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == 0xE2 && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x80) {
      const auto third = static_cast<unsigned char>(text[i + 2]);
      s += (third == 0x98 || third == 0x99) ? '\'' : ' ';
      i += 2;
    } else {
      s += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c);
    }
  }
  // Then cut: a token is a run of word bytes, with apostrophes allowed between two of them.
  std::vector<std::string> tokens;
  std::string current;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    const bool inner_apostrophe = c == '\'' && !current.empty() && i + 1 < s.size() &&
                                  is_word_byte(static_cast<unsigned char>(s[i + 1]));
    if (is_word_byte(c) || inner_apostrophe) {
      current += static_cast<char>(c);
    } else if (!current.empty()) {
      tokens.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) tokens.push_back(std::move(current));
  return tokens;
}

// ---- Vocabulary ------------------------------------------------------------------------------------

Vocabulary Vocabulary::build(const std::vector<std::vector<std::string>>& texts, int64_t min_freq,
                             int64_t max_size) {
  if (min_freq < 1) throw Error(msg("Vocabulary::build: min_freq must be >= 1, got ", min_freq));
  if (max_size != -1 && max_size < 2)
    throw Error(msg("Vocabulary::build: max_size must be -1 (no limit) or >= 2 (<pad> and <unk>), got ", max_size));
  std::map<std::string, int64_t> counts;  // sorted by token: the tie order below
  for (const auto& text : texts)
    for (const std::string& t : text) ++counts[t];
  std::vector<std::pair<std::string, int64_t>> kept;
  for (const auto& [token, n] : counts)
    if (n >= min_freq && token != "<pad>" && token != "<unk>") kept.emplace_back(token, n);
  // Most frequent first; stable, so equal counts stay in alphabetical order.
  std::stable_sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (max_size != -1 && static_cast<int64_t>(kept.size()) > max_size - 2) kept.resize(static_cast<size_t>(max_size - 2));

  Vocabulary v;
  v.tokens_ = {"<pad>", "<unk>"};
  v.counts_ = {0, 0};
  for (auto& [token, n] : kept) {
    v.tokens_.push_back(token);
    v.counts_.push_back(n);
  }
  for (size_t i = 0; i < v.tokens_.size(); ++i) v.ids_[v.tokens_[i]] = static_cast<int64_t>(i);
  return v;
}

int64_t Vocabulary::id(const std::string& token) const {
  const auto it = ids_.find(token);
  return it == ids_.end() ? kUnk : it->second;
}

const std::string& Vocabulary::token(int64_t id) const {
  if (id < 0 || id >= size())
    throw IndexError(msg("Vocabulary::token: id ", id, " is out of range for a vocabulary of ", size(), " tokens"));
  return tokens_[static_cast<size_t>(id)];
}

std::vector<int64_t> Vocabulary::encode(const std::vector<std::string>& tokens) const {
  std::vector<int64_t> ids;
  ids.reserve(tokens.size());
  for (const std::string& t : tokens) ids.push_back(id(t));
  return ids;
}

int64_t Vocabulary::count(const std::string& token) const {
  const auto it = ids_.find(token);
  return it == ids_.end() ? 0 : counts_[static_cast<size_t>(it->second)];
}

std::vector<int64_t> pad_to(std::vector<int64_t> ids, int64_t length, int64_t pad) {
  if (length < 1) throw Error(msg("pad_to: length must be >= 1, got ", length));
  ids.resize(static_cast<size_t>(length), pad);  // cuts a longer sequence, fills a shorter one
  return ids;
}

// ---- TextDataset -------------------------------------------------------------------------------------

namespace {
Example encode_all(const std::vector<std::string>& texts, const std::vector<int64_t>& labels,
                   const Vocabulary& vocabulary, int64_t length) {
  if (texts.size() != labels.size())
    throw Error(msg("TextDataset: ", texts.size(), " texts but ", labels.size(), " labels"));
  if (texts.empty()) throw Error("TextDataset: no texts");
  if (length < 1) throw Error(msg("TextDataset: length must be >= 1, got ", length));
  std::vector<int64_t> ids;
  ids.reserve(texts.size() * static_cast<size_t>(length));
  for (const std::string& text : texts) {
    const std::vector<int64_t> row = pad_to(vocabulary.encode(tokenize(text)), length);
    ids.insert(ids.end(), row.begin(), row.end());
  }
  const auto n = static_cast<int64_t>(texts.size());
  return {from_vector(ids, {n, length}), from_vector(labels, {n})};
}
}  // namespace

TextDataset::TextDataset(const std::vector<std::string>& texts, const std::vector<int64_t>& labels,
                         const Vocabulary& vocabulary, int64_t length)
    : TensorDataset(encode_all(texts, labels, vocabulary, length)), texts_(texts) {}

}  // namespace tandem::data
