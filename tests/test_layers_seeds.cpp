// tests/test_layers_seeds.cpp — the seed articles' models, defined with layers/ and trained in both modes.
//
// The models are in tests/seed_models.h, translated line by line from the articles. Here each one
// is used the way its article uses it — Keras's Sequential with summary(), PyTorch's Module with
// print(model), the training step of both frameworks — and the central promise is checked: one
// model object, trained eagerly (PyTorch's loop) and as a graph (TensorFlow 1's loop) from the same
// seed, gives the same losses step by step, dropout masks and batch statistics included.
//
// Read next: examples/06_convnet.cpp (the ConvNet on Fashion-MNIST, both ways).
#include <catch2/catch.hpp>

#include "autograd/grad_mode.h"
#include "graph/gradients.h"
#include "optim/optim.h"
#include "optim/train.h"
#include "tests/layers_check.h"
#include "tests/seed_models.h"

using namespace tandem;
namespace g = tandem::graph;
namespace F = tandem::nn::functional;
using namespace tandem::keras::layers;

namespace {

const std::map<std::string, std::string>& texts() {
  static const auto all = testing::load_text_fixtures("layers_text.txt");
  return all;
}

// The state of a model, copied (state_dict() hands out the live tensors).
StateDict snapshot(const nn::Module& m) { return m.state_dict().clone(); }

// PyTorch's training loop, `steps` times on the batches, with SGD: the losses.
template <class Loss>
std::vector<double> train_eagerly(nn::Module& model, const std::vector<std::pair<Tensor, Tensor>>& batches, double lr,
                                  Loss loss_fn) {
  optim::SGD optimizer(model.parameters(), {.lr = lr});
  std::vector<double> losses;
  for (const auto& [x, y] : batches) {
    optimizer.zero_grad();                 // optimizer.zero_grad()
    Tensor loss = loss_fn(model.call(x), y);  // loss = criterion(model(inputs), labels)
    loss.backward();                       // loss.backward()
    optimizer.step();                      // optimizer.step()
    losses.push_back(loss.item());
  }
  return losses;
}

// TensorFlow 1's: the loss and minimize() built once on placeholders, then Session::run per batch.
template <class Loss>
std::vector<double> train_as_graph(nn::Module& model, const std::vector<std::pair<Tensor, Tensor>>& batches, double lr,
                                   Loss loss_fn, g::Graph& graph, Shape x_shape, DType y_dtype, Shape y_shape) {
  g::DefaultGraph use(graph);
  x_shape[0] = kUnknown;
  y_shape[0] = kUnknown;
  const g::Output x = g::placeholder(batches[0].first.dtype(), x_shape, "x");
  const g::Output y = g::placeholder(y_dtype, y_shape, "y");
  const g::Output loss = loss_fn(model.call(x), y);
  const g::Output train_op = g::train::GradientDescentOptimizer(lr).minimize(loss);
  g::Session session(graph);
  session.run(g::global_variables_initializer(graph));
  std::vector<double> losses;
  for (const auto& [xb, yb] : batches) losses.push_back(session.run({train_op, loss}, {{x, xb}, {y, yb}})[1].item());
  model.copy_from(session);
  return losses;
}

void check_same_losses(const std::vector<double>& eager, const std::vector<double>& graph, double rel = 1e-4) {
  REQUIRE(eager.size() == graph.size());
  for (size_t i = 0; i < eager.size(); ++i) {
    INFO("step " << i);
    CHECK(graph[i] == Approx(eager[i]).epsilon(rel));
  }
}

}  // namespace

// ---- seed-004, "Model Definition: Sequential vs. Module" ---------------------------------------------

TEST_CASE("seed-004: the Keras Sequential, Dense 10-64-32-1, and its summary()", "[layers][seed][keras]") {
  manual_seed(0);
  // tf_model = tf.keras.Sequential([
  keras::Sequential tf_model({
      Dense(64, "relu", Shape{10}),  //     tf.keras.layers.Dense(64, activation='relu', input_shape=(10,)),
      Dense(32, "relu"),             //     tf.keras.layers.Dense(32, activation='relu'),
      Dense(1, "sigmoid"),           //     tf.keras.layers.Dense(1, activation='sigmoid')
  });                                // ])
  // print("TensorFlow model summary:"); tf_model.summary()
  CHECK(tf_model->summary() == texts().at("summary_seed_keras_mlp") + "\n");
  // Built from the input_shape, as Keras builds: every kernel exists before any data.
  CHECK(tf_model->at<DenseImpl>(1)->kernel.shape() == Shape{64, 32});
  CHECK(tf_model->parameters().size() == 6);
  const Tensor p = tf_model(rand({5, 10}));
  CHECK(p.shape() == Shape{5, 1});
  CHECK((p.min().item() > 0 && p.max().item() < 1));
}

