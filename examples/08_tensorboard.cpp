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

// A value of a list of (name, value) pairs, by name: "fc1.weight" of named_parameters().
template <class V> V by_name(const std::vector<std::pair<std::string, V>>& named, const std::string& name) {
  for (const auto& [n, v] : named)
    if (n == name) return v;
  throw Error(msg("08_tensorboard: no '", name, "'"));
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
    // One model object for both executors (layers/); its layers' names become the graph's scopes,
    // so the weights are "fc1/weight" ... in both runs' graphs.
    manual_seed(0);
    nn::Sequential model({{"flatten", nn::Flatten()}, {"fc1", nn::Linear(784, 64)}, {"relu", nn::ReLU()},
                          {"fc2", nn::Linear(64, 10)}});
    const StateDict initial = model->state_dict().clone();  // the graph starts where eager mode did
    const double lr = 0.05;
    const size_t every = std::max<size_t>(1, batches.size() / 20);  // histograms and images: about 20 per run

    // PyTorch style. add_graph traces the model: runs it once on a placeholder (writer.add_graph(model, x)).
    tensorboard::SummaryWriter writer(logs + "/mlp/eager");
    writer.add_graph([&](const std::vector<g::Output>& xs, const std::vector<g::Output>&) { model(xs[0]); },
                     {batches[0][0]});
    const Tensor fc1_weight = by_name(model->named_parameters(), "fc1.weight");
    optim::SGD opt(model->parameters(), {.lr = lr});
    std::vector<double> eager;
    for (size_t step = 0; step < batches.size(); ++step) {
      const data::Example& b = batches[step];
      opt.zero_grad();
      Tensor loss = cross_entropy(model(b[0]), b[1]);
      loss.backward();
      opt.step();
      eager.push_back(loss.item());
      writer.add_scalar("loss", loss, static_cast<int64_t>(step));
      if (step % every == 0) {
        writer.add_histogram("fc1/weight", fc1_weight, static_cast<int64_t>(step));
        writer.add_image("input/image", b[0][0] * 0.3530 + 0.2860, static_cast<int64_t>(step));  // un-normalized
      }
    }
    writer.close();

    // TensorFlow 1 style: the same model on placeholders; its weights become Variables.
    model->load_state_dict(initial);
    g::Graph graph;
    g::DefaultGraph use(graph);
    const g::Output x = g::placeholder(kFloat32, {-1, 1, 28, 28}, "x"), y = g::placeholder(kInt64, {-1}, "y");
    const g::Output loss = cross_entropy(model(x), y);
    const g::Output train_op = g::train::GradientDescentOptimizer(lr).minimize(loss);
    const g::Output loss_summary = g::summary::scalar("loss", loss);
    g::summary::histogram("fc1/weight", by_name(model->named_variables(graph), "fc1.weight"));
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
