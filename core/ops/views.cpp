// core/ops/views.cpp — reshape, transpose, slice, expand...: new shapes over the same bytes.
//
// A view op allocates nothing and copies nothing. It builds a new TensorImpl that points at the
// *same* Storage with a new shape, new strides and perhaps a new offset:
//
//   transpose  swaps two sizes and the two matching strides;
//   slice      moves the offset to the first kept element and multiplies the stride by the step;
//   select     moves the offset and drops the dimension;
//   expand     gives the repeated dimensions stride 0 (every index reads the same element);
//   (un)squeeze adds or removes a dimension of size 1 (its stride does not matter).
//
// reshape is the subtle one: a new shape can be read from old strides only if each group of new
// dimensions covers a run of old dimensions that are laid out back to back. A transposed matrix
// cannot be flattened without reordering its bytes, so reshape then copies (and view() refuses).
//
// Because views share storage, writing through one is visible through the others — the tests
// in tests/test_views.cpp show it.
#include <algorithm>
#include <numeric>
#include <optional>

#include "core/op.h"
#include "core/ops.h"

namespace tandem {
namespace {

// A tensor sharing `t`'s storage with the given layout.
Tensor make_view(const Tensor& t, Shape shape, Strides strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = t.storage();
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = t.dtype();
  return Tensor(std::move(impl));
}

// ---- reshape -------------------------------------------------------------------------------------

// "[4, -1]": a requested shape as the user wrote it (shape_str would print -1 as "?").
std::string requested_str(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// Replaces a single -1 in `shape` by whatever makes the element count match `total`.
// With unknown input sizes (graph mode, total == kUnknown) the -1 stays unknown.
Shape infer_reshape(const Shape& input, Shape shape) {
  int64_t infer_at = -1, known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer_at >= 0) throw ShapeError("reshape: only one dimension can be inferred (-1)");
      infer_at = static_cast<int64_t>(i);
    } else if (shape[i] < 0) {
      throw ShapeError(msg("reshape: invalid shape dimension ", shape[i], " in ", requested_str(shape)));
    } else if (__builtin_mul_overflow(known, shape[i], &known)) {  // checked: sizes come from users
      throw ShapeError(msg("reshape: the sizes of ", requested_str(shape), " multiply to more than "
                           "int64 can hold; check the shape"));
    }
  }
  const bool input_known = std::none_of(input.begin(), input.end(), [](int64_t s) { return s == kUnknown; });
  if (!input_known) return shape;  // graph mode: checked again at run time
  const int64_t total = numel(input);
  if (infer_at >= 0) {
    if (known == 0 || total % known != 0)
      throw ShapeError(msg("reshape: shape ", requested_str(shape), " is invalid for input of size ",
                           total, " (shape ", shape_str(input), ")"));
    shape[infer_at] = total / known;
  } else if (known != total) {
    throw ShapeError(msg("reshape: shape ", requested_str(shape), " is invalid for input of size ", total,
                         " (shape ", shape_str(input), "); the number of elements must stay the same"));
  }
  return shape;
}

// Strides that read `old_shape`/`old_strides` as `new_shape` without moving data, if they exist.
// Walk both shapes from the back; each maximal run of old dimensions that are contiguous with each
// other ("a chunk") must be covered exactly by a run of new dimensions.
std::optional<Strides> view_strides(const Shape& old_shape, const Strides& old_strides,
                                    const Shape& new_shape) {
  Strides out(new_shape.size());
  if (numel(old_shape) <= 1 || old_shape.empty()) return contiguous_strides(new_shape);
  int64_t view_d = static_cast<int64_t>(new_shape.size()) - 1;
  int64_t chunk_base_stride = old_strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = static_cast<int64_t>(old_shape.size()) - 1; d >= 0; --d) {
    tensor_numel *= old_shape[d];
    const bool chunk_ends =
        d == 0 || (old_shape[d - 1] != 1 && old_strides[d - 1] != tensor_numel * chunk_base_stride);
    if (!chunk_ends) continue;
    while (view_d >= 0 && (view_numel < tensor_numel || new_shape[view_d] == 1)) {
      out[view_d] = view_numel * chunk_base_stride;
      view_numel *= new_shape[view_d];
      --view_d;
    }
    if (view_numel != tensor_numel) return std::nullopt;
    if (d > 0) {
      chunk_base_stride = old_strides[d - 1];
      tensor_numel = view_numel = 1;
    }
  }
  if (view_d != -1) return std::nullopt;
  return out;
}

