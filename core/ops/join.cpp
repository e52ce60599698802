// core/ops/join.cpp — cat and stack: many tensors into one.
//
// cat([a, b], dim) lays the inputs one after another along an existing dimension; every other
// dimension must agree. stack([a, b], dim) first gives each input a new size-1 dimension at `dim`,
// then concatenates along it, so all inputs must have exactly the same shape.
//
// The kernel is a loop of copies: each input is copied into the slice of the output it occupies
// (a view of the output made with narrow/select, filled by copy_into). The dtype is the promotion
// of all inputs' dtypes, as in PyTorch.
//
// In a graph a size may be unknown (?). Where one input says ? and another says 3, the 3 is what
// the ? must turn out to be (the kernel checks it again), so the known size wins: stack([1], [?])
// is [2, 1]. And cat's inverse, split_like, cuts a gradient back into the inputs' pieces when the
// sizes along the cat dim are known only at run time (the end of this file).
#include "core/op.h"
#include "core/ops.h"
#include "core/ops/copy.h"

namespace tandem {
namespace {

DType promoted(std::span<const Meta> in) {
  DType dt = in[0].dtype;
  for (const Meta& m : in) dt = promote_types(dt, m.dtype);
  return dt;
}

// Two static sizes of one dimension that must be equal: the known one wins over ?; two known ones
// must agree (returns false when they do not).
bool merge_size(int64_t& into, int64_t other) {
  if (other == kUnknown || into == other) return true;
  if (into != kUnknown) return false;
  into = other;
  return true;
}

Meta cat_meta(std::span<const Meta> in, const Attrs& a) {
  if (in.empty()) throw ShapeError("cat: expected a non-empty list of tensors");
  const Shape& first = in[0].shape;
  if (first.empty()) throw ShapeError("cat: zero-dimensional tensor (at position 0) cannot be concatenated");
  const int64_t d = normalize_dim(a.dim, static_cast<int64_t>(first.size()), "cat");
  Shape out = first;
  for (size_t k = 1; k < in.size(); ++k) {
    const Shape& s = in[k].shape;
    if (s.size() != first.size())
      throw ShapeError(msg("cat: tensors must have the same number of dimensions: got ", first.size(),
                           " and ", s.size(), " (tensor ", k, " has shape ", shape_str(s), ")"));
    for (size_t i = 0; i < s.size(); ++i) {
      if (static_cast<int64_t>(i) == d) continue;
      if (!merge_size(out[i], s[i]))
        throw ShapeError(msg("cat: sizes of tensors must match except in dimension ", d,
                             ". Expected size ", out[i], " but got size ", s[i], " for tensor number ",
                             k, " in the list (shapes ", shape_str(first), " and ", shape_str(s), ")"));
    }
    out[d] = (out[d] == kUnknown || s[d] == kUnknown) ? kUnknown : out[d] + s[d];
  }
  return {out, promoted(in)};
}

Meta stack_meta(std::span<const Meta> in, const Attrs& a) {
  if (in.empty()) throw ShapeError("stack: expected a non-empty list of tensors");
  Shape out = in[0].shape;
  for (size_t k = 1; k < in.size(); ++k) {
    bool same = in[k].shape.size() == out.size();
    for (size_t i = 0; same && i < out.size(); ++i) same = merge_size(out[i], in[k].shape[i]);
    if (!same)
      throw ShapeError(msg("stack: expects each tensor to be equal size, but got ",
                           shape_str(in[0].shape), " at entry 0 and ", shape_str(in[k].shape),
                           " at entry ", k));
  }
  const int64_t d = normalize_dim(a.dim, static_cast<int64_t>(out.size()) + 1, "stack");
  out.insert(out.begin() + d, static_cast<int64_t>(in.size()));
  return {out, promoted(in)};
}

void cat_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  const int64_t d = normalize_dim(a.dim, out.dim(), "cat");
  int64_t at = 0;
  for (const Tensor& t : in) {
    copy_into(t, out.narrow(d, at, t.shape()[d]));
    at += t.shape()[d];
  }
}

void stack_kernel(std::span<const Tensor> in, const Attrs& a, Tensor& out) {
  const int64_t d = normalize_dim(a.dim, out.dim(), "stack");
  for (size_t k = 0; k < in.size(); ++k) copy_into(in[k], out.select(d, static_cast<int64_t>(k)));
}

// ---- split_like: cat's inverse, with the sizes read at run time ---------------------------------------
//
// split_like(g, x_0, ..., x_{n-1}; dim, index) is the window of g that x_index occupies when the
// x's are laid end to end along dim:   g[offset : offset + size]   with
//
//     offset = size(x_0) + ... + size(x_{index-1}),   size = size(x_index)   (sizes along dim)
//
// — so it is the gradient of cat for input `index`. Inputs 1..n are read for their *shapes* only.
// Eager mode, and graphs whose sizes along dim are known, never need it: the derivative rule slices
// g at fixed offsets. But with x_0 declared [?, 3] (a batch of unknown size) the offset of x_1 is
// unknown when gradients() builds the graph, so the cut can only be made when the values exist.
// That is the whole mechanism: an op whose kernel computes the offset from its inputs' run-time
// shapes — a view of g, so nothing is copied (TF1 does the same with its ConcatOffset op feeding a Slice). Its attributes: dim, and
// start = which piece.
Meta split_like_meta(std::span<const Meta> in, const Attrs& a) {
  if (in.size() < 2)
    throw ShapeError("split_like: expected the tensor to split and one tensor per piece giving its shape");
  const Shape& g = in[0].shape;
  const auto rank = static_cast<int64_t>(g.size());
  const int64_t d = normalize_dim(a.dim, rank, "split_like");
  const auto pieces = static_cast<int64_t>(in.size()) - 1;
  if (a.start < 0 || a.start >= pieces)
    throw IndexError(msg("split_like: piece ", a.start, " is out of range for ", pieces, " pieces"));
  int64_t total = 0;
  for (int64_t k = 1; k <= pieces; ++k) {
    if (static_cast<int64_t>(in[k].shape.size()) != rank)
      throw ShapeError(msg("split_like: piece ", k - 1, " has shape ", shape_str(in[k].shape),
                           ", but the tensor to split has shape ", shape_str(g)));
    const int64_t size = in[k].shape[d];
    total = (total == kUnknown || size == kUnknown) ? kUnknown : total + size;
  }
  if (total != kUnknown && g[d] != kUnknown && total != g[d])
    throw ShapeError(msg("split_like: the pieces' sizes along dimension ", d, " add up to ", total,
                         ", but the tensor to split has ", g[d], " (shape ", shape_str(g), ")"));
  Shape out = g;
  out[d] = in[1 + a.start].shape[d];
  return {out, in[0].dtype};
}

// Where piece `a.start` begins along the split dim: the sizes of the pieces before it, added up.
int64_t split_offset(std::span<const Tensor> in, const Attrs& a, int64_t d) {
  int64_t offset = 0;
  for (int64_t k = 1; k <= a.start; ++k) offset += in[k].shape()[d];
  return offset;
}

// A view: the window of the tensor to split (no copy).
Tensor split_like_view(std::span<const Tensor> in, const Attrs& a) {
  const int64_t d = normalize_dim(a.dim, in[0].dim(), "split_like");
  return in[0].narrow(d, split_offset(in, a, d), in[1 + a.start].shape()[d]);
}

}  // namespace

namespace ops {
TANDEM_OP(cat, .arity = -1, .shape = cat_meta, .cpu = cat_kernel);
TANDEM_OP(stack, .arity = -1, .shape = stack_meta, .cpu = stack_kernel);
// Inputs after the first are read for their shapes only (every bit but bit 0).
TANDEM_OP(split_like, .arity = -1, .shape = split_like_meta, .view = split_like_view, .shape_only_inputs = ~1u);
}  // namespace ops

}  // namespace tandem
