// bench/epoch_data.h — what the two epoch benchmarks (bench_mlp_epoch, bench_convnet_epoch)
// share: their command line, and the Fashion-MNIST training set on the chosen device, cut into
// batches in order. Their PyTorch twins share bench/fashion_mnist.py the same way.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "core/threads.h"
#include "data/idx.h"
#include "tandem.h"

namespace tandem::bench {

struct EpochArgs {
  Device device = Device::cpu();
  int threads = 2;
  int64_t steps = 0;  // 0: a whole epoch
};

// --device cpu|cuda, --threads N, --steps N; sets the thread count. False (after printing the
// usage) on anything else.
inline bool parse_epoch_args(int argc, char** argv, EpochArgs& args) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--threads" && has_value) {
      args.threads = std::atoi(argv[++i]);
    } else if (arg == "--steps" && has_value) {
      args.steps = std::atoll(argv[++i]);
    } else if (arg == "--device" && has_value) {
      const std::string name = argv[++i];
      args.device = name == "cuda" ? Device::cuda() : Device::cpu();
    } else {
      std::fprintf(stderr, "usage: %s [--device cpu|cuda] [--threads N] [--steps N (0: an epoch)]\n",
                   argv[0]);
      return false;
    }
  }
  set_num_threads(args.threads);
  return true;
}

// The training images as [n, image_shape...] float32 and the labels as [n, label_shape...]
// int64, copied to the device once (as a DataLoader with pinned memory would hide the copies).
struct EpochData {
  Tensor images, labels;
  int64_t batch = 64;
  int64_t per_epoch = 0;  // whole batches in the set

  // Batch i, wrapping around at the end of the epoch: contiguous slices of both.
  std::pair<Tensor, Tensor> at(int64_t i) const {
    const int64_t s = (i % per_epoch) * batch;
    return {images.slice(0, s, s + batch).contiguous(), labels.slice(0, s, s + batch).contiguous()};
  }
};

inline EpochData load_epoch_data(Device device, const Shape& image_shape,
                                 const Shape& label_shape, int64_t batch) {
  const data::FashionMnist train = data::load_fashion_mnist(/*train=*/true);
  const int64_t n = train.images.size(0);
  Shape is{n}, ls{n};
  is.insert(is.end(), image_shape.begin(), image_shape.end());
  ls.insert(ls.end(), label_shape.begin(), label_shape.end());
  return {train.images.reshape(is).to(device), train.labels.reshape(ls).to(device), batch, n / batch};
}

}  // namespace tandem::bench
