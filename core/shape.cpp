// core/shape.cpp — see shape.h for the ideas; the broadcasting rule is the one worth reading.
#include "core/shape.h"

#include "core/error.h"

namespace tandem {

namespace {
// a * b, or false when the product overflows int64 (GCC's and Clang's overflow-checked multiply).
bool multiply(int64_t a, int64_t b, int64_t& out) { return !__builtin_mul_overflow(a, b, &out); }

// "[2, -3]": sizes as written, for shapes that must not have unknown sizes (shape_str would print
// a -1 as "?", and "negative dimension in [?]" hides the very number at fault).
std::string sizes_str(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

[[noreturn]] void overflowed(const Shape& shape, const char* what) {
  throw ShapeError(msg(what, ": the sizes of shape ", sizes_str(shape), " multiply to more than int64 "
                       "can hold; a shape that large was never checked (report this as a bug)"));
}
}  // namespace

void check_shape(const Shape& shape, size_t itemsize, const char* op, bool allow_unknown) {
  for (int64_t d : shape) {
    if (d >= 0 || (allow_unknown && d == kUnknown)) continue;
    if (allow_unknown)
      throw ShapeError(msg(op, ": invalid size ", d, " in shape ", shape_str(shape), ": each size must "
                           "be >= 0, or -1 for a size known only at run time (printed ?)"));
    throw ShapeError(msg(op, ": trying to create tensor with negative dimension ", d, ": ",
                         sizes_str(shape), "; every size must be >= 0"));
  }
  // The product of the sizes (0 and unknown count as 1) times the item size, stopping at the limit.
  // approx keeps the true size, as a double, for the message.
  int64_t bytes = static_cast<int64_t>(itemsize);
  double approx = static_cast<double>(itemsize);
  bool fits = true;
  for (int64_t d : shape) {
    const int64_t f = d > 1 ? d : 1;
    approx *= static_cast<double>(f);
    fits = fits && multiply(bytes, f, bytes) && bytes <= kMaxShapeBytes;
  }
  if (!fits)
    throw ShapeError(msg(op, ": shape ", allow_unknown ? shape_str(shape) : sizes_str(shape),
                         " is too large: ", approx, " bytes of ", itemsize, "-byte elements, more "
                         "than any device can hold (at most 2^62 bytes) and more than int64 "
                         "arithmetic on it can count. Check the sizes: one is probably a mistake "
                         "(a product of sizes, or an uninitialised number)"));
}

int64_t numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape)
    if (!multiply(n, s, n)) overflowed(shape, "numel");
  return n;
}

Strides contiguous_strides(const Shape& shape) {
  Strides st(shape.size());
  int64_t running = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    // BEGIN SOLUTION a1.t1
    st[i] = running;
    if (!multiply(running, shape[i], running)) overflowed(shape, "contiguous_strides");
    // END SOLUTION
  }
  return st;
}

std::string shape_str(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += shape[i] == kUnknown ? std::string("?") : std::to_string(shape[i]);
  }
  return s + "]";
}

int64_t normalize_dim(int64_t dim, int64_t rank, const char* op) {
  // A 0-dim tensor still accepts dim 0 / -1, as in PyTorch (it behaves like rank 1 here).
  const int64_t r = rank == 0 ? 1 : rank;
  if (dim < -r || dim >= r)
    throw IndexError(msg(op, ": dimension out of range (expected to be in range of [", -r, ", ",
                         r - 1, "], but got ", dim, ")"));
  return dim < 0 ? dim + r : dim;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  // BEGIN SOLUTION a1.t2
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Walk from the last dimension; a dimension missing on the shorter side counts as 1.
    const int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    const int64_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    int64_t d;
    if (da == db) d = da;
    else if (da == 1) d = db;
    else if (db == 1) d = da;
    else if (da == kUnknown) d = db;  // ? vs n: n, checked again when the sizes are known
    else if (db == kUnknown) d = da;
    else
      throw ShapeError(msg(op, ": shapes ", shape_str(a), " and ", shape_str(b),
                           " cannot be broadcast: the size of tensor a (", da,
                           ") must match the size of tensor b (", db,
                           ") at non-singleton dimension ", rank - 1 - i,
                           ". Sizes must be equal, or one of them 1."));
    out[rank - 1 - i] = d;
  }
  return out;
  // END SOLUTION
}

Strides broadcast_strides(const Shape& shape, const Strides& strides, const Shape& target) {
  // BEGIN SOLUTION a1.t2
  Strides out(target.size(), 0);
  const size_t lead = target.size() - shape.size();
  for (size_t i = 0; i < shape.size(); ++i)
    out[lead + i] = (shape[i] == 1 && target[lead + i] != 1) ? 0 : strides[i];
  return out;
  // END SOLUTION
}

bool is_expandable_to(const Shape& shape, const Shape& target) {
  if (shape.size() > target.size()) return false;
  const size_t lead = target.size() - shape.size();
  for (size_t i = 0; i < shape.size(); ++i)
    if (shape[i] != 1 && shape[i] != target[lead + i]) return false;
  return true;
}

}  // namespace tandem
