// layers/functional.h — what the layers compute, as functions: torch.nn.functional in C++.
//
// A layer (layers/linear.h, conv.h, ...) is a Module that holds parameters and calls one of these
// functions with them. The functions are COMPOSITES (docs/adding_an_op.md): templates over the
// tensor type, written from ops of the catalogue, so every one of them runs in both modes — on
// eager Tensors now, on graph Outputs as nodes — and gets its gradient, its CUDA kernels and its
// graph fusion from the ops it is made of. None needed a primitive of its own; where one was
// considered (batch norm), layers/normalization.h says what was measured.
//
//     namespace F = tandem::nn::functional;     // import torch.nn.functional as F
//     Tensor y = F::leaky_relu(x, 0.2);
//     g::Output z = F::avg_pool2d(images, {2, 2});
//
// The ones that are ops of torch itself (torch.clamp) are in namespace tandem beside relu and exp;
// the core ops (relu, softmax, max_pool2d, dropout...) are also reachable as F::relu and so on.
//
// Each function says the formula it computes. The interesting ones to read:
//   - avg_pool2d / adaptive_avg_pool2d: pooling is a LINEAR map, y = Pₕ · x · P_wᵀ with two small
//     "pooling matrices" — so it needs no kernel of its own;
//   - embedding: a table lookup is index_select, and its gradient (the sheet's rule for
//     index_select) is the scatter-add of the rows used;
//   - conv2d: dilation is a kernel with holes, groups are convolutions side by side, and "same"
//     padding with an even kernel pads one pixel more on one side.
//
// Read next: layers/module.h (what holds the parameters), layers/losses.h.
#pragma once

#include <cmath>
#include <concepts>
#include <optional>
#include <string>
#include <vector>

#include "autograd/grad_mode.h"
#include "core/ops.h"
#include "graph/ops.h"
#include "layers/dropout_ops.h"

namespace tandem {

// ---- clamp (torch.clamp) ------------------------------------------------------------------------
// Each element limited to [min, max]; either bound may be absent. Written with where, not with
// maximum/minimum: at an element exactly on a bound PyTorch passes the whole gradient through
// (the bounds are inclusive), while maximum would split it in halves at a tie. NaN stays NaN (both
// comparisons are false for it), as in PyTorch.
//     clamp(x) = where(x < min, min, where(x > max, max, x))
template <TensorLike T>
T clamp(const T& x, std::optional<double> min, std::optional<double> max = std::nullopt) {
  if (min && max && *min > *max)
    throw Error(msg("clamp: min (", *min, ") is larger than max (", *max,
                    "); PyTorch would set every element to max, which is rarely what was meant"));
  T y = x;
  if (max) y = where(y > *max, *max, y);
  if (min) y = where(y < *min, *min, y);
  return y;
}
template <TensorLike T> T clamp_min(const T& x, double min) { return clamp(x, min, std::nullopt); }
template <TensorLike T> T clamp_max(const T& x, double max) { return clamp(x, std::nullopt, max); }

}  // namespace tandem

