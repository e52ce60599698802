// core/ops/conv.cpp — 2-D convolution and max pooling, on images laid out [N, C, H, W].
//
// CONVOLUTION. An output pixel of channel o is a dot product: the kh x kw window of every input
// channel under it, times the filter w[o]:
//
//     y[n, o, ho, wo] = Σ_{c, i, j} x[n, c, ho·sh + i - ph, wo·sw + j - pw] · w[o, c, i, j]
//
// (s the stride, p the zero padding around the image; positions outside the image read 0.) The
// output is Ho = (H + 2ph - kh) / sh + 1 rows by Wo = (W + 2pw - kw) / sw + 1 columns (rounded down).
//
// Written as six nested loops this is slow: it does no better than one multiply-add per load. The
// classic way to make it fast is IM2COL: copy every window of the image into a column of a matrix,
//
//     cols[n] : [C·kh·kw, Ho·Wo]      column (ho, wo) holds the C·kh·kw inputs under that window
//
// and the whole convolution of image n is then ONE matrix product with the filters flattened to
// rows, W2 : [O, C·kh·kw]:
//
//     y[n] = W2 · cols[n]   : [O, Ho·Wo]
//
// which runs at GEMM speed (core/ops/matmul.cpp). The price is memory: every input pixel is copied
// kh·kw times (25 times for a 5x5 filter). Caffe made this the standard; GPUs do the same with
// implicit im2col inside the GEMM (cuda/ has the CUDA side).
//
// The two gradients are matrix products too, read off y[n] = W2 · cols[n]:
//   - dW2 = Σ_n g[n] · cols[n]ᵀ       the filters' gradient (conv2d_weight_grad);
//   - dcols[n] = W2ᵀ · g[n], and then COL2IM: every entry of dcols is added back into the input
//     pixel it was copied from (pixels under several windows collect several contributions). That
//     is the input's gradient (conv2d_input_grad), also called the transposed convolution.
// Both are ops of the catalogue, so the derivative sheet (autograd/derivatives.h) can call them in
// eager and graph mode alike, and differentiate them again (they are linear in each input).
//
// That is the plain way, and float64 (gradcheck's dtype) always takes it. float32 takes faster
// loops where they serve, which read the padded image in place and build no cols: DirectConv (stride
// 1: consecutive outputs in a vector) and gather_tile (any stride: consecutive filters in a vector),
// for the forward pass, the input's gradient (stride 1) and the weight's gradient. They compute the
// same sums; see "the direct convolution" below, and "which loop serves".
//
// MAX POOLING keeps the largest value of each kh x kw window (PyTorch's F.max_pool2d: windows
// that overhang the padding see -inf there, and a NaN in a window wins, as a max should report
// it). Its gradient sends g to the one position that won, the first one among ties, as PyTorch
// does: max_pool2d_backward(g, x) finds the winners again from x (cheaper to store x than an
// index tensor, and the forward pass stays a plain op). Its own derivative reads a gradient at
// the winners: max_pool2d_gather.
//
// Window attributes travel in Attrs::dims (see each op's shape rule for the layout):
//   conv2d                 {sh, sw, ph, pw}
//   conv2d_input_grad      {sh, sw, ph, pw, H, W}     H, W: the input's size, not derivable
//                                                      from the output's when the stride is > 1
//   conv2d_weight_grad     {sh, sw, ph, pw, kh, kw}
//   max_pool2d (+ grads)   {kh, kw, sh, sw, ph, pw}
//
// In a graph the input's H, W (or the kernel's kh, kw) may be unknown (?) until run time. Then the
// window says -1 and the gradient op takes a third input — the input (or the weight) itself — whose
// shape gives those sizes when the values exist; it is read for its shape only. TF1's
// Conv2DBackpropInput does the same with an `input_sizes` tensor computed by a Shape op.
//
// The six nested loops they must agree with: reference::conv2d, conv2d_input_grad,
// conv2d_weight_grad, max_pool2d, max_pool2d_backward (core/ops/reference.h).
// Read next: autograd/derivatives.h (conv2d_grad, max_pool2d_grad).
#include <algorithm>
#include <array>
#include <limits>
#include <optional>
#include <type_traits>
#include <variant>
#include <vector>

#include "core/op.h"
#include "core/ops.h"
#include "core/ops/conv_geometry.h"
#include "core/ops/conv_loops.h"
#include "core/ops/loops.h"
#include "core/ops/matmul.h"
#include "core/ops/transpose.h"

