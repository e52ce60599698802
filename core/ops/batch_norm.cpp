// core/ops/batch_norm.cpp — batch norm as four fused primitives: two passes forward, two backward.
//
// Batch norm written from mean, var, sub, div, mul and add (functional::batch_norm_plain in
// layers/functional.h, the version to read first) is correct in both modes, but every one of those
// ops is a pass over the activation, and so is every rule of its backward: about a dozen passes
// over [N, C, H, W] per layer and step. The math needs four:
//
//   forward   1. batch_norm_stats: one pass over x gives each channel's mean μ and biased variance
//                σ² (they also feed the running estimates);
//             2. batch_norm_train / _eval: one pass writes y = x·s + t, with per-channel
//                s = weight / √(σ² + eps) and t = bias - μ·s.
//   backward  3. batch_norm_backward_reduce: one pass over (g, x) gives per channel
//                Σ g  (= dbias)   and   Σ g·x̂  (= dweight),   x̂ = (x - μ) / √(σ² + eps);
//             4. batch_norm_backward_elemt: one pass writes dx.
//
// THE BACKWARD FORMULA. With n = N·H·W values per channel, y = x̂·w + b, and μ, σ² functions of
// every x of the channel, the chain rule through x̂ = (x - μ)·r, r = (σ² + eps)^-½, gives
//
//     dx = w·r · (g - mean(g) - x̂ · mean(g·x̂))          (means over the channel's n values)
//        = s · (g - Σg/n - x̂ · Σ(g·x̂)/n)
//
// the -mean(g) term is the path through μ (every x moves the mean), the -x̂·mean(g·x̂) term the path
// through σ². In pass 4 that is one multiply-add per element, dx = a_c·g + b_c·x + d_c, with
//     a_c = s,   b_c = -s·r·Σ(g·x̂)/n,   d_c = -s·Σg/n - b_c·μ.
//
// ONE PASS FOR THE STATISTICS: shifted sums, in double. Welford's update (mean += (x-mean)/k, ...)
// is the textbook one-pass method, but it divides at every element and each step waits for the
// last: it does not vectorise. The sums Σx and Σx² do, and var = Σx²/n - (Σx/n)² — the formula
// core/ops/reduce.cpp warns about: when |mean| is large next to the spread, the two terms are big
// and nearly equal and their difference loses digits. Two cures together make it safe here:
//   - a shift: sum d = x - k with k = the channel's first value, so Σd and Σd² are about as big as
//     the spread itself (var is unchanged by a shift; mean = k + Σd/n);
//   - double: each partial sum adds 8 numbers in float32 (d and d² of nearby values), then is
//     folded into a double accumulator, as reduce.cpp's sums are; the difference is taken in double.
// tests/test_batch_norm_fused.cpp checks x = 10000 + N(0, 1) against the two-pass var.
//
// Which statistics: _train's `stats` input must be batch_norm_stats(x) — x's own. Its derivative
// (autograd/derivatives.cpp) is then the formula above, the paths through μ and σ² included; the
// stats op itself has no derivative, so nothing flows back a second time. (PyTorch's
// native_batch_norm saves its mean and invstd for backward the same way.) _eval takes any given
// statistics (the running estimates) as a plain input and differentiates through them like one.
//
// The layout: x contiguous [N, C, L] (L = H·W, or 1 for BatchNorm1d's [N, C]); each (n, c) is a
// run of L values with one channel's constants. Every pass walks the rows in memory order; threads
// take rows (elementwise passes) or parts of the batch (reductions, channel_sums below). No CUDA
// kernels: on a GPU the layer runs the composite version.
//
// Read next: autograd/derivatives.cpp (the batch norm rules), layers/functional.h (batch_norm).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "core/op.h"
#include "core/ops.h"
#include "core/ops/loops.h"

