// tests/test_data_train.cpp — batches from both styles of pipeline feeding both executors.
//
// DESIGN.md's promise, "same seed, same initial weights, same data order: the same losses in both
// modes", tested where the data order comes from a loader: a small MLP trains a few steps on the
// committed Fashion-MNIST sample, eagerly (the batch tensors go straight into the ops) and as a
// graph (the same batches fed to placeholders through Session::run), with a DataLoader and with a
// tf.data-style Pipeline. Then the seed article's sentiment model — an embedding, a mean over the
// words, a linear layer and a sigmoid — trains on the movie-review sample the same way.
//
// Read next: bench/bench_dataloader.cpp (how fast the loader is).
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>

#include "data/data.h"
#include "tandem.h"
#include "tests/run_program.h"

using namespace tandem;
namespace g = tandem::graph;

namespace {

const std::string kFashionSample = std::string(TANDEM_SOURCE_DIR) + "/tests/data/fashion-mnist-sample";
constexpr double kLr = 0.1;

// nn.Linear's initialisation, uniform in ±1/sqrt(fan_in), as [in, out] weights and [out] biases.
std::vector<Tensor> linear_weights(const std::vector<std::pair<int64_t, int64_t>>& layers, uint64_t seed) {
  manual_seed(seed);
  std::vector<Tensor> p;
  for (auto [in, out] : layers) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    p.push_back((rand({in, out}) * 2 - 1) * bound);
    p.push_back((rand({out}) * 2 - 1) * bound);
  }
  return p;
}

template <class T> T mlp(const T& images, const std::vector<T>& p) {
  const T x = reshape(images, {-1, 784});  // [B, 1, 28, 28] -> [B, 784]
  return matmul(relu(matmul(x, p[0]) + p[1]), p[2]) + p[3];
}

// The seed's sentiment model: Embedding -> mean over the words -> Linear -> (sigmoid in the loss).
// ids [B, L]; p = {embedding [V, D], w [D, 1], b [1]}. Returns the logits [B].
template <class T> T sentiment(const T& ids, const std::vector<T>& p, int64_t length, int64_t dim) {
  const T vectors = reshape(index_select(p[0], 0, flatten(ids)), {-1, length, dim});  // embedding lookup
  return reshape(matmul(mean(vectors, {1}), p[1]) + p[2], {-1});
}

// Binary cross-entropy on logits z, stable for large |z|:
//   -[y log σ(z) + (1-y) log(1-σ(z))] = max(z, 0) - z·y + log(1 + e^-|z|)
template <class T> T bce_with_logits(const T& z, const T& y) { return mean(relu(z) - z * y + log(1 + exp(-abs(z)))); }

using Batches = std::function<std::vector<data::Example>()>;
using EagerModel = std::function<Tensor(const Tensor&, const std::vector<Tensor>&)>;
using GraphModel = std::function<g::Output(const g::Output&, const std::vector<g::Output>&)>;
using EagerLoss = std::function<Tensor(const Tensor&, const Tensor&)>;
using GraphLoss = std::function<g::Output(const g::Output&, const g::Output&)>;

// One pass of SGD over `batches`, eagerly: the losses, step by step.
std::vector<double> train_eager(const std::vector<data::Example>& batches, std::vector<Tensor> init,
                                const EagerModel& model, const EagerLoss& loss_fn) {
  for (Tensor& w : init) w = w.clone().requires_grad_();
  optim::SGD opt(init, {.lr = kLr});
  std::vector<double> losses;
  for (const data::Example& b : batches) {
    opt.zero_grad();
    Tensor loss = loss_fn(model(b[0], init), b[1]);
    loss.backward();
    opt.step();
    losses.push_back(loss.item());
  }
  return losses;
}

// The same in graph mode: the batches go to placeholders.
std::vector<double> train_graph(const std::vector<data::Example>& batches, const std::vector<Tensor>& init,
                                const GraphModel& model, const GraphLoss& loss_fn) {
  g::Graph graph;
  g::DefaultGraph use(graph);
  Shape x_shape = batches[0][0].shape(), y_shape = batches[0][1].shape();
  x_shape[0] = y_shape[0] = -1;  // the batch size is unknown: the last batch may be short
  const g::Output x = g::placeholder(batches[0][0].dtype(), x_shape, "x");
  const g::Output y = g::placeholder(batches[0][1].dtype(), y_shape, "y");
  std::vector<g::Output> p;
  for (const Tensor& w : init) p.push_back(g::Variable(w));
  const g::Output loss = loss_fn(model(x, p), y);
  const g::Output train_op = g::train::GradientDescentOptimizer(kLr).minimize(loss);
  g::Session sess(graph);
  sess.run(g::global_variables_initializer());
  std::vector<double> losses;
  for (const data::Example& b : batches) losses.push_back(sess.run({loss, train_op}, {{x, b[0]}, {y, b[1]}})[0].item());
  return losses;
}

void check_same(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) CHECK(a[i] == Approx(b[i]).epsilon(1e-5));
}

std::vector<data::Example> one_epoch(data::DataLoader& loader, int64_t epoch) {
  loader.set_epoch(epoch);
  std::vector<data::Example> out;
  for (const data::Example& b : loader) out.push_back(b);
  return out;
}

}  // namespace