namespace tandem {
namespace {

// ---- window geometry ------------------------------------------------------------------------------

struct Window {
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0;
  // Output size along one dimension; kUnknown stays unknown (graph mode).
  static int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t p) {
    return in == kUnknown || k == kUnknown ? kUnknown : (in + 2 * p - k) / s + 1;
  }
  int64_t out_h(int64_t h) const { return out_size(h, kh, sh, ph); }
  int64_t out_w(int64_t w) const { return out_size(w, kw, sw, pw); }
};

void check_window(const char* op, const Window& w) {
  if (w.sh <= 0 || w.sw <= 0)
    throw Error(msg(op, ": stride must be positive, but got stride=[", w.sh, ", ", w.sw, "]"));
  if (w.ph < 0 || w.pw < 0)
    throw Error(msg(op, ": negative padding is not supported, but got padding=[", w.ph, ", ", w.pw, "]"));
  if ((w.kh <= 0 && w.kh != kUnknown) || (w.kw <= 0 && w.kw != kUnknown))  // ?: checked at run time
    throw Error(msg(op, ": kernel size must be positive, but got [", w.kh, ", ", w.kw, "]"));
}

const Shape& dims_of(const Attrs& a, size_t n, const char* op) {
  if (a.dims.size() != n)
    throw Error(msg(op, ": internal error: expected ", n, " window attributes, got ", a.dims.size()));
  return a.dims;
}

// Checks a 4-D floating input [N, C, H, W] and returns it.
void check_image(const char* op, const char* what, const Meta& m) {
  if (m.shape.size() != 4)
    throw ShapeError(msg(op, ": expected a 4-D ", what, " [N, C, H, W], but got a ", m.shape.size(),
                         "-D one of shape ", shape_str(m.shape)));
  if (!is_floating(m.dtype))
    throw DTypeError(msg(op, ": expected a floating point ", what, ", but got dtype ", to_string(m.dtype)));
}

void check_same_dtype(const char* op, const Meta& a, const Meta& b) {
  if (a.dtype != b.dtype)
    throw DTypeError(msg(op, ": expected input and weight of the same dtype, but got ", to_string(a.dtype),
                         " and ", to_string(b.dtype)));
}

// PyTorch's check that the window fits the padded image.
void check_fits(const char* op, int64_t h, int64_t w, const Window& win) {
  const int64_t hp = h == kUnknown ? kUnknown : h + 2 * win.ph, wp = w == kUnknown ? kUnknown : w + 2 * win.pw;
  if ((hp != kUnknown && hp < win.kh) || (wp != kUnknown && wp < win.kw))
    throw ShapeError(msg(op, ": calculated padded input size per channel: (", hp, " x ", wp,
                         "). Kernel size: (", win.kh, " x ", win.kw,
                         "). Kernel size can't be greater than actual input size"));
}

// ---- shape rules ------------------------------------------------------------------------------------

Window conv_window(const Shape& d, int64_t kh, int64_t kw) { return {kh, kw, d[0], d[1], d[2], d[3]}; }

// conv2d(x [N, C, H, W], w [O, C, kh, kw]) -> [N, O, Ho, Wo]
Meta conv2d_shape(std::span<const Meta> in, const Attrs& a) {
  const Meta &x = in[0], &w = in[1];
  check_image("conv2d", "input", x);
  check_image("conv2d", "weight", w);
  check_same_dtype("conv2d", x, w);
  const Window win = conv_window(dims_of(a, 4, "conv2d"), w.shape[2], w.shape[3]);
  check_window("conv2d", win);
  if (x.shape[1] != kUnknown && w.shape[1] != kUnknown && x.shape[1] != w.shape[1])
    throw ShapeError(msg("conv2d: given groups=1, weight of size ", shape_str(w.shape), ", expected input",
                         shape_str(x.shape), " to have ", w.shape[1], " channels, but got ", x.shape[1],
                         " channels instead"));
  check_fits("conv2d", x.shape[2], x.shape[3], win);
  return {{x.shape[0], w.shape[0], win.out_h(x.shape[2]), win.out_w(x.shape[3])}, x.dtype};
}

// The two sizes a gradient op's window ends with (H, W or kh, kw): from the window, or where it
// says -1 (unknown when the graph was built), from dims 2 and 3 of the optional third input.
std::array<int64_t, 2> window_sizes(std::span<const Meta> in, const Shape& d, const char* op, const char* what) {
  if (in.size() != 2 && in.size() != 3)
    throw Error(msg(op, ": expected 2 input tensors (or 3, the last giving the ", what, "), got ", in.size()));
  if (d[4] != kUnknown && d[5] != kUnknown) return {d[4], d[5]};
  if (in.size() != 3)
    throw ShapeError(msg(op, ": the window leaves the ", what, " unknown (-1); pass the tensor whose "
                         "dims 2 and 3 give it as a third input"));
  check_image(op, what, in[2]);
  return {d[4] != kUnknown ? d[4] : in[2].shape[2], d[5] != kUnknown ? d[5] : in[2].shape[3]};
}

// conv2d_input_grad(g [N, O, Ho, Wo], w [O, C, kh, kw] [, x]) -> [N, C, H, W]
Meta conv2d_input_grad_shape(std::span<const Meta> in, const Attrs& a) {
  const Meta &g = in[0], &w = in[1];
  check_image("conv2d_input_grad", "gradient", g);
  check_image("conv2d_input_grad", "weight", w);
  check_same_dtype("conv2d_input_grad", g, w);
  const Shape& d = dims_of(a, 6, "conv2d_input_grad");
  const auto [h, wd] = window_sizes(in, d, "conv2d_input_grad", "input's height and width");
  check_window("conv2d_input_grad", conv_window(d, w.shape[2], w.shape[3]));
  return {{g.shape[0], w.shape[1], h, wd}, g.dtype};
}

// conv2d_weight_grad(x [N, C, H, W], g [N, O, Ho, Wo] [, w]) -> [O, C, kh, kw]
Meta conv2d_weight_grad_shape(std::span<const Meta> in, const Attrs& a) {
  const Meta &x = in[0], &g = in[1];
  check_image("conv2d_weight_grad", "input", x);
  check_image("conv2d_weight_grad", "gradient", g);
  check_same_dtype("conv2d_weight_grad", x, g);
  const Shape& d = dims_of(a, 6, "conv2d_weight_grad");
  const auto [kh, kw] = window_sizes(in, d, "conv2d_weight_grad", "kernel's height and width");
  check_window("conv2d_weight_grad", conv_window(d, kh, kw));
  return {{g.shape[1], x.shape[1], kh, kw}, x.dtype};
}

Window pool_window(const Attrs& a, const char* op) {
  const Shape& d = dims_of(a, 6, op);
  const Window win{d[0], d[1], d[2], d[3], d[4], d[5]};
  check_window(op, win);
  if (2 * win.ph > win.kh || 2 * win.pw > win.kw)
    throw Error(msg(op, ": pad should be at most half of effective kernel size, but got pad=[", win.ph, ", ",
                    win.pw, "], kernel_size=[", win.kh, ", ", win.kw, "]"));
  return win;
}

// max_pool2d(x [N, C, H, W]) -> [N, C, Ho, Wo]
Meta max_pool2d_shape(std::span<const Meta> in, const Attrs& a) {
  check_image("max_pool2d", "input", in[0]);
  const Window win = pool_window(a, "max_pool2d");
  const Shape& s = in[0].shape;
  check_fits("max_pool2d", s[2], s[3], win);
  return {{s[0], s[1], win.out_h(s[2]), win.out_w(s[3])}, in[0].dtype};
}

// max_pool2d_backward(g [N, C, Ho, Wo], x [N, C, H, W]) -> like x
Meta max_pool2d_backward_shape(std::span<const Meta> in, const Attrs& a) {
  check_image("max_pool2d_backward", "gradient", in[0]);
  check_image("max_pool2d_backward", "input", in[1]);
  pool_window(a, "max_pool2d_backward");
  return in[1];
}

// max_pool2d_gather(d [N, C, H, W], x [N, C, H, W]) -> [N, C, Ho, Wo]
Meta max_pool2d_gather_shape(std::span<const Meta> in, const Attrs& a) {
  check_image("max_pool2d_gather", "values", in[0]);
  const Meta out = max_pool2d_shape(in.subspan(1, 1), a);
  return {out.shape, in[0].dtype};
}

// ---- im2col and col2im ---------------------------------------------------------------------------------

// Two tricks make the copies below fast; the plain loops they replace are reference::conv2d's
// (core/ops/reference.cpp) and ConvGeometry::source (conv_geometry.h), one entry at a time.
//
// 1. PAD ONCE. Where the window overhangs the image it reads zeros, and testing every entry for
//    that costs more than copying it. So a padded image is first copied into a scratch buffer with
//    the zeros around it ((H + 2ph) x (W + 2pw) per channel); every window then lies inside it, and
//    a row of cols is a plain copy: cols[(c·kh + i)·kw + j][ho·Wo + wo] = padded[c][ho·sh + i][wo·sw + j].
// 2. ROWS OF A KNOWN LENGTH. Those rows are short (Wo = 8 to 28 values in the seed networks). A
//    copy loop whose length the compiler knows only at run time compiles to a loop with a scalar
//    tail, and its control costs more than the moves; with the length known at compile time it
//    becomes a few vector moves. So the common widths are template instances, picked at run time
//    by with_width; any other width runs the same code with the length as a variable. Measured on
//    one image of the ConvNet's second layer (10 channels, 8 x 8 outputs): 9.7 µs, 0.9 µs with
//    its width known.

// f(width) with the width as a compile-time constant (std::integral_constant) where it is one of
// the common ones, else as a plain int64_t: the same code, compiled for each.
template <typename F> void with_width(int64_t width, F f) {
  switch (width) {
    case 4: return f(std::integral_constant<int64_t, 4>{});
    case 7: return f(std::integral_constant<int64_t, 7>{});
    case 8: return f(std::integral_constant<int64_t, 8>{});
    case 12: return f(std::integral_constant<int64_t, 12>{});
    case 14: return f(std::integral_constant<int64_t, 14>{});
    case 16: return f(std::integral_constant<int64_t, 16>{});
    case 24: return f(std::integral_constant<int64_t, 24>{});
    case 28: return f(std::integral_constant<int64_t, 28>{});
    case 32: return f(std::integral_constant<int64_t, 32>{});
    default: return f(width);
  }
}

// The image x (C planes of H x W) with ph rows and pw columns of zeros around every plane, in a
// buffer of the calling thread (grown once, then reused: no allocation per image), followed by
// `tail` more zeros (the direct convolution below reads a little past the last plane). Without
// padding or tail, x itself.
//
// SPEED TRICK: the zeros are written once per layer, not once per image. A layer pads its 64
// images one after another into the same buffer, in the same places: the zeros around them stay
// where the last image left them, and only the inside is copied again. The buffer remembers the
// geometry it was last zeroed for; another layer's turn zeroes it anew.
template <typename T> void copy_inside(const T* x, int64_t C, int64_t H, int64_t W, const Window& k, T* out);
template <typename T>
const T* padded_image(const T* x, int64_t C, int64_t H, int64_t W, const Window& k, int64_t tail = 0) {
  if (k.ph == 0 && k.pw == 0 && tail == 0) return x;
  const int64_t size = C * (H + 2 * k.ph) * (W + 2 * k.pw) + tail;
  thread_local std::vector<T> buffer;
  thread_local std::array<int64_t, 6> zeroed_for{};  // (C, H, W, ph, pw, tail) of the zeros in place
  const std::array<int64_t, 6> geometry{C, H, W, k.ph, k.pw, tail};
  if (geometry != zeroed_for) {
    if (buffer.size() < static_cast<size_t>(size)) buffer.resize(static_cast<size_t>(size));
    std::fill(buffer.data(), buffer.data() + size, T(0));
    zeroed_for = geometry;
  }
  copy_inside(x, C, H, W, k, buffer.data());
  return buffer.data();
}

// The inside of out (C planes of (H + 2ph) x (W + 2pw)) = x; the border is left as it is.
template <typename T> void copy_inside(const T* x, int64_t C, int64_t H, int64_t W, const Window& k, T* out) {
  const int64_t Hp = H + 2 * k.ph, Wp = W + 2 * k.pw;
  with_width(W, [&](auto w_count) {  // W, known at compile time where it can be (rows are short)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t h = 0; h < H; ++h) {
        T* row = out + (c * Hp + h + k.ph) * Wp + k.pw;
        const T* in = x + (c * H + h) * W;
#pragma omp simd
        for (int64_t w = 0; w < w_count; ++w) row[w] = in[w];
      }
  });
}

