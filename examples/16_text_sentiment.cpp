// examples/16_text_sentiment.cpp — seed-004's sentiment model on real movie reviews, both ways.
//
// Seed-004's "Natural Language Processing" slide defines one model in each framework —
// Keras's Sequential([Embedding(10000, 100), GlobalAveragePooling1D(), Dense(1, 'sigmoid')]) and
// PyTorch's Embedding -> x.mean(dim=1) -> Linear -> Sigmoid — and runs it on random ids. Here it
// learns something: the 10,605 rated movie-review sentences of data/movie_reviews.h, labelled
// positive when people scored them above 0. The model (tests/seed_models.h, SentimentModel) is
// trained twice from ONE seed — the same initial weights, the same shuffled batches:
//   - eager, PyTorch's loop: zero_grad, forward, binary_cross_entropy, backward, step;
//   - as a TensorFlow 1 graph: placeholders for the ids and labels, AdamOptimizer.minimize,
//     Session::run per batch;
// and the two print the same losses and test accuracies, epoch by epoch. Then sentences of your
// own (--sentence "...", or --stdin, one per line) are scored by both.
//
// The model is a "bag of embeddings": it averages one learned vector per word, so it sees which
// words occur, not their order — "not good" and "good, not" are the same bag. On this set such
// models reach about 75-78% (docs/demos/16_text_sentiment.md has the figure this demo reaches);
// models that read word order (CNNs, LSTMs, transformers) reach 80-90%.
//
//   usage: 16_text_sentiment [--reviews FILE] [--epochs N] [--sentence TEXT]... [--stdin]
//     --reviews   the tab-separated review file (default: the full set, data::movie_reviews_path();
//                 scripts/setup --extras fetches it; tests/data/movie_reviews_sample.txt is 400 lines)
//     --epochs    passes over the training sentences (8)
//
// Read next: data/text.h (tokens, vocabulary, padding), layers/embedding.h (a lookup as
// index_select, its gradient a scatter-add), layers/losses.h (binary cross-entropy).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "tandem.h"
#include "tests/seed_models.h"

using namespace tandem;
namespace g = tandem::graph;
namespace F = tandem::nn::functional;

namespace {

struct Options {
  std::string reviews = data::movie_reviews_path();
  int64_t epochs = 8;
  std::vector<std::string> sentences;
  bool read_stdin = false;
};

const char* const kUsage = "usage: 16_text_sentiment [--reviews FILE] [--epochs N] [--sentence TEXT]... [--stdin]";

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw Error(msg(arg, " needs a value\n", kUsage));
      return argv[++i];
    };
    if (arg == "--reviews") {
      o.reviews = value();
    } else if (arg == "--epochs") {
      const std::string v = value();
      char* end = nullptr;
      o.epochs = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || o.epochs < 1)
        throw Error(msg("--epochs takes a positive whole number, got '", v, "'\n", kUsage));
    } else if (arg == "--sentence") {
      o.sentences.push_back(value());
    } else if (arg == "--stdin") {
      o.read_stdin = true;
    } else if (arg == "--help" || arg == "-h") {
      std::cout << kUsage << '\n';  // asked for: not an error
      std::exit(0);
    } else {
      throw Error(msg("unknown argument ", arg, "\n", kUsage));
    }
  }
  return o;
}

constexpr int64_t kEmbeddingDim = 100;  // the seed's Embedding(10000, 100)
constexpr int64_t kBatch = 64;
constexpr double kLr = 3e-3;

// The labels as the loss wants them: [N] int64 0/1 -> [N, 1] float32, the model's output shape.
Tensor as_targets(const Tensor& labels) { return labels.to(kFloat32).unsqueeze(1); }

// Accuracy of probabilities p [N, 1] against 0/1 labels: a sentence is called positive when p > 0.5.
double accuracy(const Tensor& p, const Tensor& labels) {
  return mean(to(eq(to(p > 0.5, kInt64).squeeze(1), labels), kFloat32)).item();
}

struct Run {
  std::vector<double> losses, test_accuracies;  // per epoch
};

