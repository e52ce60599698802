// layers/activation.cpp — the activation layers' checks and printing.
#include "layers/activation.h"

#include <cmath>

namespace tandem::nn {

GELUImpl::GELUImpl(std::string approximate) : approximate(std::move(approximate)) {
  if (this->approximate != "none" && this->approximate != "tanh")
    throw Error(msg("GELU: approximate must be 'none' or 'tanh', but got '", this->approximate, "'"));
}

// A Python number as written: an int prints as one ("1"), a float as Python's repr ("2.0").
std::string SoftplusImpl::extra_repr() const {
  auto number = [](const Scalar& v) {
    return v.natural_dtype() == kInt64 ? msg(static_cast<int64_t>(v.to_double())) : detail::py_float(v.to_double());
  };
  return "beta=" + number(beta) + ", threshold=" + number(threshold);
}

}  // namespace tandem::nn
