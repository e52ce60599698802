// core/ops/reduce.cpp — reductions: sum, mean, max/min, argmax/argmin, var, and sum_to.
//
// A reduction collapses some dimensions: sum over dim 1 of a [B, N] tensor gives [B], one number
// per row. The idea that makes every reduction one kernel: split the input's dimensions into two
// groups, the *kept* dims (they index the output) and the *reduced* dims (each output element
// runs over all of them). Reorder the dims, kept first and reduced last — on paper only: a
// permutation just reorders the shape and strides, no element moves — and merge neighbours that
// lie back to back in memory (coalescing, see core/ops/loops.h). Two layouts then cover nearly
// every real case, and both read memory in order:
//
//   inner reduction: the elements one output reduces form contiguous runs (sum over the last dim
//     of a contiguous [B, N] tensor, or over everything). One output = one loop over its runs,
//     and different outputs go to different threads.
//   outer reduction: the *kept* dims are the contiguous ones and the reduced dims are outside
//     them (sum over dim 0 of [B, N]: column sums, i.e. every bias gradient). Transposing first
//     would copy the whole input; instead we sweep the rows once and add each row into a strip of
//     accumulators, acc[j] += x[i][j], a loop the compiler vectorises across j.
//
// Where the order of the elements does not matter (sum, max, not argmax), the reduced dims are
// also sorted by stride, so sum(x.t()) reads memory front to back just like sum(x). Anything else
// (a slice x[:, ::2], say) is first copied into (kept, reduced) order, after which it is an inner
// reduction: a copy only where nothing better exists.
//
// Numerics, the part worth remembering:
//  - float sums: short blocks in float32, folded into a double. A single float32 running sum has
//    a 24-bit mantissa: past 2^24 = 16,777,216 adding 1.0f changes nothing, and long before that
//    every addition rounds away the low bits of the term (0.1f added a million times that way is
//    off by 1%). A double accumulator (53 bits) cures that for any tensor that fits in memory, but
//    converting every element to double halves what one SIMD instruction can add. So each partial
//    sum adds only 8 numbers in float32 (an error of a few units in the 7th digit at worst) and
//    is then folded into a double: PyTorch's cascade summation in its simplest form. Integer and
//    bool sums accumulate in int64, exactly.
//  - var is computed in two passes: the mean first, then Σ (x - mean)². The one-pass formula
//    E[x²] - E[x]² subtracts two big, nearly equal numbers when the mean is large next to the
//    spread: for x = 10000 + {1, 2, 3}, E[x²] ≈ 1e8 while the variance (1) lives in the 9th digit,
//    past float32's 7 — catastrophic cancellation, sometimes even a negative "variance". Two
//    passes read the input twice but subtract the mean *before* squaring, so nothing cancels.
//  - max/min propagate NaN, as PyTorch's do, and argmax/argmin point at the first NaN; ties go
//    to the first occurrence.
//
// The plain loops they must agree with: reference::sum, mean, amax, amin, argmax, var (core/ops/reference.h).
// Read next: core/ops/softmax.cpp (a row-wise max and sum fused with elementwise math), then the
// derivative of sum_to in autograd/.
#include <algorithm>
#include <array>
#include <cstdint>
#include <type_traits>

#include "core/op.h"
#include "core/ops.h"
#include "core/ops/copy.h"
#include "core/ops/loops.h"

