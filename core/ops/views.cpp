// core/ops/views.cpp — reshape, transpose, slice, expand...: new shapes over the same bytes.
//
// A view op allocates nothing and copies nothing. It builds a new TensorImpl that points at the
// *same* Storage with a new shape, new strides and perhaps a new offset:
//
//   transpose  swaps two sizes and the two matching strides;
//   slice      moves the offset to the first kept element and multiplies the stride by the step;
//   narrow     is a slice of exactly `length` elements (never clamped: past the end is an error);
//   select     moves the offset and drops the dimension;
//   expand     gives the repeated dimensions stride 0 (every index reads the same element);
//   (un)squeeze adds or removes a dimension of size 1 (its stride does not matter).
//
// reshape is the subtle one: a new shape can be read from old strides only if each group of new
// dimensions covers a run of old dimensions that are laid out back to back. A transposed matrix
// cannot be flattened without reordering its bytes, so reshape then copies (and view() refuses).
// flatten is a reshape whose target is computed from the input's own shape, so it is an op of its
// own: in a graph that shape may be unknown (?) until run time, and a reshape target cannot say
// "whatever dims 1 to 3 multiply to" twice (a shape holds one -1 at most).
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
    } else {
      known *= shape[i];
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

// x read as `shape` (same element count): a view when the strides allow one, else a copy.
Tensor reshaped(const Tensor& x, const Shape& shape) {
  if (auto strides = view_strides(x.shape(), x.strides(), shape))
    return make_view(x, shape, *strides, x.offset());
  const Tensor c = x.clone();  // the layout forbids a view: copy into row-major order first
  return make_view(c, shape, contiguous_strides(shape), 0);
}

Tensor reshape_view(std::span<const Tensor> in, const Attrs& attrs) {
  return reshaped(in[0], infer_reshape(in[0].shape(), attrs.dims));
}

// ---- flatten: dims start..end merged into one ------------------------------------------------------
// Attrs: start = start_dim, end = end_dim (negative count from the back). The merged size is the
// product of the merged sizes, unknown (?) when one of them is: [?, 2, 3] flattened from 1 is
// [?, 6], and [?, ?, 3] is [?, ?] — fine for a shape rule, which is why flatten is not a reshape.
Shape flatten_shape(const Shape& in, const Attrs& a) {
  const auto rank = static_cast<int64_t>(in.size());
  const int64_t s = normalize_dim(a.start, rank, "flatten"), e = normalize_dim(a.end, rank, "flatten");
  if (rank == 0) return {1};  // a 0-dim tensor flattens to one element
  if (s > e)
    throw IndexError(msg("flatten: start_dim (", a.start, ") cannot come after end_dim (", a.end,
                         ") for a tensor of shape ", shape_str(in), "; swap them"));
  Shape out(in.begin(), in.begin() + s);
  int64_t merged = 1;
  for (int64_t d = s; d <= e; ++d) merged = (merged == kUnknown || in[d] == kUnknown) ? kUnknown : merged * in[d];
  out.push_back(merged);
  out.insert(out.end(), in.begin() + e + 1, in.end());
  return out;
}

Meta flatten_meta(std::span<const Meta> in, const Attrs& a) { return {flatten_shape(in[0].shape, a), in[0].dtype}; }

Tensor flatten_view(std::span<const Tensor> in, const Attrs& a) { return reshaped(in[0], flatten_shape(in[0].shape(), a)); }

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

Tensor permute_view(std::span<const Tensor> in, const Attrs& attrs) {
  const Tensor& x = in[0];
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

Tensor slice_view(std::span<const Tensor> in, const Attrs& a) {
  const Tensor& x = in[0];
  const int64_t d = normalize_dim(a.dim, x.dim(), "slice");
  const SliceRange r = slice_range(x.shape()[d], a);
  Shape s = x.shape();
  Strides st = x.strides();
  s[d] = r.length;
  st[d] *= a.step;
  return make_view(x, s, st, x.offset() + r.start * x.strides()[d]);
}

// ---- narrow: exactly `length` elements from start along attrs.dim -------------------------------------
// Attrs: dim, start (negative counts from the end), end = start + length. Unlike slice, nothing is
// clamped: the result has exactly `length` elements or it is an error, as in PyTorch. So its size is
// known even where the input's is not (graph mode), and the run-time check keeps that promise.
struct NarrowRange {
  int64_t start, length;
};
int64_t narrow_length(const Attrs& a) {
  const int64_t length = a.end - a.start;
  if (length < 0) throw IndexError(msg("narrow: length must be non-negative, but got ", length));
  return length;
}

NarrowRange narrow_range(int64_t size, const Attrs& a, int64_t d) {
  const int64_t length = narrow_length(a);
  if (a.start < -size || a.start > size)
    throw IndexError(msg("narrow: start out of range (expected to be in range of [", -size, ", ", size,
                         "], but got ", a.start, ") for dimension ", d, " of size ", size));
  const int64_t start = a.start < 0 ? a.start + size : a.start;
  if (start + length > size)
    throw IndexError(msg("narrow: start (", start, ") + length (", length, ") exceeds dimension size (",
                         size, ") of dimension ", d, "; narrow never clamps (slice does)"));
  return {start, length};
}

Meta narrow_meta(std::span<const Meta> in, const Attrs& a) {
  Shape s = in[0].shape;
  if (s.empty()) throw IndexError("narrow: cannot be applied to a 0-dim tensor");
  const int64_t d = normalize_dim(a.dim, static_cast<int64_t>(s.size()), "narrow");
  // An unknown size is checked at run time, by the kernel; the result's size is known either way.
  s[d] = s[d] == kUnknown ? narrow_length(a) : narrow_range(s[d], a, d).length;
  return {s, in[0].dtype};
}

Tensor narrow_view(std::span<const Tensor> in, const Attrs& a) {
  const Tensor& x = in[0];
  if (x.dim() == 0) throw IndexError("narrow: cannot be applied to a 0-dim tensor");
  const int64_t d = normalize_dim(a.dim, x.dim(), "narrow");
  const NarrowRange r = narrow_range(x.shape()[d], a, d);
  Shape s = x.shape();
  s[d] = r.length;
  return make_view(x, s, x.strides(), x.offset() + r.start * x.strides()[d]);
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

Tensor select_view(std::span<const Tensor> in, const Attrs& a) {
  const Tensor& x = in[0];
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

Tensor expand_view(std::span<const Tensor> in, const Attrs& a) {
  const Tensor& x = in[0];
  const Shape s = expand_shape(x.shape(), a.dims);
  return make_view(x, s, broadcast_strides(x.shape(), x.strides(), s), x.offset());
}

// ---- squeeze / unsqueeze ---------------------------------------------------------------------------
// attrs.dims empty: drop every size-1 dimension; else attrs.dims = {d}: drop d if it has size 1.
//
// An unknown dimension (?, graph mode) cannot be squeezed: whether its size is 1 — and so the rank
// of the result — is only known at run time, while a graph needs every rank when it is built (TF1
// gives such a result an unknown rank; Tandem has none). So it is refused here, at declaration.
void refuse_unknown(const Shape& s, size_t i, const char* advice) {
  throw ShapeError(msg("squeeze: dimension ", i, " of ", shape_str(s), " is unknown (?): whether its size "
                       "is 1, and so the rank of the result, is known only at run time, but a graph needs "
                       "the rank when it is built. ", advice));
}

std::vector<bool> squeezed(const Shape& s, const Attrs& a) {
  std::vector<bool> drop(s.size(), false);
  if (a.dims.empty()) {
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == kUnknown) refuse_unknown(s, i, "Name the dimension to squeeze (squeeze(x, d)).");
      drop[i] = s[i] == 1;
    }
  } else {
    // A 0-dim tensor accepts dim 0 or -1 (and stays as it is), as in PyTorch.
    const int64_t d = normalize_dim(a.dims[0], static_cast<int64_t>(s.size()), "squeeze");
    if (s.empty()) return drop;
    if (s[d] == kUnknown)
      refuse_unknown(s, d, "Give that dimension a known size, or use select(x, d, 0) if it is always 1.");
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

Tensor squeeze_view(std::span<const Tensor> in, const Attrs& a) {
  const Tensor& x = in[0];
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

Tensor unsqueeze_view(std::span<const Tensor> in, const Attrs& a) {
  const Tensor& x = in[0];
  const int64_t d = normalize_dim(a.dim, x.dim() + 1, "unsqueeze");
  Shape s = x.shape();
  Strides st = x.strides();
  // The new dimension has size 1, so its stride is never used; pick the natural row-major value.
  const int64_t stride = d < x.dim() ? x.strides()[d] * x.shape()[d] : 1;
  s.insert(s.begin() + d, 1);
  st.insert(st.begin() + d, stride);
  return make_view(x, s, st, x.offset());
}

// ---- identity and stop_gradient: the input itself --------------------------------------------------
// A new handle on the same tensor (no history of its own: autograd gives identity's output one).
Meta identity_meta(std::span<const Meta> in, const Attrs&) { return in[0]; }
Tensor identity_view(std::span<const Tensor> in, const Attrs&) {
  return make_view(in[0], in[0].shape(), in[0].strides(), in[0].offset());
}

// ---- the shape-reading views: x seen with the shape of another value -----------------------------
// Graph mode's gradients() uses these when a shape is known only at run time (graph/gradients.cpp):
// the second input is read for its shape alone. Eager mode can call them too.
Meta like_meta(std::span<const Meta> in, const Attrs&) { return {in[1].shape, in[0].dtype}; }

Tensor expand_like_view(std::span<const Tensor> in, const Attrs&) {
  const Tensor& x = in[0];
  const Shape& s = in[1].shape();
  if (x.shape() == s) return identity_view(in, {});
  const Shape out = expand_shape(x.shape(), s);
  return make_view(x, out, broadcast_strides(x.shape(), x.strides(), out), x.offset());
}

Tensor reshape_like_view(std::span<const Tensor> in, const Attrs&) {
  return reshaped(in[0], in[1].shape());
}

}  // namespace

namespace ops {
TANDEM_OP(reshape, .shape = reshape_meta, .view = reshape_view);
TANDEM_OP(permute, .shape = permute_meta, .view = permute_view);
TANDEM_OP(slice, .shape = slice_meta, .view = slice_view);
TANDEM_OP(narrow, .shape = narrow_meta, .view = narrow_view);
TANDEM_OP(select, .shape = select_meta, .view = select_view);
TANDEM_OP(expand, .shape = expand_meta, .view = expand_view);
TANDEM_OP(squeeze, .shape = squeeze_meta, .view = squeeze_view);
TANDEM_OP(unsqueeze, .shape = unsqueeze_meta, .view = unsqueeze_view);
TANDEM_OP(flatten, .shape = flatten_meta, .view = flatten_view);
TANDEM_OP(identity, .shape = identity_meta, .view = identity_view);
// Its value is x's; its derivative is none by definition: gradients do not flow through it
// (tf.stop_gradient; eager mode's x.detach()).
TANDEM_OP(stop_gradient, .shape = identity_meta, .view = identity_view,
          .no_derivative = "it is where gradients stop, by definition");
TANDEM_OP(expand_like, .arity = 2, .shape = like_meta, .view = expand_like_view, .shape_only_inputs = 0b10);
TANDEM_OP(reshape_like, .arity = 2, .shape = like_meta, .view = reshape_like_view, .shape_only_inputs = 0b10);
}  // namespace ops

}  // namespace tandem
