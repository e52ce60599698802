// tests/test_seeds.cpp — the examples of the articles that introduce both frameworks, in Tandem.
//
// Each example is translated line by line: the Python line as the article wrote it, in a comment,
// then the C++ line that does the same with Tandem — a TensorFlow 1 program in graph mode
// (tandem::graph), a PyTorch one with eager tensors. A reader who knows the Python can see what
// each name turned into, and the checks say what the article's program printed. Expected values are
// worked out by hand in the comments, or, for the training run, computed by PyTorch with the
// script quoted above that test.
//
// The examples: an elementwise product that broadcasts a row against a column (in TensorFlow and
// in PyTorch with arrays from NumPy), a scalar product, a mean over an integer tensor, and a
// training step (zero_grad, forward, loss, backward, step) repeated until the loss has fallen.
//
// Read next: tests/test_autograd.cpp (the tape in detail), tests/test_parity_grads.cpp.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "autograd/grad_mode.h"
#include "graph/gradients.h"
#include "graph/ops.h"
#include "graph/session.h"
#include "tandem.h"

using namespace tandem;

namespace {
std::vector<double> vals(const Tensor& t) { return t.to_vector<double>(); }
}  // namespace

// ---- "TensorFlow Code Style" and "PyTorch Code Style": a row times a column ---------------------

TEST_CASE("seed: tf.multiply of a row [[3, 4, 8]] and a column [[2], [3], [9]] is 3x3", "[seed]") {
  // Broadcasting stretches a [1,3] row and a [3,1] column to [3,3]: output[i][j] = b[i] * a[j].
  //   row 0: 2 * [3, 4, 8] = [ 6,  8, 16]
  //   row 1: 3 * [3, 4, 8] = [ 9, 12, 24]
  //   row 2: 9 * [3, 4, 8] = [27, 36, 72]
  const std::vector<double> expected = {6, 8, 16, 9, 12, 24, 27, 36, 72};

  // The article's program is TensorFlow 1: define the graph, then run it in a session.
  graph::Graph tf_graph;
  graph::DefaultGraph use(tf_graph);  // with tf.Graph().as_default():  (TF1's implicit graph)
  // a = [[3., 4., 8.]]
  const Tensor a = tensor({{3., 4., 8.}});
  // b = [[2.], [3.], [9.]]
  const Tensor b = tensor({{2.}, {3.}, {9.}});
  // output = tf.multiply(a, b)      (tf.multiply turns the lists into Const nodes by itself)
  const graph::Output output = graph::mul(graph::constant(a), graph::constant(b));
  // s=tf.Session()
  graph::Session s(tf_graph);
  // print(s.run(output))
  const Tensor value = s.run(output);
  CHECK(value.dtype() == kFloat32);  // Python floats become float32 tensors, in both frameworks
  CHECK(value.shape() == Shape{3, 3});
  CHECK(vals(value) == expected);

  // The same product eagerly, as PyTorch (and TensorFlow 2) computes it: at once, no session.
  // output = torch.mul(torch.tensor(a), torch.tensor(b))
  const Tensor eager = mul(a, b);
  CHECK(vals(eager) == expected);
  // print(output) in PyTorch prints exactly this:
  CHECK(repr(eager) ==
        "tensor([[ 6.,  8., 16.],\n"
        "        [ 9., 12., 24.],\n"
        "        [27., 36., 72.]])");
}

TEST_CASE("seed: torch.mul of two float64 arrays from NumPy, [[3, 6, 8]] and [[1], [3], [6]]",
          "[seed]") {
  // a = np.array([[3., 6., 8.]])
  const std::vector<double> a = {3., 6., 8.};
  // b = np.array([[1.], [3.], [6.]])
  const std::vector<double> b = {1., 3., 6.};
  // output = torch.mul(torch.from_numpy(a), torch.from_numpy(b))
  // (from_vector copies where from_numpy shares the array's memory; the dtype follows the element
  // type the same way: NumPy's float64 array gives a float64 tensor.)
  const Tensor output = mul(from_vector(a, {1, 3}), from_vector(b, {3, 1}));
  // print(output.numpy())
  //   row 0: 1 * [3, 6, 8] = [ 3,  6,  8]
  //   row 1: 3 * [3, 6, 8] = [ 9, 18, 24]
  //   row 2: 6 * [3, 6, 8] = [18, 36, 48]
  CHECK(output.dtype() == kFloat64);
  CHECK(output.shape() == Shape{3, 3});
  CHECK(vals(output) == std::vector<double>{3, 6, 8, 9, 18, 24, 18, 36, 48});
  // print(output) in PyTorch gives the same text with dtype=torch.float64.
  CHECK(repr(output) ==
        "tensor([[ 3.,  6.,  8.],\n"
        "        [ 9., 18., 24.],\n"
        "        [18., 36., 48.]], dtype=tandem.float64)");
}