namespace tandem {
namespace {

// ---- which dims are reduced ------------------------------------------------------------------

// The dims a reduction removes, as a mask over the input's dims. An empty list means all of them
// (PyTorch: x.sum(dim=[]) sums everything). Negative dims count from the end; a repeat is an error.
std::vector<bool> reduced_mask(const Shape& shape, const Shape& dims, const char* op) {
  const auto rank = static_cast<int64_t>(shape.size());
  std::vector<bool> mask(rank, dims.empty());
  std::vector<bool> seen(std::max<int64_t>(rank, 1), false);
  for (int64_t d : dims) {
    const int64_t nd = normalize_dim(d, rank, op);  // a 0-dim tensor accepts dim 0 and -1
    if (seen[nd])
      throw Error(msg(op, ": dim ", nd, " appears multiple times in the list of dims ",
                      shape_str(dims), "; list each dimension once"));
    seen[nd] = true;
    if (rank > 0) mask[nd] = true;
  }
  return mask;
}

// sum_to's reduced dims: the leading dims `target` lacks, and the dims where target has 1 and x not.
std::vector<bool> sum_to_mask(const Shape& x, const Shape& target) {
  const size_t lead = x.size() - target.size();
  std::vector<bool> mask(x.size());
  for (size_t d = 0; d < x.size(); ++d) mask[d] = d < lead || (target[d - lead] == 1 && x[d] != 1);
  return mask;
}

// Number of elements each output reduces.
int64_t reduced_count(const Shape& shape, const std::vector<bool>& mask) {
  int64_t n = 1;
  for (size_t d = 0; d < shape.size(); ++d)
    if (mask[d]) n *= shape[d];
  return n;
}

// ---- shape rules -------------------------------------------------------------------------------
// Reduced dims disappear (or stay as 1 with keepdim); kept dims keep their size, unknown or not.

Shape reduced_shape(const Shape& shape, const std::vector<bool>& mask, bool keepdim) {
  Shape out;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (!mask[d]) out.push_back(shape[d]);
    else if (keepdim) out.push_back(1);
  }
  return out;
}

// sum of int64 or bool gives int64 (PyTorch: torch.tensor([True, True]).sum() is tensor(2)).
DType sum_dtype(DType dt) { return is_floating(dt) ? dt : kInt64; }

Meta sum_meta(std::span<const Meta> in, const Attrs& a) {
  const auto mask = reduced_mask(in[0].shape, a.dims, "sum");
  return {reduced_shape(in[0].shape, mask, a.keepdim), sum_dtype(in[0].dtype)};
}

// mean and var need a floating dtype: the mean of integers is not an integer.
Meta mean_meta(std::span<const Meta> in, const Attrs& a) {
  if (!is_floating(in[0].dtype))
    throw DTypeError(msg("mean(): could not infer output dtype. Input dtype must be either a "
                         "floating point or complex dtype. Got: ", to_string(in[0].dtype),
                         "; convert it first, e.g. x.to(kFloat32).mean()"));
  const auto mask = reduced_mask(in[0].shape, a.dims, "mean");
  return {reduced_shape(in[0].shape, mask, a.keepdim), in[0].dtype};
}

Meta var_meta(std::span<const Meta> in, const Attrs& a) {
  if (!is_floating(in[0].dtype))
    throw DTypeError(msg("var: std and var only support floating point dtypes, got ",
                         to_string(in[0].dtype), "; convert it first, e.g. x.to(kFloat32)"));
  const auto mask = reduced_mask(in[0].shape, a.dims, "var");
  return {reduced_shape(in[0].shape, mask, a.keepdim), in[0].dtype};
}

// max, min and their arg versions have no answer for an empty set (sum has 0, mean has NaN).
void require_nonempty(const Shape& shape, const std::vector<bool>& mask, bool all, const char* op) {
  for (size_t d = 0; d < shape.size(); ++d) {
    if (!mask[d] || shape[d] != 0) continue;
    if (all)
      throw IndexError(msg(op, "(): Expected reduction dim to be specified for input.numel() == 0. "
                               "Specify the reduction dim with the 'dim' argument."));
    throw IndexError(msg(op, "(): Expected reduction dim ", d, " to have non-zero size (the input ",
                         "has shape ", shape_str(shape), "; there is no largest element of nothing)"));
  }
}

template <const char* Name> Meta extreme_meta(std::span<const Meta> in, const Attrs& a) {
  const auto mask = reduced_mask(in[0].shape, a.dims, Name);
  require_nonempty(in[0].shape, mask, a.dims.empty(), Name);
  return {reduced_shape(in[0].shape, mask, a.keepdim), in[0].dtype};
}

template <const char* Name> Meta arg_meta(std::span<const Meta> in, const Attrs& a) {
  if (a.dims.size() > 1)
    throw Error(msg(Name, ": reduces over one dim or over all elements, but got dims ",
                    shape_str(a.dims), "; flatten the dims first or reduce one at a time"));
  if (in[0].dtype == kBool)
    throw DTypeError(msg(Name, ": not implemented for bool tensors; convert first with .to(kInt64)"));
  const auto mask = reduced_mask(in[0].shape, a.dims, Name);
  require_nonempty(in[0].shape, mask, a.dims.empty(), Name);
  return {reduced_shape(in[0].shape, mask, a.keepdim), kInt64};
}

// sum_to's target must broadcast to x's shape. Unknown dims (graph mode) are given the benefit
// of the doubt: an unknown target dim may be 1 or match, and is checked again at run time.
Meta sum_to_meta(std::span<const Meta> in, const Attrs& a) {
  Shape x = in[0].shape, target = a.dims;
  if (target.size() <= x.size()) {
    const size_t lead = x.size() - target.size();
    for (size_t i = 0; i < target.size(); ++i) {
      int64_t& t = target[i];
      int64_t& s = x[lead + i];
      if (t == kUnknown) t = s == kUnknown ? 1 : s;
      if (s == kUnknown) s = t;
    }
  }
  if (!is_expandable_to(target, x))
    throw ShapeError(msg("sum_to: size ", shape_str(a.dims), " is not expandable to size ",
                         shape_str(in[0].shape), "; the target shape must broadcast to the tensor's "
                         "shape (compare dims from the right: each equal, or 1 in the target)"));
  return {a.dims, sum_dtype(in[0].dtype)};
}

// ---- the plan: which input elements each output element reduces --------------------------------

struct Plan {
  Shape kept;                  // kept dims, coalesced; they index the (contiguous) output
  Strides kept_strides;        // their strides in the input
  int64_t run = 1;             // length of the innermost reduced dim, coalesced: a "run"
  int64_t run_stride = 1;      // its stride in the input
  std::vector<int64_t> runs;   // input offset of the first element of every run, in order
  int64_t outputs = 1;         // number of output elements
};

// any_order: the reducer does not care in which order it sees the elements (a sum), so the
// reduced dims may be sorted by stride, largest first. Then a transposed tensor is read in memory
// order: sum(x.t()) walks the bytes front to back, just like sum(x).
Plan make_plan(const Shape& shape, const Strides& strides, const std::vector<bool>& mask,
               bool any_order) {
  Shape kshape, rshape;
  std::array<Strides, 1> kst, rst;
  std::vector<size_t> reduced;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (mask[d]) {
      reduced.push_back(d);
    } else {
      kshape.push_back(shape[d]);
      kst[0].push_back(strides[d]);
    }
  }
  if (any_order) {
    // A broadcast dim (stride 0) counts as the largest: re-reading one element is an outer loop.
    auto key = [&](size_t d) { return strides[d] == 0 ? INT64_MAX : strides[d]; };
    std::stable_sort(reduced.begin(), reduced.end(), [&](size_t a, size_t b) { return key(a) > key(b); });
  }
  for (size_t d : reduced) {
    rshape.push_back(shape[d]);
    rst[0].push_back(strides[d]);
  }
  Plan p;
  p.outputs = numel(kshape);
  p.kept = loops::coalesce(kshape, kst);
  p.kept_strides = kst[0];
  Shape r = loops::coalesce(rshape, rst);
  if (!r.empty()) {
    p.run = r.back();
    p.run_stride = rst[0].back();
    r.pop_back();
    rst[0].pop_back();
  }
  // Every output walks the same pattern of runs, so their offsets are computed once, by an
  // odometer over the remaining reduced dims (last index fastest).
  const int64_t nruns = numel(r);
  p.runs.reserve(nruns);
  std::vector<int64_t> idx(r.size(), 0);
  int64_t off = 0;
  for (int64_t k = 0; k < nruns; ++k) {
    p.runs.push_back(off);
    for (size_t d = r.size(); d-- > 0;) {
      off += rst[0][d];
      if (++idx[d] < r[d]) break;
      off -= rst[0][d] * r[d];
      idx[d] = 0;
    }
  }
  return p;
}

