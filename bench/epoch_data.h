// bench/epoch_data.h — what the epoch benchmarks (bench_mlp_epoch, bench_convnet_epoch,
// bench_resnet_epoch) share: their command line, the Fashion-MNIST training set on the chosen
// device, cut into batches in order, and the timing of steps. Their PyTorch twins share
// bench/fashion_mnist.py the same way.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

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

// The CPU time this process has used, in seconds: with one thread, a step's own work, without the
// time other programs of a busy machine held the core (the twins report time.process_time()).
inline double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct Timing {
  double wall_ms, cpu_ms;  // medians per step
};

// step(i) for `warmup` steps, then for `steps` timed ones (i counting on): the median wall and
// CPU time per step.
template <class Step> Timing time_steps(int64_t warmup, int64_t steps, Step step) {
  for (int64_t i = 0; i < warmup; ++i) step(i);
  std::vector<double> t, c;
  for (int64_t i = 0; i < steps; ++i) {
    const double c0 = cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    step(warmup + i);
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    c.push_back(cpu_seconds() - c0);
  }
  std::sort(t.begin(), t.end());
  std::sort(c.begin(), c.end());
  return {1e3 * t[t.size() / 2], 1e3 * c[c.size() / 2]};
}

}  // namespace tandem::bench
