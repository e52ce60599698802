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

#include "core/op.h"
#include "core/ops.h"
#include "core/ops/conv_geometry.h"
#include "core/ops/loops.h"
#include "core/ops/matmul.h"

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

// For kernel column j, the output columns wo whose input column w = wo·sw + j - pw lies inside the
// image: [lo, hi). Outside it the window reads padding. Computing the range once per row lets the
// loops below run without a test per element (and with stride 1, copy or add a contiguous run).
struct ValidRange {
  int64_t lo, hi;
};
ValidRange valid_columns(int64_t j, int64_t W, int64_t Wo, const Window& k) {
  const int64_t first = j - k.pw;  // input column of wo = 0
  int64_t lo = first >= 0 ? 0 : (-first + k.sw - 1) / k.sw;
  int64_t hi = W - first <= 0 ? 0 : (W - first + k.sw - 1) / k.sw;  // first wo with w >= W
  lo = std::min(lo, Wo);
  hi = std::clamp(hi, lo, Wo);
  return {lo, hi};
}

// cols (C·kh·kw rows of Ho·Wo) = the windows of one image x (C planes of H x W), zeros outside.
template <typename T>
void im2col(const T* x, int64_t C, int64_t H, int64_t W, const Window& k, int64_t Ho, int64_t Wo, T* cols) {
  // BEGIN SOLUTION a4.t2
  for (int64_t c = 0; c < C; ++c)
    for (int64_t i = 0; i < k.kh; ++i)
      for (int64_t j = 0; j < k.kw; ++j) {
        T* row = cols + ((c * k.kh + i) * k.kw + j) * Ho * Wo;
        const ValidRange v = valid_columns(j, W, Wo, k);
        for (int64_t ho = 0; ho < Ho; ++ho) {
          const int64_t h = ho * k.sh + i - k.ph;
          T* out = row + ho * Wo;
          if (h < 0 || h >= H) {
            std::fill(out, out + Wo, T(0));
            continue;
          }
          const T* in = x + (c * H + h) * W;
          const int64_t off = j - k.pw;  // column wo reads in[wo·sw + off]
          std::fill(out, out + v.lo, T(0));
          if (k.sw == 1) std::copy(in + v.lo + off, in + v.hi + off, out + v.lo);
          else
            for (int64_t wo = v.lo; wo < v.hi; ++wo) out[wo] = in[wo * k.sw + off];
          std::fill(out + v.hi, out + Wo, T(0));
        }
      }
  // END SOLUTION
}

// The reverse: every entry of cols is ADDED to the pixel of x it came from (x zeroed by the caller).
template <typename T>
void col2im(const T* cols, int64_t C, int64_t H, int64_t W, const Window& k, int64_t Ho, int64_t Wo, T* x) {
  for (int64_t c = 0; c < C; ++c)
    for (int64_t i = 0; i < k.kh; ++i)
      for (int64_t j = 0; j < k.kw; ++j) {
        const T* row = cols + ((c * k.kh + i) * k.kw + j) * Ho * Wo;
        const ValidRange v = valid_columns(j, W, Wo, k);
        for (int64_t ho = 0; ho < Ho; ++ho) {
          const int64_t h = ho * k.sh + i - k.ph;
          if (h < 0 || h >= H) continue;
          T* out = x + (c * H + h) * W;
          const T* in = row + ho * Wo;
          const int64_t off = j - k.pw;  // column wo came from out[wo·sw + off]
          if (k.sw == 1) {
#pragma omp simd
            for (int64_t wo = v.lo; wo < v.hi; ++wo) out[wo + off] += in[wo];
          } else {
            for (int64_t wo = v.lo; wo < v.hi; ++wo) out[wo * k.sw + off] += in[wo];
          }
        }
      }
}

// cols [N, C·kh·kw, Ho·Wo] for a contiguous batch x [N, C, H, W]; images in parallel.
Tensor im2col_batch(const Tensor& x, const Window& k, int64_t Ho, int64_t Wo) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t rows = C * k.kh * k.kw;
  Tensor cols = Tensor::empty({N, rows, Ho * Wo}, x.dtype());
  visit_floating(x.dtype(), [&]<typename T>() {
    const T* px = x.data<T>();
    T* pc = cols.data<T>();
    loops::parallel_for(N, cols.numel() >= loops::kParallelGrain, [&](int64_t n) {
      im2col(px + n * C * H * W, C, H, W, k, Ho, Wo, pc + n * rows * Ho * Wo);
    });
  });
  return cols;
}

// ---- conv2d kernels ------------------------------------------------------------------------------------

