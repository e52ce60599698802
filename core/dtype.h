// core/dtype.h — the element types a tensor can hold, and how they combine.
//
// A tensor's bytes mean nothing until we know how to read them: the dtype says so. Tandem has the
// four dtypes a beginner meets in PyTorch: float32 (the default for real numbers), float64 (used by
// gradcheck, where rounding must not hide a wrong derivative), int64 (labels and indices) and bool
// (masks, the result of comparisons).
//
// The second half of this file is *type promotion*: what dtype `int_tensor * 2.5` has. Tandem
// follows PyTorch's rule (see promote_for_binary in dtype.cpp).
//
// Read next: core/shape.h, then core/tensor.h.
#pragma once

#include <cstdint>
#include <string>

namespace tandem {

enum class DType : uint8_t { float32, float64, int64, boolean };

// Short aliases, so user code reads like PyTorch: tandem::kFloat32, tandem::kInt64.
inline constexpr DType kFloat32 = DType::float32;
inline constexpr DType kFloat64 = DType::float64;
inline constexpr DType kInt64 = DType::int64;
inline constexpr DType kBool = DType::boolean;

// Bytes per element.
constexpr size_t itemsize(DType dt) {
  switch (dt) {
    case DType::float32: return 4;
    case DType::float64: return 8;
    case DType::int64: return 8;
    case DType::boolean: return 1;
  }
  return 0;
}

constexpr bool is_floating(DType dt) { return dt == DType::float32 || dt == DType::float64; }

// "float32", "float64", "int64", "bool" — the names the error messages use.
std::string to_string(DType dt);

// PyTorch's spelling, used by the printer: "torch.float64" becomes "tandem.float64".
std::string dtype_repr(DType dt);

// The C++ type that stores each dtype. `bool` is stored as one byte holding 0 or 1.
template <DType D> struct dtype_traits;
template <> struct dtype_traits<DType::float32> { using type = float; };
template <> struct dtype_traits<DType::float64> { using type = double; };
template <> struct dtype_traits<DType::int64> { using type = int64_t; };
template <> struct dtype_traits<DType::boolean> { using type = bool; };

template <typename T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::float32; }
template <> constexpr DType dtype_of<double>() { return DType::float64; }
template <> constexpr DType dtype_of<int64_t>() { return DType::int64; }
template <> constexpr DType dtype_of<bool>() { return DType::boolean; }

// Runs `f.template operator()<T>()` with T the C++ type of `dt`: the one switch on dtypes that
// every kernel goes through. Example:
//   visit_dtype(t.dtype(), [&]<typename T>() { T* p = t.data<T>(); ... });
template <typename F> decltype(auto) visit_dtype(DType dt, F&& f) {
  switch (dt) {
    case DType::float32: return f.template operator()<float>();
    case DType::float64: return f.template operator()<double>();
    case DType::int64: return f.template operator()<int64_t>();
    case DType::boolean: return f.template operator()<bool>();
  }
  return f.template operator()<float>();  // unreachable: every enumerator is handled above
}

// Same, for kernels that only make sense on real numbers (exp, softmax, matmul's GEMM...).
template <typename F> decltype(auto) visit_floating(DType dt, F&& f) {
  if (dt == DType::float64) return f.template operator()<double>();
  return f.template operator()<float>();
}

// --- type promotion ----------------------------------------------------------------------------
//
// Categories are ordered bool < integer < floating. Combining two dtypes picks the higher
// category, and within a category the wider type (float32 + float64 -> float64).
DType promote_types(DType a, DType b);

// PyTorch's extra rule for binary ops: a tensor that has dimensions decides the dtype over a
// 0-dim tensor of the *same category* (so `float32_vector * float64_scalar_tensor` stays float32),
// while a 0-dim tensor of a *higher* category still wins (`int64_vector * float_scalar` is float).
DType promote_for_binary(DType a, bool a_is_0dim, DType b, bool b_is_0dim);

// The dtype real-valued math produces from an input: floats stay, int64 and bool become float32
// (PyTorch: torch.exp(torch.tensor([1, 2])) is float32).
inline DType to_floating(DType dt) { return is_floating(dt) ? dt : DType::float32; }

}  // namespace tandem