namespace tandem {
namespace {

// ---- shape rules -----------------------------------------------------------------------------------
// A graph may not know the batch size, or even the channel count, when a node is declared: sizes
// are compared where both are known (the rule runs again on the values' shapes at run time).

bool compatible(const Shape& a, const Shape& b) {
  if (a.size() != b.size()) return false;
  for (size_t d = 0; d < a.size(); ++d)
    if (a[d] != b[d] && a[d] != kUnknown && b[d] != kUnknown) return false;
  return true;
}
void check_input(const char* op, const Meta& x) {
  if (x.shape.size() < 2)
    throw ShapeError(msg(op, ": expected an input [N, C, ...] of at least 2 dimensions, but got ", shape_str(x.shape)));
  if (!is_floating(x.dtype)) throw DTypeError(msg(op, ": expected a floating point input, but got ", to_string(x.dtype)));
}
// `m` is a per-channel value of x: shape `want` ([C] or [2, C]) and x's dtype.
void check_per_channel(const char* op, const char* what, const Meta& m, const Shape& want, const Meta& x) {
  if (!compatible(m.shape, want))
    throw ShapeError(msg(op, ": expected ", what, " of shape ", shape_str(want), " (one per channel of the input ",
                         shape_str(x.shape), "), but got ", shape_str(m.shape)));
  if (m.dtype != x.dtype)
    throw DTypeError(msg(op, ": expected ", what, " of dtype ", to_string(x.dtype), " (the input's), but got ",
                         to_string(m.dtype)));
}
void check_same_shape(const char* op, const Meta& g, const Meta& x) {
  if (!compatible(g.shape, x.shape) || g.dtype != x.dtype)
    throw ShapeError(msg(op, ": gradient ", shape_str(g.shape), " ", to_string(g.dtype), " does not match the input ",
                         shape_str(x.shape), " ", to_string(x.dtype)));
}
Shape stats_shape(const Meta& x) { return {2, x.shape[1]}; }

Meta stats_meta(std::span<const Meta> in, const Attrs&) {
  check_input("batch_norm_stats", in[0]);
  return {stats_shape(in[0]), in[0].dtype};
}
template <const char* Name> Meta normalize_meta(std::span<const Meta> in, const Attrs&) {
  check_input(Name, in[0]);
  check_per_channel(Name, "stats", in[1], stats_shape(in[0]), in[0]);
  check_per_channel(Name, "a weight", in[2], {in[0].shape[1]}, in[0]);
  check_per_channel(Name, "a bias", in[3], {in[0].shape[1]}, in[0]);
  return in[0];
}
Meta reduce_meta(std::span<const Meta> in, const Attrs&) {
  check_input("batch_norm_backward_reduce", in[1]);
  check_same_shape("batch_norm_backward_reduce", in[0], in[1]);
  check_per_channel("batch_norm_backward_reduce", "stats", in[2], stats_shape(in[1]), in[1]);
  return {stats_shape(in[1]), in[1].dtype};
}
Meta elemt_meta(std::span<const Meta> in, const Attrs&) {
  const char* op = "batch_norm_backward_elemt";
  check_input(op, in[1]);
  check_same_shape(op, in[0], in[1]);
  check_per_channel(op, "stats", in[2], stats_shape(in[1]), in[1]);
  check_per_channel(op, "a weight", in[3], {in[1].shape[1]}, in[1]);
  check_per_channel(op, "sums", in[4], stats_shape(in[1]), in[1]);
  return in[1];
}

// ---- the layout ------------------------------------------------------------------------------------

// x [N, C, rest...] seen as [N, C, L].
struct Layout {
  int64_t N, C, L;
  int64_t per_channel() const { return N * L; }  // n, the values each statistic is over
};
Layout layout_of(const Tensor& x) {
  int64_t L = 1;
  for (int64_t d = 2; d < x.dim(); ++d) L *= x.shape()[d];
  return {x.shape()[0], x.shape()[1], L};
}
bool big(const Tensor& x) { return x.numel() >= loops::kParallelGrain; }

// ---- the sums ----------------------------------------------------------------------------------------
// Both reductions add two sums per channel over its N rows of L values. SPEED: in lanes, so that
// the compiler vectorises them — a plain `for (i) s += x[i]` in double is one long chain of
// dependent adds. 16 float lanes each add at most 8 numbers (plus a row's last few), then fold
// into 16 double lanes (reduce.cpp's cascade), which are added up once per channel. Each sum is its
// own loop over the row (a row of 784 floats stays in the L1 cache for the second): one loop
// computing both was vectorised with shuffles by GCC and ran 3x slower than the elementwise passes.

constexpr int64_t kLanes = 16, kFold = 8;

struct Lanes {
  double v[kLanes] = {};
  double total() const { return std::accumulate(v, v + kLanes, 0.0); }
};

// lanes += Σ term(i) for i < n; term(i) is a T, cheap and inlinable.
template <typename T, typename Term> void add_lanes(Lanes& wide, int64_t n, Term term) {
  for (int64_t i = 0; i < n; i += kLanes * kFold) {
    const int64_t end = std::min(n, i + kLanes * kFold);
    T lane[kLanes] = {};
    int64_t j = i;
    for (; j + kLanes <= end; j += kLanes)
      for (int64_t l = 0; l < kLanes; ++l) lane[l] += term(j + l);
    for (int64_t l = 0; j < end; ++j, ++l) lane[l] += term(j);
    for (int64_t l = 0; l < kLanes; ++l) wide.v[l] += lane[l];
  }
}

// Σ (p[i] - k) and Σ (p[i] - k)² over a run of n values.
template <typename T> void add_shifted_sums(Lanes& s1, Lanes& s2, const T* p, int64_t n, T k) {
  add_lanes<T>(s1, n, [p, k](int64_t i) { return p[i] - k; });
  add_lanes<T>(s2, n, [p, k](int64_t i) { return (p[i] - k) * (p[i] - k); });
}

// Σ g[i] and Σ g[i]·(x[i] - m) over a run of n values.
template <typename T> void add_gradient_sums(Lanes& sg, Lanes& sgx, const T* g, const T* x, int64_t n, T m) {
  add_lanes<T>(sg, n, [g](int64_t i) { return g[i]; });
  add_lanes<T>(sgx, n, [g, x, m](int64_t i) { return g[i] * (x[i] - m); });
}

// Two sums per channel over every row of x, in memory order. SPEED: a channel's N rows lie C·L
// values apart; summing channel by channel jumps between them, and the hardware prefetcher, which
// follows one page at a time, restarts on every row. Walking the rows in memory order instead, each
// into its channel's lanes, read the data 2x faster (the reductions went from 3x the time of an
// elementwise pass to about 1x, perf). The images are cut into parts of a fixed size, each with its
// own lanes, so threads share no sums and the result does not depend on how many threads ran.
// add_row(sa, sb, row, c) adds row (row = n·C + c) of channel c into the lanes sa and sb.
constexpr int64_t kImagesPerPart = 8;

template <typename AddRow>
void channel_sums(const Layout& s, bool parallel, std::vector<double>& ta, std::vector<double>& tb, AddRow add_row) {
  const int64_t parts = (s.N + kImagesPerPart - 1) / kImagesPerPart;
  std::vector<Lanes> la(static_cast<size_t>(parts * s.C)), lb(la.size());
  loops::parallel_for(parts, parallel, [&](int64_t p) {
    for (int64_t n = p * kImagesPerPart; n < std::min(s.N, (p + 1) * kImagesPerPart); ++n)
      for (int64_t c = 0; c < s.C; ++c) add_row(la[p * s.C + c], lb[p * s.C + c], n * s.C + c, c);
  });
  ta.assign(static_cast<size_t>(s.C), 0.0);
  tb.assign(static_cast<size_t>(s.C), 0.0);
  for (int64_t p = 0; p < parts; ++p)
    for (int64_t c = 0; c < s.C; ++c) ta[c] += la[p * s.C + c].total(), tb[c] += lb[p * s.C + c].total();
}

// ---- kernels -------------------------------------------------------------------------------------

// Pass 1: stats[0, c] = μ_c = k + Σd/n,   stats[1, c] = σ²_c = Σd²/n - (Σd/n)²   (d = x - k).
// An empty channel (n = 0) gives 0/0 = NaN, as the composite's mean does.
void stats_kernel(std::span<const Tensor> in, const Attrs&, Tensor& out) {
  const Tensor x = in[0].contiguous();
  const Layout s = layout_of(x);
  visit_floating(x.dtype(), [&]<typename T>() {
    const T* px = x.data<T>();
    T* po = out.data<T>();
    const double n = static_cast<double>(s.per_channel());
    std::vector<T> k(static_cast<size_t>(s.C), T(0));  // each channel's shift: its first value
    for (int64_t c = 0; c < s.C && s.per_channel() > 0; ++c) k[c] = px[c * s.L];
    std::vector<double> s1, s2;
    channel_sums(s, big(x), s1, s2, [&](Lanes& a, Lanes& b, int64_t row, int64_t c) {
      add_shifted_sums(a, b, px + row * s.L, s.L, k[c]);
    });
    for (int64_t c = 0; c < s.C; ++c) {
      const double mean_d = s1[c] / n;
      po[c] = static_cast<T>(k[c] + mean_d);
      po[s.C + c] = static_cast<T>(std::max(0.0, s2[c] / n - mean_d * mean_d));  // rounding can dip below 0
    }
  });
}

// The per-channel scale and shift of y = x·s + t:  s = w / √(σ² + eps),  t = b - μ·s.
template <typename T> void scale_shift(const Tensor& stats, const Tensor& w, const Tensor& b, double eps,
                                       std::vector<T>& scale, std::vector<T>& shift) {
  const int64_t C = w.numel();
  const Tensor st = stats.contiguous(), wc = w.contiguous(), bc = b.contiguous();
  const T *ps = st.data<T>(), *pw = wc.data<T>(), *pb = bc.data<T>();
  scale.resize(static_cast<size_t>(C));
  shift.resize(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) {
    const double sc = pw[c] / std::sqrt(static_cast<double>(ps[C + c]) + eps);
    scale[c] = static_cast<T>(sc);
    shift[c] = static_cast<T>(pb[c] - ps[c] * sc);
  }
}

// Pass 2 (both _train and _eval): y = x·s_c + t_c, one row of L values per (n, c).
void normalize_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  const Tensor x = in[0].contiguous();
  const Layout s = layout_of(x);
  visit_floating(x.dtype(), [&]<typename T>() {
    std::vector<T> scale, shift;
    scale_shift<T>(in[1], in[2], in[3], a.eps, scale, shift);
    const T* px = x.data<T>();
    T* py = out.data<T>();
    loops::parallel_for(s.N * s.C, big(x), [&](int64_t row) {
      const T sc = scale[row % s.C], sh = shift[row % s.C];
      const T* xr = px + row * s.L;
      T* yr = py + row * s.L;
      for (int64_t l = 0; l < s.L; ++l) yr[l] = xr[l] * sc + sh;
    });
  });
}

// Pass 3: sums[0, c] = Σ g,   sums[1, c] = Σ g·x̂ = r·Σ g·(x - μ),   r = 1/√(σ² + eps).
void backward_reduce_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  const Tensor g = in[0].contiguous(), x = in[1].contiguous(), st = in[2].contiguous();
  const Layout s = layout_of(x);
  visit_floating(x.dtype(), [&]<typename T>() {
    const T *pg = g.data<T>(), *px = x.data<T>(), *ps = st.data<T>();
    T* po = out.data<T>();
    std::vector<double> sg, sgx;
    channel_sums(s, big(x), sg, sgx, [&](Lanes& a, Lanes& b, int64_t row, int64_t c) {
      add_gradient_sums(a, b, pg + row * s.L, px + row * s.L, s.L, ps[c]);
    });
    for (int64_t c = 0; c < s.C; ++c) {
      po[c] = static_cast<T>(sg[c]);
      po[s.C + c] = static_cast<T>(sgx[c] / std::sqrt(static_cast<double>(ps[s.C + c]) + a.eps));
    }
  });
}