// ---- eager: PyTorch's loop --------------------------------------------------------------------------
Run train_eagerly(seeds::SentimentModel& model, data::DataLoader& loader, const Tensor& test_ids,
                  const Tensor& test_labels, int64_t epochs) {
  optim::Adam optimizer(model->parameters(), {.lr = kLr});  // optim.Adam(model.parameters(), lr=3e-3)
  Run run;
  for (int64_t e = 0; e < epochs; ++e) {
    double total = 0;
    int64_t seen = 0;
    for (const data::Example& batch : loader) {
      optimizer.zero_grad();
      Tensor loss = F::binary_cross_entropy(model(batch[0]), as_targets(batch[1]));  // nn.BCELoss()
      loss.backward();
      optimizer.step();
      total += loss.item() * static_cast<double>(batch[0].size(0));
      seen += batch[0].size(0);
    }
    no_grad guard;
    run.losses.push_back(total / static_cast<double>(seen));
    run.test_accuracies.push_back(accuracy(model(test_ids), test_labels));
  }
  return run;
}

// ---- graph: TensorFlow 1's loop ----------------------------------------------------------------------
struct SentimentGraph {
  g::Output ids, targets, probability, loss, train_op;
};

SentimentGraph build_graph(seeds::SentimentModel& model, int64_t length) {
  SentimentGraph s;
  s.ids = g::placeholder(kInt64, {-1, length}, "ids");             // tf.placeholder(tf.int64, [None, 32])
  s.targets = g::placeholder(kFloat32, {-1, 1}, "targets");
  s.probability = model(s.ids);                                    // the same model, adding nodes
  s.loss = F::binary_cross_entropy(s.probability, s.targets);
  s.train_op = g::train::AdamOptimizer(kLr).minimize(s.loss);      // tf.train.AdamOptimizer(3e-3).minimize
  return s;
}

Run train_as_graph(const SentimentGraph& s, g::Session& session, data::DataLoader& loader, const Tensor& test_ids,
                   const Tensor& test_labels, int64_t epochs) {
  Run run;
  for (int64_t e = 0; e < epochs; ++e) {
    double total = 0;
    int64_t seen = 0;
    for (const data::Example& batch : loader) {
      const auto out = session.run({s.train_op, s.loss}, {{s.ids, batch[0]}, {s.targets, as_targets(batch[1])}});
      total += out[1].item() * static_cast<double>(batch[0].size(0));
      seen += batch[0].size(0);
    }
    run.losses.push_back(total / static_cast<double>(seen));
    run.test_accuracies.push_back(accuracy(session.run(s.probability, {{s.ids, test_ids}}), test_labels));
  }
  return run;
}

