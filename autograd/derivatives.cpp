// autograd/derivatives.cpp — the sheet as a table: for each differentiable op, its formula, the
// values its derivative needs saved, and its rule instantiated for eager tensors.
//
// Saving is a memory decision made here, once per op: add saves nothing (its derivative is g),
// mul saves both inputs, exp saves only its output. Everything saved stays alive until backward,
// so this table decides how much memory a training step holds.
#include "autograd/derivatives.h"

#include "autograd/engine.h"
#include "graph/gradients.h"

namespace tandem::autograd {

namespace {
// RULE(mul_grad) expands to `&mul_grad<EagerContext>, &mul_grad<graph::GraphContext>`: the same
// template, instantiated once per mode. This macro is the whole trick of "one derivative sheet".
#define RULE(fn) &fn<EagerContext>, &fn<graph::GraphContext>
constexpr uint32_t kNone = 0, kIn0 = 1, kIn1 = 2, kIn01 = kIn0 | kIn1;
}  // namespace

const std::vector<Derivative>& derivative_sheet() {
  static const std::vector<Derivative> sheet = {
      // op, formula, inputs saved (eager), output saved (eager), the rule for both modes
      {&ops::add, "da = g; db = g", kNone, false, RULE(add_grad)},
      {&ops::sub, "da = g; db = -g", kNone, false, RULE(sub_grad)},
      {&ops::mul, "da = g*b; db = g*a", kIn01, false, RULE(mul_grad)},
      {&ops::div, "da = g/b; db = -g*a/b^2", kIn01, false, RULE(div_grad)},
      {&ops::pow, "da = g*b*a^(b-1); db = g*y*ln(a)", kIn01, true, RULE(pow_grad)},
      {&ops::maximum, "da = g where a>b, g/2 where a=b, else 0; db likewise", kIn01, false, RULE(maximum_grad)},
      {&ops::minimum, "da = g where a<b, g/2 where a=b, else 0; db likewise", kIn01, false, RULE(minimum_grad)},
      {&ops::where, "da = where(c, g, 0); db = where(c, 0, g)", kIn0, false, RULE(where_grad)},
      {&ops::neg, "dx = -g", kNone, false, RULE(neg_grad)},
      {&ops::exp, "dx = g*y", kNone, true, RULE(exp_grad)},
      {&ops::log, "dx = g/x", kIn0, false, RULE(log_grad)},
      {&ops::sqrt, "dx = g/(2y)", kNone, true, RULE(sqrt_grad)},
      {&ops::abs, "dx = g*sign(x)", kIn0, false, RULE(abs_grad)},
      {&ops::sin, "dx = g*cos(x)", kIn0, false, RULE(sin_grad)},
      {&ops::cos, "dx = -g*sin(x)", kIn0, false, RULE(cos_grad)},
      {&ops::tanh, "dx = g*(1-y^2)", kNone, true, RULE(tanh_grad)},
      {&ops::sigmoid, "dx = g*y*(1-y)", kNone, true, RULE(sigmoid_grad)},
      {&ops::relu, "dx = g*[y>0]", kNone, true, RULE(relu_grad)},
      {&ops::gelu, "dx = g*(Phi(x) + x*phi(x))", kIn0, false, RULE(gelu_grad)},
      {&ops::sign, "dx = 0", kNone, false, RULE(sign_grad)},
      {&ops::cast, "dx = g.to(x.dtype)", kNone, false, RULE(cast_grad)},
      {&ops::clone, "dx = g", kNone, false, RULE(clone_grad)},
      {&ops::relu_backward, "dg = gz*[y>0]; dy = 0", kIn1, false, RULE(relu_backward_grad)},
      {&ops::sigmoid_backward, "dg = gz*y(1-y); dy = gz*g*(1-2y)", kIn01, false, RULE(sigmoid_backward_grad)},
      {&ops::tanh_backward, "dg = gz*(1-y^2); dy = -2*gz*g*y", kIn01, false, RULE(tanh_backward_grad)},
      {&ops::gelu_backward, "dg = gz*(Phi+x*phi); dx = gz*g*phi*(2-x^2)", kIn01, false, RULE(gelu_backward_grad)},
      {&ops::sum, "dx = expand(g)", kNone, false, RULE(sum_grad)},
      {&ops::mean, "dx = expand(g)/N", kNone, false, RULE(mean_grad)},
      {&ops::amax, "dx = g at the maxima, shared among ties", kIn0, true, RULE(extreme_grad)},
      {&ops::amin, "dx = g at the minima, shared among ties", kIn0, true, RULE(extreme_grad)},
      {&ops::var, "dx = g*2(x-mean(x))/(N-correction)", kIn0, false, RULE(var_grad)},
      {&ops::sum_to, "dx = expand(g)", kNone, false, RULE(sum_to_grad)},
      {&ops::matmul, "dA = G*B^T; dB = A^T*G", kIn01, false, RULE(matmul_grad)},
      {&ops::softmax, "dx = y*(g - sum(g*y))", kNone, true, RULE(softmax_grad)},
      {&ops::log_softmax, "dx = g - exp(y)*sum(g)", kNone, true, RULE(log_softmax_grad)},
      {&ops::index_select, "dx = index_add(0, idx, g)", kIn1, false, RULE(index_select_grad)},
      {&ops::gather, "dx = scatter_add(0, idx, g)", kIn1, false, RULE(gather_grad)},
      {&ops::index_add, "dx = g; dsrc = index_select(g, idx)", kIn1, false, RULE(index_add_grad)},
      {&ops::scatter_add, "dx = g; dsrc = gather(g, idx)", kIn1, false, RULE(scatter_add_grad)},
      {&ops::slice_scatter, "dx = g with window zeroed; dsrc = g[window]", kNone, false, RULE(slice_scatter_grad)},
      {&ops::select_scatter, "dx = g with slice zeroed; dsrc = g.select(i)", kNone, false, RULE(select_scatter_grad)},
      {&ops::reshape, "dx = g.reshape(x.shape)", kNone, false, RULE(reshape_grad)},
      {&ops::squeeze, "dx = g.reshape(x.shape)", kNone, false, RULE(reshape_grad)},
      {&ops::flatten, "dx = g.reshape(x.shape)", kNone, false, RULE(reshape_grad)},
      {&ops::unsqueeze, "dx = g.squeeze(d)", kNone, false, RULE(unsqueeze_grad)},
      {&ops::permute, "dx = g.permute(inverse)", kNone, false, RULE(permute_grad)},
      {&ops::slice, "dx = slice_scatter(0, g)", kNone, false, RULE(slice_grad)},
      {&ops::narrow, "dx = slice_scatter(0, g)", kNone, false, RULE(narrow_grad)},
      {&ops::select, "dx = select_scatter(0, g)", kNone, false, RULE(select_grad)},
      {&ops::expand, "dx = sum_to(g, x.shape)", kNone, false, RULE(expand_grad)},
      {&ops::cat, "dx_i = g[offset_i : offset_i + size_i]", kNone, false, RULE(cat_grad)},
      {&ops::split_like, "dg = cat(0, ..., gy, ..., 0)", kNone, false, RULE(split_like_grad)},
      {&ops::stack, "dx_i = g.select(dim, i)", kNone, false, RULE(stack_grad)},
      {&ops::conv2d, "dx = conv2d_input_grad(g, w); dw = conv2d_weight_grad(x, g)", kIn01, false, RULE(conv2d_grad)},
      {&ops::conv2d_input_grad, "dg = conv2d(gz, w); dw = conv2d_weight_grad(gz, g)", kIn01, false,
       RULE(conv2d_input_grad_grad)},
      {&ops::conv2d_weight_grad, "dx = conv2d_input_grad(g, gz); dg = conv2d(x, gz)", kIn01, false,
       RULE(conv2d_weight_grad_grad)},
      {&ops::max_pool2d, "dx = g at each window's max", kIn0, false, RULE(max_pool2d_grad)},
      {&ops::max_pool2d_backward, "dg = gz read at each window's max; dx = 0", kIn1, false,
       RULE(max_pool2d_backward_grad)},
      {&ops::max_pool2d_gather, "dv = gz sent to each window's max; dx = 0", kIn1, false,
       RULE(max_pool2d_gather_grad)},
  };
  return sheet;
}

const Derivative* derivative_for(const OpDef& op) {
  // Looked up once per recorded op: a scan over ~50 pointers takes a few tens of nanoseconds.
  for (const Derivative& d : derivative_sheet())
    if (d.op == &op) return &d;
  return nullptr;
}

}  // namespace tandem::autograd
