// autograd/tensor_autograd.cpp — the autograd methods of Tensor: requires_grad_, grad, backward...
#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "core/factories.h"

namespace tandem {

using autograd::AutogradMeta;

namespace {
AutogradMeta& ensure_meta(const Tensor& t) {
  auto& m = t.impl().autograd;
  if (!m) m = std::make_shared<AutogradMeta>();
  return *m;
}
}  // namespace

bool Tensor::requires_grad() const {
  const auto& m = impl().autograd;
  return m && m->requires_grad;
}

const Tensor& Tensor::requires_grad_(bool on) const {
  if (!is_leaf())
    throw Error("you can only change requires_grad flags of leaf variables; this tensor was computed "
                "by an op (it has a grad_fn). To get the gradient of an intermediate value, use "
                "retain_grad(); to cut it from the graph, use detach()");
  if (on && !is_floating_point())
    throw DTypeError(msg("only Tensors of floating point dtype can require gradients; this one is ",
                         to_string(dtype()), ". Convert it first with .to(kFloat32)"));
  ensure_meta(*this).requires_grad = on;
  return *this;
}

bool Tensor::is_leaf() const {
  const auto& m = impl().autograd;
  return !m || !m->grad_fn;
}

Tensor Tensor::grad() const {
  const auto& m = impl().autograd;
  return m ? m->grad : Tensor();
}

void Tensor::set_grad(const Tensor& g) const {
  if (g.defined() && g.shape() != shape())
    throw ShapeError(msg("set_grad: assigned grad has shape ", shape_str(g.shape()),
                         " but the tensor has shape ", shape_str(shape())));
  ensure_meta(*this).grad = g;
}

std::shared_ptr<autograd::Node> Tensor::grad_fn() const {
  const auto& m = impl().autograd;
  return m ? m->grad_fn : nullptr;
}

void Tensor::retain_grad() const {
  if (!requires_grad())
    throw Error("can't retain_grad on a Tensor that has requires_grad=false");
  if (is_leaf()) return;  // leaves keep their grad anyway
  impl().autograd->retains_grad = true;
  grad_fn()->retained_output = impl_ptr();
}

void Tensor::backward(const Tensor& gradient, bool retain_graph, bool create_graph) const {
  autograd::backward({*this}, {gradient}, retain_graph, create_graph);
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = storage();
  impl->shape = shape();
  impl->strides = strides();
  impl->offset = offset();
  impl->dtype = dtype();
  return Tensor(std::move(impl));
}

}  // namespace tandem