// The sentences to score: the flags', stdin's, or (with neither) a few of our own.
std::vector<std::string> sentences_to_score(const Options& o) {
  std::vector<std::string> out = o.sentences;
  if (o.read_stdin) {
    const bool typing = isatty(STDIN_FILENO);
    if (typing) std::printf("Type sentences, one per line; an empty line or Ctrl-D ends.\n> ");
    std::fflush(stdout);
    for (std::string line; std::getline(std::cin, line);) {
      if (line.empty() && typing) break;
      if (!line.empty()) out.push_back(line);
      if (typing) std::printf("> "), std::fflush(stdout);
    }
  }
  if (out.empty())
    out = {"A gorgeous, moving film with a wonderful cast.", "Dull, predictable and far too long.",
           "The plot is thin but the actors are charming.", "not good", "good, not"};
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = parse(argc, argv);
    if (!std::filesystem::exists(o.reviews))
      throw Error(msg("the movie-review set is not at ", o.reviews, ". Fetch the full set with `scripts/setup --extras`, "
                      "or run on the committed sample: --reviews tests/data/movie_reviews_sample.txt"));
    const std::vector<data::Review> reviews = data::read_movie_reviews(o.reviews);
    const data::SentimentOptions text_options;  // 32 tokens, words seen twice, <= 10000 ids, 20% held out
    const data::SentimentData sets = data::sentiment_datasets(reviews, text_options);
    const Tensor test_ids = sets.test->tensors()[0], test_labels = sets.test->tensors()[1];
    std::printf("%zu movie-review sentences (%s): %lld to train on, %lld held out; a vocabulary of %lld words\n"
                "from the training sentences; each sentence cut or padded to %lld ids. Positive: %.1f%%.\n\n",
                reviews.size(), o.reviews.c_str(), static_cast<long long>(sets.train->size()),
                static_cast<long long>(sets.test->size()), static_cast<long long>(sets.vocabulary.size()),
                static_cast<long long>(text_options.length),
                100 * sets.train->tensors()[1].to(kFloat32).mean().item());

    manual_seed(0);  // ONE seed: both modes start from these weights
    seeds::SentimentModel model(sets.vocabulary.size(), kEmbeddingDim);
    const StateDict initial = model->state_dict().clone();
    std::cout << "  print(model):\n" << model << "\n\n";
    // The same shuffled batches for both: the loader's order depends only on its seed and the epoch.
    data::DataLoader loader(sets.train, {.batch_size = kBatch, .shuffle = true, .seed = 7});

    const Run eager = train_eagerly(model, loader, test_ids, test_labels, o.epochs);
    const StateDict eager_weights = model->state_dict().clone();

    model->load_state_dict(initial);  // the graph's Variables start from the same weights
    g::Graph graph;
    g::DefaultGraph use(graph);
    const SentimentGraph s = build_graph(model, text_options.length);
    g::Session session(graph);
    session.run(g::global_variables_initializer(graph));
    loader.set_epoch(0);  // the loader counts its passes; the graph's first epoch sees eager's first order
    const Run as_graph = train_as_graph(s, session, loader, test_ids, test_labels, o.epochs);
    model->load_state_dict(eager_weights);  // the module holds the eager result; the session the graph's

    std::printf("  epoch   eager loss   graph loss   eager test acc   graph test acc\n");
    double worst = 0;
    for (int64_t e = 0; e < o.epochs; ++e) {
      const auto i = static_cast<size_t>(e);
      worst = std::max(worst, std::abs(eager.losses[i] - as_graph.losses[i]));
      std::printf("  %5lld   %10.6f   %10.6f   %13.2f%%   %13.2f%%\n", static_cast<long long>(e + 1), eager.losses[i],
                  as_graph.losses[i], 100 * eager.test_accuracies[i], 100 * as_graph.test_accuracies[i]);
    }
    std::printf("\n  test accuracy after %lld epochs: eager %.2f%%, graph %.2f%% (%lld sentences; always saying the\n"
                "  commoner label would score %.2f%%); largest difference between the loss columns: %.1e\n",
                static_cast<long long>(o.epochs), 100 * eager.test_accuracies.back(),
                100 * as_graph.test_accuracies.back(), static_cast<long long>(test_labels.numel()),
                100 * std::max(test_labels.to(kFloat32).mean().item(), 1 - test_labels.to(kFloat32).mean().item()),
                worst);

    // ---- your sentences, scored both ways -----------------------------------------------------------
    std::printf("\n  p(positive)   eager    graph    sentence (words the vocabulary lacks, as <unk>)\n");
    for (const std::string& sentence : sentences_to_score(o)) {
      const std::vector<std::string> tokens = data::tokenize(sentence);
      const std::vector<int64_t> ids = data::pad_to(sets.vocabulary.encode(tokens), text_options.length);
      const Tensor x = from_vector(ids, {1, text_options.length});  // a batch of one: [1, 32]
      double pe = 0;
      {
        no_grad guard;
        pe = model(x).item();                                          // torch_model(torch_input).item()
      }
      const double pg = session.run(s.probability, {{s.ids, x}}).item();  // tf_model.predict(input)[0][0]
      std::string unknown;
      for (const std::string& t : tokens)
        if (sets.vocabulary.id(t) == data::Vocabulary::kUnk) unknown += (unknown.empty() ? "" : ", ") + t;
      std::printf("  %-9s   %7.4f  %7.4f   \"%s\"%s%s%s\n", pe > 0.5 ? "positive" : "negative", pe, pg, sentence.c_str(),
                  unknown.empty() ? "" : " (", unknown.c_str(), unknown.empty() ? "" : ")");
    }
    std::printf("\nWhat differed:\n"
                "  - between the modes, not the numbers: eager computed each batch as its line ran and recorded a\n"
                "    tape for backward(); the graph was built once (its gradient and Adam's updates are nodes, %zu\n"
                "    in all) and each Session::run only fed a batch;\n"
                "  - from the seed's slide: real sentences and labels instead of random ids, a vocabulary of %lld\n"
                "    words instead of 10000, %lld ids per sentence instead of 100; the model is the slide's;\n"
                "  - from a reader of sentences: a bag of embeddings averages word vectors, so order is lost —\n"
                "    \"not good\" and \"good, not\" score the same — and a sentence longer than %lld words is cut.\n",
                graph.nodes().size(), static_cast<long long>(sets.vocabulary.size()),
                static_cast<long long>(text_options.length), static_cast<long long>(text_options.length));
  } catch (const Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