// y[n] = W2 · cols[n], as one batched product written straight into y (seen as [N, O, Ho·Wo]).
void conv2d_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  const Tensor x = in[0].contiguous(), w = in[1].contiguous();
  const Meta m = conv2d_shape(std::vector<Meta>{meta_of(x), meta_of(w)}, a);  // run-time check
  if (m.shape != out.shape())
    throw ShapeError(msg("conv2d: input ", shape_str(x.shape()), " and weight ", shape_str(w.shape()),
                         " give ", shape_str(m.shape), ", not the expected ", shape_str(out.shape())));
  if (out.numel() == 0) return;
  const Window k = conv_window(a.dims, w.size(2), w.size(3));
  const int64_t N = x.size(0), O = w.size(0), Ho = out.size(2), Wo = out.size(3);
  // BEGIN SOLUTION a4.t2
  const Tensor cols = im2col_batch(x, k, Ho, Wo);
  const Tensor w2 = w.reshape({O, cols.size(1)});
  Tensor y = out.reshape({N, O, Ho * Wo});  // a view of out: the product lands in out's memory
  const std::array<Tensor, 2> operands{w2, cols};
  ops::matmul.cpu(operands, {}, y);
  // END SOLUTION
}

// dx = col2im(W2ᵀ · g[n]) for every image n.
void conv2d_input_grad_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  const Tensor g = in[0].contiguous(), w = in[1].contiguous();
  const Window k = conv_window(a.dims, w.size(2), w.size(3));
  const int64_t N = out.size(0), C = out.size(1), H = out.size(2), W = out.size(3);
  const int64_t O = w.size(0), Ho = k.out_h(H), Wo = k.out_w(W);
  if (g.shape() != Shape{N, O, Ho, Wo})
    throw ShapeError(msg("conv2d_input_grad: the gradient has shape ", shape_str(g.shape()), " but an input of ",
                         shape_str(out.shape()), " and weight ", shape_str(w.shape()), " give outputs of ",
                         shape_str(Shape{N, O, Ho, Wo})));
  const int64_t rows = C * k.kh * k.kw;
  Tensor dcols = Tensor::empty({N, rows, Ho * Wo}, g.dtype());
  const std::array<Tensor, 2> operands{w.reshape({O, rows}).t(), g.reshape({N, O, Ho * Wo})};
  ops::matmul.cpu(operands, {}, dcols);
  visit_floating(out.dtype(), [&]<typename T>() {
    T* px = out.data<T>();
    const T* pc = dcols.data<T>();
    std::fill(px, px + out.numel(), T(0));
    loops::parallel_for(N, dcols.numel() >= loops::kParallelGrain, [&](int64_t n) {
      col2im(pc + n * rows * Ho * Wo, C, H, W, k, Ho, Wo, px + n * C * H * W);
    });
  });
}

// dW2 = Σ_n g[n] · cols[n]ᵀ, accumulated image by image into the output (GEMM with beta = 1).
// The kernel's size is the output's (the window's, or the third input's when the window says -1).
void conv2d_weight_grad_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  const Tensor x = in[0].contiguous(), g = in[1].contiguous();
  const Window k = conv_window(a.dims, out.size(2), out.size(3));
  const int64_t N = x.size(0), O = out.size(0), Ho = k.out_h(x.size(2)), Wo = k.out_w(x.size(3));
  if (g.shape() != Shape{N, O, Ho, Wo})
    throw ShapeError(msg("conv2d_weight_grad: the gradient has shape ", shape_str(g.shape()), " but input ",
                         shape_str(x.shape()), " and a ", k.kh, "x", k.kw, " kernel give outputs of ",
                         shape_str(Shape{N, O, Ho, Wo})));
  const Tensor cols = im2col_batch(x, k, Ho, Wo);
  Tensor dw = out.reshape({O, cols.size(1)});
  visit_floating(out.dtype(), [&]<typename T>() { std::fill(out.data<T>(), out.data<T>() + out.numel(), T(0)); });
  const Tensor g3 = g.reshape({N, O, Ho * Wo});
  for (int64_t n = 0; n < N; ++n)  // dw is the fresh contiguous output, so GEMM adds into it directly
    if (!matmul_accumulate(dw, g3.select(0, n), cols.select(0, n).t(), 1.0))
      dw.add_(matmul(g3.select(0, n), cols.select(0, n).t()));
}

// ---- max pooling kernels ----------------------------------------------------------------------------

// Calls f(plane index p, position o within the output plane, winner index i within the input
// plane) for every window of every (n, c) plane, planes in parallel. The winner is found by the
// same function the GPU kernels run (core/ops/conv_geometry.h).
template <typename T, typename F>
void for_each_window(const T* x, int64_t planes, int64_t H, int64_t W, const Window& k, int64_t Ho, int64_t Wo, F f) {
  const ConvGeometry geo{1, H, W, k.kh, k.kw, k.sh, k.sw, k.ph, k.pw, Ho, Wo};
  loops::parallel_for(planes, planes * Ho * Wo * k.kh * k.kw >= loops::kParallelGrain, [&](int64_t p) {
    const T* plane = x + p * H * W;
    for (int64_t ho = 0, o = 0; ho < Ho; ++ho)
      for (int64_t wo = 0; wo < Wo; ++wo, ++o) f(p, o, geo.window_argmax_at(plane, ho, wo));
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