Meta reshape_meta(std::span<const Meta> in, const Attrs& attrs) {
  return {infer_reshape(in[0].shape, attrs.dims), in[0].dtype};
}

Tensor reshape_view(const Tensor& x, const Attrs& attrs) {
  const Shape shape = infer_reshape(x.shape(), attrs.dims);
  if (auto strides = view_strides(x.shape(), x.strides(), shape))
    return make_view(x, shape, *strides, x.offset());
  const Tensor c = x.clone();  // the layout forbids a view: copy into row-major order first
  return make_view(c, shape, contiguous_strides(shape), 0);
}

// ---- permute -------------------------------------------------------------------------------------
Shape check_permutation(const Shape& dims, size_t rank) {
  if (dims.size() != rank)
    throw ShapeError(msg("permute: number of dims in the permutation (", dims.size(),
                         ") does not match the tensor's rank (", rank, ")"));
  Shape norm(rank), seen(rank, 0);  // short lists: kept inline, no allocation (core/small_vector.h)
  for (size_t i = 0; i < rank; ++i) {
    norm[i] = normalize_dim(dims[i], static_cast<int64_t>(rank), "permute");
    if (seen[norm[i]]) throw ShapeError(msg("permute: repeated dim ", dims[i], " in the permutation"));
    seen[norm[i]] = 1;
  }
  return norm;
}

Meta permute_meta(std::span<const Meta> in, const Attrs& attrs) {
  const auto p = check_permutation(attrs.dims, in[0].shape.size());
  Shape s(p.size());
  for (size_t i = 0; i < p.size(); ++i) s[i] = in[0].shape[p[i]];
  return {s, in[0].dtype};
}

Tensor permute_view(const Tensor& x, const Attrs& attrs) {
  const auto p = check_permutation(attrs.dims, x.shape().size());
  Shape s(p.size());
  Strides st(p.size());
  for (size_t i = 0; i < p.size(); ++i) {
    s[i] = x.shape()[p[i]];
    st[i] = x.strides()[p[i]];
  }
  return make_view(x, s, st, x.offset());
}

// ---- slice: x[start:end:step] along attrs.dim ---------------------------------------------------
struct SliceRange {
  int64_t start, length;
};
// Python's slicing rules: negative indices count from the end, out-of-range ends are clamped.
SliceRange slice_range(int64_t size, const Attrs& a) {
  if (a.step <= 0) throw IndexError(msg("slice: step must be positive, got ", a.step));
  auto clamp = [size](int64_t i) { return std::clamp(i < 0 ? i + size : i, int64_t{0}, size); };
  const int64_t s = clamp(a.start), e = clamp(a.end);
  return {s, e > s ? (e - s + a.step - 1) / a.step : 0};
}

Meta slice_meta(std::span<const Meta> in, const Attrs& a) {
  Shape s = in[0].shape;
  const int64_t d = normalize_dim(a.dim, static_cast<int64_t>(s.size()), "slice");
  if (s.empty()) throw IndexError("slice: cannot slice a 0-dim tensor");
  if (s[d] != kUnknown) s[d] = slice_range(s[d], a).length;
  return {s, in[0].dtype};
}

Tensor slice_view(const Tensor& x, const Attrs& a) {
  const int64_t d = normalize_dim(a.dim, x.dim(), "slice");
  const SliceRange r = slice_range(x.shape()[d], a);
  Shape s = x.shape();
  Strides st = x.strides();
  s[d] = r.length;
  st[d] *= a.step;
  return make_view(x, s, st, x.offset() + r.start * x.strides()[d]);
}

