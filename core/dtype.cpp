// core/dtype.cpp — dtype names and PyTorch's type promotion.
#include "core/dtype.h"

namespace tandem {

std::string to_string(DType dt) {
  switch (dt) {
    case DType::float32: return "float32";
    case DType::float64: return "float64";
    case DType::int64: return "int64";
    case DType::boolean: return "bool";
  }
  return "?";
}

std::string dtype_repr(DType dt) { return "tandem." + to_string(dt); }

namespace {
int category(DType dt) { return dt == DType::boolean ? 0 : dt == DType::int64 ? 1 : 2; }
}  // namespace

DType promote_types(DType a, DType b) {
  if (a == b) return a;
  if (category(a) != category(b)) return category(a) > category(b) ? a : b;
  return DType::float64;  // the only same-category pair of different dtypes is float32/float64
}

DType promote_for_binary(DType a, bool a_is_0dim, DType b, bool b_is_0dim) {
  // Both dimensioned or both 0-dim: plain promotion.
  if (a_is_0dim == b_is_0dim) return promote_types(a, b);
  // One dimensioned tensor `d` and one 0-dim tensor `z`.
  const DType d = a_is_0dim ? b : a;
  const DType z = a_is_0dim ? a : b;
  if (category(z) > category(d)) return z;  // the 0-dim one brings a higher category: it wins
  return d;                                 // otherwise the dimensioned tensor keeps its dtype
}

}  // namespace tandem