TEST_CASE("a DataLoader's batches train the same in eager and graph mode", "[data][train][threads]") {
  using namespace data;
  auto train = share(FashionMnistDataset(FashionMnistDataset::Split::train,
                                         {.dir = kFashionSample, .validation_size = 60,
                                          .transform = transforms::Normalize({0.2860}, {0.3530})}));
  REQUIRE(train->size() == 240);
  DataLoader loader(train, {.batch_size = 32, .shuffle = true, .drop_last = true, .seed = 4});
  const auto batches = one_epoch(loader, 1);
  REQUIRE(batches.size() == 7);
  // The same epoch made by two worker threads: the same batches.
  DataLoader parallel(train, {.batch_size = 32, .shuffle = true, .drop_last = true, .num_workers = 2, .seed = 4});
  const auto parallel_batches = one_epoch(parallel, 1);
  for (size_t k = 0; k < batches.size(); ++k) {
    CHECK(equal(parallel_batches[k][0], batches[k][0]));
    CHECK(equal(parallel_batches[k][1], batches[k][1]));
  }

  const auto init = linear_weights({{784, 32}, {32, 10}}, 0);
  const auto eager = train_eager(batches, init, mlp<Tensor>, cross_entropy<Tensor>);
  const auto graph = train_graph(batches, init, mlp<g::Output>, cross_entropy<g::Output>);
  check_same(eager, graph);
  CHECK(eager.back() < eager.front());  // it learns
}

TEST_CASE("a Pipeline's batches train the same in eager and graph mode", "[data][train][threads]") {
  using namespace data;
  const FashionMnist sample = load_fashion_mnist(/*train=*/true, kFashionSample);
  const auto normalize = [](const Example& e) { return Example{(e[0] - 0.2860) / 0.3530, e[1]}; };
  const Pipeline ds = Pipeline::from_tensor_slices({sample.images, sample.labels})
                          .shuffle(300, /*seed=*/2)
                          .map(normalize)
                          .batch(50)
                          .prefetch(2);
  const auto batches = ds.collect(/*pass=*/0);
  REQUIRE(batches.size() == 6);
  CHECK(batches[0][0].shape() == Shape{50, 28, 28});
  const auto init = linear_weights({{784, 32}, {32, 10}}, 1);
  const auto eager = train_eager(batches, init, mlp<Tensor>, cross_entropy<Tensor>);
  const auto graph = train_graph(batches, init, mlp<g::Output>, cross_entropy<g::Output>);
  check_same(eager, graph);
  CHECK(eager.back() < eager.front());
}

TEST_CASE("the seed's sentiment model trains on the movie-review sample in both modes", "[data][train]") {
  using namespace data;
  const auto reviews = read_movie_reviews(std::string(TANDEM_SOURCE_DIR) + "/tests/data/movie_reviews_sample.txt");
  constexpr int64_t kLength = 24, kDim = 16;
  const SentimentData data = sentiment_datasets(reviews, {.length = kLength, .min_freq = 1, .seed = 0});
  // Labels as float for the binary cross-entropy: a collate of our own.
  auto float_labels = [](const std::vector<Example>& examples) {
    Example batch = collate(examples);
    batch[1] = batch[1].to(kFloat32);
    return batch;
  };
  DataLoader loader(data.train, {.batch_size = 40, .shuffle = true, .seed = 0, .collate = float_labels});
  std::vector<Example> batches;
  for (int epoch = 0; epoch < 3; ++epoch)
    for (const Example& b : loader) batches.push_back(b);
  REQUIRE(batches.size() == 24);  // 320 training sentences / 40, three epochs

  manual_seed(5);
  const int64_t vocab = data.vocabulary.size();
  const std::vector<Tensor> init = {randn({vocab, kDim}) * 0.5, linear_weights({{kDim, 1}}, 6)[0],
                                    linear_weights({{kDim, 1}}, 6)[1]};
  const auto eager = train_eager(
      batches, init, [&](const Tensor& ids, const std::vector<Tensor>& p) { return sentiment(ids, p, kLength, kDim); },
      bce_with_logits<Tensor>);
  const auto graph = train_graph(
      batches, init,
      [&](const g::Output& ids, const std::vector<g::Output>& p) { return sentiment(ids, p, kLength, kDim); },
      bce_with_logits<g::Output>);
  check_same(eager, graph);
  CHECK(eager.front() == Approx(std::log(2.0)).margin(0.1));  // near chance at the start
}

TEST_CASE("examples/07_data translates the seed's data slide and trains both ways", "[data][examples]") {
  const std::string out = run_ok(std::string(TANDEM_BINARY_DIR) + "/07_data " + kFashionSample);
  INFO(out);
  CHECK(out.find("TensorFlow batch (first 8 of 32): tensor([0, 1, 2, 3, 4, 5, 6, 7])") != std::string::npos);
  CHECK(out.find("and tensor([ 0,  2,  4,  6,  8, 10, 12, 14])") != std::string::npos);
  CHECK(out.find("PyTorch batch (first 4 of 32 rows)") != std::string::npos);
  // Every printed step shows the same loss in both columns.
  int rows = 0;
  for (size_t at = out.find("workers)\n"); at != std::string::npos && at + 1 < out.size();) {
    const size_t end = out.find('\n', at + 1);
    if (end == std::string::npos) break;
    unsigned step = 0;
    double eager = 0, graph = 0;
    if (std::sscanf(out.c_str() + at + 1, "%u %lf %lf", &step, &eager, &graph) == 3) {
      CHECK(eager == Approx(graph).epsilon(1e-3));
      ++rows;
    }
    at = end;
  }
  CHECK(rows >= 1);  // the 300-image sample makes 5 batches: step 5 is printed
}
