// core/ops/scatter.cpp — writing values *into* positions: the backward of indexing and slicing.
//
// Indexing reads: index_select picks slices, gather picks elements, slice/select pick a window.
// Their derivatives must send each gradient value back to the position it was read from, adding
// when a position was read twice (index_select with a repeated index). These four ops do that.
// All of them are functional: they return a new tensor (a copy of `x` with the writes applied),
// so graph mode can use them too.
//
//   index_add(x, dim, index, src)     out = x;  out.select(dim, index[i]) += src.select(dim, i)
//   scatter_add(x, dim, index, src)   out = x;  out[..., index[i,j], ...] += src[i, j]  (along dim)
//   slice_scatter(x, src, slice)      out = x;  out[slice] = src
//   select_scatter(x, src, dim, i)    out = x;  out.select(dim, i) = src
#include "core/op.h"
#include "core/ops.h"
#include "core/ops/copy.h"
#include "core/ops/loops.h"

namespace tandem {
namespace {

void check_index(const Meta& index, const char* op) {
  if (index.dtype != kInt64)
    throw DTypeError(msg(op, ": expected index to be an int64 tensor, got ", to_string(index.dtype)));
}

Meta index_add_meta(std::span<const Meta> in, const Attrs& a) {
  check_index(in[1], "index_add");
  if (in[1].shape.size() > 1) throw ShapeError("index_add: index must be a 1-D tensor");
  const int64_t d = normalize_dim(a.dim, static_cast<int64_t>(in[0].shape.size()), "index_add");
  const Shape& self = in[0].shape;
  const Shape& src = in[2].shape;
  if (src.size() != self.size())
    throw ShapeError(msg("index_add: source ", shape_str(src), " and self ", shape_str(self),
                         " must have the same rank"));
  // Source slice k is added to self's slice index[k]: the slices must have one shape. (Before this
  // check a source [1, 5] was read as if it were [1, 2], silently.)
  for (size_t k = 0; k < self.size(); ++k)
    if (static_cast<int64_t>(k) != d && src[k] != self[k] && src[k] != kUnknown && self[k] != kUnknown)
      throw ShapeError(msg("index_add: source ", shape_str(src), " and self ", shape_str(self),
                           " must have the same size in every dimension but ", d, " (dimension ", k,
                           ": ", src[k], " vs ", self[k], "); each source slice is added to one slice of self"));
  const int64_t n_index = in[1].shape.empty() ? 1 : in[1].shape[0];
  if (n_index != kUnknown && src[d] != kUnknown && n_index != src[d])
    throw ShapeError(msg("index_add: the index has ", n_index, " entries but the source has size ", src[d],
                         " along dimension ", d, "; give one index per source slice"));
  return {in[0].shape, promote_types(in[0].dtype, in[2].dtype)};
}

Meta scatter_add_meta(std::span<const Meta> in, const Attrs& a) {
  check_index(in[1], "scatter_add");
  normalize_dim(a.dim, static_cast<int64_t>(in[0].shape.size()), "scatter_add");
  if (in[1].shape.size() != in[0].shape.size() || in[2].shape.size() != in[0].shape.size())
    throw ShapeError(msg("scatter_add: index ", shape_str(in[1].shape), ", source ",
                         shape_str(in[2].shape), " and self ", shape_str(in[0].shape),
                         " must have the same number of dimensions"));
  return {in[0].shape, promote_types(in[0].dtype, in[2].dtype)};
}

Meta copy_of_x_meta(std::span<const Meta> in, const Attrs&) {
  return {in[0].shape, promote_types(in[0].dtype, in[1].dtype)};
}

// dst += src, elementwise over dst's shape (src broadcast to it), both already of one dtype.
template <typename T> void add_into(const Tensor& src, const Tensor& dst) {
  T* pd = static_cast<T*>(dst.raw_data());
  const T* ps = static_cast<const T*>(src.raw_data());
  loops::for_each_row<2>(dst.shape(), {dst.strides(), broadcast_strides(src.shape(), src.strides(), dst.shape())},
                         [&](const std::array<int64_t, 2>& off, int64_t n, const std::array<int64_t, 2>& st) {
                           for (int64_t i = 0; i < n; ++i) pd[off[0] + i * st[0]] += ps[off[1] + i * st[1]];
                         });
}

void index_add_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  copy_into(in[0], out);
  const int64_t d = normalize_dim(a.dim, out.dim(), "index_add");
  const Tensor src = in[2].to(out.dtype());
  const auto idx = in[1].to_vector<int64_t>();
  if (static_cast<int64_t>(idx.size()) != src.shape()[d])
    throw ShapeError(msg("index_add: the index has ", idx.size(), " entries but the source has size ",
                         src.shape()[d], " along dimension ", d));
  for (size_t i = 0; i < idx.size(); ++i) {
    const int64_t j = idx[i] < 0 ? idx[i] + out.shape()[d] : idx[i];
    if (j < 0 || j >= out.shape()[d])
      throw IndexError(msg("index_add: index ", idx[i], " is out of bounds for dimension ", d,
                           " with size ", out.shape()[d]));
    visit_dtype(out.dtype(), [&]<typename T>() {
      if constexpr (!std::is_same_v<T, bool>) add_into<T>(src.select(d, static_cast<int64_t>(i)), out.select(d, j));
    });
  }
}

void scatter_add_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  copy_into(in[0], out);
  const int64_t d = normalize_dim(a.dim, out.dim(), "scatter_add");
  const Tensor index = in[1].contiguous();
  const Tensor src = in[2].to(out.dtype());
  for (int64_t k = 0; k < index.dim(); ++k)
    if (index.shape()[k] > src.shape()[k] || (k != d && index.shape()[k] > out.shape()[k]))
      throw ShapeError(msg("scatter_add: index ", shape_str(index.shape()), " must not be larger than source ",
                           shape_str(src.shape()), " in any dimension, nor than self ",
                           shape_str(out.shape()), " outside dimension ", d));
  const int64_t* pi = index.data<int64_t>();
  const Shape& shape = index.shape();
  visit_dtype(out.dtype(), [&]<typename T>() {
    if constexpr (!std::is_same_v<T, bool>) {
      T* po = out.data<T>();
      const T* ps = static_cast<const T*>(src.raw_data());
      std::vector<int64_t> pos(shape.size(), 0);  // multi-index into `index`, row-major order
      for (int64_t n = 0; n < index.numel(); ++n) {
        int64_t so = 0, oo = 0;
        for (size_t k = 0; k < shape.size(); ++k) {
          so += pos[k] * src.strides()[k];
          const int64_t c = static_cast<int64_t>(k) == d ? pi[n] : pos[k];
          if (static_cast<int64_t>(k) == d && (c < 0 || c >= out.shape()[d]))
            throw IndexError(msg("scatter_add: index ", c, " is out of bounds for dimension ", d,
                                 " with size ", out.shape()[d]));
          oo += c * out.strides()[k];
        }
        po[oo] += ps[so];
        for (int64_t k = static_cast<int64_t>(shape.size()) - 1; k >= 0 && ++pos[k] == shape[k]; --k) pos[k] = 0;
      }
    }
  });
}