// cols (C·kh·kw rows of Ho·Wo) = the windows of one image x (C planes of H x W), zeros outside.
template <typename T>
void im2col(const T* x, int64_t C, int64_t H, int64_t W, const Window& k, int64_t Ho, int64_t Wo, T* cols) {
  // BEGIN SOLUTION a4.t2
  const T* img = padded_image(x, C, H, W, k);
  const int64_t Hp = H + 2 * k.ph, Wp = W + 2 * k.pw;
  with_width(Wo, [&](auto wo_count) {  // wo_count == Wo, known at compile time where it can be
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < k.kh; ++i)
        for (int64_t j = 0; j < k.kw; ++j) {
          T* row = cols + ((c * k.kh + i) * k.kw + j) * Ho * wo_count;
          const T* in = img + (c * Hp + i) * Wp + j;  // window (0, 0)'s tap (i, j)
          for (int64_t ho = 0; ho < Ho; ++ho) {
            const T* src = in + ho * k.sh * Wp;
            T* out = row + ho * wo_count;
            if (k.sw == 1) {
#pragma omp simd
              for (int64_t wo = 0; wo < wo_count; ++wo) out[wo] = src[wo];  // (cols never overlaps the image)
            } else {
              for (int64_t wo = 0; wo < wo_count; ++wo) out[wo] = src[wo * k.sw];
            }
          }
        }
  });
  // END SOLUTION
}

// The reverse: every pixel of x becomes the sum of the entries of cols copied from it. With
// padding, the sums collect in a padded scratch image whose inside is then copied to x (what lands
// on the padding is dropped: those entries came from no pixel).
template <typename T>
void col2im(const T* cols, int64_t C, int64_t H, int64_t W, const Window& k, int64_t Ho, int64_t Wo, T* x) {
  const int64_t Hp = H + 2 * k.ph, Wp = W + 2 * k.pw;
  thread_local std::vector<T> buffer;
  T* img = x;
  if (k.ph != 0 || k.pw != 0) {
    buffer.assign(static_cast<size_t>(C * Hp * Wp), T(0));
    img = buffer.data();
  } else {
    std::fill(x, x + C * H * W, T(0));
  }
  with_width(Wo, [&](auto wo_count) {
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < k.kh; ++i)
        for (int64_t j = 0; j < k.kw; ++j) {
          const T* row = cols + ((c * k.kh + i) * k.kw + j) * Ho * wo_count;
          T* out = img + (c * Hp + i) * Wp + j;
          for (int64_t ho = 0; ho < Ho; ++ho) {
            T* dst = out + ho * k.sh * Wp;
            const T* in = row + ho * wo_count;
            if (k.sw == 1) {
#pragma omp simd
              for (int64_t wo = 0; wo < wo_count; ++wo) dst[wo] += in[wo];
            } else {
              for (int64_t wo = 0; wo < wo_count; ++wo) dst[wo * k.sw] += in[wo];
            }
          }
        }
  });
  if (img == x) return;
  with_width(W, [&](auto w_count) {
    for (int64_t c = 0; c < C; ++c)
      for (int64_t h = 0; h < H; ++h) {
        const T* src = img + (c * Hp + h + k.ph) * Wp + k.pw;
        T* dst = x + (c * H + h) * W;
#pragma omp simd
        for (int64_t w = 0; w < w_count; ++w) dst[w] = src[w];
      }
  });
}

// ---- one image at a time -----------------------------------------------------------------------
//
// The plain way to run these products over a batch is to unfold every image first — cols
// [N, C·kh·kw, Ho·Wo] — and then multiply. For the seed ConvNet's first layer that matrix is
// 3.7 MB, its second's 4 MB: far beyond the caches, so im2col writes them out to memory and GEMM
// reads them back. Speed: instead a task unfolds ONE image into its own scratch
// buffer (57 KB for the first layer: it stays in the core's L2 cache) and multiplies it right
// away, then reuses the buffer for its next image. The products are the same, image by image.
//
// Threads take groups of kImagesPerTask images. The weight gradient, a sum over images, keeps one
// partial sum per group and adds the groups' sums in group order: the same additions in the same
// order whatever the number of threads, so a run on 1 or 2 threads gives the same bits.
constexpr int64_t kImagesPerTask = 8;

int64_t image_tasks(int64_t N) { return (N + kImagesPerTask - 1) / kImagesPerTask; }

// f(task, first, count, scratch) for every task's group of images [first, first + count), tasks in
// parallel when the batch's work (multiply-adds) is worth threads; scratch is the task's own buffer
// of scratch_size elements.
template <typename T, typename F>
void for_each_image_group(int64_t N, int64_t scratch_size, int64_t work, DType dtype, F f) {
  const bool parallel = gemm_nests_in_parallel() && work >= loops::kParallelGrain;
  loops::parallel_for(image_tasks(N), parallel, [&](int64_t task) {
    const Tensor scratch = Tensor::empty({scratch_size}, dtype);  // from the allocator's cache
    const int64_t first = task * kImagesPerTask;
    f(task, first, std::min(N, first + kImagesPerTask) - first, scratch.data<T>());
  });
}

// f(task, n, scratch) for every image n of the batch, as above.
template <typename T, typename F>
void for_each_image(int64_t N, int64_t scratch_size, int64_t work, DType dtype, F f) {
  for_each_image_group<T>(N, scratch_size, work, dtype, [&](int64_t task, int64_t first, int64_t count, T* scratch) {
    for (int64_t n = first; n < first + count; ++n) f(task, n, scratch);
  });
}