// Input offset of output element o: o decomposed into kept indices, times the kept strides.
int64_t kept_offset(const Plan& p, int64_t o) {
  int64_t off = 0;
  for (size_t d = p.kept.size(); d-- > 0;) {
    off += (o % p.kept[d]) * p.kept_strides[d];
    o /= p.kept[d];
  }
  return off;
}

// x with its dims reordered: a view built by hand (same storage, permuted shape and strides).
Tensor permuted_view(const Tensor& x, const std::vector<int64_t>& order) {
  auto impl = std::make_shared<TensorImpl>(x.impl());
  impl->autograd = nullptr;
  for (size_t i = 0; i < order.size(); ++i) {
    impl->shape[i] = x.shape()[order[i]];
    impl->strides[i] = x.strides()[order[i]];
  }
  return Tensor(std::move(impl));
}

// ---- the reduction loop ------------------------------------------------------------------------
//
// A reducer R says what one output accumulates:
//   Acc                    the accumulator type
//   kAnyOrder              true when the result does not depend on the order the elements come
//                          in (sum, max), so the plan may visit them in memory order
//   init(o)                a fresh accumulator for output o
//   row(acc, p, n, o, i0)  fold the contiguous run p[0..n) into acc; p[0] is element number i0
//                          of the output's reduced elements (counted in row-major order)
//   columns(acc, p, rows, stride, m, o0, i0)
//                          the outer layout: fold `rows` reduced elements into each of the m
//                          outputs o0..o0+m-1; element r of output o0+j is p[r * stride + j]
// and `write(o, acc)` stores the finished value.

