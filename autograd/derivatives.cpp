// autograd/derivatives.cpp — the sheet as a table: for each differentiable op, its formula, the
// values its derivative needs saved, and its rule instantiated for eager tensors.
//
// Saving is a memory decision made here, once per op: add saves nothing (its derivative is g),
// mul saves both inputs, exp saves only its output. Everything saved stays alive until backward,
// so this table decides how much memory a training step holds.
#include "autograd/derivatives.h"

#include "autograd/engine.h"

namespace tandem::autograd {

namespace {
constexpr uint32_t kNone = 0, kIn0 = 1, kIn1 = 2, kIn01 = kIn0 | kIn1;
}  // namespace

const std::vector<Derivative>& derivative_sheet() {
  using C = EagerContext;
  static const std::vector<Derivative> sheet = {
      // op                 formula                                   saves inputs, output, rule
      {&ops::add, "da = g; db = g", kNone, false, &add_grad<C>},
      {&ops::sub, "da = g; db = -g", kNone, false, &sub_grad<C>},
      {&ops::mul, "da = g*b; db = g*a", kIn01, false, &mul_grad<C>},
      {&ops::div, "da = g/b; db = -g*a/b^2", kIn01, false, &div_grad<C>},
      {&ops::pow, "da = g*b*a^(b-1); db = g*y*ln(a)", kIn01, true, &pow_grad<C>},
      {&ops::maximum, "da = g*([a>b] + [a=b]/2); db likewise", kIn01, false, &maximum_grad<C>},
      {&ops::minimum, "da = g*([a<b] + [a=b]/2); db likewise", kIn01, false, &minimum_grad<C>},
      {&ops::where, "da = where(c, g, 0); db = where(c, 0, g)", kIn0, false, &where_grad<C>},
      {&ops::neg, "dx = -g", kNone, false, &neg_grad<C>},
      {&ops::exp, "dx = g*y", kNone, true, &exp_grad<C>},
      {&ops::log, "dx = g/x", kIn0, false, &log_grad<C>},
      {&ops::sqrt, "dx = g/(2y)", kNone, true, &sqrt_grad<C>},
      {&ops::abs, "dx = g*sign(x)", kIn0, false, &abs_grad<C>},
      {&ops::sin, "dx = g*cos(x)", kIn0, false, &sin_grad<C>},
      {&ops::cos, "dx = -g*sin(x)", kIn0, false, &cos_grad<C>},
      {&ops::tanh, "dx = g*(1-y^2)", kNone, true, &tanh_grad<C>},
      {&ops::sigmoid, "dx = g*y*(1-y)", kNone, true, &sigmoid_grad<C>},
      {&ops::relu, "dx = g*[y>0]", kNone, true, &relu_grad<C>},
      {&ops::gelu, "dx = g*(Phi(x) + x*phi(x))", kIn0, false, &gelu_grad<C>},
      {&ops::sign, "dx = 0", kNone, false, &sign_grad<C>},
      {&ops::cast, "dx = g.to(x.dtype)", kNone, false, &cast_grad<C>},
      {&ops::clone, "dx = g", kNone, false, &clone_grad<C>},
      {&ops::relu_backward, "dg = gz*[y>0]; dy = 0", kIn1, false, &relu_backward_grad<C>},
      {&ops::sigmoid_backward, "dg = gz*y(1-y); dy = gz*g*(1-2y)", kIn01, false, &sigmoid_backward_grad<C>},
      {&ops::tanh_backward, "dg = gz*(1-y^2); dy = -2*gz*g*y", kIn01, false, &tanh_backward_grad<C>},
      {&ops::gelu_backward, "dg = gz*(Phi+x*phi); dx = gz*g*phi*(2-x^2)", kIn01, false, &gelu_backward_grad<C>},
      {&ops::sum, "dx = expand(g)", kNone, false, &sum_grad<C>},
      {&ops::mean, "dx = expand(g)/N", kNone, false, &mean_grad<C>},
      {&ops::amax, "dx = g at the maxima, shared among ties", kIn0, true, &extreme_grad<C>},
      {&ops::amin, "dx = g at the minima, shared among ties", kIn0, true, &extreme_grad<C>},
      {&ops::var, "dx = g*2(x-mean(x))/(N-correction)", kIn0, false, &var_grad<C>},
      {&ops::sum_to, "dx = expand(g)", kNone, false, &sum_to_grad<C>},
      {&ops::matmul, "dA = G*B^T; dB = A^T*G", kIn01, false, &matmul_grad<C>},
      {&ops::softmax, "dx = y*(g - sum(g*y))", kNone, true, &softmax_grad<C>},
      {&ops::log_softmax, "dx = g - exp(y)*sum(g)", kNone, true, &log_softmax_grad<C>},
      {&ops::index_select, "dx = index_add(0, idx, g)", kIn1, false, &index_select_grad<C>},
      {&ops::gather, "dx = scatter_add(0, idx, g)", kIn1, false, &gather_grad<C>},
      {&ops::index_add, "dx = g; dsrc = index_select(g, idx)", kIn1, false, &index_add_grad<C>},
      {&ops::scatter_add, "dx = g; dsrc = gather(g, idx)", kIn1, false, &scatter_add_grad<C>},
      {&ops::slice_scatter, "dx = g with window zeroed; dsrc = g[window]", kNone, false, &slice_scatter_grad<C>},
      {&ops::select_scatter, "dx = g with slice zeroed; dsrc = g.select(i)", kNone, false, &select_scatter_grad<C>},
      {&ops::reshape, "dx = g.reshape(x.shape)", kNone, false, &reshape_grad<C>},
      {&ops::squeeze, "dx = g.reshape(x.shape)", kNone, false, &reshape_grad<C>},
      {&ops::unsqueeze, "dx = g.squeeze(d)", kNone, false, &unsqueeze_grad<C>},
      {&ops::permute, "dx = g.permute(inverse)", kNone, false, &permute_grad<C>},
      {&ops::slice, "dx = slice_scatter(0, g)", kNone, false, &slice_grad<C>},
      {&ops::select, "dx = select_scatter(0, g)", kNone, false, &select_grad<C>},
      {&ops::expand, "dx = sum_to(g, x.shape)", kNone, false, &expand_grad<C>},
      {&ops::cat, "dx_i = g[offset_i : offset_i + size_i]", kNone, false, &cat_grad<C>},
      {&ops::stack, "dx_i = g.select(dim, i)", kNone, false, &stack_grad<C>},
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
