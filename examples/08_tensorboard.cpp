// examples/08_tensorboard.cpp — watching training in TensorBoard, both ways.
//
// The seed article's slide "Visualization Tools", translated line by line (the Python in the
// comments): 100 random "losses" logged the TensorFlow way and the PyTorch way. Then an MLP trained
// on Fashion-MNIST in both modes, each logging to its half of one experiment —
// <LOG_DIR>/mlp/eager and <LOG_DIR>/mlp/graph — so that TensorBoard draws the two loss curves on one
// chart (they are the same curve), the first layer's weights as histograms, a few input images,
// and both graphs in the Graphs tab.
//
//   usage: 08_tensorboard [FASHION_MNIST_DIR] [LOG_DIR]
//          (defaults: Debian's /usr/share/datasets/fashion-mnist, and runs)
//   then:  tensorboard --logdir runs      (pip install tensorboard; or the copy scripts/setup --extras
//                                          installs: ~/.cache/tandem/tensorboard-venv/bin/tensorboard)
//
// Read next: io/summary_writer.h, io/summary_ops.h, docs/tensorboard.md.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;

template <class T> T mlp(const T& images, const std::vector<T>& p) {
  return matmul(relu(matmul(reshape(images, {-1, 784}), p[0]) + p[1]), p[2]) + p[3];
}

int main(int argc, char** argv) {
  try {
    const std::string data_dir = argc > 1 ? argv[1] : data::kFashionMnistDir;
    const std::string logs = argc > 2 ? argv[2] : "runs";

    // ---- the seed's slide ----------------------------------------------------------------------
    // tf_writer = tf.summary.create_file_writer("logs/tf")
    // with tf_writer.as_default():
    //     for i in range(100):
    //         tf.summary.scalar("loss", np.random.random(), step=i)
    // (That is TF2's eager spelling. Tandem's graph mode is TF1's: the summary is an op of the
    // graph, fetched by a Session and handed to a FileWriter.)
    manual_seed(0);
    {
      g::Graph graph;
      g::DefaultGraph use(graph);
      const g::Output value = g::placeholder(kFloat32, {}, "value");
      const g::Output summary = g::summary::scalar("loss", value);
      g::Session sess(graph);
      g::summary::FileWriter tf_writer(logs + "/seed/tf");
      for (int i = 0; i < 100; ++i) tf_writer.add_summary(sess.run(summary, {{value, rand({})}}), i);
    }
    // torch_writer = SummaryWriter("logs/torch")
    // for i in range(100):
    //     torch_writer.add_scalar("loss", np.random.random(), i)
    tensorboard::SummaryWriter torch_writer(logs + "/seed/torch");
    for (int i = 0; i < 100; ++i) torch_writer.add_scalar("loss", rand({}), i);
    torch_writer.close();
    // print("TensorBoard logs created for both TensorFlow and PyTorch")
    std::printf("TensorBoard logs created for both TensorFlow and PyTorch (%s/seed/tf, %s/seed/torch)\n",
                logs.c_str(), logs.c_str());

    // ---- one MLP, both executors, one experiment ------------------------------------------------
    auto train = share(data::FashionMnistDataset(
        data::FashionMnistDataset::Split::train,
        {.dir = data_dir, .validation_size = 0, .transform = data::transforms::Normalize({0.2860}, {0.3530})}));
    data::DataLoader loader(train, {.batch_size = 32, .shuffle = true, .seed = 0});
    std::vector<data::Example> batches;
    for (const data::Example& b : loader) batches.push_back(b);  // one epoch, kept for both runs
    manual_seed(0);
    std::vector<Tensor> init;
    for (auto [in, out] : {std::pair{784, 64}, {64, 10}}) {
      init.push_back((rand({in, out}) * 2 - 1) / std::sqrt(static_cast<double>(in)));
      init.push_back(zeros({out}));
    }
    const std::vector<std::string> names = {"fc1/weight", "fc1/bias", "fc2/weight", "fc2/bias"};
    const double lr = 0.05;
    const size_t every = std::max<size_t>(1, batches.size() / 20);  // histograms and images: 20 per run

    // PyTorch style.
    std::vector<Tensor> p;
    std::vector<std::pair<std::string, Tensor>> named;
    for (size_t k = 0; k < init.size(); ++k) {
      p.push_back(init[k].clone().requires_grad_());
      named.emplace_back(names[k], p[k]);
    }
    tensorboard::SummaryWriter writer(logs + "/mlp/eager");
    writer.add_graph([](const auto& xs, const auto& ps) { mlp(xs[0], ps); }, {batches[0][0]}, named);
    optim::SGD opt(p, {.lr = lr});
    std::vector<double> eager;
    for (size_t step = 0; step < batches.size(); ++step) {
      const data::Example& b = batches[step];
      opt.zero_grad();
      Tensor loss = cross_entropy(mlp(b[0], p), b[1]);
      loss.backward();
      opt.step();
      eager.push_back(loss.item());
      writer.add_scalar("loss", loss, static_cast<int64_t>(step));
      if (step % every == 0) {
        writer.add_histogram("fc1/weight", p[0], static_cast<int64_t>(step));
        writer.add_image("input/image", b[0][0] * 0.3530 + 0.2860, static_cast<int64_t>(step));  // un-normalized
      }
    }
    writer.close();

    // TensorFlow 1 style.
    g::Graph graph;
    g::DefaultGraph use(graph);
    const g::Output x = g::placeholder(kFloat32, {-1, 1, 28, 28}, "x"), y = g::placeholder(kInt64, {-1}, "y");
    std::vector<g::Output> v;
    for (size_t k = 0; k < init.size(); k += 2) {
      g::NameScope layer(k == 0 ? "fc1" : "fc2");
      v.push_back(g::Variable(init[k], true, "weight"));
      v.push_back(g::Variable(init[k + 1], true, "bias"));
    }
    const g::Output loss = cross_entropy(mlp(x, v), y);
    const g::Output train_op = g::train::GradientDescentOptimizer(lr).minimize(loss);
    const g::Output loss_summary = g::summary::scalar("loss", loss);
    g::summary::histogram("fc1/weight", v[0]);
    g::summary::image("input", x * 0.3530 + 0.2860, /*max_outputs=*/1);  // tagged "input/image"
    const g::Output merged = g::summary::merge_all();
    g::summary::FileWriter graph_writer(logs + "/mlp/graph", &graph);
    g::Session sess(graph);
    sess.run(g::global_variables_initializer());
    std::printf("step   eager loss   graph loss   (batch 32, %zu steps)\n", batches.size());
    for (size_t step = 0; step < batches.size(); ++step) {
      const g::FeedDict feeds = {{x, batches[step][0]}, {y, batches[step][1]}};
      const auto out = sess.run({loss, train_op, step % every == 0 ? merged : loss_summary}, feeds);
      graph_writer.add_summary(out[2], static_cast<int64_t>(step));
      if (step % every == every - 1) std::printf("%4zu   %10.4f   %10.4f\n", step + 1, eager[step], out[0].item());
    }
    graph_writer.close();
    std::printf("logged %s/mlp/eager and %s/mlp/graph; see them with: tensorboard --logdir %s\n", logs.c_str(),
                logs.c_str(), logs.c_str());
  } catch (const Error& e) {
    std::fprintf(stderr, "08_tensorboard: %s\n", e.what());
    return 1;
  }
  return 0;
}
