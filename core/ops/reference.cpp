// core/ops/reference.cpp — the plain loops of core/ops/reference.h, one loop nest per op.
//
// Every function follows the same three steps, so that only the formula differs:
//   1. wrap each input in a Reader, which finds element (i, j, ...) by the index formula
//      offset + Σ index_d · stride_d and returns it as a double;
//   2. loop over the output's elements (or the input's, for reductions) and apply the formula,
//      accumulating in double;
//   3. hand the doubles back as a tensor of the input's dtype (rounded once, here).
#include "core/ops/reference.h"

#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/factories.h"
#include "core/ops.h"
#include "core/shape.h"

namespace tandem::reference {
namespace {

// ---- reading a strided tensor, and writing the result -------------------------------------------

// Element access by the index formula, for a float32 or float64 CPU tensor of any strides.
class Reader {
 public:
  Reader(const Tensor& t, const char* op)
      : t_(t), strides_(t.strides()), single_(t.dtype() == kFloat32) {
    if (!t.device().is_cpu() || !is_floating(t.dtype()))
      throw DTypeError(msg("reference::", op,
                           ": expected a float32 or float64 CPU tensor, but got ",
                           to_string(t.dtype()), " on ", to_string(t.device())));
    data_ = t.raw_data();
  }
  // x({n, c, h, w}): data[Σ index_d · stride_d] (data already points at the tensor's offset).
  double operator()(std::initializer_list<int64_t> index) const {
    if (index.size() != strides_.size())
      throw ShapeError(msg("reference: indexing a ", strides_.size(), "-D tensor with ",
                           index.size(), " indices"));
    return at(index.begin());
  }
  double at(const int64_t* index) const {
    const int64_t offset = offset_of(index);
    return single_ ? static_cast<const float*>(data_)[offset]
                   : static_cast<const double*>(data_)[offset];
  }
  // Where element `index` lives, counted in elements from the tensor's first element.
  int64_t offset_of(const int64_t* index) const {
    // BEGIN SOLUTION a1.t3
    int64_t offset = 0;
    for (size_t d = 0; d < strides_.size(); ++d) offset += index[d] * strides_[d];
    return offset;
    // END SOLUTION
  }

