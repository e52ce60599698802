// core/ops/conv_loops.h — which loop core/ops/conv.cpp runs for each product of a float32 convolution.
//
// A convolution's three products (the output, the input's gradient, the weight's gradient) each
// run one of three loops, chosen by the layer's shape (core/ops/conv.cpp, "which loop serves") and
// by the build's vectors (-march: the tiles' sizes differ, and with them where a tile wastes work):
//   "im2col"   unfold the image, then one GEMM (the plain way; float64 always takes it)
//   "direct"   consecutive outputs in the vectors, the image read where it lies (stride 1)
//   "filters"  consecutive filters in the vectors, windows of any stride read where they lie
// bench/bench_conv_layers prints them beside each layer's speed.
#pragma once

#include <cstdint>

#include "core/op.h"  // Pair

namespace tandem {

struct ConvLoops {
  const char* forward;      // y = conv2d(x, w)
  const char* input_grad;   // the gradient of x
  const char* weight_grad;  // the gradient of w
};

// For float32 images of C planes of H x W, O filters of kernel[0] x kernel[1].
ConvLoops conv2d_loops(int64_t O, int64_t C, int64_t H, int64_t W, Pair kernel, Pair stride, Pair padding);

}  // namespace tandem