TEST_CASE("seed-004: the PyTorch Module, print(model), and the training step in both modes", "[layers][seed]") {
  manual_seed(1);
  seeds::PyTorchModel torch_model;  // torch_model = PyTorchModel()
  std::ostringstream printed;
  printed << torch_model;  // print(torch_model)
  CHECK(printed.str() == texts().at("print_seed_mlp"));

  // The article's train_step_torch / train_step_tf, on a toy task: is the sum of x positive?
  std::vector<std::pair<Tensor, Tensor>> batches;
  for (int i = 0; i < 25; ++i) {
    const Tensor x = randn({16, 10});
    batches.emplace_back(x, (x.sum({1}, true) > 0.0).to(kFloat32));
  }
  const StateDict start = snapshot(*torch_model);
  // criterion = nn.BCELoss()
  nn::BCELoss criterion;
  auto loss_fn = [&](const auto& out, const auto& y) { return criterion(out, y); };
  const auto eager = train_eagerly(*torch_model, batches, 0.5, loss_fn);
  const StateDict eager_end = snapshot(*torch_model);
  torch_model->load_state_dict(start);
  g::Graph graph;
  const auto graph_losses = train_as_graph(*torch_model, batches, 0.5, loss_fn, graph, {16, 10}, kFloat32, {16, 1});
  check_same_losses(eager, graph_losses);
  CHECK(eager.back() < 0.7 * eager.front());
  // copy_from brought the graph's trained weights back: they are the eagerly trained ones.
  for (const auto& [name, t] : torch_model->state_dict()) CHECK(allclose(t, eager_end.at(name), 1e-4, 1e-5));
}

// ---- seed-002, "A ConvNet for MNIST dataset" ----------------------------------------------------------

TEST_CASE("seed-002: the PyTorch Net, trained both ways with the same dropout masks", "[layers][seed][conv]") {
  manual_seed(2);
  seeds::Net model;
  std::vector<std::pair<Tensor, Tensor>> batches;
  for (int i = 0; i < 6; ++i) batches.emplace_back(rand({8, 1, 28, 28}), randint(0, 10, {8}));
  const StateDict start = snapshot(*model);
  auto loss_fn = [](const auto& log_probs, const auto& y) { return F::nll_loss(log_probs, y); };  // F.nll_loss
  manual_seed(100);  // the dropout masks: Dropout2d's per channel, then dropout's per unit
  const auto eager = train_eagerly(*model, batches, 0.05, loss_fn);
  model->load_state_dict(start);
  g::Graph graph;
  manual_seed(100);  // the same masks, drawn in the same order by the graph's rand_like nodes
  const auto graph_losses = train_as_graph(*model, batches, 0.05, loss_fn, graph, {8, 1, 28, 28}, kInt64, {8});
  check_same_losses(eager, graph_losses);
  // Without dropout (eval), the two modes compute the same log-probabilities.
  model->eval();
  g::DefaultGraph use(graph);
  const g::Output x = g::placeholder(kFloat32, {-1, 1, 28, 28}, "x_eval");
  const g::Output lp = model(x);
  g::Session session(graph);
  model->copy_to(session);
  const Tensor xb = batches[0].first;
  no_grad guard;
  CHECK(allclose(session.run(lp, {{x, xb}}), model(xb), 1e-4, 1e-5));
}