constexpr int64_t kStrip = 256;  // outputs one task of an outer reduction accumulates at a time

template <typename T, typename R, typename Write>
void reduce_loop(const Tensor& x, const std::vector<bool>& mask, const R& r, Write write) {
  using Acc = typename R::Acc;
  const Plan p = make_plan(x.shape(), x.strides(), mask, R::kAnyOrder);
  if (p.outputs == 0) return;
  const T* data = x.data<T>();
  const int64_t count = p.run * static_cast<int64_t>(p.runs.size());
  const bool big = p.outputs * count >= loops::kParallelGrain;

  const bool inner = p.run_stride == 1 || p.run == 1;
  const bool outer = !inner && !p.kept.empty() && p.kept_strides.back() == 1;
  if (!inner && !outer) {
    // Neither layout: copy into (kept..., reduced...) order once; then it is an inner reduction.
    std::vector<int64_t> order;
    for (int pass = 0; pass < 2; ++pass)
      for (size_t d = 0; d < mask.size(); ++d)
        if (mask[d] == (pass == 1)) order.push_back(static_cast<int64_t>(d));
    const Tensor view = permuted_view(x, order);
    const Tensor copy = Tensor::empty(view.shape(), x.dtype());
    copy_into(view, copy);
    std::vector<bool> copy_mask(mask.size());
    for (size_t d = 0; d < order.size(); ++d) copy_mask[d] = mask[order[d]];
    reduce_loop<T>(copy, copy_mask, r, write);
    return;
  }

  if (inner) {
    loops::parallel_for(p.outputs, big, [&](int64_t o) {
      const T* base = data + kept_offset(p, o);
      Acc acc = r.init(o);
      for (size_t k = 0; k < p.runs.size(); ++k)
        r.row(acc, base + p.runs[k], p.run, o, static_cast<int64_t>(k) * p.run);
      write(o, acc);
    });
    return;
  }

  // Outer layout. The output is `lines` lines of `width` outputs that are contiguous in the input
  // too; each task owns a strip of at most kStrip of them and sweeps every reduced element once.
  const int64_t width = p.kept.back();
  const int64_t lines = p.outputs / width;
  const int64_t strips = (width + kStrip - 1) / kStrip;
  loops::parallel_for(lines * strips, big, [&](int64_t task) {
    const int64_t j0 = (task % strips) * kStrip;
    const int64_t m = std::min(kStrip, width - j0);
    const int64_t o0 = (task / strips) * width + j0;
    const T* base = data + kept_offset(p, o0);
    std::array<Acc, kStrip> acc;
    for (int64_t j = 0; j < m; ++j) acc[j] = r.init(o0 + j);
    for (size_t k = 0; k < p.runs.size(); ++k)
      r.columns(acc.data(), base + p.runs[k], p.run, p.run_stride, m, o0,
                static_cast<int64_t>(k) * p.run);
    for (int64_t j = 0; j < m; ++j) write(o0 + j, acc[j]);
  });
}

