// core/ops/index.cpp — picking elements by index: index_select, gather, one_hot.
//
// These ops move values around without arithmetic; what they teach is how an *index tensor*
// addresses another tensor:
//
//   index_select(x, dim, idx)  whole slices:  out[..., k, ...] = x[..., idx[k], ...]
//                              (an embedding lookup is index_select(table, 0, token_ids));
//   gather(x, dim, idx)        one element per index, idx has x's rank:
//                              out[i][j] = x[i][idx[i][j]]   for dim = 1
//                              (picking the logit of the true class in a loss);
//   one_hot(labels, C)         the inverse view of labels: out[..., c] = (labels[...] == c).
//
// Each index is checked against the size of the dim it addresses, and a bad one is reported by
// value ("index 5 is out of range for dimension 0 with size 3"), never read out of bounds. Inside
// a parallel loop we cannot throw (an exception must not escape an OpenMP region), so the loops
// note the bad value and the error is thrown once the loop is over.
//
// Read next: core/ops/views.cpp (select and slice, the index ops that need no index tensor).
#include <algorithm>
#include <atomic>

#include "core/op.h"
#include "core/ops.h"
#include "core/ops/loops.h"

namespace tandem {
namespace {

// A shape or strides without entry d (the dim an index runs along).
std::vector<int64_t> without(const std::vector<int64_t>& v, int64_t d) {
  std::vector<int64_t> out;
  for (size_t i = 0; i < v.size(); ++i)
    if (static_cast<int64_t>(i) != d) out.push_back(v[i]);
  return out;
}

void require_int64_index(DType dt, const char* op) {
  if (dt != kInt64)
    throw DTypeError(msg(op, "(): Expected dtype int64 for index, but got ", to_string(dt),
                         "; build indices with integer literals or convert with .to(kInt64)"));
}

// Remembers one out-of-range index seen inside a parallel loop.
struct BadIndex {
  std::atomic<bool> found{false};
  std::atomic<int64_t> value{0};
  void note(int64_t v) {
    value.store(v);
    found.store(true);
  }
};

// ---- index_select --------------------------------------------------------------------------------

// x's shape with the size of `dim` replaced by the number of indices (0-dim x stays 0-dim).
Meta index_select_meta(std::span<const Meta> in, const Attrs& a) {
  const Meta& x = in[0];
  const Meta& index = in[1];
  require_int64_index(index.dtype, "index_select");
  if (index.shape.size() > 1)
    throw IndexError(msg("index_select(): Index is supposed to be a vector, but got shape ",
                         shape_str(index.shape), "; flatten it first, or use gather for one index "
                         "per element"));
  const int64_t dim = normalize_dim(a.dim, static_cast<int64_t>(x.shape.size()), "index_select");
  Shape out = x.shape;
  if (!out.empty()) out[dim] = index.shape.empty() ? 1 : index.shape[0];
  return {out, x.dtype};
}

void index_select_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  const Tensor& x = in[0];
  const Tensor& index = in[1];
  const int64_t rank = x.dim();
  const int64_t dim = normalize_dim(a.dim, rank, "index_select");
  const int64_t size = rank == 0 ? 1 : x.shape()[dim];

  // The indices (a short vector) are read and checked before anything is written.
  const int64_t count = index.numel();
  const int64_t istride = index.dim() == 1 ? index.stride(0) : 0;
  const int64_t* pi = index.data<int64_t>();
  std::vector<int64_t> idx(static_cast<size_t>(count));
  for (int64_t k = 0; k < count; ++k) {
    idx[k] = pi[k * istride];
    if (idx[k] < 0 || idx[k] >= size)
      throw IndexError(msg("index_select(): index ", idx[k], " is out of range for dimension ", dim,
                           " with size ", size, " (valid indices are 0 to ", size - 1,
                           "; negative indices are not accepted here)"));
  }