TEST_CASE("seed-002: the TensorFlow ConvNet graph, its dropout fed as keep_prob", "[layers][seed][conv][graph]") {
  // The article's TF program with layers' functions: conv2d with padding 'SAME', max-pool,
  // a dense layer, tf.nn.dropout(fc1, keep_prob) — keep_prob a placeholder fed on every run.
  manual_seed(3);
  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output X = g::placeholder(kFloat32, {-1, 784}, "X");            // X = tf.placeholder(tf.float32, [None, num_input])
  const g::Output Y = g::placeholder(kInt64, {-1}, "Y");                   // Y (class indices here)
  const g::Output keep_prob = g::placeholder(kFloat32, {}, "keep_prob");   // keep_prob = tf.placeholder(tf.float32)
  // weights: 'wc1' [5, 5, 1, 8], 'wc2' [5, 5, 8, 16], 'wd1' [7*7*16, 64], 'out' [64, 10] (smaller than the article's)
  const g::Output wc1 = g::Variable(randn({8, 1, 5, 5}) * 0.2, true, "wc1"), bc1 = g::Variable(zeros({8}), true, "bc1");
  const g::Output wc2 = g::Variable(randn({16, 8, 5, 5}) * 0.07, true, "wc2"), bc2 = g::Variable(zeros({16}), true, "bc2");
  const g::Output wd1 = g::Variable(randn({7 * 7 * 16, 64}) * 0.03, true, "wd1"), bd1 = g::Variable(zeros({64}), true, "bd1");
  const g::Output wout = g::Variable(randn({64, 10}) * 0.1, true, "out"), bout = g::Variable(zeros({10}), true, "bout");
  auto conv2d = [](const g::Output& x, const g::Output& W, const g::Output& b) {  // def conv2d(x, W, b, strides=1):
    return relu(F::conv2d(x, W, b, {1, 1}, "same"));  //   tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, W, ..., padding='SAME'), b))
  };
  auto maxpool2d = [](const g::Output& x) { return F::max_pool2d(x, {2, 2}); };  // tf.nn.max_pool(x, ksize=2, strides=2)
  g::Output x = X.reshape({-1, 1, 28, 28});          // x = tf.reshape(x, shape=[-1, 28, 28, 1])
  g::Output conv1 = maxpool2d(conv2d(x, wc1, bc1));  // conv1 = maxpool2d(conv2d(x, weights['wc1'], biases['bc1']), k=2)
  g::Output conv2 = maxpool2d(conv2d(conv1, wc2, bc2));
  g::Output fc1 = conv2.reshape({-1, 7 * 7 * 16});   // fc1 = tf.reshape(conv2, [-1, ...])
  fc1 = relu(matmul(fc1, wd1) + bd1);                // fc1 = tf.nn.relu(tf.add(tf.matmul(fc1, weights['wd1']), biases['bd1']))
  fc1 = F::dropout(fc1, 1.0 - keep_prob);            // fc1 = tf.nn.dropout(fc1, dropout)
  const g::Output out = matmul(fc1, wout) + bout;    // out = tf.add(tf.matmul(fc1, weights['out']), biases['out'])
  CHECK(out.shape() == Shape{kUnknown, 10});
  const g::Output loss = F::cross_entropy(out, Y);
  const g::Output train_op = g::train::GradientDescentOptimizer(0.1).minimize(loss);
  g::Session sess(graph);
  sess.run(g::global_variables_initializer(graph));
  const Tensor bx = rand({16, 784}), by = randint(0, 10, {16});
  // keep_prob 1: no dropout, the loss is a function of the weights
  const g::FeedDict eval = {{X, bx}, {Y, by}, {keep_prob, tensor(1.f)}};
  const double before = sess.run(loss, eval).item();
  CHECK(sess.run(loss, eval).item() == before);
  for (int i = 0; i < 15; ++i) sess.run(train_op, {{X, bx}, {Y, by}, {keep_prob, tensor(0.75f)}});
  const double after = sess.run(loss, eval).item();
  INFO("loss " << before << " -> " << after);
  CHECK(after < 0.8 * before);
}

// ---- seed-004, "Natural Language Processing" ---------------------------------------------------------------