// Pass 4: dx = s·(g - Σg/n - x̂·Σ(g·x̂)/n) = a_c·g + b_c·x + d_c (the opening comment derives them).
void backward_elemt_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  const Tensor g = in[0].contiguous(), x = in[1].contiguous();
  const Tensor st = in[2].contiguous(), w = in[3].contiguous(), sums = in[4].contiguous();
  const Layout s = layout_of(x);
  const double n = static_cast<double>(s.per_channel());
  visit_floating(x.dtype(), [&]<typename T>() {
    const T *ps = st.data<T>(), *pw = w.data<T>(), *pu = sums.data<T>();
    std::vector<T> ca(static_cast<size_t>(s.C)), cb(ca.size()), cd(ca.size());
    for (int64_t c = 0; c < s.C; ++c) {
      const double r = 1.0 / std::sqrt(static_cast<double>(ps[s.C + c]) + a.eps), sc = pw[c] * r;
      const double bc = -sc * r * pu[s.C + c] / n;
      ca[c] = static_cast<T>(sc);
      cb[c] = static_cast<T>(bc);
      cd[c] = static_cast<T>(-sc * pu[c] / n - bc * ps[c]);
    }
    const T *pg = g.data<T>(), *px = x.data<T>();
    T* po = out.data<T>();
    loops::parallel_for(s.N * s.C, big(x), [&](int64_t row) {
      const int64_t c = row % s.C;
      const T ac = ca[c], bc = cb[c], dc = cd[c];
      const T *gr = pg + row * s.L, *xr = px + row * s.L;
      T* dr = po + row * s.L;
      for (int64_t l = 0; l < s.L; ++l) dr[l] = ac * gr[l] + bc * xr[l] + dc;
    });
  });
}