// ---- the direct convolution, for stride 1 (speed) -------------------------------------------------------
//
// im2col + GEMM copies every pixel kh·kw times into cols, and the GEMM library then copies cols
// once more, into the panel layout its inner loop reads ("packing"). In the ResNet's training step
// those copies took a fifth of the time (perf: im2col 13%, OpenBLAS's packing 7%, col2im 6%). With
// stride 1 neither copy is needed — a change of numbering does without them:
//
// Number the outputs on the padded image's own grid, q = ho·Wp + wo (Wp = W + 2pw, the length of a
// padded row), not ho·Wo + wo. Tap (c, i, j) of the window at output q then reads the padded pixel
//
//     c·Hp·Wp + (ho + i)·Wp + (wo + j)  =  off[c, i, j] + q,      off[c, i, j] = c·Hp·Wp + i·Wp + j
//
// so row r = (c, i, j) of cols, read on this grid, is the padded image itself shifted by off[r]:
//
//     y[o, q] = Σ_r W2[o, r] · padded[off[r] + q]
//
// is the product W2 · cols with cols never built; the loop reads the image where it lies. The price:
// the grid has Wp columns per output row where the output has Wo, and the Wp - Wo others are windows
// that wrap past the right edge into the next row, computed and thrown away. That is 7% more
// arithmetic on a 28x28 image with padding 1, 14% on 14x14, 29% on 7x7; past 25% (direct_serves),
// where it stopped paying on the ResNet's layers, the other loop below (FilterConv) or im2col + GEMM
// takes over.
//
// The loop is what a GEMM library's inner kernel does (REGISTER BLOCKING): a tile of kDirectFilters
// filters x kDirectOutputs consecutive outputs is summed in a small array that the compiler keeps in
// vector registers (8 x 32 floats: 16 of AVX-512's 32 registers). Each step r loads 32 inputs (two
// vectors) and 8 weights and does 8 x 32 multiply-adds, 16 vector FMAs for 10 loads; a plain dot
// product per output would load two numbers for every multiply-add. The weights are laid out once per
// call in the order the tile reads them (pack_filters below), as a GEMM packs its left operand.
//
// The input's gradient of a stride-1 convolution is itself a stride-1 convolution: of g, padded by
// kh - 1 - ph rows and kw - 1 - pw columns, with each filter turned around and the roles of input
// and output channels swapped, W'[c, o, i, j] = W[o, c, kh-1-i, kw-1-j]. (Pixel (h, w) collects
// g[o, ho, wo]·W[o, c, i, j] from every output whose window covered it, ho + i - ph = h: reading the
// taps backwards, that is a window over g.) So the same loops serve it, with no col2im either
// (fast_input_grad, below).
//
// float32 only: float64 keeps im2col + GEMM, the path gradcheck checks against. The sums run over r in
// order, as a dot product would; results differ from the GEMM path's in the last bits at most.
// Measured in bench/RESULTS.md and docs/performance.md ("Convolution without im2col").

// The tile's size follows the machine's vectors and registers (the build's -march):
#if defined(__AVX512F__)
constexpr int64_t kDirectOutputs = 32;  // consecutive outputs per tile: two vectors of 16 floats
constexpr int64_t kDirectFilters = 8;   // filters per tile: 8 x 2 = 16 accumulators, of 32 registers
#elif defined(__AVX__)
constexpr int64_t kDirectOutputs = 16;  // two vectors of 8 floats
constexpr int64_t kDirectFilters = 6;   // 6 x 2 = 12 accumulators, of 16 registers
#else
constexpr int64_t kDirectOutputs = 8;   // two vectors of 4 floats (SSE, NEON)
constexpr int64_t kDirectFilters = 6;
#endif

// Whether the direct loop serves a convolution with O filters of C-channel images W wide: stride 1;
// at least 16 taps C·kh·kw (with fewer, a tile's setup and stores outweigh its loop: the ResNet's
// stem, one channel and 9 taps, ran at 45 GFLOP/s against im2col + GEMM's 71); and at most 25% more
// arithmetic than the definition's, counting both the Wp - Wo extra outputs of a row and the empty
// places in the last group of filters: Wp·O_padded <= 1.25·Wo·O.
bool direct_serves(const Window& k, int64_t O, int64_t C, int64_t W) {
  const int64_t Wp = W + 2 * k.pw, Wo = Wp - k.kw + 1;
  const int64_t padded_filters = (O + kDirectFilters - 1) / kDirectFilters * kDirectFilters;
  return k.sh == 1 && k.sw == 1 && C * k.kh * k.kw >= 16 && Wo > 0 && 4 * Wp * padded_filters <= 5 * Wo * O;
}

// One tile: outputs q .. q + kDirectOutputs (image is the padded image from q on) of one group of
// kDirectFilters packed filters: out[m][t] = Σ_r panel[r][m] · image[offset[r] + t]. Out of line,
// so that the compiler unrolls it on its own terms (see gather_tile).
[[gnu::noinline]] void direct_tile(const float* panel, const float* image, const int64_t* offset, int64_t R,
                                   float* out, int64_t ld) {
  float acc[kDirectFilters][kDirectOutputs] = {};  // lives in registers
  for (int64_t r = 0; r < R; ++r) {
    const float* in = image + offset[r];
    const float* w = panel + r * kDirectFilters;
    for (int64_t m = 0; m < kDirectFilters; ++m) {
#pragma omp simd
      for (int64_t t = 0; t < kDirectOutputs; ++t) acc[m][t] += w[m] * in[t];
    }
  }
  for (int64_t m = 0; m < kDirectFilters; ++m)
    for (int64_t t = 0; t < kDirectOutputs; ++t) out[m * ld + t] = acc[m][t];
}

// A stride-1 convolution of float images (C planes of H x W) with O filters, one image at a time.
class DirectConv {
 public:
  // w2: the filters as conv2d's weight lays them out, O rows of C·kh·kw.
  DirectConv(const float* w2, int64_t O, int64_t C, int64_t H, int64_t W, const Window& k)
      : k_(k), O_(O), C_(C), H_(H), W_(W), Hp_(H + 2 * k.ph), Wp_(W + 2 * k.pw), Ho_(k.out_h(H)),
        Wo_(k.out_w(W)), R_(C * k.kh * k.kw), groups_((O + kDirectFilters - 1) / kDirectFilters),
        grid_((Ho_ * Wp_ + kDirectOutputs - 1) / kDirectOutputs * kDirectOutputs) {
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < k.kh; ++i)
        for (int64_t j = 0; j < k.kw; ++j) offset_.push_back((c * Hp_ + i) * Wp_ + j);
    pack_filters(w2);
  }

  // Floats of scratch run() needs: the outputs on the padded grid.
  int64_t scratch_size() const { return groups_ * kDirectFilters * grid_; }

  // y (O planes of Ho x Wo) = the convolution of x (C planes of H x W).
  void run(const float* x, float* y, float* scratch) const {
    // The last tile reads up to offset_.back() + grid_ - 1: zeros past the last plane cover it.
    const int64_t tail = offset_.back() + grid_ - C_ * Hp_ * Wp_;
    const float* image = padded_image(x, C_, H_, W_, k_, tail);
    for (int64_t g = 0; g < groups_; ++g)
      for (int64_t q = 0; q < grid_; q += kDirectOutputs)
        direct_tile(panels_.data() + g * R_ * kDirectFilters, image + q, offset_.data(), R_,
                    scratch + g * kDirectFilters * grid_ + q, grid_);
    // Keep the Wo real outputs of each row of Wp.
    with_width(Wo_, [&](auto wo_count) {
      for (int64_t o = 0; o < O_; ++o)
        for (int64_t ho = 0; ho < Ho_; ++ho) {
          const float* src = scratch + o * grid_ + ho * Wp_;
          float* dst = y + (o * Ho_ + ho) * wo_count;
#pragma omp simd
          for (int64_t wo = 0; wo < wo_count; ++wo) dst[wo] = src[wo];
        }
    });
  }

 private:
  // panels_[g][r][m] = w2[g·kDirectFilters + m][r]: the weights one step r of a tile reads, side by
  // side; zeros for the missing filters of the last group.
  void pack_filters(const float* w2) {
    panels_.assign(static_cast<size_t>(groups_ * R_ * kDirectFilters), 0.0f);
    for (int64_t o = 0; o < O_; ++o)
      for (int64_t r = 0; r < R_; ++r)
        panels_[((o / kDirectFilters) * R_ + r) * kDirectFilters + o % kDirectFilters] = w2[o * R_ + r];
  }

  Window k_;
  int64_t O_, C_, H_, W_, Hp_, Wp_, Ho_, Wo_, R_, groups_;
  int64_t grid_;                 // outputs on the padded grid, Ho·Wp, rounded up to whole tiles
  std::vector<int64_t> offset_;  // offset_[r] = off[c, i, j]
  std::vector<float> panels_;
};