// ---- "TensorFlow: Google's Powerhouse" / "PyTorch: Facebook's Flexible Framework" -------------

TEST_CASE("seed: 3.0 * 4.0 is a 0-dim tensor holding 12", "[seed]") {
  // x = torch.tensor(3.0)          (TensorFlow: x = tf.constant(3.0))
  const Tensor x = tensor(3.0);
  // y = torch.tensor(4.0)          (TensorFlow: y = tf.constant(4.0))
  const Tensor y = tensor(4.0);
  // z = x * y
  const Tensor z = x * y;
  // print(f"Result: {z.item()}")  # Output: Result: 12.0
  CHECK(z.dim() == 0);
  CHECK(z.dtype() == kFloat32);
  CHECK(z.item<double>() == 12.0);  // 3 * 4, exact in float32
  CHECK(repr(z) == "tensor(12.)");
}

// ---- "Tensor Operations: The Building Blocks" ---------------------------------------------------

TEST_CASE("seed: the mean of [[1, 2], [3, 4]] needs a float tensor, and is 2.5", "[seed]") {
  // torch_tensor = torch.tensor([[1, 2], [3, 4]])
  const Tensor torch_tensor = tensor({{1, 2}, {3, 4}});
  CHECK(torch_tensor.dtype() == kInt64);  // integer literals give an int64 tensor
  // torch.mean(torch_tensor)
  // RuntimeError: mean(): could not infer output dtype. Input dtype must be either a floating
  // point or complex dtype. Got: Long
  // (This is why the article writes .float(). TensorFlow's tf.reduce_mean instead accepts the
  // integer tensor and divides as integers: 10 / 4 gives 2. Tandem's eager mean follows PyTorch.)
  CHECK_THROWS_AS(mean(torch_tensor), DTypeError);
  CHECK_THROWS_WITH(mean(torch_tensor),
                    Catch::Contains("mean(): could not infer output dtype") &&
                        Catch::Contains("floating point") && Catch::Contains("Got: int64"));
  // torch_result = torch.mean(torch_tensor.float())
  const Tensor torch_result = mean(torch_tensor.to(kFloat32));
  // print(f"PyTorch mean: {torch_result.item()}")     (1 + 2 + 3 + 4) / 4 = 2.5
  CHECK(torch_result.dtype() == kFloat32);
  CHECK(torch_result.item<double>() == 2.5);
  CHECK(repr(torch_result) == "tensor(2.5000)");
}

// ---- "Training Loop": zero_grad, forward, loss, backward, step ----------------------------------
//
// The article's train_step_torch, for the smallest model that has all its parts: logistic
// regression p = sigmoid(x W + b) on 8 points in the plane, the binary cross-entropy written with
// ops, and SGD written by hand. The expected numbers come from this PyTorch program:
//
//   x = torch.tensor([[0.5, 1.0], [-1.0, 0.5], [1.5, -0.5], [-0.5, -1.5],
//                     [1.0, 1.0], [-1.5, 0.0], [0.0, 2.0], [2.0, 0.5]])
//   y = torch.tensor([[1.], [0.], [1.], [0.], [1.], [0.], [1.], [1.]])   # x0 + x1/2 > 0
//   W = torch.tensor([[0.1], [-0.2]], requires_grad=True)
//   b = torch.tensor([0.0], requires_grad=True)
//   for step in range(50):
//       if W.grad is not None:                                   # optimizer.zero_grad()
//           W.grad.zero_(); b.grad.zero_()
//       p = torch.sigmoid(x @ W + b)                              # outputs = model(inputs)
//       loss = -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()
//       # (equal to torch.nn.functional.binary_cross_entropy(p, y), i.e. nn.BCELoss)
//       loss.backward()
//       if step == 0: print(loss.item(), W.grad, b.grad)
//       with torch.no_grad():                                     # optimizer.step()
//           W -= 0.5 * W.grad
//           b -= 0.5 * b.grad
//   print(loss.item(), W, b)
//
// which prints (PyTorch 1.13, float32):
//   step 0:  loss 0.711717606, W.grad [-0.478197575, -0.36207059], b.grad [-0.137378544]
//   step 49: loss 0.0462534763; then W [2.64463878, 1.41589057], b [0.0907363221]
// and its 50 losses decrease at every step.

