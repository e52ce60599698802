// bench/seed_convnet.h — the seed article's ConvNet as raw ops over a list of weights, written once
// for eager tensors and graph outputs alike: what bench_convnet_epoch trains against PyTorch and
// bench_layers_overhead races against the same network written with layers/ (seeds::Net).
// Its PyTorch twin is in bench/bench_convnet_epoch.py.
#pragma once

#include <cmath>
#include <vector>

#include "tandem.h"

namespace tandem::bench {

// conv1 w, b; conv2 w, b; fc1 w, b; fc2 w, b — with nn.Conv2d's and nn.Linear's default
// initialisation, uniform in ±1/sqrt(fan_in), from manual_seed(0).
inline std::vector<Tensor> convnet_weights() {
  manual_seed(0);
  auto init = [](const Shape& shape, int64_t fan_in) {
    return (rand(shape) * 2 - 1) * (1.0 / std::sqrt(static_cast<double>(fan_in)));
  };
  return {init({10, 1, 5, 5}, 25), init({10}, 25), init({20, 10, 5, 5}, 250), init({20}, 250),
          init({320, 50}, 320),    init({50}, 320), init({50, 10}, 50),        init({10}, 50)};
}

// conv 5x5 (10), max-pool 2, relu, conv 5x5 (20), Dropout2d, max-pool 2, relu, Linear 320-50,
// relu, dropout, Linear 50-10, log_softmax.
template <class T> T convnet(T x, const std::vector<T>& p) {
  x = relu(max_pool2d(conv2d(x, p[0], p[1]), {2, 2}));
  x = relu(max_pool2d(dropout2d(conv2d(x, p[2], p[3]), 0.5), {2, 2}));
  x = dropout(relu(matmul(reshape(x, {-1, 320}), p[4]) + p[5]), 0.5);
  return log_softmax(matmul(x, p[6]) + p[7], 1);
}

}  // namespace tandem::bench
