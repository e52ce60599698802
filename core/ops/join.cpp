// core/ops/join.cpp — cat and stack: many tensors into one.
//
// cat([a, b], dim) lays the inputs one after another along an existing dimension; every other
// dimension must agree. stack([a, b], dim) first gives each input a new size-1 dimension at `dim`,
// then concatenates along it, so all inputs must have exactly the same shape.
//
// The kernel is a loop of copies: each input is copied into the slice of the output it occupies
// (a view of the output made with narrow/select, filled by copy_into). The dtype is the promotion
// of all inputs' dtypes, as in PyTorch.
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
      if (s[i] != first[i] && s[i] != kUnknown && first[i] != kUnknown)
        throw ShapeError(msg("cat: sizes of tensors must match except in dimension ", d,
                             ". Expected size ", first[i], " but got size ", s[i], " for tensor number ",
                             k, " in the list (shapes ", shape_str(first), " and ", shape_str(s), ")"));
    }
    out[d] = (out[d] == kUnknown || s[d] == kUnknown) ? kUnknown : out[d] + s[d];
  }
  return {out, promoted(in)};
}

Meta stack_meta(std::span<const Meta> in, const Attrs& a) {
  if (in.empty()) throw ShapeError("stack: expected a non-empty list of tensors");
  for (size_t k = 1; k < in.size(); ++k)
    if (in[k].shape != in[0].shape)
      throw ShapeError(msg("stack: expects each tensor to be equal size, but got ",
                           shape_str(in[0].shape), " at entry 0 and ", shape_str(in[k].shape),
                           " at entry ", k));
  Shape out = in[0].shape;
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

}  // namespace

namespace ops {
TANDEM_OP(cat, .arity = -1, .shape = cat_meta, .cpu = cat_kernel);
TANDEM_OP(stack, .arity = -1, .shape = stack_meta, .cpu = stack_kernel);
}  // namespace ops

}  // namespace tandem
