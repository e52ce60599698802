// tests/test_data_text.cpp — text to tensors: the tokenizer, the vocabulary, padding, and the real
// movie-review set (its committed 400-line sample, tests/data/movie_reviews_sample.txt).
//
// Read next: tests/test_data_train.cpp (the sentiment model trained on these batches).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "core/ops.h"
#include "data/dataloader.h"
#include "data/movie_reviews.h"
#include "data/text.h"

using namespace tandem;
using namespace tandem::data;

namespace {
using Tokens = std::vector<std::string>;
const std::string kSample = std::string(TANDEM_SOURCE_DIR) + "/tests/data/movie_reviews_sample.txt";
}  // namespace

TEST_CASE("tokenize: lower case, words and inner apostrophes, no punctuation", "[data][text]") {
  // The first sentence of the movie-review set.
  CHECK(tokenize("The Rock is destined to be the 21st Century's new ''Conan''!") ==
        Tokens{"the", "rock", "is", "destined", "to", "be", "the", "21st", "century's", "new", "conan"});
  CHECK(tokenize("co writer/director Peter Jackson's") == Tokens{"co", "writer", "director", "peter", "jackson's"});
  CHECK(tokenize("don't -- it's 'quoted' well-made...") == Tokens{"don't", "it's", "quoted", "well", "made"});
  // UTF-8: the typographic apostrophe is an apostrophe, the en dash a separator, é a letter.
  CHECK(tokenize("We\u2019ve seen it \u2013 a caf\u00e9") == Tokens{"we've", "seen", "it", "a", "caf\u00e9"});
  CHECK(tokenize("").empty());
  CHECK(tokenize(" \t!!! ").empty());
}

TEST_CASE("Vocabulary: <pad> 0, <unk> 1, then by frequency with a cut-off", "[data][text]") {
  const std::vector<Tokens> texts = {{"good", "film"}, {"bad", "film"}, {"good", "good", "plot"}};
  // Counts: good 3, film 2, bad 1, plot 1.
  const Vocabulary all = Vocabulary::build(texts);
  CHECK(all.size() == 6);
  CHECK(all.token(0) == "<pad>");
  CHECK(all.token(1) == "<unk>");
  CHECK(all.token(2) == "good");
  CHECK(all.token(3) == "film");
  CHECK(all.token(4) == "bad");  // bad and plot tie at 1: alphabetical
  CHECK(all.token(5) == "plot");
  CHECK(all.count("good") == 3);
  const Vocabulary common = Vocabulary::build(texts, /*min_freq=*/2);
  CHECK(common.size() == 4);
  CHECK(common.encode({"good", "plot", "film", "awful"}) == std::vector<int64_t>{2, 1, 3, 1});
  const Vocabulary small = Vocabulary::build(texts, 1, /*max_size=*/3);
  CHECK(small.size() == 3);  // <pad>, <unk>, good
  CHECK_THROWS_AS(all.token(6), IndexError);
  CHECK_THROWS_WITH(Vocabulary::build(texts, 0), Catch::Contains("min_freq"));

  CHECK(pad_to({5, 6, 7}, 5) == std::vector<int64_t>{5, 6, 7, 0, 0});
  CHECK(pad_to({5, 6, 7}, 2) == std::vector<int64_t>{5, 6});
}

TEST_CASE("the movie-review sample loads, tokenizes, splits and batches", "[data][text]") {
  const std::vector<Review> reviews = read_movie_reviews(kSample);
  REQUIRE(reviews.size() == 400);
  CHECK(reviews[0].score >= -4);
  for (const Review& r : reviews) {
    CHECK(!r.text.empty());
    CHECK(r.text.back() != '\r');  // the CRLF line endings are gone
  }
  const SentimentData data = sentiment_datasets(reviews, {.length = 24, .min_freq = 2, .test_fraction = 0.25, .seed = 3});
  CHECK(data.train->size() == 300);
  CHECK(data.test->size() == 100);
  CHECK(data.vocabulary.token(0) == "<pad>");
  CHECK(data.vocabulary.id("the") == 2);  // the commonest word of English reviews
  // Labels: 1 exactly for the positive scores.
  int64_t positive = 0;
  for (const Review& r : reviews) positive += r.score > 0;
  const int64_t labelled = data.train->tensors()[1].sum().item<int64_t>() + data.test->tensors()[1].sum().item<int64_t>();
  CHECK(labelled == positive);
  // A text example: ids [24] int64, padded with 0 after the words.
  const Example e = data.train->get(0);
  CHECK(e[0].shape() == Shape{24});
  CHECK(e[0].dtype() == kInt64);
  const Tokens words = tokenize(data.train->texts()[0]);
  const auto ids = e[0].to_vector<int64_t>();
  for (size_t k = 0; k < 24; ++k)
    CHECK(ids[k] == (k < words.size() ? data.vocabulary.id(words[k]) : Vocabulary::kPad));
  // The same seed, the same split; the test set's words never entered the vocabulary's counts.
  const SentimentData again = sentiment_datasets(reviews, {.length = 24, .min_freq = 2, .test_fraction = 0.25, .seed = 3});
  CHECK(again.test->texts() == data.test->texts());
  // Batches of 32: [32, 24] ids and [32] labels.
  DataLoader loader(data.train, {.batch_size = 32, .shuffle = true});
  const Example batch = *loader.begin();
  CHECK(batch[0].shape() == Shape{32, 24});
  CHECK(batch[1].shape() == Shape{32});
}

TEST_CASE("read_movie_reviews refuses a missing or malformed file, naming it", "[data][text]") {
  CHECK_THROWS_WITH(read_movie_reviews("no/such/reviews.txt"),
                    Catch::Contains("no/such/reviews.txt") && Catch::Contains("scripts/setup --extras"));
  const std::filesystem::path bad = std::filesystem::path(TANDEM_BINARY_DIR) / "bad_reviews.txt";
  auto write = [&](const std::string& text) { std::ofstream(bad, std::ios::binary) << text; };
  write("1\t0.5\tfine\r\n2\tlots\tnot a score\r\n");
  CHECK_THROWS_WITH(read_movie_reviews(bad.string()), Catch::Contains("bad_reviews.txt:2") && Catch::Contains("'lots'"));
  write("1\t9.5\ttoo high\n");
  CHECK_THROWS_WITH(read_movie_reviews(bad.string()), Catch::Contains("from -4 to 4"));
  write("1 0.5 spaces, no tabs\n");
  CHECK_THROWS_WITH(read_movie_reviews(bad.string()), Catch::Contains("three tab-separated fields"));
  write("\r\n\n");
  CHECK_THROWS_WITH(read_movie_reviews(bad.string()), Catch::Contains("holds no reviews"));
  std::filesystem::remove(bad);
  // The full set, when scripts/setup --extras has fetched it.
  if (std::filesystem::exists(movie_reviews_path())) {
    const auto all = read_movie_reviews();
    CHECK(all.size() == 10605);
  } else {
    WARN("the full movie-review set is not fetched (scripts/setup --extras): checked the sample only");
  }
}
