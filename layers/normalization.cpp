// layers/normalization.cpp — the normalization layers' state, checks and printing.
#include "layers/normalization.h"

#include "layers/init.h"

namespace tandem::nn {

template <class Derived>
BatchNormBase<Derived>::BatchNormBase(int64_t num_features, double eps, double momentum, bool affine,
                                      bool track_running_stats)
    : num_features(num_features), eps(eps), momentum(momentum), affine(affine),
      track_running_stats(track_running_stats) {
  if (num_features <= 0) throw Error(msg(detail::type_name(typeid(Derived)), ": num_features must be positive, but got ", num_features));
  if (!(momentum >= 0 && momentum <= 1))
    throw Error(msg(detail::type_name(typeid(Derived)), ": momentum must be in [0, 1], but got ", momentum,
                    " (a cumulative average, PyTorch's momentum=None, is not offered)"));
  if (affine) {
    weight = this->register_parameter("weight", Tensor::empty({num_features}));
    bias = this->register_parameter("bias", Tensor::empty({num_features}));
  }
  if (track_running_stats) {
    running_mean = this->register_buffer("running_mean", zeros({num_features}));
    running_var = this->register_buffer("running_var", ones({num_features}));
    num_batches_tracked = this->register_buffer("num_batches_tracked", zeros({}, kInt64));
  }
  reset_parameters();
}

template <class Derived> void BatchNormBase<Derived>::reset_parameters() {
  if (affine) {
    init::ones_(weight);
    init::zeros_(bias);
  }
  if (track_running_stats) {
    init::zeros_(running_mean);
    init::ones_(running_var);
    no_grad guard;
    num_batches_tracked.zero_();
  }
}

template <class Derived> std::string BatchNormBase<Derived>::extra_repr() const {
  return msg(num_features, ", eps=", detail::py_float(eps), ", momentum=", detail::py_float(momentum),
             ", affine=", detail::py_bool(affine), ", track_running_stats=", detail::py_bool(track_running_stats));
}

template class BatchNormBase<BatchNorm1dImpl>;
template class BatchNormBase<BatchNorm2dImpl>;

void BatchNorm1dImpl::check_rank(int64_t rank) {
  if (rank != 2 && rank != 3) throw ShapeError(msg("BatchNorm1d: expected 2D or 3D input (got ", rank, "D input)"));
}

void BatchNorm2dImpl::check_rank(int64_t rank) {
  if (rank != 4) throw ShapeError(msg("BatchNorm2d: expected 4D input (got ", rank, "D input)"));
}

LayerNormImpl::LayerNormImpl(Shape normalized_shape, double eps, bool elementwise_affine)
    : normalized_shape(std::move(normalized_shape)), eps(eps), elementwise_affine(elementwise_affine) {
  if (this->normalized_shape.empty()) throw Error("LayerNorm: normalized_shape can't be empty");
  if (elementwise_affine) {
    weight = register_parameter("weight", ones(this->normalized_shape));
    bias = register_parameter("bias", zeros(this->normalized_shape));
  }
}

// "(10,)": a Python tuple, as PyTorch prints normalized_shape.
std::string LayerNormImpl::extra_repr() const {
  std::string t = "(";
  for (size_t i = 0; i < normalized_shape.size(); ++i) t += (i ? ", " : "") + std::to_string(normalized_shape[i]);
  t += normalized_shape.size() == 1 ? ",)" : ")";
  return msg(t, ", eps=", detail::py_float(eps), ", elementwise_affine=", detail::py_bool(elementwise_affine));
}

}  // namespace tandem::nn