namespace {

// class Model(nn.Module): forward(x) = sigmoid(x @ W + b)
struct LogisticModel {
  Tensor W, b;
  Tensor operator()(const Tensor& x) const { return sigmoid(matmul(x, W) + b); }
};

// criterion = nn.BCELoss():  -mean(y log p + (1 - y) log(1 - p))
Tensor binary_cross_entropy(const Tensor& p, const Tensor& y) {
  return -mean(y * log(p) + (1 - y) * log(1 - p));
}

// def train_step_torch(model, inputs, labels, optimizer, criterion):
double train_step(const LogisticModel& model, const Tensor& inputs, const Tensor& labels,
                  optim::Optimizer& optimizer) {
  //   optimizer.zero_grad()
  optimizer.zero_grad();
  //   outputs = model(inputs)
  const Tensor outputs = model(inputs);
  //   loss = criterion(outputs, labels)
  const Tensor loss = binary_cross_entropy(outputs, labels);
  //   loss.backward()
  loss.backward();
  //   optimizer.step()
  optimizer.step();
  //   return loss.item()
  return loss.item<double>();
}

}  // namespace

TEST_CASE("seed: the PyTorch training step, 50 times on a toy logistic regression",
          "[seed][autograd]") {
  const Tensor x = tensor({{0.5, 1.0}, {-1.0, 0.5}, {1.5, -0.5}, {-0.5, -1.5},
                           {1.0, 1.0}, {-1.5, 0.0}, {0.0, 2.0}, {2.0, 0.5}});
  const Tensor y = tensor({{1.}, {0.}, {1.}, {0.}, {1.}, {0.}, {1.}, {1.}});
  // W = torch.tensor([[0.1], [-0.2]], requires_grad=True)
  const Tensor W = tensor({{0.1}, {-0.2}}).requires_grad_();
  // b = torch.tensor([0.0], requires_grad=True)
  const Tensor b = tensor({0.0}).requires_grad_();
  const LogisticModel model{W, b};
  // optimizer = optim.SGD([W, b], lr=0.5)
  optim::SGD optimizer({W, b}, {.lr = 0.5});

  // The first step, against PyTorch's numbers. Its gradient is also the textbook one: for
  // L = BCE(sigmoid(z), y) the sigmoid's derivative cancels the log's, dL/dz = (p - y) / N, so
  // dL/dW = xᵀ (p - y) / N and dL/db = sum(p - y) / N — computed here from the forward values.
  const Tensor p0 = model(x).detach();
  const double loss0 = train_step(model, x, y, optimizer);
  CHECK(loss0 == Approx(0.711717606).epsilon(1e-6));
  REQUIRE(W.grad().defined());
  REQUIRE(b.grad().defined());
  const std::vector<double> gW = vals(W.grad()), gb = vals(b.grad());
  REQUIRE(gW.size() == 2);
  REQUIRE(gb.size() == 1);
  CHECK(gW[0] == Approx(-0.478197575).epsilon(1e-5));
  CHECK(gW[1] == Approx(-0.36207059).epsilon(1e-5));
  CHECK(gb[0] == Approx(-0.137378544).epsilon(1e-5));
  const std::vector<double> textbook_W = vals(matmul(x.t(), p0 - y) / 8);
  const double textbook_b = sum(p0 - y).item<double>() / 8;
  CHECK(gW[0] == Approx(textbook_W[0]).epsilon(1e-5));
  CHECK(gW[1] == Approx(textbook_W[1]).epsilon(1e-5));
  CHECK(gb[0] == Approx(textbook_b).epsilon(1e-5));
  // After the step: W = W0 - 0.5 * dW, b = b0 - 0.5 * db.
  CHECK(vals(W)[0] == Approx(0.1 + 0.5 * 0.478197575).epsilon(1e-5));
  CHECK(vals(b)[0] == Approx(0.5 * 0.137378544).epsilon(1e-5));

  // The other 49 steps: the loss falls every time, and lands where PyTorch's did.
  std::vector<double> losses = {loss0};
  for (int step = 1; step < 50; ++step) losses.push_back(train_step(model, x, y, optimizer));
  for (size_t i = 1; i < losses.size(); ++i) {
    INFO("step " << i << ": loss " << losses[i] << " after " << losses[i - 1]);
    CHECK(losses[i] < losses[i - 1]);
  }
  CHECK(losses.back() == Approx(0.0462534763).epsilon(1e-4));
  CHECK(vals(W)[0] == Approx(2.64463878).epsilon(1e-4));
  CHECK(vals(W)[1] == Approx(1.41589057).epsilon(1e-4));
  CHECK(vals(b)[0] == Approx(0.0907363221).epsilon(1e-4));
  // The weights are still leaves that require grad: the updates ran outside the tape.
  CHECK(W.is_leaf());
  CHECK(W.requires_grad());
}

