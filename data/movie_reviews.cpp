// data/movie_reviews.cpp — reading the tab-separated file without trusting it; the seeded split.
#include "data/movie_reviews.h"

#include <charconv>
#include <string_view>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "data/random.h"

namespace tandem::data {

std::string data_dir() {
  if (const char* d = std::getenv("TANDEM_DATA_DIR"); d && *d) return d;
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d && *d) return std::string(d) + "/tandem";
  if (const char* d = std::getenv("HOME"); d && *d) return std::string(d) + "/.cache/tandem";
  return ".cache/tandem";
}

std::string movie_reviews_path() { return data_dir() + "/vaderSentiment/movieReviewSnippets_GroundTruth.txt"; }

namespace {

// The file is 1.3 MB; anything far larger is not it.
constexpr uintmax_t kMaxFileBytes = uintmax_t{1} << 28;

std::string read_all(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw Error(msg("read_movie_reviews: ", path, " does not exist. Fetch the movie-review set (from the "
                    "vaderSentiment package on PyPI) with `scripts/setup --extras`, or pass the path of "
                    "movieReviewSnippets_GroundTruth.txt"));
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec || size > kMaxFileBytes)
    throw Error(msg("read_movie_reviews: ", path, " is ", ec ? "unreadable" : msg(size, " bytes, too large to be the review file")));
  std::string bytes(static_cast<size_t>(size), '\0');
  std::ifstream in(path, std::ios::binary);
  if (!in.read(bytes.data(), static_cast<std::streamsize>(bytes.size())))
    throw Error(msg("read_movie_reviews: cannot read ", path));
  return bytes;
}

template <typename T> bool parse_number(std::string_view field, T& out) {
  const auto [end, err] = std::from_chars(field.data(), field.data() + field.size(), out);
  return err == std::errc() && end == field.data() + field.size();
}

}  // namespace

std::vector<Review> read_movie_reviews(const std::string& path) {
  const std::string bytes = read_all(path);
  std::vector<Review> reviews;
  size_t start = 0;
  for (int64_t line_no = 1; start < bytes.size(); ++line_no) {
    size_t end = bytes.find('\n', start);
    if (end == std::string::npos) end = bytes.size();
    std::string_view line(bytes.data() + start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // the file has CRLF endings
    if (line.empty()) continue;
    auto bad = [&](const std::string& why) {
      return Error(msg("read_movie_reviews: ", path, ":", line_no, ": ", why,
                       "; expected <id> TAB <score -4..4> TAB <sentence>"));
    };
    const size_t tab1 = line.find('\t');
    const size_t tab2 = tab1 == std::string_view::npos ? tab1 : line.find('\t', tab1 + 1);
    if (tab2 == std::string_view::npos) throw bad("fewer than three tab-separated fields");
    Review r;
    if (!parse_number(line.substr(0, tab1), r.id)) throw bad(msg("the id '", line.substr(0, tab1), "' is not an integer"));
    const std::string_view score = line.substr(tab1 + 1, tab2 - tab1 - 1);
    if (!parse_number(score, r.score) || !std::isfinite(r.score) || r.score < -4 || r.score > 4)
      throw bad(msg("the score '", score, "' is not a number from -4 to 4"));
    r.text = std::string(line.substr(tab2 + 1));
    reviews.push_back(std::move(r));
  }
  if (reviews.empty()) throw Error(msg("read_movie_reviews: ", path, " holds no reviews"));
  return reviews;
}

SentimentData sentiment_datasets(const std::vector<Review>& reviews, const SentimentOptions& options) {
  if (!(options.test_fraction > 0 && options.test_fraction < 1))
    throw Error(msg("sentiment_datasets: test_fraction must be between 0 and 1, got ", options.test_fraction));
  const auto n = static_cast<int64_t>(reviews.size());
  const auto n_test = static_cast<int64_t>(std::llround(options.test_fraction * static_cast<double>(n)));
  if (n_test < 1 || n_test >= n)
    throw Error(msg("sentiment_datasets: ", n, " reviews cannot be split ", 1 - options.test_fraction, " / ",
                    options.test_fraction, " with examples on both sides"));
  // The split: a seeded permutation; its first n_test indices are the test set.
  const std::vector<int64_t> order = permutation(n, options.seed);
  std::vector<std::string> texts[2];
  std::vector<int64_t> labels[2];
  for (int64_t k = 0; k < n; ++k) {
    const Review& r = reviews[static_cast<size_t>(order[static_cast<size_t>(k)])];
    const int side = k < n_test ? 1 : 0;  // 0: train, 1: test
    texts[side].push_back(r.text);
    labels[side].push_back(r.score > 0 ? 1 : 0);
  }
  std::vector<std::vector<std::string>> train_tokens;
  for (const std::string& t : texts[0]) train_tokens.push_back(tokenize(t));
  SentimentData out;
  out.vocabulary = Vocabulary::build(train_tokens, options.min_freq, options.max_vocab);
  out.train = std::make_shared<TextDataset>(texts[0], labels[0], out.vocabulary, options.length);
  out.test = std::make_shared<TextDataset>(texts[1], labels[1], out.vocabulary, options.length);
  return out;
}

}  // namespace tandem::data
