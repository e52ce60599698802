// layers/container.cpp — Sequential's and ModuleList's bookkeeping.
#include "layers/container.h"

namespace tandem::nn {

SequentialImpl::SequentialImpl(std::initializer_list<NamedModule> named) {
  for (const auto& [name, m] : named) push_back(name, m);
}

void SequentialImpl::push_back(std::shared_ptr<Module> module) { push_back(std::to_string(size()), std::move(module)); }

void SequentialImpl::push_back(const std::string& name, std::shared_ptr<Module> module) {
  register_module(name, std::move(module));
}

namespace {
std::shared_ptr<Module> child_at(const Module& owner, size_t index) {
  const auto children = owner.named_children();
  if (index >= children.size())
    throw IndexError(msg(owner.name(), ": index ", index, " is out of range (it holds ", children.size(), " modules)"));
  return children[index].second;
}
}  // namespace

std::shared_ptr<Module> SequentialImpl::operator[](size_t index) const { return child_at(*this, index); }

void ModuleListImpl::push_back(std::shared_ptr<Module> module) {
  register_module(std::to_string(size()), std::move(module));
}

std::shared_ptr<Module> ModuleListImpl::operator[](size_t index) const { return child_at(*this, index); }

void detail::wrong_layer_type(const Module& m, size_t index, const std::type_info& wanted) {
  throw Error(msg("the module at index ", index, " is a ", m.name(), ", not a ", type_name(wanted)));
}

ResidualImpl::ResidualImpl(std::shared_ptr<Module> body, std::shared_ptr<Module> shortcut)
    : body(register_module("body", std::move(body))),
      shortcut(register_module("shortcut", shortcut ? std::move(shortcut) : Identity().ptr())) {}

}  // namespace tandem::nn
