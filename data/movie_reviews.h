// data/movie_reviews.h — a real labelled text set: 10,605 movie-review sentences scored by people.
//
// Hutto and Gilbert built it to test VADER, a sentiment analyser (ICWSM 2014, MIT licence):
// snippets of reviews from rottentomatoes.com, each rated by 20 people from −4 (very negative) to
// +4 (very positive), averaged. One line per sentence, tab-separated:
//     1 <TAB> 2.26666666667 <TAB> The Rock is destined to be the 21st Century's new ''Conan'' ...
// It travels inside the source distribution of the vaderSentiment package on PyPI, which
// `scripts/setup --extras` downloads and unpacks into the data folder:
//     $TANDEM_DATA_DIR, else $XDG_CACHE_HOME/tandem, else ~/.cache/tandem
//         vaderSentiment/movieReviewSnippets_GroundTruth.txt
// tests/data/movie_reviews_sample.txt holds 400 of its lines (scripts/make_data_samples) for tests.
//
// The seed article's sentiment model wants a binary label: positive when the score is > 0.
// sentiment_datasets() makes the train and test TextDatasets (data/text.h) from the reviews: a
// seeded split first, then the vocabulary from the *training* sentences only — building it from
// all of them would leak the test set's words into training.
//
// Read next: tests/test_data_text.cpp.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "data/text.h"

namespace tandem::data {

// Where downloaded data sets live: $TANDEM_DATA_DIR, else $XDG_CACHE_HOME/tandem, else
// $HOME/.cache/tandem (like torchvision's and Hugging Face's caches).
std::string data_dir();
// data_dir() + "/vaderSentiment/movieReviewSnippets_GroundTruth.txt".
std::string movie_reviews_path();

struct Review {
  int64_t id;
  double score;  // −4 .. +4, the mean of 20 ratings
  std::string text;
};

// Every line of the file. A missing file names the command that fetches it; a malformed line is
// an Error naming the file and the line.
std::vector<Review> read_movie_reviews(const std::string& path = movie_reviews_path());

struct SentimentOptions {
  int64_t length = 32;         // tokens per sentence after pad_to (the sentences average ~21)
  int64_t min_freq = 2;        // rarer words become <unk>
  int64_t max_vocab = 10000;   // the seed's Embedding(10000, ...)
  double test_fraction = 0.2;  // of the reviews, held out
  uint64_t seed = 0;           // of the split
};

struct SentimentData {
  Vocabulary vocabulary;  // from the training sentences
  std::shared_ptr<TextDataset> train, test;  // labels: 1 if score > 0, else 0
};

SentimentData sentiment_datasets(const std::vector<Review>& reviews, const SentimentOptions& options = {});

}  // namespace tandem::data