namespace tandem::nn::functional {

// The core ops under F::, as PyTorch users spell them.
using tandem::dropout;
using tandem::dropout2d;
using tandem::flatten;
using tandem::gelu;
using tandem::log_softmax;
using tandem::max_pool2d;
using tandem::relu;
using tandem::sigmoid;
using tandem::softmax;
using tandem::tanh;

// ---- activations -------------------------------------------------------------------------------

// leaky_relu(x) = x for x > 0, slope·x otherwise. At 0 the gradient is the slope, as PyTorch's.
template <TensorLike T> T leaky_relu(const T& x, double negative_slope = 0.01) {
  return where(x > 0.0, x, x * negative_slope);
}

// F.gelu(x, approximate): "none" is the exact x·Φ(x) (an op of the catalogue); "tanh" the
// approximation 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
template <TensorLike T> T gelu(const T& x, const std::string& approximate) {
  if (approximate == "none") return tandem::gelu(x);
  if (approximate != "tanh")
    throw Error(msg("gelu: approximate must be 'none' or 'tanh', but got '", approximate, "'"));
  const T inner = (x + x * x * x * 0.044715) * 0.79788456080286535588;  // √(2/π)
  return x * (tanh(inner) + 1.0) * 0.5;
}

// F.softplus(x, beta) = log(1 + e^(βx)) / β, through the stable softplus of core/ops.h. PyTorch
// also switches to the identity above `threshold` (20): the stable form needs no such switch, and
// the two differ there by less than e^-20 relative.
template <TensorLike T> T softplus(const T& x, double beta = 1.0) {
  return beta == 1.0 ? tandem::softplus(x) : tandem::softplus(x * beta) / beta;
}

// ---- linear -------------------------------------------------------------------------------------

// F.linear: y = x Wᵀ + b with W [out, in] (PyTorch's layout), b [out] or absent (undefined T).
// Wᵀ is a view: GEMM reads the transposed operand in place (core/ops/matmul.cpp).
template <TensorLike T> T linear(const T& x, const T& weight, const T& bias = T()) {
  if (weight.dim() != 2)
    throw ShapeError(msg("linear: expected a 2-D weight [out_features, in_features], but got ",
                         shape_str(weight.shape())));
  const int64_t in = weight.shape()[1], got = x.dim() ? x.shape().back() : -2;
  if (x.dim() == 0 || (got != kUnknown && in != kUnknown && got != in))
    throw ShapeError(msg("linear: the input's last dimension must be in_features = ", in, ", but the input has shape ",
                         shape_str(x.shape()), " (mat1 and mat2 shapes cannot be multiplied)"));
  const T y = matmul(x, weight.t());      // SOLUTION a4.t1
  return bias.defined() ? y + bias : y;  // SOLUTION a4.t1
}

// ---- dropout with a fed rate ---------------------------------------------------------------------
// The rate p (the probability to DROP) as a value rather than a number: in graph mode a 0-dim
// placeholder fed on every run — seed-002's `keep_prob` (TF's tf.nn.dropout(x, keep_prob) is
// dropout(x, 1 - keep_prob)): 0.5 while training, 0 to evaluate, with one graph.
//     y = x · [u >= p] · 1/(1 - p),  u ~ U[0, 1) drawn per element
template <TensorLike T> T dropout(const T& x, const T& p, bool training = true) {
  if (p.dim() != 0) throw ShapeError(msg("dropout: the fed rate must be a 0-dim value, but has shape ", shape_str(p.shape())));
  if (!training) return x;
  const T rate = to(p, x.dtype());
  return x * to(rand_like(x) >= rate, x.dtype()) * (1.0 / (1.0 - rate));
}

// ---- convolution ----------------------------------------------------------------------------------

// A layer's kernel size, stride...: one number for both dimensions, or (h, w). Remembers which,
// because PyTorch prints what it was given (MaxPool2d(kernel_size=2, ...), not (2, 2)).
struct Size2 {
  Pair value{1, 1};
  bool scalar = true;
  template <std::integral I>
  Size2(I v) : value{static_cast<int64_t>(v), static_cast<int64_t>(v)} {}  // NOLINT: implicit, like Python's
  Size2(int64_t h, int64_t w) : value{h, w}, scalar(false) {}
  Size2(Pair p) : value(p), scalar(false) {}  // NOLINT
  operator Pair() const { return value; }     // NOLINT
  std::string str() const {
    return scalar ? std::to_string(value[0]) : msg("(", value[0], ", ", value[1], ")");
  }
};

// Conv2d's padding: a number, (h, w), or "same" / "valid" (PyTorch's strings).
struct Padding2d {
  Pair size{0, 0};
  bool same = false;  // "same": output size = input size (stride 1 only, as in PyTorch)
  Padding2d() = default;
  template <std::integral I>
  Padding2d(I p) : size{static_cast<int64_t>(p), static_cast<int64_t>(p)} {}  // NOLINT: implicit, like Python's
  Padding2d(int64_t h, int64_t w) : size{h, w} {}
  Padding2d(Pair p) : size(p) {}  // NOLINT
  Padding2d(const char* mode) : Padding2d(std::string(mode)) {}  // NOLINT
  Padding2d(const std::string& mode) : text(mode) {  // NOLINT
    if (mode == "same") same = true;
    else if (mode != "valid")
      throw Error(msg("conv2d: invalid padding string '", mode, "', should be one of {'valid', 'same'}"));
  }
  std::string text;  // "same" or "valid" when given as a string (for printing)
};

// F.conv2d with every option: x [N, C, H, W], weight [O, C/groups, kh, kw], bias [O] or absent.
// The catalogue's conv2d op has stride and symmetric zero padding; the rest is composed here:
//   dilation d   the kernel with d-1 zeros between its taps, kh_eff = d·(kh-1) + 1 — built by
//                slice_scatter into zeros, so its gradient is the slice of the dilated gradient.
//                (SPEED would be an im2col that skips the holes; a dilated conv here costs d² times
//                the multiply-adds of the plain one.)
//   groups g     the channels in g blocks, each convolved with its own filters, then joined (cat).
//   "same"       total padding d·(k-1) per dimension; odd totals (an even kernel) put the extra
//                pixel at the end, as PyTorch does: pad one more on both sides, then drop the first
//                output row or column.
template <TensorLike T>
T conv2d(const T& x, const T& weight, const T& bias = T(), Pair stride = {1, 1}, Padding2d padding = {},
         Pair dilation = {1, 1}, int64_t groups = 1);

// ---- pooling ------------------------------------------------------------------------------------------

// The pooling matrix of one dimension: P[o, i] = the weight of input position i in output window o
// — 1/k (count_include_pad: the zeros of the padding count), or 1/(number of real positions under
// the window). Rows of an adaptive pooling instead cover [⌊o·n/m⌋, ⌈(o+1)·n/m⌉).
Tensor pooling_matrix(int64_t in, int64_t kernel, int64_t stride, int64_t padding, bool count_include_pad, DType dtype);
Tensor adaptive_pooling_matrix(int64_t in, int64_t out, DType dtype);

// F.avg_pool2d: the mean of each kernel window. Averaging is linear, and it averages rows and
// columns independently (a window is a rectangle, and so is its count of real pixels), so
//     y[n, c] = Pₕ · x[n, c] · P_wᵀ          Pₕ [Ho, H], P_w [Wo, W]: pooling matrices
// two matmuls with small constant matrices: no kernel of its own, and its gradient is the sheet's
// matmul rule (Pₕᵀ · g · P_w spreads each output's gradient evenly over its window).
// stride {0, 0} means the kernel size. H and W must be known (in a graph: a known [?, C, H, W]).
template <TensorLike T>
T avg_pool2d(const T& x, Pair kernel, Pair stride = {0, 0}, Pair padding = {0, 0}, bool count_include_pad = true);

// F.adaptive_avg_pool2d: pools to a fixed output size, windows chosen by the input's size (the
// torchvision ResNet's `avgpool`). (1, 1) is the global average: the mean over H and W.
template <TensorLike T> T adaptive_avg_pool2d(const T& x, Pair output_size);

// ---- normalization --------------------------------------------------------------------------------------

// F.batch_norm: x [N, C, ...] normalized per channel c with the batch's mean and (biased) variance
// in training, the running estimates otherwise; then scaled and shifted:
//     y = (x - μ_c) / √(σ²_c + eps) · weight_c + bias_c
// In training the running estimates (when given) move toward the batch's:
//     running_mean ← (1 - momentum)·running_mean + momentum·μ
//     running_var  ← (1 - momentum)·running_var  + momentum·σ²·n/(n-1)     (unbiased, n = N·H·W)
// eagerly, in place (under no_grad), or in a graph as assign nodes that the output waits for (a
// control dependency), so whatever runs the training forward also updates them — as every
// forward in train mode does in PyTorch. num_batches_tracked, when given, counts the updates.
//
// Two versions, the same values. batch_norm_plain is the formula as a composite of mean, var, mul
// and add, its backward the derivative sheet's rules for those: the one to read first. batch_norm
// runs batch norm's fused ops (core/ops/batch_norm.cpp): two passes over x forward and two
// backward, where the composite makes about a dozen (SPEED: bench/bench_resnet_epoch's step, the
// figures in bench/RESULTS.md). On a device without the fused kernels (CUDA) it runs the plain one. tests/test_batch_norm_fused.cpp checks that
// the two agree, values and gradients, in both modes.
template <TensorLike T>
T batch_norm(const T& x, const T& running_mean, const T& running_var, const T& weight, const T& bias,
             bool training, double momentum = 0.1, double eps = 1e-5, const T& num_batches_tracked = T());
template <TensorLike T>
T batch_norm_plain(const T& x, const T& running_mean, const T& running_var, const T& weight, const T& bias,
                   bool training, double momentum = 0.1, double eps = 1e-5, const T& num_batches_tracked = T());

// F.layer_norm: normalized over the last dims (normalized_shape), per sample, with the biased
// variance; weight and bias (of normalized_shape) optional.
template <TensorLike T>
T layer_norm(const T& x, const Shape& normalized_shape, const T& weight = T(), const T& bias = T(), double eps = 1e-5);

// ---- embedding ------------------------------------------------------------------------------------------

// F.embedding: row idx of the table for every index, out[..., :] = weight[idx[...], :] — the
// index_select of the flattened indices, reshaped to idx's shape + [dim]. Its gradient is the
// sheet's rule for index_select, index_add: each used row gets the sum of its gradients (a
// scatter-add; repeated indices add up). The row padding_idx takes no gradient: its uses are
// passed through stop_gradient (their value unchanged).
template <TensorLike T> T embedding(const T& indices, const T& weight, std::optional<int64_t> padding_idx = std::nullopt);

// ==== definitions ==========================================================================================

namespace detail {
// The known size of dim d, or an error naming op and what to do (graph mode with unknown sizes).
int64_t known_size(const Shape& s, int64_t d, const char* op, const char* what);
void check_image(const Shape& s, const char* op);
}  // namespace detail

template <TensorLike T>
T conv2d(const T& x, const T& weight, const T& bias, Pair stride, Padding2d padding, Pair dilation, int64_t groups) {
  detail::check_image(x.shape(), "conv2d");
  if (weight.dim() != 4)
    throw ShapeError(msg("conv2d: expected a 4-D weight [out_channels, in_channels/groups, kh, kw], but got ",
                         shape_str(weight.shape())));
  if (groups < 1) throw Error(msg("conv2d: groups must be a positive integer, but got ", groups));
  if (dilation[0] < 1 || dilation[1] < 1)
    throw Error(msg("conv2d: dilation must be positive, but got (", dilation[0], ", ", dilation[1], ")"));
  const Shape& w = weight.shape();
  const int64_t O = w[0], kh = w[2], kw = w[3];
  // dilation: the kernel with holes
  T k = weight;
  if (dilation[0] > 1 || dilation[1] > 1) {
    const int64_t eh = dilation[0] * (kh - 1) + 1, ew = dilation[1] * (kw - 1) + 1;
    const T wide = slice_scatter(lift(zeros({O, w[1], kh, ew}, weight.dtype()), weight), k, 3, 0, ew, dilation[1]);
    k = slice_scatter(lift(zeros({O, w[1], eh, ew}, weight.dtype()), weight), wide, 2, 0, eh, dilation[0]);
  }
  // padding: "same" is d·(k-1) in total per dimension
  Pair pad = padding.size;
  Pair drop = {0, 0};  // output rows / columns to drop at the start (odd "same" totals)
  if (padding.same) {
    if (stride[0] != 1 || stride[1] != 1)
      throw Error("conv2d: padding='same' is not supported for strided convolutions (PyTorch's rule); "
                  "give the padding as numbers instead");
    const Pair total = {dilation[0] * (kh - 1), dilation[1] * (kw - 1)};
    for (int i = 0; i < 2; ++i) {
      pad[i] = (total[i] + 1) / 2;
      drop[i] = total[i] % 2;
    }
  }
  // groups: blocks of channels side by side
  T y;
  if (groups == 1) {
    y = tandem::conv2d(x, k, stride, pad);
  } else {
    const int64_t C = detail::known_size(x.shape(), 1, "conv2d", "channels");
    if (C % groups != 0 || O % groups != 0)
      throw ShapeError(msg("conv2d: in_channels (", C, ") and out_channels (", O, ") must both be divisible by groups (",
                           groups, ")"));
    const int64_t cg = C / groups, og = O / groups;
    std::vector<T> parts;
    for (int64_t g = 0; g < groups; ++g)
      parts.push_back(tandem::conv2d(narrow(x, 1, g * cg, cg), narrow(k, 0, g * og, og), stride, pad));
    y = cat(parts, 1);
  }
  if (drop[0]) y = slice(y, 2, 1, detail::known_size(y.shape(), 2, "conv2d", "output height"));
  if (drop[1]) y = slice(y, 3, 1, detail::known_size(y.shape(), 3, "conv2d", "output width"));
  if (bias.defined()) {
    if (bias.dim() != 1 || (bias.shape()[0] != O))
      throw ShapeError(msg("conv2d: expected a bias of shape [", O, "] (one per output channel), but got ",
                           shape_str(bias.shape())));
    y = y + reshape(bias, {O, 1, 1});
  }
  return y;
}

template <TensorLike T> T avg_pool2d(const T& x, Pair kernel, Pair stride, Pair padding, bool count_include_pad) {
  detail::check_image(x.shape(), "avg_pool2d");
  if (stride[0] == 0 && stride[1] == 0) stride = kernel;  // PyTorch: stride defaults to kernel_size
  for (int i = 0; i < 2; ++i) {
    if (kernel[i] <= 0 || stride[i] <= 0 || padding[i] < 0)
      throw Error(msg("avg_pool2d: kernel size and stride must be positive and padding non-negative, but got kernel (",
                      kernel[0], ", ", kernel[1], "), stride (", stride[0], ", ", stride[1], "), padding (",
                      padding[0], ", ", padding[1], ")"));
    if (2 * padding[i] > kernel[i])
      throw Error(msg("avg_pool2d: pad should be at most half of effective kernel size, but got pad=", padding[i],
                      " and kernel_size=", kernel[i]));
  }
  const int64_t H = detail::known_size(x.shape(), 2, "avg_pool2d", "height");
  const int64_t W = detail::known_size(x.shape(), 3, "avg_pool2d", "width");
  if (H + 2 * padding[0] < kernel[0] || W + 2 * padding[1] < kernel[1])
    throw ShapeError(msg("avg_pool2d: the ", kernel[0], "x", kernel[1], " window is larger than the padded input (",
                         H + 2 * padding[0], "x", W + 2 * padding[1], ")"));
  // SPEED: windows that tile the image (no padding, stride = kernel) are a reshape and a mean over
  // the window dims, one pass over x; the matrix form below gives the same values.
  if (padding == Pair{0, 0} && stride == kernel && x.shape()[1] != kUnknown) {
    const int64_t Ho = H / kernel[0], Wo = W / kernel[1];
    T tiles = (Ho * kernel[0] == H && Wo * kernel[1] == W) ? x : narrow(narrow(x, 2, 0, Ho * kernel[0]), 3, 0, Wo * kernel[1]);
    tiles = reshape(tiles, {x.shape()[0], x.shape()[1], Ho, kernel[0], Wo, kernel[1]});
    return mean(tiles, {3, 5});
  }
  const T ph = lift(pooling_matrix(H, kernel[0], stride[0], padding[0], count_include_pad, x.dtype()), x);
  const T pw = lift(pooling_matrix(W, kernel[1], stride[1], padding[1], count_include_pad, x.dtype()), x);
  return matmul(matmul(ph, x), pw.t());
}

template <TensorLike T> T adaptive_avg_pool2d(const T& x, Pair output_size) {
  detail::check_image(x.shape(), "adaptive_avg_pool2d");
  if (output_size[0] <= 0 || output_size[1] <= 0)
    throw Error(msg("adaptive_avg_pool2d: output size must be positive, but got (", output_size[0], ", ",
                    output_size[1], ")"));
  if (output_size == Pair{1, 1}) return mean(x, {2, 3}, /*keepdim=*/true);  // global average
  const int64_t H = detail::known_size(x.shape(), 2, "adaptive_avg_pool2d", "height");
  const int64_t W = detail::known_size(x.shape(), 3, "adaptive_avg_pool2d", "width");
  if (H % output_size[0] == 0 && W % output_size[1] == 0)  // equal windows: a plain average pooling
    return avg_pool2d(x, {H / output_size[0], W / output_size[1]});
  const T ph = lift(adaptive_pooling_matrix(H, output_size[0], x.dtype()), x);
  const T pw = lift(adaptive_pooling_matrix(W, output_size[1], x.dtype()), x);
  return matmul(matmul(ph, x), pw.t());
}

namespace detail {
// The running estimates move toward the batch's statistics μ, σ² (biased; [C], not differentiated;
// n values per channel): eagerly in place, or in a graph as assign nodes that y waits for.
template <TensorLike T>
T update_running_stats(const T& y, const T& mean_c, const T& var_c, const T& n, const T& running_mean,
                       const T& running_var, const T& num_batches_tracked, double momentum) {
  const T unbiased = var_c * to(n / (n - 1.0), var_c.dtype());
  const T new_mean = running_mean * (1.0 - momentum) + mean_c * momentum;
  const T new_var = running_var * (1.0 - momentum) + unbiased * momentum;
  if constexpr (is_eager<T>) {
    no_grad guard;
    running_mean.copy_(new_mean);
    running_var.copy_(new_var);
    if (num_batches_tracked.defined()) num_batches_tracked.add_(ones({}, num_batches_tracked.dtype()));
    return y;
  } else {
    std::vector<graph::Output> updates = {graph::assign(running_mean, new_mean), graph::assign(running_var, new_var)};
    if (num_batches_tracked.defined())
      updates.push_back(graph::assign_add(num_batches_tracked, scalar_like(1, num_batches_tracked)));
    graph::ControlDependencies after(updates, y.graph());
    return graph::identity(y);
  }
}

// Whether batch norm's fused ops can run where x will be: eager x on the CPU (or on a device with
// their kernels); in a graph, unless a CUDA build may place the session on a GPU without them.
template <TensorLike T> bool fused_batch_norm_runs(const T& x) {
  if constexpr (is_eager<T>) {
    return x.device().is_cpu() || ops::batch_norm_train.cuda != nullptr;
  } else {
#ifdef TANDEM_HAVE_CUDA
    return ops::batch_norm_train.cuda != nullptr;
#else
    return true;
#endif
  }
}
}  // namespace detail

template <TensorLike T>
T batch_norm(const T& x, const T& running_mean, const T& running_var, const T& weight, const T& bias, bool training,
             double momentum, double eps, const T& num_batches_tracked) {
  if (!detail::fused_batch_norm_runs(x))
    return batch_norm_plain(x, running_mean, running_var, weight, bias, training, momentum, eps, num_batches_tracked);
  if (x.dim() < 2)
    throw ShapeError(msg("batch_norm: expected an input [N, C, ...] of at least 2 dimensions, but got ",
                         shape_str(x.shape())));
  const int64_t C = detail::known_size(x.shape(), 1, "batch_norm", "channels");
  const T w = weight.defined() ? weight : lift(ones({C}, x.dtype()), x);  // no affine: s = 1/√(σ² + eps), t = -μ·s
  const T b = bias.defined() ? bias : lift(zeros({C}, x.dtype()), x);
  if (!training && running_mean.defined())  // evaluation: the running estimates, given
    return batch_norm_eval(x, stack({running_mean, running_var}), w, b, eps);
  const T stats = batch_norm_stats(x);  // [2, C]: μ and σ² of this batch, one pass
  const T y = batch_norm_train(x, stats, w, b, eps);
  if (!(training && running_mean.defined())) return y;
  return detail::update_running_stats(y, select(stats, 0, 0), select(stats, 0, 1), count_ratio(x, w), running_mean,
                                      running_var, num_batches_tracked, momentum);
}

template <TensorLike T>
T batch_norm_plain(const T& x, const T& running_mean, const T& running_var, const T& weight, const T& bias,
                   bool training, double momentum, double eps, const T& num_batches_tracked) {
  const int64_t r = x.dim();
  if (r < 2)
    throw ShapeError(msg("batch_norm: expected an input [N, C, ...] of at least 2 dimensions, but got ",
                         shape_str(x.shape())));
  const int64_t C = detail::known_size(x.shape(), 1, "batch_norm", "channels");
  std::vector<int64_t> dims = {0};  // the statistics are over every dim but the channels
  for (int64_t d = 2; d < r; ++d) dims.push_back(d);
  Shape per_channel(static_cast<size_t>(r), 1);  // [1, C, 1, 1]: broadcasts against x
  per_channel[1] = C;
  const bool use_batch = training || !running_mean.defined();
  T mu, sigma2;
  if (use_batch) {
    mu = mean(x, dims, true);
    sigma2 = var(x, dims, /*correction=*/0, true);
  } else {
    mu = reshape(running_mean, per_channel);
    sigma2 = reshape(running_var, per_channel);
  }
  // The same formula as a per-channel scale and shift, computed on [1, C, 1, 1] values, so that the
  // input-sized work is one multiply and one add (which graph fusion makes one loop):
  //     y = x · s + t,   s = weight / √(σ² + eps),   t = bias - μ · s
  T scale = 1.0 / sqrt(sigma2 + eps);
  if (weight.defined()) scale = scale * reshape(weight, per_channel);
  T shift = -(mu * scale);
  if (bias.defined()) shift = shift + reshape(bias, per_channel);
  T y = x * scale + shift;
  if (!(training && running_mean.defined())) return y;

  // The running estimates, from the batch statistics (not differentiated).
  const T n = count_ratio(x, mu);  // elements per channel, N·H·W
  return detail::update_running_stats(y, reshape(stop_gradient(mu), {C}), reshape(stop_gradient(sigma2), {C}), n,
                                      running_mean, running_var, num_batches_tracked, momentum);
}

template <TensorLike T> T layer_norm(const T& x, const Shape& normalized_shape, const T& weight, const T& bias, double eps) {
  const int64_t k = static_cast<int64_t>(normalized_shape.size()), r = x.dim();
  bool ok = k >= 1 && k <= r;
  for (int64_t i = 0; ok && i < k; ++i) ok = x.shape()[r - k + i] == normalized_shape[i] || x.shape()[r - k + i] == kUnknown;
  if (!ok)
    throw ShapeError(msg("layer_norm: given normalized_shape=", shape_str(normalized_shape),
                         ", expected input with shape [*, ", shape_str(normalized_shape).substr(1), ", but got input of size ",
                         shape_str(x.shape())));
  std::vector<int64_t> dims;
  for (int64_t d = r - k; d < r; ++d) dims.push_back(d);
  T y = (x - mean(x, dims, true)) / sqrt(var(x, dims, /*correction=*/0, true) + eps);
  if (weight.defined()) y = y * weight;
  if (bias.defined()) y = y + bias;
  return y;
}

template <TensorLike T> T embedding(const T& indices, const T& weight, std::optional<int64_t> padding_idx) {
  if (indices.dtype() != kInt64)
    throw DTypeError(msg("embedding: expected int64 indices, but got ", to_string(indices.dtype()),
                         "; convert them with .to(kInt64)"));
  if (weight.dim() != 2)
    throw ShapeError(msg("embedding: expected a 2-D weight [num_embeddings, embedding_dim], but got ",
                         shape_str(weight.shape())));
  if constexpr (is_eager<T>) {  // only eager mode can read the indices now; a graph checks at run time
    if (indices.numel() > 0) {
      const int64_t lo = min(indices).template item<int64_t>(), hi = max(indices).template item<int64_t>();
      const int64_t n = weight.size(0);
      if (lo < 0 || hi >= n)
        throw IndexError(msg("embedding: index ", lo < 0 ? lo : hi, " is out of range for a table of ", n,
                             " rows (indices must be in [0, ", n, "))"));
    }
  }
  Shape out = indices.shape();
  out.push_back(weight.shape()[1]);
  T rows = reshape(index_select(weight, 0, reshape(indices, {-1})), out);
  if (padding_idx) {  // the padding row's value, without its gradient
    const T keep = unsqueeze(indices != *padding_idx, -1);
    rows = where(keep, rows, stop_gradient(rows));
  }
  return rows;
}

}  // namespace tandem::nn::functional

namespace tandem::nn {
using functional::Padding2d;
using functional::Size2;
}  // namespace tandem::nn