// ---- the other way to fill the vectors: with filters (speed) --------------------------------------
//
// The direct loop above puts consecutive outputs of one filter in a vector, which needs stride 1 and
// wide images. The other way round, a vector holds consecutive FILTERS at one output, and a window of
// any stride, on an image of any size, is read where it lies. With off[r] the tap r = (c, i, j) within
// a window of the padded image (above) and base[p] = ho·sh·Wp + wo·sw where the window of output
// p = ho·Wo + wo starts, both the output and the weight's gradient are sums of the same products:
//
//     y[o, p]     = Σ_r  padded[base[p] + off[r]] · W2[o, r]          (sum over taps)
//     dW2ᵀ[r, o] = Σ_p  padded[base[p] + off[r]] · g[o, p]  (+ Σ_n)  (sum over outputs)
//
// One loop serves both, gather_tile: a tile of kGatherRows rows (outputs for y, taps for dW2ᵀ) x
// kGatherFilters filters; each step of the sum loads kGatherRows image values, one per row, and one
// vector of filters — W2 or g transposed beforehand to [step][filter], so that consecutive filters sit
// side by side — and does kGatherRows vector multiply-adds. Only real windows are read: nothing is
// computed and thrown away, whatever the stride. The weight's gradient sums the outputs of a few
// images at a time in order into the task's partial sum: the same sums in the same order on one
// thread or two, as the GEMM path's.
#if defined(__AVX512F__)
constexpr int64_t kGatherFilters = 16;  // filters per tile: one vector
constexpr int64_t kGatherRows = 8;      // rows per tile: 8 accumulators (16 ran 20% slower)
#elif defined(__AVX__)
constexpr int64_t kGatherFilters = 16;  // two vectors
constexpr int64_t kGatherRows = 6;      // 6 x 2 = 12 accumulators, of 16 registers
#else
constexpr int64_t kGatherFilters = 4;   // one vector (SSE, NEON)
constexpr int64_t kGatherRows = 12;
#endif

int64_t round_up(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

// Whether gather_tile's tiles for `rows` rows and O filters are at most 25% empty places.
bool gather_fits(int64_t rows, int64_t O) {
  return 4 * round_up(O, kGatherFilters) * round_up(rows, kGatherRows) <= 5 * O * rows;
}

// out[m][t] (+)= Σ_s image[at[m] + step[s]] · b[s][t], for kGatherRows rows m and kGatherFilters filters
// t (b and out have rows of ld): added to out (kAdd: a partial sum over several calls) or written.
// Out of line on purpose: inlined into its caller, GCC 12 stopped unrolling the loop over m and kept
// acc on the stack (24 GFLOP/s instead of 85).
template <bool kAdd>
[[gnu::noinline]] void gather_tile(const float* image, const int64_t* at, const int64_t* step, int64_t S,
                                   const float* b, int64_t ld, float* out) {
  float acc[kGatherRows][kGatherFilters] = {};  // lives in registers
  for (int64_t s = 0; s < S; ++s) {
    const float* in = image + step[s];
    const float* bs = b + s * ld;
    for (int64_t m = 0; m < kGatherRows; ++m) {
      const float v = in[at[m]];
#pragma omp simd
      for (int64_t t = 0; t < kGatherFilters; ++t) acc[m][t] += v * bs[t];
    }
  }
  for (int64_t m = 0; m < kGatherRows; ++m)
    for (int64_t t = 0; t < kGatherFilters; ++t) out[m * ld + t] = kAdd ? out[m * ld + t] + acc[m][t] : acc[m][t];
}

// The geometry both users share: off[r] for the taps and base[p] for the outputs of a convolution of
// images C x H x W. Each user pads the list that serves as its rows with zeros (window 0, tap 0) to
// whole tiles; those rows are computed and never read.
struct Windows {
  std::vector<int64_t> off, base;
  Windows(int64_t C, int64_t H, int64_t W, const Window& k) {
    const int64_t Hp = H + 2 * k.ph, Wp = W + 2 * k.pw, Wo = k.out_w(W), P = k.out_h(H) * Wo;
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < k.kh; ++i)
        for (int64_t j = 0; j < k.kw; ++j) off.push_back((c * Hp + i) * Wp + j);
    for (int64_t p = 0; p < P; ++p) base.push_back(p / Wo * k.sh * Wp + p % Wo * k.sw);
  }
};

// A float convolution (C planes of H x W, O filters, any stride), an image at a time, with the
// filters in the vectors: y[o, p] = Σ_r padded[base[p] + off[r]] · W2[o, r].
class FilterConv {
 public:
  // w2: the filters as conv2d's weight lays them out, O rows of C·kh·kw.
  FilterConv(const float* w2, int64_t O, int64_t C, int64_t H, int64_t W, const Window& k)
      : k_(k), O_(O), C_(C), H_(H), W_(W), P_(k.out_h(H) * k.out_w(W)), filters_(round_up(O, kGatherFilters)),
        windows_(C, H, W, k) {
    const int64_t R = C * k.kh * k.kw;
    windows_.base.resize(static_cast<size_t>(round_up(P_, kGatherRows)), 0);  // empty rows read window 0
    w2t_.assign(static_cast<size_t>(R * filters_), 0.0f);                      // [r][o], zeros past O
    for (int64_t o = 0; o < O; ++o)
      for (int64_t r = 0; r < R; ++r) w2t_[r * filters_ + o] = w2[o * R + r];
  }
  // Where it pays (measured on the ResNet's layers): the transposes of W2 and of the output cost about
  // 16/R of the arithmetic, so R = C·kh·kw >= 64 taps; and the tiles must fit (gather_fits).
  static bool serves(int64_t O, int64_t C, int64_t H, int64_t W, const Window& k) {
    return C * k.kh * k.kw >= 64 && gather_fits(k.out_h(H) * k.out_w(W), O);
  }

  int64_t scratch_size() const { return static_cast<int64_t>(windows_.base.size()) * filters_; }  // yᵀ

  // y (O planes of Ho x Wo) = the convolution of x (C planes of H x W).
  void run(const float* x, float* y, float* scratch) const {
    const float* image = padded_image(x, C_, H_, W_, k_);
    const auto R = static_cast<int64_t>(windows_.off.size());
    for (int64_t p = 0; p < static_cast<int64_t>(windows_.base.size()); p += kGatherRows)
      for (int64_t o = 0; o < filters_; o += kGatherFilters)
        gather_tile</*kAdd=*/false>(image, windows_.base.data() + p, windows_.off.data(), R, w2t_.data() + o,
                                    filters_, scratch + p * filters_ + o);  // each tile written once
    transpose(scratch, P_, O_, filters_, y, P_);  // y[o][p] = scratch[p][o]
  }

 private:
  Window k_;
  int64_t O_, C_, H_, W_, P_, filters_;
  Windows windows_;
  std::vector<float> w2t_;
};

// The weight's gradient of a float convolution (C planes of H x W, O filters, any stride), into a
// partial sum laid out [taps()][filters()]: dW2ᵀ, padded to whole tiles. The steps of a tile are the
// outputs of several images at once (images_, enough for 256 steps): on 7x7 outputs a tile over one
// image's 49 would spend as long starting and ending as in its loop.
class FilterWeightGrad {
 public:
  FilterWeightGrad(int64_t O, int64_t C, int64_t H, int64_t W, const Window& k)
      : k_(k), O_(O), C_(C), H_(H), W_(W), P_(k.out_h(H) * k.out_w(W)), filters_(round_up(O, kGatherFilters)),
        image_size_(C * (H + 2 * k.ph) * (W + 2 * k.pw)), images_(std::clamp<int64_t>(256 / P_, 1, kImagesPerTask)),
        windows_(C, H, W, k) {
    windows_.off.resize(static_cast<size_t>(round_up(C * k.kh * k.kw, kGatherRows)), 0);  // empty taps read tap 0
    for (int64_t n = 0; n < images_; ++n)  // the steps: every output of images_ padded images, laid end to end
      for (int64_t p = 0; p < P_; ++p) steps_.push_back(n * image_size_ + windows_.base[p]);
  }
  // Where it pays (measured on the ResNet's layers): R >= 64 taps, as for FilterConv (g's transpose),
  // 64 steps or more in a tile, and tiles that fit.
  static bool serves(int64_t O, int64_t C, int64_t H, int64_t W, const Window& k) {
    const int64_t R = C * k.kh * k.kw;
    return R >= 64 && kImagesPerTask * k.out_h(H) * k.out_w(W) >= 64 && gather_fits(R, O);
  }