// ---- select: x[..., index, ...] — removes attrs.dim ----------------------------------------------
Meta select_meta(std::span<const Meta> in, const Attrs& a) {
  Shape s = in[0].shape;
  if (s.empty()) throw IndexError("select: cannot select from a 0-dim tensor");
  const int64_t d = normalize_dim(a.dim, static_cast<int64_t>(s.size()), "select");
  if (s[d] != kUnknown && (a.start < -s[d] || a.start >= s[d]))
    throw IndexError(msg("select: index ", a.start, " is out of range for dimension ", d,
                         " with size ", s[d]));
  s.erase(s.begin() + d);
  return {s, in[0].dtype};
}

Tensor select_view(const Tensor& x, const Attrs& a) {
  const int64_t d = normalize_dim(a.dim, x.dim(), "select");
  const int64_t i = a.start < 0 ? a.start + x.shape()[d] : a.start;
  Shape s = x.shape();
  Strides st = x.strides();
  s.erase(s.begin() + d);
  st.erase(st.begin() + d);
  return make_view(x, s, st, x.offset() + i * x.strides()[d]);
}

// ---- expand: repeat size-1 dimensions (and add leading ones) with stride 0 ------------------------
Shape expand_shape(const Shape& in, const Shape& target) {
  if (target.size() < in.size())
    throw ShapeError(msg("expand: the number of sizes provided (", target.size(),
                         ") must be greater or equal to the number of dimensions in the tensor (",
                         in.size(), ")"));
  Shape out = target;
  const size_t lead = target.size() - in.size();
  for (size_t i = 0; i < target.size(); ++i) {
    if (i < lead) {
      if (target[i] < 0)
        throw ShapeError(msg("expand: -1 is not allowed in a leading, non-existing dimension ", i));
      continue;
    }
    const int64_t have = in[i - lead];
    if (target[i] == -1) out[i] = have;
    else if (have != 1 && have != kUnknown && have != target[i])
      throw ShapeError(msg("expand: the expanded size of the tensor (", target[i],
                           ") must match the existing size (", have, ") at non-singleton dimension ",
                           i, ".  Target sizes: ", shape_str(target), ".  Tensor sizes: ",
                           shape_str(in)));
  }
  return out;
}

Meta expand_meta(std::span<const Meta> in, const Attrs& a) {
  return {expand_shape(in[0].shape, a.dims), in[0].dtype};
}

Tensor expand_view(const Tensor& x, const Attrs& a) {
  const Shape s = expand_shape(x.shape(), a.dims);
  return make_view(x, s, broadcast_strides(x.shape(), x.strides(), s), x.offset());
}

// ---- squeeze / unsqueeze ---------------------------------------------------------------------------
// attrs.dims empty: drop every size-1 dimension; else attrs.dims = {d}: drop d if it has size 1.
std::vector<bool> squeezed(const Shape& s, const Attrs& a) {
  std::vector<bool> drop(s.size(), false);
  if (a.dims.empty()) {
    for (size_t i = 0; i < s.size(); ++i) drop[i] = s[i] == 1;
  } else if (!s.empty()) {
    const int64_t d = normalize_dim(a.dims[0], static_cast<int64_t>(s.size()), "squeeze");
    drop[d] = s[d] == 1;
  }
  return drop;
}

Meta squeeze_meta(std::span<const Meta> in, const Attrs& a) {
  const auto drop = squeezed(in[0].shape, a);
  Shape s;
  for (size_t i = 0; i < drop.size(); ++i)
    if (!drop[i]) s.push_back(in[0].shape[i]);
  return {s, in[0].dtype};
}

Tensor squeeze_view(const Tensor& x, const Attrs& a) {
  const auto drop = squeezed(x.shape(), a);
  Shape s;
  Strides st;
  for (size_t i = 0; i < drop.size(); ++i)
    if (!drop[i]) {
      s.push_back(x.shape()[i]);
      st.push_back(x.strides()[i]);
    }
  return make_view(x, s, st, x.offset());
}