// ---- reducers ----------------------------------------------------------------------------------
//
// Sums run fast and stay accurate with *blocking*: many independent partial sums in the input's
// own type, each of which adds only a few dozen numbers before it is folded into the double.
//  - Many partial sums, because a single running sum is a chain: each addition waits for the
//    previous one (~4 cycles). Independent sums fill whole SIMD registers and the CPU overlaps
//    their additions, so the loop runs about as fast as memory delivers the data.
//  - A few dozen numbers each, because then a float32 partial sum carries a rounding error of at
//    most ~8 × 2^-24 of itself (far less in practice) before it moves into the 53-bit double.
// This is the cheap cousin of PyTorch's cascade summation.

constexpr int64_t kLanes = 32;      // partial sums of one run (four 8-wide SIMD registers)
constexpr int64_t kFoldEvery = 8;  // numbers a partial sum adds before it is folded

// Σ x: in double for floats (see the opening comment), in int64 for int64 and bool.
template <typename T> struct SumReducer {
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;
  using Lane = std::conditional_t<std::is_floating_point_v<T>, T, Acc>;  // bools add up in int64
  static constexpr bool kAnyOrder = true;
  Acc init(int64_t) const { return 0; }

  void row(Acc& acc, const T* p, int64_t n, int64_t, int64_t) const {
    constexpr int64_t kBlock = kLanes * kFoldEvery;
    if (n < kBlock) {  // a short run: not worth setting up the lanes (a sum over a dim of size 1...)
      for (int64_t i = 0; i < n; ++i) acc += static_cast<Acc>(p[i]);
      return;
    }
    Acc wide[kLanes] = {};  // the folded partial sums, still independent of each other
    int64_t i = 0;
    for (; i + kBlock <= n; i += kBlock) {
      Lane lane[kLanes] = {};
      for (int64_t k = 0; k < kBlock; k += kLanes)
        for (int64_t l = 0; l < kLanes; ++l) lane[l] += static_cast<Lane>(p[i + k + l]);
      for (int64_t l = 0; l < kLanes; ++l) wide[l] += static_cast<Acc>(lane[l]);
    }
    for (; i < n; ++i) acc += static_cast<Acc>(p[i]);  // the last few
    for (int64_t l = 0; l < kLanes; ++l) acc += wide[l];
  }

  // Column sums: each of the m outputs has its own partial sum, fed one row at a time.
  void columns(Acc* acc, const T* p, int64_t rows, int64_t stride, int64_t m, int64_t, int64_t) const {
    for (int64_t b = 0; b < rows; b += kFoldEvery) {
      const int64_t end = std::min(rows, b + kFoldEvery);
      Lane part[kStrip] = {};
      for (int64_t r = b; r < end; ++r)
        for (int64_t j = 0; j < m; ++j) part[j] += static_cast<Lane>(p[r * stride + j]);
      for (int64_t j = 0; j < m; ++j) acc[j] += static_cast<Acc>(part[j]);
    }
  }
};