  int64_t taps() const { return static_cast<int64_t>(windows_.off.size()); }
  int64_t filters() const { return filters_; }
  int64_t scratch_size() const { return images_ * (image_size_ + P_ * filters_); }  // padded images, g transposed

  // partial += dW2ᵀ of `count` images: x, count images of C planes of H x W; g, of O planes of Ho x Wo.
  void add(const float* x, const float* g, int64_t count, float* partial, float* scratch) const {
    float* images = scratch;                      // images_ padded images, end to end
    float* gt = scratch + images_ * image_size_;  // [image, p][o]: g transposed, zeros past O
    std::fill(images, images + images_ * image_size_, 0.0f);  // the borders: zeroed once, as padded_image
    for (int64_t first = 0; first < count; first += images_) {
      const int64_t n_images = std::min(images_, count - first);
      for (int64_t n = 0; n < n_images; ++n) {
        copy_inside(x + (first + n) * C_ * H_ * W_, C_, H_, W_, k_, images + n * image_size_);
        float* gtn = gt + n * P_ * filters_;
        transpose(g + (first + n) * O_ * P_, O_, P_, P_, gtn, filters_);  // gtn[p][o] = g[n][o][p]
        if (filters_ > O_)
          for (int64_t p = 0; p < P_; ++p) std::fill(gtn + p * filters_ + O_, gtn + (p + 1) * filters_, 0.0f);
      }
      for (int64_t r = 0; r < taps(); r += kGatherRows)
        for (int64_t o = 0; o < filters_; o += kGatherFilters)
          gather_tile</*kAdd=*/true>(images, windows_.off.data() + r, steps_.data(), n_images * P_, gt + o,
                                     filters_, partial + r * filters_ + o);
    }
  }

 private:
  Window k_;
  int64_t O_, C_, H_, W_, P_, filters_, image_size_, images_;
  Windows windows_;
  std::vector<int64_t> steps_;
};

// ---- which loop serves ------------------------------------------------------------------------------

// A float32 convolution by whichever of the two loops serves it: consecutive outputs in the vectors
// (DirectConv: stride 1, wide images) or consecutive filters (FilterConv: any stride, 64 taps or more).
class FastConv {
 public:
  explicit FastConv(DirectConv how) : how_(std::move(how)) {}
  explicit FastConv(FilterConv how) : how_(std::move(how)) {}
  int64_t scratch_size() const {
    return std::visit([](const auto& how) { return how.scratch_size(); }, how_);
  }
  void run(const float* x, float* y, float* scratch) const {
    std::visit([&](const auto& how) { how.run(x, y, scratch); }, how_);
  }

 private:
  std::variant<DirectConv, FilterConv> how_;
};

enum class Loop { kIm2col, kDirect, kFilters };

// The loop for conv2d's forward pass, or im2col + GEMM. Where both serve, the one measured faster
// on the ResNet's layers: FilterConv from 32 filters (97 against 90 GFLOP/s on 32 channels at
// 14x14), DirectConv below (86 against 81 on 16 at 28x28).
Loop forward_loop(int64_t O, int64_t C, int64_t H, int64_t W, const Window& k) {
  const bool by_filters = FilterConv::serves(O, C, H, W, k), direct = direct_serves(k, O, C, W);
  if (by_filters && (O >= 32 || !direct)) return Loop::kFilters;
  return direct ? Loop::kDirect : Loop::kIm2col;
}

// The forward pass's loop (filters w2: O rows of C·kh·kw), or none: im2col + GEMM then.
std::optional<FastConv> fast_conv(const float* w2, int64_t O, int64_t C, int64_t H, int64_t W, const Window& k) {
  switch (forward_loop(O, C, H, W, k)) {
    case Loop::kFilters: return FastConv(FilterConv(w2, O, C, H, W, k));
    case Loop::kDirect: return FastConv(DirectConv(w2, O, C, H, W, k));
    case Loop::kIm2col: break;
  }
  return std::nullopt;
}

// For stride 1 the input's gradient is the convolution of g (O planes of Ho x Wo) padded by k - 1 - p
// (which needs p <= k - 1), with C filters W'[c, o, i, j] = W[o, c, kh-1-i, kw-1-j]: each filter
// turned around, the channels swapped. Its window, or none where that does not hold.
std::optional<Window> turned_window(const Window& k) {
  if (k.sh != 1 || k.sw != 1 || k.ph > k.kh - 1 || k.pw > k.kw - 1) return std::nullopt;
  return Window{k.kh, k.kw, 1, 1, k.kh - 1 - k.ph, k.kw - 1 - k.pw};
}

// The loop for the input's gradient (g: O planes of Ho x Wo): the turned filters' convolution where
// turned_window holds and one of the loops serves it, else im2col (W2ᵀ · g and col2im).
Loop input_grad_loop(int64_t O, int64_t C, int64_t Ho, int64_t Wo, const Window& k) {
  const std::optional<Window> turned_k = turned_window(k);
  return turned_k ? forward_loop(C, O, Ho, Wo, *turned_k) : Loop::kIm2col;
}

// That loop, or none: W2ᵀ · g and col2im then.
std::optional<FastConv> fast_input_grad(const float* w, int64_t O, int64_t C, int64_t Ho, int64_t Wo,
                                        const Window& k) {
  if (input_grad_loop(O, C, Ho, Wo, k) == Loop::kIm2col) return std::nullopt;
  std::vector<float> turned(static_cast<size_t>(C * O * k.kh * k.kw));
  for (int64_t o = 0; o < O; ++o)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < k.kh; ++i)
        for (int64_t j = 0; j < k.kw; ++j)
          turned[((c * O + o) * k.kh + i) * k.kw + j] =
              w[((o * C + c) * k.kh + (k.kh - 1 - i)) * k.kw + (k.kw - 1 - j)];
  return fast_conv(turned.data(), C, O, Ho, Wo, *turned_window(k));
}

// The name conv2d_loops gives a loop (core/ops/conv_loops.h).
const char* loop_name(Loop loop) {
  switch (loop) {
    case Loop::kDirect: return "direct";
    case Loop::kFilters: return "filters";
    case Loop::kIm2col: break;
  }
  return "im2col";
}

// ---- conv2d kernels ------------------------------------------------------------------------------------