TEST_CASE("seed-004: the sentiment model, Keras's with summary() and PyTorch's trained both ways",
          "[layers][seed][embedding]") {
  manual_seed(4);
  // tf_model = tf.keras.Sequential([Embedding(10000, 100, input_length=100),
  //                                 GlobalAveragePooling1D(), Dense(1, activation='sigmoid')])
  keras::Sequential tf_model({Embedding(10000, 100, 100), GlobalAveragePooling1D(), Dense(1, "sigmoid")});
  CHECK(tf_model->summary() == texts().at("summary_seed_keras_sentiment") + "\n");
  // input_sequence = np.random.randint(0, 10000, (1, 100)); tf_pred = tf_model.predict(input_sequence)
  const Tensor input_sequence = randint(0, 10000, {1, 100});
  const Tensor tf_pred = tf_model(input_sequence);
  CHECK(tf_pred.shape() == Shape{1, 1});

  // torch_model = PyTorchModel(10000, 100), trained on a toy task: do the ids lie mostly below 5000?
  seeds::SentimentModel torch_model(10000, 100);
  std::vector<std::pair<Tensor, Tensor>> batches;
  for (int i = 0; i < 20; ++i) {
    const Tensor ids = randint(0, 10000, {8, 100});
    batches.emplace_back(ids, ((ids < 5000).to(kFloat32).mean({1}, true) > 0.5).to(kFloat32));
  }
  const StateDict start = snapshot(*torch_model);
  auto loss_fn = [](const auto& p, const auto& y) { return F::binary_cross_entropy(p, y); };
  const auto eager = train_eagerly(*torch_model, batches, 2.0, loss_fn);
  torch_model->load_state_dict(start);
  g::Graph graph;
  const auto graph_losses = train_as_graph(*torch_model, batches, 2.0, loss_fn, graph, {8, 100}, kFloat32, {8, 1});
  check_same_losses(eager, graph_losses);
  // Only the rows of the ids seen were trained (the gradient of a lookup is a scatter-add).
  std::vector<bool> used(10000, false);
  for (const auto& [ids, y] : batches)
    for (int64_t v : ids.to_vector<int64_t>()) used[static_cast<size_t>(v)] = true;
  const std::vector<double> changed =
      (ne(torch_model->embedding->weight, start.at("embedding.weight")).to(kFloat32).sum({1}) > 0.0).to(kFloat64).to_vector<double>();
  int64_t wrong = 0, trained = 0;
  for (size_t i = 0; i < used.size(); ++i) {
    wrong += (changed[i] != 0) != used[i];
    trained += changed[i] != 0;
  }
  CHECK(wrong == 0);
  CHECK(trained > 5000);  // 20 batches of 800 ids reach most of the 10 000 rows
}

// ---- a ResNet (seed-004's image classification uses ResNet-50) --------------------------------------------

TEST_CASE("resnet: BatchNorm, residual blocks and global average pooling, the same losses in both modes",
          "[layers][seed][resnet]") {
  manual_seed(5);
  seeds::ResNet model(std::array<int64_t, 3>{8, 16, 16});
  std::vector<std::pair<Tensor, Tensor>> batches;
  for (int i = 0; i < 5; ++i) batches.emplace_back(rand({8, 1, 28, 28}), randint(0, 10, {8}));
  const StateDict start = snapshot(*model);
  auto loss_fn = [](const auto& logits, const auto& y) { return F::cross_entropy(logits, y); };
  const auto eager = train_eagerly(*model, batches, 0.1, loss_fn);
  const StateDict eager_end = snapshot(*model);
  model->load_state_dict(start);
  g::Graph graph;
  const auto graph_losses = train_as_graph(*model, batches, 0.1, loss_fn, graph, {8, 1, 28, 28}, kInt64, {8});
  check_same_losses(eager, graph_losses, 5e-4);
  // The running statistics were updated alike: by in-place updates eagerly, by assign nodes the
  // graph's training path waits for (brought back by copy_from).
  const StateDict graph_end = snapshot(*model);
  for (const auto& [name, t] : graph_end) {
    if (name.find("running_") == std::string::npos) continue;
    INFO(name);
    CHECK(allclose(t, eager_end.at(name), 1e-3, 1e-4));
  }
  CHECK(model->bn1->num_batches_tracked.item() == 5.0);
  // In eval mode the two modes agree on predictions (running statistics, not the batch's).
  model->eval();
  g::DefaultGraph use(graph);
  const g::Output x = g::placeholder(kFloat32, {-1, 1, 28, 28}, "x_eval");
  const g::Output logits = model(x);
  g::Session session(graph);
  model->copy_to(session);
  no_grad guard;
  CHECK(allclose(session.run(logits, {{x, batches[0].first}}), model(batches[0].first), 1e-4, 1e-4));
}
