// bench/bench_dataloader.cpp — how fast the DataLoader delivers Fashion-MNIST, and what it costs
// an MLP epoch.
//
// 1. Throughput: one epoch of the 60000 training images, batch 64, shuffled, each image through
//    transforms::Normalize (per example, as torchvision's transform runs in __getitem__), with 0
//    and 2 worker threads. The loop only takes the batches. Twin: bench/bench_dataloader.py,
//    PyTorch's DataLoader on the same data, same settings. Unit: images per second.
// 2. The MLP epoch of bench/bench_mlp_epoch.cpp (784-256-128-10, SGD lr 0.1, batch 64, eager), fed
//    (a) hand-made batches — contiguous slices of the preloaded tensors, in order, as
//    bench/epoch_data.h cuts them — and (b) a DataLoader over a TensorDataset of the same tensors,
//    shuffled, with 0 and 2 workers. The three runs take turns, 16 steps at a time. The loader's work (a permutation, a gather per batch) should
//    hide behind the training step; the target is (b) within 3% of (a). No PyTorch twin: the
//    ratio is Tandem's own.
//
//   usage: bench_dataloader [--threads N (2)] [--steps N (0: whole epochs)]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>

#include "bench/epoch_data.h"
#include "data/data.h"

using namespace tandem;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// One epoch through the loader; returns images per second.
double throughput(data::DataLoader& loader) {
  const auto t0 = std::chrono::steady_clock::now();
  int64_t images = 0;
  for (const data::Example& batch : loader) images += batch[0].size(0);
  return static_cast<double>(images) / seconds_since(t0);
}

std::vector<Tensor> initial_weights() {
  manual_seed(0);
  std::vector<Tensor> p;
  for (auto [in, out] : {std::pair{784, 256}, {256, 128}, {128, 10}}) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    p.push_back(((rand({in, out}) * 2 - 1) * bound).requires_grad_());
    p.push_back(((rand({out}) * 2 - 1) * bound).requires_grad_());
  }
  return p;
}

Tensor mlp(const Tensor& x, const std::vector<Tensor>& p) {
  return matmul(relu(matmul(relu(matmul(x, p[0]) + p[1]), p[2]) + p[3]), p[4]) + p[5];
}

// One of the MLP runs being compared: its own weights and optimizer, and where its batches come
// from. step() trains on the next batch and returns the seconds it took.
struct Run {
  std::vector<Tensor> p = initial_weights();
  optim::SGD opt{p, {.lr = 0.1}};
  std::function<std::pair<Tensor, Tensor>()> next_batch;
  double seconds = 0;

  Tensor step(const Tensor& x, const Tensor& y) {
    opt.zero_grad();
    Tensor loss = cross_entropy(mlp(x, p), y);
    loss.backward();
    opt.step();
    return loss;
  }
  void train(int64_t steps) {
    const auto t0 = std::chrono::steady_clock::now();
    Tensor loss;
    for (int64_t i = 0; i < steps; ++i) {
      auto [x, y] = next_batch();
      loss = step(x, y);
    }
    (void)loss.item();
    seconds += seconds_since(t0);
  }
};

}  // namespace

int main(int argc, char** argv) {
  bench::EpochArgs args;
  if (!bench::parse_epoch_args(argc, argv, args)) return 2;
  try {
    // ---- 1. throughput ------------------------------------------------------------------------
    auto train = std::make_shared<data::FashionMnistDataset>(
        data::FashionMnistDataset::Split::train,
        data::FashionMnistOptions{.validation_size = 0, .transform = data::transforms::Normalize({0.2860}, {0.3530})});
    std::printf("# Tandem DataLoader on Fashion-MNIST (%lld images), batch 64, shuffle, Normalize, %d threads\n",
                static_cast<long long>(train->size()), get_num_threads());
    for (int workers : {0, 2}) {
      data::DataLoader loader(train, {.batch_size = 64, .shuffle = true, .num_workers = workers});
      throughput(loader);  // warm-up epoch: the allocator's cache, the page cache
      std::printf("RESULT loader_workers_%d %.0f img/s\n", workers, throughput(loader));
    }

    // ---- 2. the MLP epoch: hand-made batches against the loader ---------------------------------
    const bench::EpochData data = bench::load_epoch_data(Device::cpu(), {784}, {}, 64);
    const int64_t per_epoch = data.per_epoch;
    const int64_t steps = args.steps <= 0 || args.steps > per_epoch ? per_epoch : args.steps;
    std::printf("# MLP 784-256-128-10 eager epoch (%lld steps of 64): hand-made batches vs DataLoader\n",
                static_cast<long long>(steps));
    auto flat = std::make_shared<data::TensorDataset>(data::Example{data.images, data.labels});
    // The three runs advance together, 16 steps at a time, in a rotating order: a burst of load
    // from elsewhere on the machine then slows all three alike, which a run-after-run comparison
    // on a shared machine cannot promise.
    int64_t handmade_step = 0;
    std::vector<std::unique_ptr<Run>> runs;
    for (int r = 0; r < 3; ++r) runs.push_back(std::make_unique<Run>());
    runs[0]->next_batch = [&] { return data.at(handmade_step++); };
    std::vector<std::unique_ptr<data::DataLoader>> loaders;
    std::vector<data::DataLoader::Iterator> its;
    for (int workers : {0, 2}) {
      loaders.push_back(std::make_unique<data::DataLoader>(
          flat, data::DataLoaderOptions{.batch_size = 64, .shuffle = true, .drop_last = true, .num_workers = workers}));
      its.push_back(loaders.back()->begin());
    }
    for (size_t k = 0; k < 2; ++k)
      runs[k + 1]->next_batch = [&its, k] {
        std::pair<Tensor, Tensor> b{(*its[k])[0], (*its[k])[1]};
        ++its[k];
        return b;
      };
    for (auto& run : runs) run->step(data.at(0).first, data.at(0).second).item();  // warm-up, untimed
    constexpr int64_t kChunk = 16;
    for (int64_t done = 0, c = 0; done < steps; done += kChunk, ++c)
      for (int j = 0; j < 3; ++j) runs[static_cast<size_t>((c + j) % 3)]->train(std::min(kChunk, steps - done));
    const double scale = static_cast<double>(per_epoch) / static_cast<double>(steps);
    std::printf("RESULT mlp_epoch_handmade %.3f s\n", runs[0]->seconds * scale);
    std::printf("RESULT mlp_epoch_loader_workers_0 %.3f s\n", runs[1]->seconds * scale);
    std::printf("RESULT mlp_epoch_loader_workers_2 %.3f s\n", runs[2]->seconds * scale);
    std::printf("# loader / hand-made: %.3f (0 workers), %.3f (2 workers)\n", runs[1]->seconds / runs[0]->seconds,
                runs[2]->seconds / runs[0]->seconds);
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