void slice_scatter_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  copy_into(in[0], out);
  const Tensor window = out.slice(a.dim, a.start, a.end, a.step);
  if (window.shape() != in[1].shape())
    throw ShapeError(msg("slice_scatter: the source ", shape_str(in[1].shape()),
                         " must have the shape of the slice ", shape_str(window.shape())));
  copy_into(in[1], window);
}

void select_scatter_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  copy_into(in[0], out);
  const Tensor window = out.select(a.dim, a.start);
  if (window.shape() != in[1].shape())
    throw ShapeError(msg("select_scatter: the source ", shape_str(in[1].shape()),
                         " must have the shape of the selected slice ", shape_str(window.shape())));
  copy_into(in[1], window);
}

}  // namespace

namespace ops {
TANDEM_OP(index_add, .arity = 3, .shape = index_add_meta, .cpu = index_add_kernel);
TANDEM_OP(scatter_add, .arity = 3, .shape = scatter_add_meta, .cpu = scatter_add_kernel);
TANDEM_OP(slice_scatter, .arity = 2, .shape = copy_of_x_meta, .cpu = slice_scatter_kernel);
TANDEM_OP(select_scatter, .arity = 2, .shape = copy_of_x_meta, .cpu = select_scatter_kernel);
}  // namespace ops

}  // namespace tandem