 private:
  Tensor t_;  // keeps the storage alive
  Strides strides_;
  bool single_;
  const void* data_ = nullptr;
};

// The computed values (row-major, as doubles) as a tensor of `dtype`.
Tensor result(const std::vector<double>& values, const Shape& shape, DType dtype) {
  return from_vector(values, shape).to(dtype);
}

// The image ops take [N, C, H, W] tensors; `what` names the argument in the error.
void require_4d(const Tensor& t, const char* op, const char* what) {
  if (t.dim() != 4)
    throw ShapeError(msg("reference::", op, ": expected a 4-D ", what,
                         " [N, C, H, W], but got shape ", shape_str(t.shape())));
}

// A window of k (stride s, padding p) over n positions fits floor((n + 2p - k) / s) + 1 times.
int64_t windows(int64_t n, int64_t k, int64_t s, int64_t p, const char* op) {
  if (s < 1 || p < 0 || n + 2 * p < k)
    throw ShapeError(msg("reference::", op, ": a window of ", k, " with stride ", s,
                         " and padding ", p, " does not fit ", n, " positions"));
  return (n + 2 * p - k) / s + 1;
}

// Steps a multi-index through `shape` in row-major order (last index fastest, like an odometer);
// false once every index has been visited.
bool next_index(std::vector<int64_t>& index, const Shape& shape) {
  // BEGIN SOLUTION a1.t3
  for (auto d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    if (++index[d] < shape[d]) return true;
    index[d] = 0;
  }
  return false;
  // END SOLUTION
}

// Row-major position of `index` within `shape`: Σ index_d · (product of the sizes after d).
int64_t linear(const std::vector<int64_t>& index, const Shape& shape) {
  // BEGIN SOLUTION a1.t3
  int64_t pos = 0;
  for (size_t d = 0; d < shape.size(); ++d) pos = pos * shape[d] + index[d];
  return pos;
  // END SOLUTION
}

// ---- reductions: which output element an input element belongs to -------------------------------

// The reduction's plan: which dims are reduced, the output's shape, and the shape of the output
// as if keepdim were true (reduced dims of size 1), which is how input indices map onto it.
struct Reduction {
  std::vector<bool> reduced;
  Shape kept;         // the output shape, with keepdim
  Shape out;          // the output shape the caller asked for
  int64_t count = 1;  // elements per output
};

Reduction plan(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim, const char* op) {
  Reduction r;
  r.reduced.assign(x.dim(), dims.empty());
  for (int64_t d : dims) r.reduced[normalize_dim(d, x.dim(), op)] = true;
  // BEGIN SOLUTION a1.t4
  for (int64_t d = 0; d < x.dim(); ++d) {
    r.kept.push_back(r.reduced[d] ? 1 : x.size(d));
    if (!r.reduced[d])
      r.out.push_back(x.size(d));
    else if (keepdim)
      r.out.push_back(1);
    if (r.reduced[d]) r.count *= x.size(d);
  }
  // END SOLUTION
  return r;
}

// The output element that input element `index` is reduced into: its index with the reduced
// dims set to 0, in the keepdim shape (the same row-major position as without keepdim).
int64_t output_of(const std::vector<int64_t>& index, const Reduction& r) {
  // BEGIN SOLUTION a1.t4
  std::vector<int64_t> kept = index;
  for (size_t d = 0; d < kept.size(); ++d)
    if (r.reduced[d]) kept[d] = 0;
  return linear(kept, r.kept);
  // END SOLUTION
}

// acc[output_of(i)] = fold(acc[output_of(i)], x[i]) for every element i of x, from `init`.
template <typename Fold>
std::vector<double> reduce(const Tensor& x, const Reduction& r, double init, const char* op,
                           Fold fold) {
  const Reader at(x, op);
  std::vector<double> acc(static_cast<size_t>(numel(r.kept)), init);
  if (x.numel() == 0) return acc;
  std::vector<int64_t> index(x.dim(), 0);
  // BEGIN SOLUTION a1.t4
  do {
    double& a = acc[output_of(index, r)];
    a = fold(a, at.at(index.data()));
  } while (next_index(index, x.shape()));
  // END SOLUTION
  return acc;
}

// A matmul operand's index for output batch entry `batch`: the batch index aligned from the right,
// 0 wherever the operand has size 1 (broadcast), then two slots for the row and the column.
std::vector<int64_t> operand_index(const std::vector<int64_t>& batch, const Tensor& t) {
  const int64_t t_batch = t.dim() - 2, skip = static_cast<int64_t>(batch.size()) - t_batch;
  std::vector<int64_t> index;
  for (int64_t d = 0; d < t_batch; ++d) index.push_back(t.size(d) == 1 ? 0 : batch[skip + d]);
  index.push_back(0);
  index.push_back(0);
  return index;
}

}  // namespace

// ---- matmul -------------------------------------------------------------------------------------

Tensor matmul(const Tensor& a, const Tensor& b) {
  if (a.dim() < 2 || b.dim() < 2)
    throw ShapeError(msg("reference::matmul: expected operands of at least 2 dims, but got ",
                         shape_str(a.shape()), " and ", shape_str(b.shape())));
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  if (b.size(-2) != k)
    throw ShapeError(msg("reference::matmul: ", shape_str(a.shape()), " · ", shape_str(b.shape()),
                         ": the inner sizes differ (", k, " and ", b.size(-2), ")"));
  const Shape batch =
      broadcast_shapes(Shape(a.shape().begin(), a.shape().end() - 2),
                       Shape(b.shape().begin(), b.shape().end() - 2), "reference::matmul");
  const Reader A(a, "matmul"), B(b, "matmul");
  Shape out_shape = batch;
  out_shape.push_back(m);
  out_shape.push_back(n);
  std::vector<double> c;
  c.reserve(static_cast<size_t>(numel(out_shape)));
  std::vector<int64_t> bi(batch.size(), 0);
  if (numel(batch) > 0) do {
      std::vector<int64_t> ia = operand_index(bi, a),
                           ib = operand_index(bi, b);  // [batch..., row, col]
      const size_t ra = ia.size() - 2, rb = ib.size() - 2;
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          double acc = 0;  // C[b, i, j] = Σ_p A[b, i, p] · B[b, p, j]
          for (int64_t p = 0; p < k; ++p) {
            ia[ra] = i, ia[ra + 1] = p;
            ib[rb] = p, ib[rb + 1] = j;
            acc += A.at(ia.data()) * B.at(ib.data());
          }
          c.push_back(acc);
        }
    } while (next_index(bi, batch));
  return result(c, out_shape, promote_types(a.dtype(), b.dtype()));
}

