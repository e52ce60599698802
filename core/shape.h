// core/shape.h — shapes, strides and broadcasting, the arithmetic of tensor layout.
//
// A Shape is just a list of sizes, outermost first: a batch of 64 images of 28x28 pixels is
// {64, 28, 28}. Tandem stores tensors *row-major*: the last index moves fastest in memory, so the
// contiguous strides of {64, 28, 28} are {784, 28, 1} (elements to skip to move one step along
// each dimension). A view — transpose, slice, expand — is the same storage read with other
// strides, which is why those ops copy nothing.
//
// Graph mode (graph/) also needs shapes that are only partly known when a node is created:
// a dimension of -1 (kUnknown) means "known only at run time" and prints as `?`, as in TF1's
// `(?, 784)`. The shape rules of the op catalogue accept such dimensions; eager tensors never
// have them.
//
// Read next: core/storage.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/small_vector.h"

namespace tandem {

// Sizes and strides are short lists: up to six numbers live inside the object, with no heap
// allocation (core/small_vector.h says why that matters).
using Shape = SmallVector<int64_t, 6>;
using Strides = SmallVector<int64_t, 6>;

inline constexpr int64_t kUnknown = -1;

// The most bytes (and so elements) any shape may describe: 2^62, 4 EiB, far beyond any device.
// Below it, every product Tandem forms from sizes — numel, numel × itemsize, index × stride —
// fits in int64 with room to spare, so none of them can overflow and wrap to a small number.
inline constexpr int64_t kMaxShapeBytes = int64_t{1} << 62;

// Checks a shape before anything is built from it: every size >= 0 (or kUnknown, when
// `allow_unknown`: graph mode), and the product of the sizes (a size 0 counting as 1, so that
// the strides fit too) times `itemsize` at most kMaxShapeBytes. Throws ShapeError naming `op` and
// the shape. Factories, the eager op path (core/op.cpp), graph nodes and the loaders call it: an
// overflowing shape is refused where it is written, never allocated as 0 bytes and then overrun.
void check_shape(const Shape& shape, size_t itemsize, const char* op, bool allow_unknown = false);

// Number of elements (1 for a 0-dim tensor). Meaningless if a dimension is unknown. Shapes are
// checked when they are made (check_shape), so this cannot overflow; it still checks each
// multiplication and throws rather than wrap (one flag test per dimension).
int64_t numel(const Shape& shape);

// Row-major strides: stride[i] = product of the sizes after i (checked like numel).
Strides contiguous_strides(const Shape& shape);

// "[2, 3]" — the form error messages use; unknown dimensions print as "?".
std::string shape_str(const Shape& shape);

// Turns a possibly negative dimension index into 0..rank-1 (PyTorch: dim=-1 is the last one).
// Throws IndexError naming `op` when dim is out of range.
int64_t normalize_dim(int64_t dim, int64_t rank, const char* op);

// NumPy broadcasting. Align the shapes at their last dimension; each pair of sizes must be equal
// or one of them 1 (a missing dimension counts as 1); the result takes the larger size.
//   {3, 1} with {1, 4} -> {3, 4};   {2, 3} with {3} -> {2, 3};   {3} with {4} -> error.
// With unknown sizes (graph mode): 1 with ? gives ?, n with ? gives n (checked at run time).
// Throws ShapeError naming `op`, both shapes and the dimension that failed.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// Strides that read a tensor of shape `shape`/`strides` as if it had the (larger) broadcast shape
// `target`: a broadcast dimension gets stride 0, so every index along it reads the same element.
Strides broadcast_strides(const Shape& shape, const Strides& strides, const Shape& target);

// True when `shape` broadcasts to `target` (the test sum_to and expand rely on).
bool is_expandable_to(const Shape& shape, const Shape& target);

}  // namespace tandem