  visit_dtype(x.dtype(), [&]<typename T>() {
    const T* px = x.data<T>();
    T* po = out.data<T>();
    if (rank == 0) {  // PyTorch: selecting from a 0-dim tensor gives it back
      if (out.numel() == 1) po[0] = px[0];
      return;
    }
    if (x.is_contiguous()) {
      // x is [outer, size, inner] and out is [outer, count, inner]: each (o, k) copies one block
      // of `inner` contiguous values — for dim 0, one whole row (an embedding vector).
      int64_t outer = 1, inner = 1;
      for (int64_t d = 0; d < dim; ++d) outer *= x.shape()[d];
      for (int64_t d = dim + 1; d < rank; ++d) inner *= x.shape()[d];
      const bool big = out.numel() >= loops::kParallelGrain;
      loops::parallel_for(outer * count, big, [&](int64_t t) {
        const int64_t o = t / count, k = t % count;
        std::copy_n(px + (o * size + idx[k]) * inner, inner, po + t * inner);
      });
      return;
    }
    // Strided x: slice k of the output is x.select(dim, idx[k]), copied through its strides.
    const Shape sub = without(x.shape(), dim);
    const Strides xs = without(x.strides(), dim), os = without(out.strides(), dim);
    for (int64_t k = 0; k < count; ++k) {
      const T* src = px + idx[k] * x.strides()[dim];
      T* dst = po + k * out.strides()[dim];
      loops::for_each_row<2>(sub, {os, xs},
                             [&](const std::array<int64_t, 2>& off, int64_t n, const std::array<int64_t, 2>& st) {
                               for (int64_t i = 0; i < n; ++i) dst[off[0] + i * st[0]] = src[off[1] + i * st[1]];
                             });
    }
  });
}

// ---- gather --------------------------------------------------------------------------------------

// The output has index's shape. Along every other dim, index may be shorter than x, not longer.
Meta gather_meta(std::span<const Meta> in, const Attrs& a) {
  const Meta& x = in[0];
  const Meta& index = in[1];
  require_int64_index(index.dtype, "gather");
  const auto rank = static_cast<int64_t>(x.shape.size());
  if (static_cast<int64_t>(index.shape.size()) != rank)
    throw ShapeError(msg("gather(): Index tensor must have the same number of dimensions as input "
                         "tensor, but input has shape ", shape_str(x.shape), " and index ",
                         shape_str(index.shape), "; add dims with unsqueeze"));
  const int64_t dim = normalize_dim(a.dim, rank, "gather");
  for (int64_t d = 0; d < rank; ++d) {
    if (d == dim || x.shape[d] == kUnknown || index.shape[d] == kUnknown) continue;
    if (index.shape[d] > x.shape[d])
      throw ShapeError(msg("gather(): Size does not match at dimension ", d, " expected index ",
                           shape_str(index.shape), " to be smaller than self ", shape_str(x.shape),
                           " apart from dimension ", dim));
  }
  return {index.shape, x.dtype};
}

// Walk the index tensor; each element k at position (i0, ..., id, ...) reads x at the same
// position except along dim, where it reads k. So x's offset is "x's strides with the dim's
// stride zeroed" plus k times that stride.
void gather_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  const Tensor& x = in[0];
  const Tensor& index = in[1];
  const int64_t rank = x.dim();
  const int64_t dim = normalize_dim(a.dim, rank, "gather");
  const int64_t size = rank == 0 ? 1 : x.shape()[dim];
  const int64_t dim_stride = rank == 0 ? 0 : x.strides()[dim];
  Strides xs = x.strides();
  if (rank > 0) xs[dim] = 0;
  BadIndex bad;
  visit_dtype(x.dtype(), [&]<typename T>() {
    const T* px = x.data<T>();
    const int64_t* pi = index.data<int64_t>();
    T* po = out.data<T>();
    loops::for_each_row<3>(
        index.shape(), {out.strides(), index.strides(), xs},
        [&](const std::array<int64_t, 3>& off, int64_t n, const std::array<int64_t, 3>& st) {
          for (int64_t i = 0; i < n; ++i) {
            const int64_t k = pi[off[1] + i * st[1]];
            if (k < 0 || k >= size) {
              bad.note(k);
              continue;
            }
            po[off[0] + i * st[0]] = px[off[2] + i * st[2] + k * dim_stride];
          }
        });
  });
  if (bad.found)
    throw IndexError(msg("gather(): index ", bad.value.load(), " is out of bounds for dimension ",
                         dim, " with size ", size));
}

// ---- one_hot -------------------------------------------------------------------------------------

void require_labels(DType dt) {
  if (dt != kInt64)
    throw DTypeError(msg("one_hot is only applicable to index tensor (int64 labels), but got dtype ",
                         to_string(dt), "; convert the labels with .to(kInt64)"));
}

Meta one_hot_meta(std::span<const Meta> in, const Attrs& a) {
  require_labels(in[0].dtype);
  if (a.num_classes < 0)
    throw Error(msg("one_hot: num_classes must be known (>= 0) when the op runs, got ",
                    a.num_classes, "; the function one_hot(labels) resolves -1 to max label + 1"));
  Shape out = in[0].shape;
  out.push_back(a.num_classes);
  return {out, kInt64};
}

void one_hot_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  const Tensor& labels = in[0];
  const int64_t classes = a.num_classes;
  const int64_t* pl = labels.data<int64_t>();
  int64_t* po = out.data<int64_t>();
  std::fill_n(po, out.numel(), int64_t{0});
  BadIndex negative, too_big;
  // Operand 0 is a contiguous counter over the labels' shape: it gives each label its row of out.
  loops::for_each_row<2>(
      labels.shape(), {contiguous_strides(labels.shape()), labels.strides()},
      [&](const std::array<int64_t, 2>& off, int64_t n, const std::array<int64_t, 2>& st) {
        for (int64_t i = 0; i < n; ++i) {
          const int64_t c = pl[off[1] + i * st[1]];
          if (c < 0) negative.note(c);
          else if (c >= classes) too_big.note(c);
          else po[(off[0] + i * st[0]) * classes + c] = 1;
        }
      });
  if (negative.found)
    throw IndexError(msg("one_hot: Class values must be non-negative (found ", negative.value.load(), ")"));
  if (too_big.found)
    throw IndexError(msg("one_hot: Class values must be smaller than num_classes (found ",
                         too_big.value.load(), " with num_classes = ", classes, ")"));
}

}  // namespace

// ---- the catalogue entries --------------------------------------------------------------------
namespace ops {
TANDEM_OP(index_select, .arity = 2, .shape = index_select_meta, .cpu = index_select_kernel);
TANDEM_OP(gather, .arity = 2, .shape = gather_meta, .cpu = gather_kernel);
TANDEM_OP(one_hot, .shape = one_hot_meta, .cpu = one_hot_kernel,
          .no_derivative = "its input is integer labels, and its output 0s and 1s");
}  // namespace ops

}  // namespace tandem