Meta unsqueeze_meta(std::span<const Meta> in, const Attrs& a) {
  Shape s = in[0].shape;
  const int64_t d = normalize_dim(a.dim, static_cast<int64_t>(s.size()) + 1, "unsqueeze");
  s.insert(s.begin() + d, 1);
  return {s, in[0].dtype};
}

Tensor unsqueeze_view(const Tensor& x, const Attrs& a) {
  const int64_t d = normalize_dim(a.dim, x.dim() + 1, "unsqueeze");
  Shape s = x.shape();
  Strides st = x.strides();
  // The new dimension has size 1, so its stride is never used; pick the natural row-major value.
  const int64_t stride = d < x.dim() ? x.strides()[d] * x.shape()[d] : 1;
  s.insert(s.begin() + d, 1);
  st.insert(st.begin() + d, stride);
  return make_view(x, s, st, x.offset());
}

}  // namespace

// {name, arity, shape rule, cpu kernel, view kernel, cuda kernel, elementwise}
namespace ops {
OpDef reshape{"reshape", 1, reshape_meta, nullptr, reshape_view, nullptr, false};
OpDef permute{"permute", 1, permute_meta, nullptr, permute_view, nullptr, false};
OpDef slice{"slice", 1, slice_meta, nullptr, slice_view, nullptr, false};
OpDef select{"select", 1, select_meta, nullptr, select_view, nullptr, false};
OpDef expand{"expand", 1, expand_meta, nullptr, expand_view, nullptr, false};
OpDef squeeze{"squeeze", 1, squeeze_meta, nullptr, squeeze_view, nullptr, false};
OpDef unsqueeze{"unsqueeze", 1, unsqueeze_meta, nullptr, unsqueeze_view, nullptr, false};
}  // namespace ops

Tensor reshape(const Tensor& x, const Shape& shape) {
  Attrs a;
  a.dims = shape;
  return call(ops::reshape, {x}, a);
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  Attrs a;
  a.dims = dims;
  return call(ops::permute, {x}, a);
}

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  const int64_t r = x.dim();
  if (r == 0) return x;  // PyTorch allows transpose(0, 0) of a scalar
  std::vector<int64_t> p(r);
  std::iota(p.begin(), p.end(), 0);
  std::swap(p[normalize_dim(dim0, r, "transpose")], p[normalize_dim(dim1, r, "transpose")]);
  return permute(x, p);
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  Attrs a;
  a.dim = dim;
  a.start = start;
  a.end = end;
  a.step = step;
  return call(ops::slice, {x}, a);
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  const int64_t d = normalize_dim(dim, x.dim(), "narrow");
  const int64_t size = x.shape()[d];
  if (start < 0) start += size;
  if (start < 0 || length < 0 || start + length > size)
    throw IndexError(msg("narrow: start (", start, ") + length (", length,
                         ") exceeds dimension size (", size, ") of dimension ", d));
  return slice(x, d, start, start + length, 1);
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  Attrs a;
  a.dim = dim;
  a.start = index;
  return call(ops::select, {x}, a);
}

Tensor squeeze(const Tensor& x, std::optional<int64_t> dim) {
  Attrs a;
  if (dim) a.dims = {*dim};
  return call(ops::squeeze, {x}, a);
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  Attrs a;
  a.dim = dim;
  return call(ops::unsqueeze, {x}, a);
}

Tensor expand(const Tensor& x, const Shape& shape) {
  Attrs a;
  a.dims = shape;
  return call(ops::expand, {x}, a);
}

Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  if (x.dim() == 0) return reshape(x, {1});
  const int64_t s = normalize_dim(start_dim, x.dim(), "flatten");
  const int64_t e = normalize_dim(end_dim, x.dim(), "flatten");
  if (s > e) throw IndexError("flatten: start_dim cannot come after end_dim");
  Shape shape(x.shape().begin(), x.shape().begin() + s);
  int64_t merged = 1;
  for (int64_t d = s; d <= e; ++d) merged *= x.shape()[d];
  shape.push_back(merged);
  shape.insert(shape.end(), x.shape().begin() + e + 1, x.shape().end());
  return reshape(x, shape);
}

}  // namespace tandem
