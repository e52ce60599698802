// core/catalogue.cpp — the list of every op Tandem has, in one place.
//
// A saved graph names its ops ("matmul", "relu"); loading it looks them up here. Adding an op
// means adding it to this list too (see "HOW TO ADD AN OP" in core/op.h).
#include "core/op.h"

namespace tandem {

const std::vector<const OpDef*>& catalogue() {
  using namespace ops;
  static const std::vector<const OpDef*> all = {
      // elementwise binary
      &add, &sub, &mul, &div, &pow, &maximum, &minimum, &eq, &ne, &lt, &le, &gt, &ge, &where,
      &relu_backward, &sigmoid_backward, &tanh_backward, &gelu_backward,
      // elementwise unary
      &neg, &exp, &log, &sqrt, &abs, &sin, &cos, &tanh, &sigmoid, &relu, &gelu, &sign, &cast, &clone,
      // reductions
      &sum, &mean, &amax, &amin, &argmax, &argmin, &var, &sum_to,
      // linear algebra and softmax
      &matmul, &softmax, &log_softmax,
      // indexing
      &index_select, &gather, &one_hot, &index_add, &scatter_add, &slice_scatter, &select_scatter,
      // views and joining
      &reshape, &permute, &slice, &select, &expand, &squeeze, &unsqueeze, &flatten, &narrow, &cat, &stack,
      &split_like,
      // convolution and pooling
      &conv2d, &conv2d_input_grad, &conv2d_weight_grad, &max_pool2d, &max_pool2d_backward,
      &max_pool2d_gather,
      // random numbers
      &rand_like,
      // the losses' label check
      &check_labels,
      // optimizer updates (in place; graph mode runs them as update nodes, never saved in a file)
      &sgd_update, &momentum_update, &adam_update,
  };
  return all;
}

const OpDef* find_op(const std::string& name) {
  for (const OpDef* op : catalogue())
    if (name == op->name) return op;
  return nullptr;
}

}  // namespace tandem