// ---- reductions ---------------------------------------------------------------------------------

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  const Reduction r = plan(x, dims, keepdim, "sum");
  return result(reduce(x, r, 0.0, "sum", [](double acc, double v) { return acc + v; }), r.out,
                x.dtype());
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  const Reduction r = plan(x, dims, keepdim, "mean");
  std::vector<double> s = reduce(x, r, 0.0, "mean", [](double acc, double v) { return acc + v; });
  for (double& v : s)
    v /= static_cast<double>(r.count);  // 0 / 0 = NaN for an empty set, as PyTorch
  return result(s, r.out, x.dtype());
}

// max with NaN propagation: once a NaN is seen it stays (NaN > v and v > NaN are both false).
Tensor amax(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  const Reduction r = plan(x, dims, keepdim, "amax");
  const double inf = std::numeric_limits<double>::infinity();
  return result(reduce(x, r, -inf, "amax",
                       [](double acc, double v) {
                         return std::isnan(acc) || std::isnan(v) ? NAN : std::max(acc, v);
                       }),
                r.out, x.dtype());
}

Tensor amin(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  const Reduction r = plan(x, dims, keepdim, "amin");
  const double inf = std::numeric_limits<double>::infinity();
  return result(reduce(x, r, inf, "amin",
                       [](double acc, double v) {
                         return std::isnan(acc) || std::isnan(v) ? NAN : std::min(acc, v);
                       }),
                r.out, x.dtype());
}

Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  const Reduction r = plan(x, {dim}, keepdim, "argmax");
  const int64_t d = normalize_dim(dim, x.dim(), "argmax");
  const Reader at(x, "argmax");
  std::vector<double> winners;
  std::vector<int64_t> index(x.dim(), 0);
  if (numel(r.kept) > 0) do {  // every output: a walk along dim d
      int64_t best = 0;
      double best_v = 0;
      for (int64_t k = 0; k < x.size(d); ++k) {
        index[d] = k;
        const double v = at.at(index.data());
        if (std::isnan(v)) {  // the first NaN wins
          best = k;
          break;
        }
        if (k == 0 || v > best_v) best = k, best_v = v;  // strictly greater: ties keep the first
      }
      index[d] = 0;
      winners.push_back(static_cast<double>(best));
    } while (next_index(index, r.kept));
  return result(winners, r.out, kInt64);
}

// Two passes: the mean first, then the squared distances from it (no cancellation, see reduce.cpp).
Tensor var(const Tensor& x, const std::vector<int64_t>& dims, int64_t correction, bool keepdim) {
  const Reduction r = plan(x, dims, keepdim, "var");
  std::vector<double> mu = reduce(x, r, 0.0, "var", [](double acc, double v) { return acc + v; });
  for (double& v : mu) v /= static_cast<double>(r.count);
  const Reader at(x, "var");
  std::vector<double> ss(mu.size(), 0.0);
  std::vector<int64_t> index(x.dim(), 0);
  if (x.numel() > 0) do {
      const int64_t o = output_of(index, r);
      const double dev = at.at(index.data()) - mu[o];
      ss[o] += dev * dev;
    } while (next_index(index, x.shape()));
  for (double& v : ss) v /= static_cast<double>(r.count - correction);
  return result(ss, r.out, x.dtype());
}

// ---- convolution --------------------------------------------------------------------------------