// y[n] = W2 · cols[n] for every image n, written straight into out ([N, O, Ho·Wo] in memory).
void conv2d_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  const Tensor x = in[0].contiguous(), w = in[1].contiguous();
  const Meta m = conv2d_shape(std::vector<Meta>{meta_of(x), meta_of(w)}, a);  // run-time check
  if (m.shape != out.shape())
    throw ShapeError(msg("conv2d: input ", shape_str(x.shape()), " and weight ", shape_str(w.shape()),
                         " give ", shape_str(m.shape), ", not the expected ", shape_str(out.shape())));
  if (out.numel() == 0) return;
  const Window k = conv_window(a.dims, w.size(2), w.size(3));
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t O = w.size(0), Ho = out.size(2), Wo = out.size(3), rows = C * k.kh * k.kw;
  visit_floating(x.dtype(), [&]<typename T>() {
    const T* px = x.data<T>();
    const T* pw = w.data<T>();  // W2 [O, rows]: the filters flattened
    T* py = out.data<T>();
    // Speed: float32 takes a loop without im2col where one serves (see "which loop serves" above).
    // Assignment 4 asks for the plain way only, im2col + GEMM.
    std::optional<FastConv> fast;
    if constexpr (std::is_same_v<T, float>) fast = fast_conv(pw, O, C, H, W, k);
    const int64_t scratch = std::max(rows * Ho * Wo, fast ? fast->scratch_size() : 0);
    for_each_image<T>(N, scratch, N * O * rows * Ho * Wo, x.dtype(), [&](int64_t, int64_t n, T* cols) {
      // BEGIN SOLUTION a4.t2
      if constexpr (std::is_same_v<T, float>)
        if (fast) return fast->run(px + n * C * H * W, py + n * O * Ho * Wo, cols);
      im2col(px + n * C * H * W, C, H, W, k, Ho, Wo, cols);
      gemm<T>(false, false, O, Ho * Wo, rows, pw, cols, py + n * O * Ho * Wo, /*accumulate=*/false);
      // END SOLUTION
    });
  });
}

// dx[n] = col2im(W2ᵀ · g[n]) for every image n.
void conv2d_input_grad_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  const Tensor g = in[0].contiguous(), w = in[1].contiguous();
  const Window k = conv_window(a.dims, w.size(2), w.size(3));
  const int64_t N = out.size(0), C = out.size(1), H = out.size(2), W = out.size(3);
  const int64_t O = w.size(0), Ho = k.out_h(H), Wo = k.out_w(W);
  if (g.shape() != Shape{N, O, Ho, Wo})
    throw ShapeError(msg("conv2d_input_grad: the gradient has shape ", shape_str(g.shape()), " but an input of ",
                         shape_str(out.shape()), " and weight ", shape_str(w.shape()), " give outputs of ",
                         shape_str(Shape{N, O, Ho, Wo})));
  if (out.numel() == 0) return;
  const int64_t rows = C * k.kh * k.kw;
  visit_floating(out.dtype(), [&]<typename T>() {
    const T* pg = g.data<T>();
    const T* pw = w.data<T>();
    T* px = out.data<T>();
    if constexpr (std::is_same_v<T, float>) {
      // Speed: for stride 1, a convolution of g with no col2im, where one of the loops serves.
      if (const std::optional<FastConv> fast = fast_input_grad(pw, O, C, Ho, Wo, k)) {
        for_each_image<T>(N, fast->scratch_size(), N * O * rows * Ho * Wo, out.dtype(), [&](int64_t, int64_t n, T* s) {
          fast->run(pg + n * O * Ho * Wo, px + n * C * H * W, s);
        });
        return;
      }
    }
    for_each_image<T>(N, rows * Ho * Wo, N * O * rows * Ho * Wo, out.dtype(), [&](int64_t, int64_t n, T* dcols) {
      gemm<T>(/*trans_a=*/true, false, rows, Ho * Wo, O, pw, pg + n * O * Ho * Wo, dcols, false);
      col2im(dcols, C, H, W, k, Ho, Wo, px + n * C * H * W);
    });
  });
}

// dW2 = Σ_n g[n] · cols[n]ᵀ: each task sums its images into its own partial sum (GEMM with
// beta = 1), then the partial sums are added in task order. The kernel's size is the output's (the
// window's, or the third input's when the window says -1).
// Speed: each task computes the transpose, dW2ᵀ = Σ_n cols[n] · g[n]ᵀ ([C·kh·kw, O]), the same
// sums: OpenBLAS runs this orientation 5-20% faster on these shapes (few filters, long images),
// and the final sum over tasks transposes it back.
void conv2d_weight_grad_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  const Tensor x = in[0].contiguous(), g = in[1].contiguous();
  const Window k = conv_window(a.dims, out.size(2), out.size(3));
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t O = out.size(0), Ho = k.out_h(H), Wo = k.out_w(W);
  if (g.shape() != Shape{N, O, Ho, Wo})
    throw ShapeError(msg("conv2d_weight_grad: the gradient has shape ", shape_str(g.shape()), " but input ",
                         shape_str(x.shape()), " and a ", k.kh, "x", k.kw, " kernel give outputs of ",
                         shape_str(Shape{N, O, Ho, Wo})));
  const int64_t rows = C * k.kh * k.kw;
  visit_floating(out.dtype(), [&]<typename T>() {
    T* pdw = out.data<T>();
    std::fill(pdw, pdw + out.numel(), T(0));
    if (N == 0 || out.numel() == 0) return;
    const T* px = x.data<T>();
    const T* pg = g.data<T>();
    // Speed: float32 takes gather_tile where it serves (see "the other way to fill the vectors").
    std::optional<FilterWeightGrad> direct;
    if constexpr (std::is_same_v<T, float>)
      if (FilterWeightGrad::serves(O, C, H, W, k)) direct.emplace(O, C, H, W, k);
    const int64_t part_rows = direct ? direct->taps() : rows, ld = direct ? direct->filters() : O;
    const int64_t tasks = image_tasks(N);
    Tensor partial = zeros({tasks, part_rows * ld}, out.dtype());  // one dW2ᵀ per task
    T* pp = partial.data<T>();
    const int64_t scratch = direct ? direct->scratch_size() : rows * Ho * Wo;
    const int64_t work = N * O * rows * Ho * Wo;
    for_each_image_group<T>(N, scratch, work, out.dtype(), [&](int64_t task, int64_t first, int64_t count, T* s) {
      T* part = pp + task * part_rows * ld;
      if constexpr (std::is_same_v<T, float>)
        if (direct) return direct->add(px + first * C * H * W, pg + first * O * Ho * Wo, count, part, s);
      for (int64_t n = first; n < first + count; ++n) {
        im2col(px + n * C * H * W, C, H, W, k, Ho, Wo, s);
        gemm<T>(false, /*trans_b=*/true, rows, O, Ho * Wo, s, pg + n * O * Ho * Wo, part, /*accumulate=*/true);
      }
    });
    // The tasks' sums added in task order into the first, then turned back: dW2[o][r] = dW2ᵀ[r][o].
    // The same additions in the same order on any number of threads; one transpose, not one per task.
    for (int64_t t = 1; t < tasks; ++t) {
      const T* part = pp + t * part_rows * ld;  // [rows, O] in rows of ld
#pragma omp simd
      for (int64_t i = 0; i < part_rows * ld; ++i) pp[i] += part[i];
    }
    for (int64_t o = 0; o < O; ++o)
      for (int64_t r = 0; r < rows; ++r) pdw[o * rows + r] = pp[r * ld + o];
  });
}

// ---- max pooling kernels ----------------------------------------------------------------------------

// Which windows of a plane lie wholly inside it, and which touch the padding. Inner windows are
// listed by output position o = ho·Wo + wo and the plane index of their top-left pixel.
struct WindowLists {
  std::vector<int32_t> inner_o, inner_at;
  std::vector<int64_t> border_o;
};
WindowLists split_windows(int64_t H, int64_t W, const Window& k, int64_t Ho, int64_t Wo) {
  WindowLists lists;
  const bool small_plane = H * W <= std::numeric_limits<int32_t>::max();  // else every window takes the plain path
  for (int64_t ho = 0, o = 0; ho < Ho; ++ho)
    for (int64_t wo = 0; wo < Wo; ++wo, ++o) {
      const int64_t h0 = ho * k.sh - k.ph, w0 = wo * k.sw - k.pw;
      if (small_plane && h0 >= 0 && h0 + k.kh <= H && w0 >= 0 && w0 + k.kw <= W) {
        lists.inner_o.push_back(static_cast<int32_t>(o));
        lists.inner_at.push_back(static_cast<int32_t>(h0 * W + w0));
      } else {
        lists.border_o.push_back(o);
      }
    }
  return lists;
}