// Σ (x - mean_o)², the second pass of var; `mean` holds one mean per output.
template <typename T> struct SquaredDeviationReducer {
  using Acc = double;
  static constexpr bool kAnyOrder = true;
  const double* mean;
  Acc init(int64_t) const { return 0; }
  void row(Acc& acc, const T* p, int64_t n, int64_t o, int64_t) const {
    const double mu = mean[o];
    double s = 0;
    // `omp simd reduction` lets the compiler keep several partial sums in SIMD lanes: a reordering
    // of the additions that it may not do on its own.
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < n; ++i) {
      const double d = static_cast<double>(p[i]) - mu;
      s += d * d;
    }
    acc += s;
  }
  void columns(Acc* acc, const T* p, int64_t rows, int64_t stride, int64_t m, int64_t o0, int64_t) const {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < m; ++j) {
        const double d = static_cast<double>(p[r * stride + j]) - mean[o0 + j];
        acc[j] += d * d;
      }
  }
};

// The largest (Max) or smallest element, and where it is (Index). A NaN beats every number and
// the first NaN beats later ones; among equal values the first wins (strict comparison).
template <typename T, bool Max, bool Index> struct ExtremeReducer {
  struct Acc {
    T best{};
    int64_t index = -1;  // -1: nothing seen yet
  };
  static constexpr bool kAnyOrder = !Index;  // which element is "first" matters for the index
  static bool better(T v, const Acc& a) {
    if (a.index < 0) return true;
    if constexpr (std::is_floating_point_v<T>) {
      if (a.best != a.best) return false;  // already holding a NaN
      if (v != v) return true;
    }
    return Max ? v > a.best : v < a.best;
  }
  Acc init(int64_t) const { return {}; }

  // v if it beats m (or is NaN), else m. Branch-free, so loops of it vectorise, and a NaN, once
  // taken, stays: nothing compares greater than NaN.
  static T pick(T v, T m) { return ((Max ? v > m : v < m) || v != v) ? v : m; }

  // Two passes over the run, so that the hot one vectorises: first the extreme value, with
  // kLanes independent candidates as in the sums above; then, only when the index is wanted, a
  // scan for its first occurrence.
  void row(Acc& acc, const T* p, int64_t n, int64_t, int64_t i0) const {
    if (n == 0) return;
    T lane[kLanes];
    for (int64_t l = 0; l < kLanes; ++l) lane[l] = p[0];
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
      for (int64_t l = 0; l < kLanes; ++l) lane[l] = pick(p[i + l], lane[l]);
    T best = p[0];
    for (; i < n; ++i) best = pick(p[i], best);
    for (int64_t l = 0; l < kLanes; ++l) best = pick(lane[l], best);
    int64_t at = 0;
    if (best != best) {
      while (p[at] == p[at]) ++at;  // the first NaN
    } else if constexpr (Index) {
      while (p[at] != best) ++at;
    }
    if (better(best, acc)) acc = {best, i0 + at};
  }

  void columns(Acc* acc, const T* p, int64_t rows, int64_t stride, int64_t m, int64_t, int64_t i0) const {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < m; ++j)
        if (better(p[r * stride + j], acc[j])) acc[j] = {p[r * stride + j], i0 + r};
  }
};

// ---- kernels -----------------------------------------------------------------------------------

// Sums x over the dims in `mask` into out (shared by sum and sum_to).
void sum_into(const Tensor& x, const std::vector<bool>& mask, Tensor& out) {
  visit_dtype(x.dtype(), [&]<typename T>() {
    using Out = std::conditional_t<std::is_floating_point_v<T>, T, int64_t>;
    Out* po = out.data<Out>();
    reduce_loop<T>(x, mask, SumReducer<T>{},
                   [po](int64_t o, auto acc) { po[o] = static_cast<Out>(acc); });
  });
}

void sum_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  sum_into(in[0], reduced_mask(in[0].shape(), a.dims, "sum"), out);
}

void sum_to_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  sum_into(in[0], sum_to_mask(in[0].shape(), a.dims), out);
}

