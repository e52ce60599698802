// layers/linear.cpp — Linear's parameters and their PyTorch initialisation.
#include "layers/linear.h"

#include <cmath>

#include "layers/init.h"

namespace tandem::nn {

LinearImpl::LinearImpl(int64_t in_features, int64_t out_features, bool bias)
    : in_features(in_features), out_features(out_features) {
  if (in_features < 0 || out_features < 0)
    throw Error(msg("Linear: in_features and out_features must be non-negative, but got ", in_features, " and ",
                    out_features));
  weight = register_parameter("weight", Tensor::empty({out_features, in_features}));
  if (bias) this->bias = register_parameter("bias", Tensor::empty({out_features}));
  reset_parameters();
}

// PyTorch's Linear.reset_parameters: kaiming_uniform_(weight, a=√5), then bias ~ U(±1/√fan_in).
void LinearImpl::reset_parameters() {
  // BEGIN SOLUTION a4.t1
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    const double bound = in_features > 0 ? 1.0 / std::sqrt(static_cast<double>(in_features)) : 0.0;
    init::uniform_(bias, -bound, bound);
  }
  // END SOLUTION
}

std::string LinearImpl::extra_repr() const {
  return msg("in_features=", in_features, ", out_features=", out_features, ", bias=", detail::py_bool(bias.defined()));
}

}  // namespace tandem::nn