// One step of the search: the value v at plane index `at` replaces the best so far (best_v at
// best_i) if it is larger, or if it is the first NaN (a NaN already held is never replaced).
// & and | rather than && and ||: no branch, so that loops over windows vectorize.
template <typename T> inline void challenge(T v, int32_t at, T& best_v, int32_t& best_i) {
  const bool take = (v > best_v) | ((v != v) & (best_v == best_v));
  best_v = take ? v : best_v;
  best_i = take ? at : best_i;
}

// The winners of n windows wholly inside a plane, whose top-left pixels are at[0 .. n): best_i[t]
// the plane index of window t's winner, best_v[t] its value. The same rule as window_argmax_at
// (the first largest, the first NaN), computed tap by tap across the n windows.
// Speed: window_argmax_at branches on every comparison, and on real activations `v > best` is a
// coin toss the CPU mispredicts half the time; it also tests the borders at every pixel. Here a
// tap is one select per window, with no border test, and the loop over windows vectorizes (a
// gather per tap). The seed ConvNet's pooling, forward and backward, took 3.4 ms of its 9.4 ms
// training step through window_argmax_at, and takes about 0.5 ms this way (perf record of
// bench_convnet_epoch --threads 1).
template <typename T>
void interior_winners(const T* plane, int64_t W, const Window& k, const int32_t* at, int64_t n, T* best_v,
                      int32_t* best_i) {
  for (int64_t t = 0; t < n; ++t) {
    best_i[t] = at[t];
    best_v[t] = plane[at[t]];
  }
  for (int64_t i = 0; i < k.kh; ++i)
    for (int64_t j = 0; j < k.kw; ++j) {
      if (i == 0 && j == 0) continue;
      const auto tap = static_cast<int32_t>(i * W + j);
#pragma omp simd
      for (int64_t t = 0; t < n; ++t) challenge(plane[at[t] + tap], at[t] + tap, best_v[t], best_i[t]);
    }
}

// Calls f(plane index p, position o within the output plane, winner index i within the input
// plane) for every window of every (n, c) plane, planes in parallel. Windows that touch the padding
// go through the function the GPU kernels run (core/ops/conv_geometry.h), one at a time; those
// inside the image, most of them, through interior_winners, 64 at a time.
template <typename T, typename F>
void for_each_window(const T* x, int64_t planes, int64_t H, int64_t W, const Window& k, int64_t Ho, int64_t Wo, F f) {
  const ConvGeometry geo{1, H, W, k.kh, k.kw, k.sh, k.sw, k.ph, k.pw, Ho, Wo};
  const WindowLists lists = split_windows(H, W, k, Ho, Wo);
  const auto inner = static_cast<int64_t>(lists.inner_o.size());
  constexpr int64_t kRun = 64;
  loops::parallel_for(planes, planes * Ho * Wo * k.kh * k.kw >= loops::kParallelGrain, [&](int64_t p) {
    const T* plane = x + p * H * W;
    for (const int64_t o : lists.border_o) f(p, o, geo.window_argmax_at(plane, o / Wo, o % Wo));
    T best_v[kRun];
    int32_t best_i[kRun];
    for (int64_t start = 0; start < inner; start += kRun) {
      const int64_t n = std::min(kRun, inner - start);
      interior_winners(plane, W, k, lists.inner_at.data() + start, n, best_v, best_i);
      for (int64_t t = 0; t < n; ++t) f(p, lists.inner_o[start + t], best_i[t]);
    }
  });
}

void max_pool2d_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  const Tensor x = in[0].contiguous();
  const Window k = pool_window(a, "max_pool2d");
  const int64_t H = x.size(2), W = x.size(3), Ho = out.size(2), Wo = out.size(3);
  visit_floating(x.dtype(), [&]<typename T>() {
    const T* px = x.data<T>();
    T* po = out.data<T>();
    for_each_window(px, x.size(0) * x.size(1), H, W, k, Ho, Wo, [&](int64_t p, int64_t o, int64_t i) {
      po[p * Ho * Wo + o] = px[p * H * W + i];
    });
  });
}

// dx = g sent to each window's winner (added: overlapping windows may share a winner).
void max_pool2d_backward_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  const Tensor g = in[0].to(out.dtype()).contiguous(), x = in[1].contiguous();
  const Window k = pool_window(a, "max_pool2d_backward");
  const int64_t H = x.size(2), W = x.size(3), Ho = k.out_h(H), Wo = k.out_w(W);
  if (g.shape() != Shape{x.size(0), x.size(1), Ho, Wo})
    throw ShapeError(msg("max_pool2d_backward: the gradient has shape ", shape_str(g.shape()), " but pooling ",
                         shape_str(x.shape()), " gives ", shape_str(Shape{x.size(0), x.size(1), Ho, Wo})));
  visit_floating(x.dtype(), [&]<typename T>() {
    const T* px = x.data<T>();
    const T* pg = g.data<T>();
    T* po = out.data<T>();
    std::fill(po, po + out.numel(), T(0));
    // One plane per task: a plane's windows only write into that plane, so tasks never collide.
    for_each_window(px, x.size(0) * x.size(1), H, W, k, Ho, Wo, [&](int64_t p, int64_t o, int64_t i) {
      po[p * H * W + i] += pg[p * Ho * Wo + o];
    });
  });
}

// out = d read at each window's winner (the derivative of max_pool2d_backward with respect to g).
void max_pool2d_gather_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  const Tensor d = in[0].to(out.dtype()).contiguous(), x = in[1].contiguous();
  const Window k = pool_window(a, "max_pool2d_gather");
  const int64_t H = x.size(2), W = x.size(3), Ho = out.size(2), Wo = out.size(3);
  if (d.shape() != x.shape())
    throw ShapeError(msg("max_pool2d_gather: values of shape ", shape_str(d.shape()),
                         " must have the pooled input's shape ", shape_str(x.shape())));
  visit_floating(x.dtype(), [&]<typename T>() {
    const T* px = x.data<T>();
    const T* pd = d.data<T>();
    T* po = out.data<T>();
    for_each_window(px, x.size(0) * x.size(1), H, W, k, Ho, Wo, [&](int64_t p, int64_t o, int64_t i) {
      po[p * Ho * Wo + o] = pd[p * H * W + i];
    });
  });
}


}  // namespace

ConvLoops conv2d_loops(int64_t O, int64_t C, int64_t H, int64_t W, Pair kernel, Pair stride, Pair padding) {
  const Window k{kernel[0], kernel[1], stride[0], stride[1], padding[0], padding[1]};
  return {loop_name(forward_loop(O, C, H, W, k)), loop_name(input_grad_loop(O, C, k.out_h(H), k.out_w(W), k)),
          FilterWeightGrad::serves(O, C, H, W, k) ? "filters" : "im2col"};
}

// ---- the catalogue entries -------------------------------------------------------------------------------
namespace ops {
TANDEM_OP(conv2d, .arity = 2, .shape = conv2d_shape, .cpu = conv2d_kernel);
// The two gradient ops take 2 inputs, or 3 when their window leaves a size to the third (arity -1),
// which is read for its shape only.
TANDEM_OP(conv2d_input_grad, .arity = -1, .shape = conv2d_input_grad_shape, .cpu = conv2d_input_grad_kernel,
          .shape_only_inputs = 0b100);
TANDEM_OP(conv2d_weight_grad, .arity = -1, .shape = conv2d_weight_grad_shape, .cpu = conv2d_weight_grad_kernel,
          .shape_only_inputs = 0b100);
TANDEM_OP(max_pool2d, .shape = max_pool2d_shape, .cpu = max_pool2d_kernel);
TANDEM_OP(max_pool2d_backward, .arity = 2, .shape = max_pool2d_backward_shape, .cpu = max_pool2d_backward_kernel);
TANDEM_OP(max_pool2d_gather, .arity = 2, .shape = max_pool2d_gather_shape, .cpu = max_pool2d_gather_kernel);
}  // namespace ops

}  // namespace tandem