constexpr char kTrain[] = "batch_norm_train", kEval[] = "batch_norm_eval";
constexpr const char* kBackward =
    "it is batch norm's gradient: second derivatives through the fused ops are not offered "
    "(functional::batch_norm_plain, the composite, has them)";

}  // namespace

// ---- the catalogue entries --------------------------------------------------------------------
namespace ops {
TANDEM_OP(batch_norm_stats, .shape = stats_meta, .cpu = stats_kernel,
          .no_derivative = "batch_norm_train's rule differentiates through x's statistics (its mean(g) and "
                           "x̂·mean(g·x̂) terms); the running estimates they feed take no gradient");
TANDEM_OP(batch_norm_train, .arity = 4, .shape = normalize_meta<kTrain>, .cpu = normalize_kernel);
TANDEM_OP(batch_norm_eval, .arity = 4, .shape = normalize_meta<kEval>, .cpu = normalize_kernel);
TANDEM_OP(batch_norm_backward_reduce, .arity = 3, .shape = reduce_meta, .cpu = backward_reduce_kernel,
          .no_derivative = kBackward);
TANDEM_OP(batch_norm_backward_elemt, .arity = 5, .shape = elemt_meta, .cpu = backward_elemt_kernel,
          .no_derivative = kBackward);
}  // namespace ops

}  // namespace tandem
