// layers/functional.cpp — the pooling matrices of layers/functional.h, and its shape checks.
#include "layers/functional.h"

#include <algorithm>

namespace tandem::nn::functional {

namespace detail {

int64_t known_size(const Shape& s, int64_t d, const char* op, const char* what) {
  if (s[d] == kUnknown)
    throw ShapeError(msg(op, ": the input's ", what, " (dimension ", d, " of ", shape_str(s),
                         ") must be known here; give the placeholder that size (only the batch may be unknown)"));
  return s[d];
}

void check_image(const Shape& s, const char* op) {
  if (s.size() != 4)
    throw ShapeError(msg(op, ": expected a 4-D input [N, C, H, W], but got a ", s.size(), "-D one of shape ", shape_str(s)));
}

}  // namespace detail

// Row o averages the inputs under window o: positions o·stride - padding ... + kernel - 1. With
// count_include_pad the divisor is the whole window (its padding counts as zeros), else the number
// of real positions under it.
Tensor pooling_matrix(int64_t in, int64_t kernel, int64_t stride, int64_t padding, bool count_include_pad, DType dtype) {
  const int64_t out = (in + 2 * padding - kernel) / stride + 1;
  std::vector<double> p(static_cast<size_t>(out * in), 0.0);
  for (int64_t o = 0; o < out; ++o) {
    const int64_t start = o * stride - padding, end = start + kernel;
    const int64_t lo = std::max<int64_t>(start, 0), hi = std::min(end, in);
    const double weight = 1.0 / static_cast<double>(count_include_pad ? kernel : hi - lo);
    for (int64_t i = lo; i < hi; ++i) p[o * in + i] = weight;
  }
  return from_vector(p, {out, in}).to(dtype);
}

// PyTorch's adaptive windows: output o of m covers inputs [floor(o·n/m), ceil((o+1)·n/m)).
Tensor adaptive_pooling_matrix(int64_t in, int64_t out, DType dtype) {
  std::vector<double> p(static_cast<size_t>(out * in), 0.0);
  for (int64_t o = 0; o < out; ++o) {
    const int64_t lo = (o * in) / out, hi = ((o + 1) * in + out - 1) / out;
    for (int64_t i = lo; i < hi; ++i) p[o * in + i] = 1.0 / static_cast<double>(hi - lo);
  }
  return from_vector(p, {out, in}).to(dtype);
}

}  // namespace tandem::nn::functional
