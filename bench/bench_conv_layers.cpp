// bench/bench_conv_layers.cpp — the ResNet's convolutions one at a time: each layer's three products
// (the output, the input's gradient, the weight's gradient) on a batch of 64, timed on their own.
//
// bench_resnet_epoch times the whole training step; this shows where its convolution time goes,
// layer by layer, and how fast each product runs: GFLOP/s counts the multiply-adds of the
// definition (2·N·O·C·kh·kw·Ho·Wo per product), not the extra work a method may do. Each float32
// result is also checked against the same op in float64 (im2col + GEMM, the path the tests hold to
// the six-loop definition): the largest difference, relative to the largest value, is printed — a
// check that the loops built for this machine's vectors compute the right thing. The last column
// names the loop each product ran (core/ops/conv_loops.h): forward / input grad / weight grad.
// The figures before and after the direct loops are in bench/RESULTS.md.
//
//   usage: bench_conv_layers [--threads N (1)] [--reps N (20)]       (medians of reps)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/epoch_data.h"
#include "core/ops/conv_loops.h"
#include "core/threads.h"
#include "tandem.h"

using namespace tandem;

namespace {

struct Layer {
  const char* name;
  int64_t C, O, H, k, stride, pad;
};

// The median of `reps` timed calls of f (one warm-up call first), in ms.
template <typename F> double median_ms(int reps, F f) {
  return bench::time_steps(1, reps, [&](int64_t) { f(); }).wall_ms;
}

// The ResNet 16-32-64 of tests/seed_models.h on 28x28 images (1x1 shortcuts included).
const Layer kLayers[] = {
    {"stem 3x3", 1, 16, 28, 3, 1, 1},         {"block1 3x3", 16, 16, 28, 3, 1, 1},
    {"block2 3x3/2", 16, 32, 28, 3, 2, 1},    {"block2 3x3", 32, 32, 14, 3, 1, 1},
    {"block2 1x1/2", 16, 32, 28, 1, 2, 0},    {"block3 3x3/2", 32, 64, 14, 3, 2, 1},
    {"block3 3x3", 64, 64, 7, 3, 1, 1},       {"block3 1x1/2", 32, 64, 14, 1, 2, 0},
};

}  // namespace

int main(int argc, char** argv) {
  int threads = 1, reps = 20;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--threads" && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else if (arg == "--reps" && i + 1 < argc) {
      reps = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: %s [--threads N (1)] [--reps N (20)]\n", argv[0]);
      return 2;
    }
  }
  set_num_threads(threads);
  constexpr int64_t N = 64;
  std::printf("# the ResNet's convolutions, batch %lld, float32, %d threads, median of %d\n",
              static_cast<long long>(N), threads, reps);
  std::printf("# %-14s %22s %22s %22s    %s    %s\n", "layer", "output ms (GFLOP/s)", "input grad ms",
              "weight grad ms", "error vs float64", "loops");
  manual_seed(0);
  for (const Layer& l : kLayers) {
    const Tensor x = randn({N, l.C, l.H, l.H}), w = randn({l.O, l.C, l.k, l.k}) * 0.1;
    const Tensor y = conv2d(x, w, {l.stride, l.stride}, {l.pad, l.pad});
    const Tensor g = randn(y.shape());
    const Shape in_window{l.stride, l.stride, l.pad, l.pad, l.H, l.H};
    const Shape w_window{l.stride, l.stride, l.pad, l.pad, l.k, l.k};
    const double flop = 2.0 * N * l.O * l.C * l.k * l.k * y.size(2) * y.size(3);
    const double fwd = median_ms(reps, [&] { (void)conv2d(x, w, {l.stride, l.stride}, {l.pad, l.pad}); });
    const double din = median_ms(reps, [&] { (void)conv2d_input_grad(g, w, in_window); });
    const double dw = median_ms(reps, [&] { (void)conv2d_weight_grad(x, g, w_window); });
    auto rate = [&](double ms) { return flop / ms / 1e6; };
    auto error = [](const Tensor& got, const Tensor& want) {  // max |got - want| / max |want|
      return (got.to(kFloat64) - want).abs().max().item() / want.abs().max().item();
    };
    const Tensor x64 = x.to(kFloat64), w64 = w.to(kFloat64), g64 = g.to(kFloat64);
    const double worst = std::max({error(conv2d(x, w, {l.stride, l.stride}, {l.pad, l.pad}),
                                         conv2d(x64, w64, {l.stride, l.stride}, {l.pad, l.pad})),
                                   error(conv2d_input_grad(g, w, in_window), conv2d_input_grad(g64, w64, in_window)),
                                   error(conv2d_weight_grad(x, g, w_window), conv2d_weight_grad(x64, g64, w_window))});
    const ConvLoops loops = conv2d_loops(l.O, l.C, l.H, l.H, {l.k, l.k}, {l.stride, l.stride}, {l.pad, l.pad});
    std::printf("  %-14s %10.3f (%6.1f)    %10.3f (%6.1f)    %10.3f (%6.1f)    %.1e             %s/%s/%s\n", l.name,
                fwd, rate(fwd), din, rate(din), dw, rate(dw), worst, loops.forward, loops.input_grad,
                loops.weight_grad);
    if (!(worst < 1e-5)) {
      std::fprintf(stderr, "bench_conv_layers: %s differs from float64 by %g: a kernel is wrong\n", l.name, worst);
      return 1;
    }
    std::string key = l.name;
    std::replace(key.begin(), key.end(), ' ', '_');
    std::replace(key.begin(), key.end(), '/', 's');
    std::printf("RESULT conv_%s_ms %.3f %.3f %.3f ms\n", key.c_str(), fwd, din, dw);
  }
  return 0;
}
