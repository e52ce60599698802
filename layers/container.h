// layers/container.h — modules made of modules: Sequential, ModuleList, Functional, Residual.
//
//     nn::Sequential model(nn::Linear(10, 64), nn::ReLU(), nn::Linear(64, 1), nn::Sigmoid());
//     Tensor p = model(x);                        // each layer's output is the next one's input
//     model->push_back(nn::Dropout(0.1));         // named "4", the next free index
//     auto first = model->at<nn::LinearImpl>(0);  // the layer itself, typed
//
// A Sequential holds its layers through Module pointers and calls each one's call(): a virtual
// function with an eager and a graph overload (layers/module.h), so one Sequential runs in both
// modes whatever it holds. Layers are named "0", "1", ... as in PyTorch, or by name:
//     nn::Sequential({{"conv1", nn::Conv2d(1, 20, 5)}, {"relu1", nn::ReLU()}})
//
// Residual(body, shortcut) computes body(x) + shortcut(x) — a ResNet block's skip connection; the
// shortcut is the identity unless given (a 1x1 convolution where the shapes change).
//
// Read next: layers/losses.h, layers/summary.h.
#pragma once

#include <functional>
#include <initializer_list>

#include "layers/linear.h"
#include "layers/module.h"

namespace tandem::nn {

using NamedModule = std::pair<std::string, std::shared_ptr<Module>>;

// Something that can be held as a module: a holder or a shared_ptr to a module.
template <class M>
concept AnyModule = std::is_convertible_v<std::remove_cvref_t<M>, std::shared_ptr<Module>>;

class SequentialImpl : public Layer<SequentialImpl> {
 public:
  SequentialImpl() = default;
  template <AnyModule... M>
    requires(sizeof...(M) > 0)
  explicit SequentialImpl(M&&... modules) {
    (push_back(std::shared_ptr<Module>(modules)), ...);
  }
  explicit SequentialImpl(std::initializer_list<NamedModule> named);

  template <class T> T forward(const T& x) {
    T y = x;
    for (const auto& [name, m] : named_children()) y = m->call(y);
    return y;
  }
  void push_back(std::shared_ptr<Module> module);  // named by its index
  void push_back(const std::string& name, std::shared_ptr<Module> module);
  size_t size() const { return named_children().size(); }
  std::shared_ptr<Module> operator[](size_t index) const;
  // The layer at `index` as its own type (an error names both types when it is another).
  template <class M> std::shared_ptr<M> at(size_t index) const;
};

class Sequential : public ModuleHolder<SequentialImpl> {
 public:
  using ModuleHolder<SequentialImpl>::ModuleHolder;
  Sequential(std::initializer_list<NamedModule> named)  // NOLINT: {{"conv1", nn::Conv2d(...)}, ...}
      : ModuleHolder(std::make_shared<SequentialImpl>(named)) {}
};

// nn.ModuleList: modules in a list, registered (so their parameters are the model's) but not
// called in any order of their own: the owner's forward decides.
class ModuleListImpl : public Module {
 public:
  ModuleListImpl() = default;
  template <AnyModule... M>
    requires(sizeof...(M) > 0)
  explicit ModuleListImpl(M&&... modules) {
    (push_back(std::shared_ptr<Module>(modules)), ...);
  }
  void push_back(std::shared_ptr<Module> module);
  size_t size() const { return named_children().size(); }
  std::shared_ptr<Module> operator[](size_t index) const;
  template <class M> std::shared_ptr<M> at(size_t index) const;
};
TANDEM_MODULE(ModuleList);

// A function as a layer: nn::Functional([](const auto& x) { return x.pow(2); }). A generic lambda
// runs in both modes; one that takes only a Tensor runs only eagerly.
class FunctionalImpl : public Layer<FunctionalImpl> {
 public:
  template <class F>
    requires std::is_invocable_r_v<Tensor, F, const Tensor&>
  explicit FunctionalImpl(F f, std::string name = "Functional") : eager_(f), name_(std::move(name)) {
    if constexpr (std::is_invocable_r_v<graph::Output, F, const graph::Output&>) graph_ = f;
  }
  template <class T> T forward(const T& x) {
    if constexpr (is_eager<T>) {
      return eager_(x);
    } else {
      if (!graph_) throw Error(msg(name_, ": this function takes eager Tensors only; write it as a generic lambda "
                                          "([](const auto& x) {...}) to use it in graphs"));
      return graph_(x);
    }
  }
  std::string name() const override { return name_; }

 private:
  std::function<Tensor(const Tensor&)> eager_;
  std::function<graph::Output(const graph::Output&)> graph_;
  std::string name_;
};
TANDEM_MODULE(Functional);

// y = body(x) + shortcut(x): a skip connection (He et al., 2016). Gradients flow through both
// terms; through the identity shortcut unchanged, which is what lets deep ResNets train.
class ResidualImpl : public Layer<ResidualImpl> {
 public:
  explicit ResidualImpl(std::shared_ptr<Module> body, std::shared_ptr<Module> shortcut = nullptr);
  template <class T> T forward(const T& x) { return body->call(x) + shortcut->call(x); }
  std::shared_ptr<Module> body, shortcut;
};
TANDEM_MODULE(Residual);

// ---- template definitions -------------------------------------------------------------------------

namespace detail {
[[noreturn]] void wrong_layer_type(const Module& m, size_t index, const std::type_info& wanted);
}

template <class M> std::shared_ptr<M> SequentialImpl::at(size_t index) const {
  const std::shared_ptr<Module> m = (*this)[index];
  auto typed = std::dynamic_pointer_cast<M>(m);
  if (!typed) detail::wrong_layer_type(*m, index, typeid(M));
  return typed;
}

template <class M> std::shared_ptr<M> ModuleListImpl::at(size_t index) const {
  const std::shared_ptr<Module> m = (*this)[index];
  auto typed = std::dynamic_pointer_cast<M>(m);
  if (!typed) detail::wrong_layer_type(*m, index, typeid(M));
  return typed;
}

}  // namespace tandem::nn
