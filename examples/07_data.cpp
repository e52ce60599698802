// examples/07_data.cpp — loading data both ways: tf.data's pipeline and PyTorch's DataLoader.
//
// The seed article's slide "Data Loading and Preprocessing", translated line by line (the Python
// in the comments), then both styles feeding one model in both executors: a DataLoader with two
// worker threads trains an MLP on Fashion-MNIST eagerly and as a graph — the same batches, so the
// same losses.
//
//   usage: 07_data [FASHION_MNIST_DIR]   (default: Debian's /usr/share/datasets/fashion-mnist)
//
// Read next: data/dataloader.h, data/pipeline.h; the tests in tests/test_data_*.cpp.
#include <cmath>
#include <cstdio>

#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;

// class CustomDataset(Dataset):
//     def __init__(self): self.data = [(i, i * 2) for i in range(100)]
//     def __len__(self): return len(self.data)
//     def __getitem__(self, idx): return torch.tensor(self.data[idx])
class CustomDataset : public data::Dataset {
 public:
  int64_t size() const override { return 100; }
  data::Example get(int64_t idx) const override { return {tensor({idx, idx * 2})}; }
};

int main(int argc, char** argv) {
  try {
    // ---- TensorFlow data pipeline ------------------------------------------------------------
    // def tf_data_generator():
    //     for i in range(100):
    //         yield (i, i * 2)
    auto tf_data_generator = [] {
      return [i = int64_t{0}]() mutable -> std::optional<data::Example> {
        if (i >= 100) return std::nullopt;
        data::Example pair{tensor(i), tensor(i * 2)};
        ++i;
        return pair;
      };
    };
    // tf_dataset = tf.data.Dataset.from_generator(tf_data_generator, output_signature=(...))
    auto tf_dataset = data::Pipeline::from_generator(
        tf_data_generator, {data::TensorSpec{kInt64, {}}, data::TensorSpec{kInt64, {}}});
    tf_dataset = tf_dataset.batch(32);  // tf_dataset = tf_dataset.batch(32)

    // ---- PyTorch data pipeline ---------------------------------------------------------------
    // torch_dataloader = DataLoader(torch_dataset, batch_size=32, shuffle=True)
    data::DataLoader torch_dataloader(CustomDataset(), {.batch_size = 32, .shuffle = true});

    // for tf_batch in tf_dataset.take(1): print("TensorFlow batch:", tf_batch)
    for (const data::Example& tf_batch : tf_dataset.take(1))
      std::printf("TensorFlow batch (first 8 of %lld): %s\n  and %s\n", static_cast<long long>(tf_batch[0].size(0)),
                  msg(tf_batch[0].slice(0, 0, 8)).c_str(), msg(tf_batch[1].slice(0, 0, 8)).c_str());
    // for torch_batch in torch_dataloader: print("PyTorch batch:", torch_batch); break
    for (const data::Example& torch_batch : torch_dataloader) {
      std::printf("PyTorch batch (first 4 of %lld rows):\n%s\n", static_cast<long long>(torch_batch[0].size(0)),
                  msg(torch_batch[0].slice(0, 0, 4)).c_str());
      break;
    }

    // ---- one loader, both executors ------------------------------------------------------------
    const std::string dir = argc > 1 ? argv[1] : data::kFashionMnistDir;
    auto train = share(data::FashionMnistDataset(
        data::FashionMnistDataset::Split::train,
        {.dir = dir, .validation_size = 0, .transform = data::transforms::Normalize({0.2860}, {0.3530})}));
    data::DataLoader loader(train, {.batch_size = 64, .shuffle = true, .num_workers = 2, .seed = 0});
    std::vector<data::Example> batches;  // the first 20 batches of epoch 0, kept for both runs
    for (const data::Example& b : loader) {
      batches.push_back(b);
      if (batches.size() == 20) break;  // leaving the loop stops the workers
    }
    // One model object for both executors (layers/): an MLP 784-64-10.
    manual_seed(0);
    nn::Sequential model(nn::Flatten(), nn::Linear(784, 64), nn::ReLU(), nn::Linear(64, 10));
    const StateDict initial = model->state_dict().clone();  // the graph starts where eager mode did

    optim::SGD opt(model->parameters(), {.lr = 0.1});  // eager
    std::vector<double> eager;
    for (const data::Example& b : batches) {
      opt.zero_grad();
      Tensor loss = cross_entropy(model(b[0]), b[1]);
      loss.backward();
      opt.step();
      eager.push_back(loss.item());
    }

    model->load_state_dict(initial);
    g::Graph graph;  // graph: the same batches fed to placeholders, the weights as Variables
    g::DefaultGraph use(graph);
    const g::Output x = g::placeholder(kFloat32, {-1, 1, 28, 28}, "x"), y = g::placeholder(kInt64, {-1}, "y");
    const g::Output loss = cross_entropy(model(x), y);
    const g::Output train_op = g::train::GradientDescentOptimizer(0.1).minimize(loss);
    g::Session sess(graph);
    sess.run(g::global_variables_initializer());
    std::printf("step   eager loss   graph loss   (DataLoader: batch 64, shuffled, 2 workers)\n");
    for (size_t k = 0; k < batches.size(); ++k) {
      const double l = sess.run({loss, train_op}, {{x, batches[k][0]}, {y, batches[k][1]}})[0].item();
      if (k % 5 == 4) std::printf("%4zu   %10.4f   %10.4f\n", k + 1, eager[k], l);
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "07_data: %s\n", e.what());
    return 1;
  }
  return 0;
}