// The article's train_step_tf, in TensorFlow 1's terms: the tape's gradients become gradients()
// nodes, and optimizer.apply_gradients(zip(gradients, model.trainable_variables)) one update op
// that session.run takes once per step. Same model, same data, same SGD: the same 50 losses as
// the eager run above.
TEST_CASE("seed: the TensorFlow training step, as a graph, takes the same 50 steps",
          "[seed][graph]") {
  const Tensor x_value = tensor({{0.5, 1.0},
                                 {-1.0, 0.5},
                                 {1.5, -0.5},
                                 {-0.5, -1.5},
                                 {1.0, 1.0},
                                 {-1.5, 0.0},
                                 {0.0, 2.0},
                                 {2.0, 0.5}});
  const Tensor y_value = tensor({{1.}, {0.}, {1.}, {0.}, {1.}, {0.}, {1.}, {1.}});

  // The eager run, for comparison.
  const Tensor W = tensor({{0.1}, {-0.2}}).requires_grad_(), b = tensor({0.0}).requires_grad_();
  optim::SGD eager_optimizer({W, b}, {.lr = 0.5});
  std::vector<double> eager_losses;
  for (int step = 0; step < 50; ++step)
    eager_losses.push_back(train_step({W, b}, x_value, y_value, eager_optimizer));

  graph::Graph g;
  graph::DefaultGraph use(g);
  const graph::Output inputs = graph::placeholder(kFloat32, {-1, 2}, "inputs");
  const graph::Output labels = graph::placeholder(kFloat32, {-1, 1}, "labels");
  // model: the same logistic regression, its weights as variables
  const graph::Output Wv = graph::Variable(tensor({{0.1}, {-0.2}}), true, "W");
  const graph::Output bv = graph::Variable(tensor({0.0}), true, "b");
  // predictions = model(inputs)
  const graph::Output predictions = graph::sigmoid(graph::matmul(inputs, Wv) + bv);
  // loss = tf.keras.losses.binary_crossentropy(labels, predictions)
  const graph::Output loss =
      -graph::mean(labels * graph::log(predictions) + (1 - labels) * graph::log(1 - predictions));
  // gradients = tape.gradient(loss, model.trainable_variables)
  const std::vector<graph::Output> variables = g.trainable_variables();
  const std::vector<graph::Output> gradients = graph::gradients({loss}, variables);
  // optimizer.apply_gradients(zip(gradients, model.trainable_variables))
  graph::train::GradientDescentOptimizer optimizer(0.5);
  const graph::Output apply =
      optimizer.apply_gradients({{gradients[0], variables[0]}, {gradients[1], variables[1]}});

  graph::Session session(g);
  session.run(graph::global_variables_initializer());
  for (int step = 0; step < 50; ++step) {
    // return loss  (one run computes the loss and applies the step)
    const double l =
        session.run({loss, apply}, {{inputs, x_value}, {labels, y_value}})[0].item<double>();
    INFO("step " << step);
    CHECK(l == Approx(eager_losses[step]).epsilon(1e-6));
  }
  CHECK(vals(session.variable_value(Wv))[0] == Approx(vals(W)[0]).epsilon(1e-6));
  CHECK(vals(session.variable_value(bv))[0] == Approx(vals(b)[0]).epsilon(1e-6));
}