// mean = sum / count, the division done in double. An empty reduction gives 0/0 = NaN (PyTorch).
void mean_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  const Tensor& x = in[0];
  const auto mask = reduced_mask(x.shape(), a.dims, "mean");
  const auto count = static_cast<double>(reduced_count(x.shape(), mask));
  visit_floating(x.dtype(), [&]<typename T>() {
    T* po = out.data<T>();
    reduce_loop<T>(x, mask, SumReducer<T>{},
                   [po, count](int64_t o, double acc) { po[o] = static_cast<T>(acc / count); });
  });
}

// var = Σ (x - mean)² / (N - correction), in two passes (see the opening comment). With
// N - correction <= 0 the divisor is 0 and the result inf or NaN, as in PyTorch.
void var_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  const Tensor& x = in[0];
  const auto mask = reduced_mask(x.shape(), a.dims, "var");
  const int64_t n = reduced_count(x.shape(), mask);
  const auto count = static_cast<double>(n);
  const auto divisor = static_cast<double>(std::max<int64_t>(0, n - a.correction));
  visit_floating(x.dtype(), [&]<typename T>() {
    std::vector<double> mean(static_cast<size_t>(out.numel()));
    double* pm = mean.data();
    reduce_loop<T>(x, mask, SumReducer<T>{}, [pm, count](int64_t o, double s) { pm[o] = s / count; });
    T* po = out.data<T>();
    reduce_loop<T>(x, mask, SquaredDeviationReducer<T>{pm},
                   [po, divisor](int64_t o, double ss) { po[o] = static_cast<T>(ss / divisor); });
  });
}

// amax/amin write the value, argmax/argmin the index.
template <bool Max, bool Index>
void extreme_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  const Tensor& x = in[0];
  const char* name = Max ? (Index ? "argmax" : "amax") : (Index ? "argmin" : "amin");
  const auto mask = reduced_mask(x.shape(), a.dims, name);
  require_nonempty(x.shape(), mask, a.dims.empty(), name);
  visit_dtype(x.dtype(), [&]<typename T>() {
    using R = ExtremeReducer<T, Max, Index>;
    using Acc = typename R::Acc;
    if constexpr (Index) {
      int64_t* po = out.data<int64_t>();
      reduce_loop<T>(x, mask, R{}, [po](int64_t o, const Acc& acc) { po[o] = acc.index; });
    } else {
      T* po = out.data<T>();
      reduce_loop<T>(x, mask, R{}, [po](int64_t o, const Acc& acc) { po[o] = acc.best; });
    }
  });
}

constexpr char kAmax[] = "amax", kAmin[] = "amin", kArgmax[] = "argmax", kArgmin[] = "argmin";


}  // namespace

// max(x) and min(x) name themselves in the empty-tensor error, as PyTorch does. A size unknown
// until run time (-1) is not 0: amax's own rule then checks when the size is known.
void require_elements(const Shape& shape, const char* op) {
  require_nonempty(shape, std::vector<bool>(shape.size(), true), true, op);
}

// ---- the catalogue entries --------------------------------------------------------------------
namespace ops {
TANDEM_OP(sum, .shape = sum_meta, .cpu = sum_kernel);
TANDEM_OP(mean, .shape = mean_meta, .cpu = mean_kernel);
TANDEM_OP(amax, .shape = extreme_meta<kAmax>, .cpu = extreme_kernel<true, false>);
TANDEM_OP(amin, .shape = extreme_meta<kAmin>, .cpu = extreme_kernel<false, false>);
TANDEM_OP(argmax, .shape = arg_meta<kArgmax>, .cpu = extreme_kernel<true, true>,
          .no_derivative = "its output is integer indices");
TANDEM_OP(argmin, .shape = arg_meta<kArgmin>, .cpu = extreme_kernel<false, true>,
          .no_derivative = "its output is integer indices");
TANDEM_OP(var, .shape = var_meta, .cpu = var_kernel);
TANDEM_OP(sum_to, .shape = sum_to_meta, .cpu = sum_to_kernel);
}  // namespace ops

}  // namespace tandem