Tensor conv2d(const Tensor& x, const Tensor& w, Pair stride, Pair padding) {
  require_4d(x, "conv2d", "input"), require_4d(w, "conv2d", "weight");
  const Reader X(x, "conv2d"), Wt(w, "conv2d");
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t O = w.size(0), kh = w.size(2), kw = w.size(3);
  if (w.size(1) != C)
    throw ShapeError(msg("reference::conv2d: the weight ", shape_str(w.shape()), " expects ",
                         w.size(1), " input channels, the input ", shape_str(x.shape()), " has ",
                         C));
  const auto [sh, sw] = stride;
  const auto [ph, pw] = padding;
  const int64_t Ho = windows(H, kh, sh, ph, "conv2d"), Wo = windows(W, kw, sw, pw, "conv2d");
  std::vector<double> y;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t ho = 0; ho < Ho; ++ho)
        for (int64_t wo = 0; wo < Wo; ++wo) {
          double acc = 0;
          for (int64_t c = 0; c < C; ++c)
            for (int64_t i = 0; i < kh; ++i)
              for (int64_t j = 0; j < kw; ++j) {
                const int64_t h = ho * sh + i - ph, col = wo * sw + j - pw;
                if (h < 0 || h >= H || col < 0 || col >= W) continue;  // zero padding
                acc += X({n, c, h, col}) * Wt({o, c, i, j});
              }
          y.push_back(acc);
        }
  return result(y, {N, O, Ho, Wo}, x.dtype());
}

// Each input pixel collects g from every (output pixel, kernel tap) that read it: the loop runs
// over the taps and scatters, exactly the sum of the formula read backwards.
Tensor conv2d_input_grad(const Tensor& g, const Tensor& w, Pair stride, Pair padding,
                         Pair input_size) {
  require_4d(g, "conv2d_input_grad", "gradient"), require_4d(w, "conv2d_input_grad", "weight");
  const Reader G(g, "conv2d_input_grad"), Wt(w, "conv2d_input_grad");
  const int64_t N = g.size(0), O = g.size(1), Ho = g.size(2), Wo = g.size(3);
  const int64_t C = w.size(1), kh = w.size(2), kw = w.size(3);
  if (w.size(0) != O)
    throw ShapeError(msg("reference::conv2d_input_grad: the gradient ", shape_str(g.shape()),
                         " has ", O, " channels, the weight ", shape_str(w.shape()), " ",
                         w.size(0)));
  const auto [H, W] = input_size;
  const auto [sh, sw] = stride;
  const auto [ph, pw] = padding;
  std::vector<double> dx(static_cast<size_t>(N * C * H * W), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t ho = 0; ho < Ho; ++ho)
        for (int64_t wo = 0; wo < Wo; ++wo)
          for (int64_t c = 0; c < C; ++c)
            for (int64_t i = 0; i < kh; ++i)
              for (int64_t j = 0; j < kw; ++j) {
                const int64_t h = ho * sh + i - ph, col = wo * sw + j - pw;
                if (h < 0 || h >= H || col < 0 || col >= W) continue;  // tap on the padding
                dx[((n * C + c) * H + h) * W + col] += G({n, o, ho, wo}) * Wt({o, c, i, j});
              }
  return result(dx, {N, C, H, W}, g.dtype());
}

Tensor conv2d_weight_grad(const Tensor& x, const Tensor& g, Pair stride, Pair padding,
                          Pair kernel) {
  require_4d(x, "conv2d_weight_grad", "input"), require_4d(g, "conv2d_weight_grad", "gradient");
  const Reader X(x, "conv2d_weight_grad"), G(g, "conv2d_weight_grad");
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t O = g.size(1), Ho = g.size(2), Wo = g.size(3);
  if (g.size(0) != N)
    throw ShapeError(msg("reference::conv2d_weight_grad: the gradient ", shape_str(g.shape()),
                         " and the input ", shape_str(x.shape()), " hold different batches"));
  const auto [kh, kw] = kernel;
  const auto [sh, sw] = stride;
  const auto [ph, pw] = padding;
  std::vector<double> dw;
  for (int64_t o = 0; o < O; ++o)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < kh; ++i)
        for (int64_t j = 0; j < kw; ++j) {
          double acc = 0;
          for (int64_t n = 0; n < N; ++n)
            for (int64_t ho = 0; ho < Ho; ++ho)
              for (int64_t wo = 0; wo < Wo; ++wo) {
                const int64_t h = ho * sh + i - ph, col = wo * sw + j - pw;
                if (h < 0 || h >= H || col < 0 || col >= W) continue;
                acc += G({n, o, ho, wo}) * X({n, c, h, col});
              }
          dw.push_back(acc);
        }
  return result(dw, {O, C, kh, kw}, x.dtype());
}

