// core/scalar.h — a plain number that remembers whether it was written as an integer.
//
// `t * 2` and `t * 2.5` must behave like PyTorch: multiplying an int64 tensor by 2 stays int64,
// by 2.5 becomes float32. C++ would turn both literals into double before we could tell, so the
// scalar overloads take a Scalar, which is built implicitly from any arithmetic type and keeps
// that one bit of information.
#pragma once

#include <cstdint>
#include <type_traits>

#include "core/dtype.h"

namespace tandem {

class Scalar {
 public:
  template <typename T, typename = std::enable_if_t<std::is_arithmetic_v<T>>>
  Scalar(T v)  // NOLINT(google-explicit-constructor): implicit on purpose, see above
      : value_(static_cast<double>(v)),
        int_(std::is_integral_v<T> ? static_cast<int64_t>(v) : 0),
        dtype_(std::is_same_v<T, bool>     ? DType::boolean
               : std::is_integral_v<T>     ? DType::int64
                                           : DType::float64) {}

  double to_double() const { return value_; }
  // The exact integer of an integer literal (a double holds integers exactly only up to 2^53:
  // 2^53 + 1 would come back as 2^53); for a floating one, its value truncated.
  int64_t to_int64() const { return dtype_ == DType::float64 ? static_cast<int64_t>(value_) : int_; }
  // float64 for a floating literal, int64 for an integer one, bool for true/false.
  DType natural_dtype() const { return dtype_; }

 private:
  double value_;
  int64_t int_;
  DType dtype_;
};

}  // namespace tandem