// ---- "A ConvNet for MNIST dataset", both ways ------------------------------------------------------
//
// The article shows the same kind of network twice: a PyTorch nn.Module and a TensorFlow 1 graph.
// They are not the same network (the PyTorch one has 10 and 20 filters without padding and two
// dropouts; the TensorFlow one 'SAME' padding, the sizes of the TensorFlow example it comes from —
// 32 and 64 filters, 1024 hidden units — and a dropout fed as keep_prob), so each is translated
// as written. Tandem lays images out [N, C, H, W] as PyTorch does; TensorFlow's [N, H, W, C] and
// its [kh, kw, in, out] filters become [N, 1, 28, 28] and [out, in, kh, kw].

namespace {

// class Net(nn.Module):
struct SeedNet {
  Tensor conv1_w, conv1_b;  // self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
  Tensor conv2_w, conv2_b;  // self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
                            // self.conv2_drop = nn.Dropout2d()         (p = 0.5, below)
  Tensor fc1_w, fc1_b;      // self.fc1 = nn.Linear(320, 50)            (x · W + b: W is [320, 50])
  Tensor fc2_w, fc2_b;      // self.fc2 = nn.Linear(50, 10)
  bool training = true;     // self.training

  std::vector<Tensor> parameters() const { return {conv1_w, conv1_b, conv2_w, conv2_b, fc1_w, fc1_b, fc2_w, fc2_b}; }

  // def forward(self, x):
  Tensor forward(Tensor x) const {
    // x = F.relu(F.max_pool2d(self.conv1(x), 2))
    x = relu(max_pool2d(conv2d(x, conv1_w, conv1_b), {2, 2}));
    // x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
    x = relu(max_pool2d(dropout2d(conv2d(x, conv2_w, conv2_b), 0.5, training), {2, 2}));
    // x = x.view(-1, 320)
    x = x.view({-1, 320});
    // x = F.relu(self.fc1(x))
    x = relu(matmul(x, fc1_w) + fc1_b);
    // x = F.dropout(x, training=self.training)
    x = dropout(x, 0.5, training);
    // x = self.fc2(x)
    x = matmul(x, fc2_w) + fc2_b;
    // return F.log_softmax(x, dim=1)
    return log_softmax(x, 1);
  }
};

// nn.Linear's and nn.Conv2d's default initialisation: uniform in ±1/sqrt(fan_in).
Tensor uniform_init(const Shape& shape, int64_t fan_in) {
  return (rand(shape) * 2 - 1) * (1.0 / std::sqrt(static_cast<double>(fan_in)));
}

SeedNet make_seed_net() {
  return {uniform_init({10, 1, 5, 5}, 25).requires_grad_(),   uniform_init({10}, 25).requires_grad_(),
          uniform_init({20, 10, 5, 5}, 250).requires_grad_(), uniform_init({20}, 250).requires_grad_(),
          uniform_init({320, 50}, 320).requires_grad_(),      uniform_init({50}, 320).requires_grad_(),
          uniform_init({50, 10}, 50).requires_grad_(),        uniform_init({10}, 50).requires_grad_()};
}

}  // namespace