// ---- max pooling --------------------------------------------------------------------------------

namespace {

// The winner of window (ho, wo) of plane (n, c): {h, w} of the first largest pixel inside the
// image, or of the first NaN.
std::pair<int64_t, int64_t> window_winner(const Reader& X, const Tensor& x, int64_t n, int64_t c,
                                          int64_t ho, int64_t wo, Pair kernel, Pair stride,
                                          Pair padding) {
  std::pair<int64_t, int64_t> best{-1, -1};
  double best_v = 0;
  for (int64_t i = 0; i < kernel[0]; ++i)
    for (int64_t j = 0; j < kernel[1]; ++j) {
      const int64_t h = ho * stride[0] + i - padding[0], w = wo * stride[1] + j - padding[1];
      if (h < 0 || h >= x.size(2) || w < 0 || w >= x.size(3)) continue;  // padding never wins
      const double v = X({n, c, h, w});
      if (std::isnan(v)) return {h, w};
      if (best.first < 0 || v > best_v) best = {h, w}, best_v = v;
    }
  return best;
}

Pair pool_stride(Pair kernel, Pair stride) {
  return stride[0] == 0 && stride[1] == 0 ? kernel : stride;
}

}  // namespace

Tensor max_pool2d(const Tensor& x, Pair kernel, Pair stride, Pair padding) {
  stride = pool_stride(kernel, stride);
  require_4d(x, "max_pool2d", "input");
  const Reader X(x, "max_pool2d");
  const int64_t N = x.size(0), C = x.size(1);
  const int64_t Ho = windows(x.size(2), kernel[0], stride[0], padding[0], "max_pool2d");
  const int64_t Wo = windows(x.size(3), kernel[1], stride[1], padding[1], "max_pool2d");
  std::vector<double> y;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t ho = 0; ho < Ho; ++ho)
        for (int64_t wo = 0; wo < Wo; ++wo) {
          const auto [h, w] = window_winner(X, x, n, c, ho, wo, kernel, stride, padding);
          y.push_back(X({n, c, h, w}));
        }
  return result(y, {N, C, Ho, Wo}, x.dtype());
}

Tensor max_pool2d_backward(const Tensor& g, const Tensor& x, Pair kernel, Pair stride,
                           Pair padding) {
  stride = pool_stride(kernel, stride);
  require_4d(x, "max_pool2d_backward", "input"), require_4d(g, "max_pool2d_backward", "gradient");
  const Reader X(x, "max_pool2d_backward"), G(g, "max_pool2d_backward");
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const Shape pooled{N, C, windows(H, kernel[0], stride[0], padding[0], "max_pool2d_backward"),
                     windows(W, kernel[1], stride[1], padding[1], "max_pool2d_backward")};
  if (g.shape() != pooled)
    throw ShapeError(msg("reference::max_pool2d_backward: the gradient has shape ",
                         shape_str(g.shape()), ", the pooled input ", shape_str(pooled)));
  std::vector<double> dx(static_cast<size_t>(x.numel()), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t ho = 0; ho < g.size(2); ++ho)
        for (int64_t wo = 0; wo < g.size(3); ++wo) {
          const auto [h, w] = window_winner(X, x, n, c, ho, wo, kernel, stride, padding);
          dx[((n * C + c) * H + h) * W + w] += G({n, c, ho, wo});
        }
  return result(dx, x.shape(), x.dtype());
}

}  // namespace tandem::reference
