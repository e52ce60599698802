// core/ops/conv_geometry.h — where the windows of a convolution or a pooling fall, one element at
// a time: the index arithmetic the GPU kernels (cuda/conv.cu) run per thread.
//
// The CPU kernels of core/ops/conv.cpp walk the windows row by row, in loops. A GPU thread instead
// computes ONE element and must find, from its own number, what to read. That arithmetic lives
// here, in __host__ __device__ functions (TANDEM_HD), so that the CPU tests check it
// (tests/test_conv.cpp: rebuilding im2col and col2im from these functions must give the CPU
// kernels' results) before any GPU runs it.
//
// Layout (core/ops/conv.cpp): an image is C planes of H x W; cols is [C·kh·kw, Ho·Wo], row
// r = (c·kh + i)·kw + j holding kernel tap (i, j) of channel c, column q = ho·Wo + wo one window.
#pragma once

#include <cstdint>

#include "core/ops/math.h"  // TANDEM_HD

namespace tandem {

struct ConvGeometry {
  int64_t C, H, W;     // input planes and their size
  int64_t kh, kw;      // kernel (window) size
  int64_t sh, sw;      // stride
  int64_t ph, pw;      // zero padding
  int64_t Ho, Wo;      // output size

  // im2col, one entry: the input element (index within the image, c·H·W + h·W + w) that row r,
  // column q of cols copies, or -1 where the window overhangs the padding (the entry is 0).
  TANDEM_HD int64_t source(int64_t r, int64_t q) const {
    const int64_t j = r % kw, i = (r / kw) % kh, c = r / (kw * kh);
    const int64_t wo = q % Wo, ho = q / Wo;
    const int64_t h = ho * sh + i - ph, w = wo * sw + j - pw;
    if (h < 0 || h >= H || w < 0 || w >= W) return -1;
    return (c * H + h) * W + w;
  }

  // col2im, one input element: the sum of every cols entry copied from input element e, i.e.
  // over the kernel taps (i, j) whose window covers (h, w). A tap covers it when h + ph - i is a
  // multiple of the stride and lands on an output row in range (likewise for w). Gathering the
  // sum per input element (rather than scattering from cols) means no two threads write the same
  // place, so no atomics.
  template <typename T> TANDEM_HD T gather_cols(const T* cols, int64_t e) const {
    const int64_t w = e % W, h = (e / W) % H, c = e / (W * H);
    T sum = 0;
    for (int64_t i = 0; i < kh; ++i) {
      const int64_t hs = h + ph - i;
      if (hs < 0 || hs % sh != 0 || hs / sh >= Ho) continue;
      for (int64_t j = 0; j < kw; ++j) {
        const int64_t ws = w + pw - j;
        if (ws < 0 || ws % sw != 0 || ws / sw >= Wo) continue;
        sum += cols[((c * kh + i) * kw + j) * Ho * Wo + (hs / sh) * Wo + ws / sw];
      }
    }
    return sum;
  }

  // Max pooling: where the winner of output window q = ho·Wo + wo of one H x W plane is (its
  // index in the plane), the first largest element, or the first NaN (as in core/ops/conv.cpp).
  // -1 for a window wholly in the padding, which the size rules never allow.
  template <typename T> TANDEM_HD int64_t window_argmax(const T* plane, int64_t q) const {
    return window_argmax_at(plane, q / Wo, q % Wo);
  }
  // The same for the window at output row ho, column wo (what a loop over rows and columns calls).
  template <typename T> TANDEM_HD int64_t window_argmax_at(const T* plane, int64_t ho, int64_t wo) const {
    const int64_t h0 = ho * sh - ph, w0 = wo * sw - pw;
    int64_t best = -1;
    T best_v = 0;
    for (int64_t h = h0 < 0 ? 0 : h0; h < h0 + kh && h < H; ++h)
      for (int64_t w = w0 < 0 ? 0 : w0; w < w0 + kw && w < W; ++w) {
        const T v = plane[h * W + w];
        if (v != v) return h * W + w;  // a NaN wins, and the first NaN wins
        if (best < 0 || v > best_v) {
          best = h * W + w;
          best_v = v;
        }
      }
    return best;
  }
};

}  // namespace tandem