TEST_CASE("seed: the PyTorch ConvNet (conv, max_pool2d, Dropout2d, view, dropout, log_softmax)",
          "[seed][conv]") {
  manual_seed(41);
  SeedNet net = make_seed_net();
  const Tensor images = rand({8, 1, 28, 28});  // a batch of MNIST-sized images
  const Tensor labels = randint(0, 10, {8, 1});

  // The shapes through the network: 28 -> conv 5x5 -> 24 -> pool -> 12 -> conv -> 8 -> pool -> 4,
  // and 20 channels of 4 x 4 are the 320 inputs of fc1.
  const Tensor log_probs = net.forward(images);
  CHECK(log_probs.shape() == Shape{8, 10});
  // log_softmax: each row's probabilities add up to 1.
  CHECK(allclose(sum(exp(log_probs), {1}), ones({8}), 1e-5, 1e-6));

  // In training mode the dropouts draw new masks on every call; in eval mode (net.eval()) they are
  // the identity and the network is a function.
  CHECK_FALSE(equal(net.forward(images), net.forward(images)));
  net.training = false;
  CHECK(equal(net.forward(images), net.forward(images)));

  // Training steps (F.nll_loss on log_softmax, SGD) lower the loss on this batch.
  auto nll = [&](const Tensor& lp) { return -mean(gather(lp, 1, labels)); };
  net.training = false;  // measure without dropout noise
  const double before = nll(net.forward(images)).item();
  net.training = true;
  for (int step = 0; step < 60; ++step) {
    const Tensor loss = nll(net.forward(images));
    loss.backward();
    no_grad guard;
    for (const Tensor& p : net.parameters()) {
      p.sub_(p.grad(), 0.2);
      p.set_grad(Tensor());
    }
  }
  net.training = false;
  const double after = nll(net.forward(images)).item();
  INFO("loss before " << before << ", after " << after);
  // Two dropouts of p = 0.5 make every step see a different, much thinned network, so the loss
  // falls slowly (from 2.33 to about 2.1 here; without the dropouts it halves in these 60 steps).
  CHECK(after < 0.95 * before);
}

TEST_CASE("seed: the TensorFlow ConvNet as a graph, and the same network in eager mode", "[seed][conv][graph]") {
  namespace g = tandem::graph;
  manual_seed(42);
  constexpr int64_t num_input = 784, num_classes = 10;
  g::Graph graph;
  g::DefaultGraph use(graph);
  // X = tf.placeholder(tf.float32, [None, num_input])
  const g::Output X = g::placeholder(kFloat32, {-1, num_input}, "X");
  // Y = tf.placeholder(tf.float32, [None, num_classes])
  const g::Output Y = g::placeholder(kFloat32, {-1, num_classes}, "Y");
  // keep_prob = tf.placeholder(tf.float32)  # dropout (keep probability)
  const g::Output keep_prob = g::placeholder(kFloat32, {}, "keep_prob");

  // def conv2d(x, W, b, strides=1):  tf.nn.conv2d(..., padding='SAME'), bias_add, relu.
  // 'SAME' with stride 1 keeps the size: a 5x5 filter needs 2 pixels of zeros on each side.
  auto conv2d_same = [](const g::Output& x, const g::Output& W, const g::Output& b) {
    const int64_t pad = (W.shape()[2] - 1) / 2;
    return g::relu(g::conv2d(x, W, b, {1, 1}, {pad, pad}));
  };
  // def maxpool2d(x, k=2): tf.nn.max_pool(x, ksize=[1, k, k, 1], strides=[1, k, k, 1], padding='SAME')
  // (on the even sizes here, 'SAME' pooling adds no padding)
  auto maxpool2d = [](const g::Output& x, int64_t k = 2) { return g::max_pool2d(x, {k, k}, {k, k}); };

  // weights = {'wc1': [5, 5, 1, 32], 'wc2': [5, 5, 32, 64], 'wd1': [7*7*64, 1024], 'out': [1024, 10]}
  std::map<std::string, Tensor> weights = {{"wc1", randn({32, 1, 5, 5}) * 0.1}, {"wc2", randn({64, 32, 5, 5}) * 0.03},
                                           {"wd1", randn({7 * 7 * 64, 1024}) * 0.02}, {"out", randn({1024, 10}) * 0.03}};
  std::map<std::string, Tensor> biases = {{"bc1", randn({32}) * 0.1}, {"bc2", randn({64}) * 0.1},
                                          {"bd1", randn({1024}) * 0.1}, {"out", randn({10}) * 0.1}};
  std::map<std::string, g::Output> w, b;
  for (const auto& [k, v] : weights) w[k] = g::Variable(v, true, k);
  for (const auto& [k, v] : biases) b[k] = g::Variable(v, true, "b" + k);

  // def Net(x, weights, biases, dropout):
  auto Net = [&](g::Output x, const g::Output& dropout_keep) {
    x = g::reshape(x, {-1, 1, 28, 28});                 // x = tf.reshape(x, shape=[-1, 28, 28, 1])
    g::Output conv1 = conv2d_same(x, w["wc1"], b["bc1"]);  // conv1 = conv2d(x, weights['wc1'], biases['bc1'])
    conv1 = maxpool2d(conv1, 2);                        // conv1 = maxpool2d(conv1, k=2)
    g::Output conv2 = conv2d_same(conv1, w["wc2"], b["bc2"]);
    conv2 = maxpool2d(conv2, 2);
    // fc1 = tf.reshape(conv2, [-1, weights['wd1'].get_shape().as_list()[0]])
    g::Output fc1 = g::reshape(conv2, {-1, w["wd1"].shape()[0]});
    fc1 = g::matmul(fc1, w["wd1"]) + b["bd1"];          // fc1 = tf.add(tf.matmul(fc1, weights['wd1']), biases['bd1'])
    fc1 = g::relu(fc1);                                 // fc1 = tf.nn.relu(fc1)
    // fc1 = tf.nn.dropout(fc1, dropout): keep each unit with probability keep_prob, scale by 1/keep_prob
    fc1 = fc1 * g::to(g::rand_like(fc1) < dropout_keep, kFloat32) / dropout_keep;
    return g::matmul(fc1, w["out"]) + b["out"];        // out = tf.add(tf.matmul(fc1, weights['out']), biases['out'])
  };
  const g::Output logits = Net(X, keep_prob);
  CHECK(logits.shape() == Shape{kUnknown, num_classes});
  // loss_op = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=logits, labels=Y))
  const g::Output loss_op = -g::mean(g::sum(g::log_softmax(logits, 1) * Y, {1}));
  // train_op = tf.train.GradientDescentOptimizer(learning_rate).minimize(loss_op)
  std::vector<g::Output> params, updates;
  for (const auto& [k, v] : w) params.push_back(v);
  for (const auto& [k, v] : b) params.push_back(v);
  const std::vector<g::Output> grads = g::gradients({loss_op}, params);
  for (size_t i = 0; i < params.size(); ++i) updates.push_back(g::assign_sub(params[i], grads[i] * 0.05));
  const g::Output train_op = g::group(updates, "train");

  g::Session sess(graph);
  sess.run(g::global_variables_initializer(graph));
  const Tensor batch_x = rand({4, num_input});
  const Tensor batch_y = one_hot(tensor({3, 1, 4, 1}), num_classes).to(kFloat32);

  // The same network in eager mode, from the same values, with dropout off (keep_prob = 1):
  // graph and eager logits agree.
  auto eager_logits = [&](const Tensor& xb) {
    Tensor x = reshape(xb, {-1, 1, 28, 28});
    x = max_pool2d(relu(conv2d(x, weights["wc1"], biases["bc1"], {1, 1}, {2, 2})), {2, 2});
    x = max_pool2d(relu(conv2d(x, weights["wc2"], biases["bc2"], {1, 1}, {2, 2})), {2, 2});
    x = relu(matmul(reshape(x, {-1, 7 * 7 * 64}), weights["wd1"]) + biases["bd1"]);
    return matmul(x, weights["out"]) + biases["out"];
  };
  const Tensor graph_logits = sess.run(logits, {{X, batch_x}, {keep_prob, tensor(1.0f)}});
  CHECK(allclose(graph_logits, eager_logits(batch_x), 1e-4, 1e-5));

  // Training with dropout (keep_prob 0.75) lowers the loss measured without it.
  const g::FeedDict eval_feed = {{X, batch_x}, {Y, batch_y}, {keep_prob, tensor(1.0f)}};
  const double before = sess.run(loss_op, eval_feed).item();
  for (int step = 0; step < 20; ++step)
    sess.run(train_op, {{X, batch_x}, {Y, batch_y}, {keep_prob, tensor(0.75f)}});
  const double after = sess.run(loss_op, eval_feed).item();
  INFO("loss before " << before << ", after " << after);
  CHECK(after < 0.5 * before);
}
