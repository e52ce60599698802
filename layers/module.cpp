// layers/module.cpp — Module's registry, its walks over the tree, printing, and graph binding.
#include "layers/module.h"

#include <cxxabi.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <ostream>
#include <sstream>

#include "autograd/grad_mode.h"
#include "graph/ops.h"
#include "graph/session.h"

namespace tandem::nn {

// ---- forward ----------------------------------------------------------------------------------------

Tensor Module::forward(const Tensor&) {
  throw Error(msg(name(), " has no forward: write `template <class T> T forward(const T& x)` in a class "
                          "derived from nn::Layer<", name(), "Impl>, or override forward(const Tensor&)"));
}

graph::Output Module::forward(const graph::Output&) {
  throw Error(msg(name(), " has no graph-mode forward: it overrides only forward(const Tensor&), so it runs "
                          "only eagerly. Write forward once as `template <class T> T forward(const T& x)` in a "
                          "class derived from nn::Layer<...> to run it in graphs too"));
}

Tensor Module::call(const Tensor& input) {
  if (!input.defined()) throw Error(msg(name(), ": called with an undefined tensor"));
  return forward(input);
}

namespace detail {
CallObserver*& call_observer() {
  thread_local CallObserver* observer = nullptr;
  return observer;
}
}  // namespace detail

namespace {
thread_local int call_depth = 0;  // how many Module::call on graph Outputs are running (nesting)
struct Depth {
  Depth() { ++call_depth; }
  ~Depth() { --call_depth; }
};
}  // namespace

graph::Output Module::call(const graph::Output& input) {
  graph::Graph& g = input.graph();
  const Depth depth;
  // The outermost call binds every tensor of the model below it at once, by dotted name, so the
  // Variables are named after the model's structure ("layer1/0/conv1/weight").
  if (call_depth == 1) bind_tree(g, registered_name_.empty() ? "" : registered_name_ + "/");
  graph::Output out;
  {
    std::optional<graph::NameScope> scope;
    if (!registered_name_.empty()) scope.emplace(registered_name_, g);
    out = forward(input);
  }
  if (detail::CallObserver* o = detail::call_observer()) o->called(*this, out, call_depth);
  return out;
}

// ---- registering --------------------------------------------------------------------------------------

void Module::check_new_name(const std::string& name, const char* what) const {
  if (name.empty()) throw Error(msg(this->name(), ": a ", what, " name can't be empty"));
  if (name.find('.') != std::string::npos || name.find('/') != std::string::npos)
    throw Error(msg(this->name(), ": ", what, " name can't contain \".\" or \"/\", got: ", name));
  auto taken = [&](const auto& list) {
    for (const auto& [n, v] : list)
      if (n == name) return true;
    return false;
  };
  if (taken(params_) || taken(buffers_) || taken(children_))
    throw Error(msg(this->name(), ": attribute '", name, "' already exists; each parameter, buffer and submodule "
                                  "needs its own name"));
}

Tensor Module::register_parameter(const std::string& name, const Tensor& value, bool requires_grad) {
  check_new_name(name, "parameter");
  if (!value.defined()) throw Error(msg(this->name(), ": parameter '", name, "' is an undefined tensor"));
  if (!value.is_floating_point())
    throw DTypeError(msg(this->name(), ": parameter '", name, "' must be floating point (it would get a gradient), "
                                       "but has dtype ", to_string(value.dtype()), "; register it as a buffer instead"));
  Tensor p = value.detach();  // a leaf, whatever made the value
  p.requires_grad_(requires_grad);
  params_.emplace_back(name, p);
  return p;
}

Tensor Module::register_buffer(const std::string& name, const Tensor& value) {
  check_new_name(name, "buffer");
  if (!value.defined()) throw Error(msg(this->name(), ": buffer '", name, "' is an undefined tensor"));
  buffers_.emplace_back(name, value.detach());
  return buffers_.back().second;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> child) {
  check_new_name(name, "module");
  if (!child) throw Error(msg(this->name(), ": submodule '", name, "' is an empty holder"));
  if (child.get() == this) throw Error(msg(this->name(), ": a module can't be its own submodule"));
  child->registered_name_ = name;
  children_.emplace_back(name, std::move(child));
}

// ---- walking the tree -----------------------------------------------------------------------------------

void Module::collect(NamedTensors& out, bool params, bool recurse, const std::string& prefix,
                     std::vector<const TensorImpl*>& seen) const {
  for (const auto& [n, t] : params ? params_ : buffers_) {
    const TensorImpl* id = t.impl_ptr().get();
    if (std::find(seen.begin(), seen.end(), id) != seen.end()) continue;  // shared: listed once
    seen.push_back(id);
    out.emplace_back(prefix + n, t);
  }
  if (!recurse) return;
  for (const auto& [n, child] : children_) child->collect(out, params, true, prefix + n + ".", seen);
}

NamedTensors Module::named_parameters(bool recurse) const {
  NamedTensors out;
  std::vector<const TensorImpl*> seen;
  collect(out, true, recurse, "", seen);
  return out;
}

NamedTensors Module::named_buffers(bool recurse) const {
  NamedTensors out;
  std::vector<const TensorImpl*> seen;
  collect(out, false, recurse, "", seen);
  return out;
}

namespace {
std::vector<Tensor> values(const NamedTensors& named) {
  std::vector<Tensor> out;
  for (const auto& [n, t] : named) out.push_back(t);
  return out;
}
}  // namespace

std::vector<Tensor> Module::parameters(bool recurse) const { return values(named_parameters(recurse)); }
std::vector<Tensor> Module::buffers(bool recurse) const { return values(named_buffers(recurse)); }

std::vector<std::shared_ptr<Module>> Module::children() const {
  std::vector<std::shared_ptr<Module>> out;
  for (const auto& [n, c] : children_) out.push_back(c);
  return out;
}

std::vector<std::pair<std::string, const Module*>> Module::named_modules() const {
  std::vector<std::pair<std::string, const Module*>> out = {{"", this}};
  for (const auto& [n, c] : children_)
    for (const auto& [sub, m] : c->named_modules()) out.emplace_back(sub.empty() ? n : n + "." + sub, m);
  return out;
}

StateDict Module::state_dict() const {
  StateDict out;
  for (const auto& [prefix, m] : named_modules()) {
    const std::string p = prefix.empty() ? "" : prefix + ".";
    for (const auto& [n, t] : m->params_) out.insert(p + n, t);
    for (const auto& [n, t] : m->buffers_) out.insert(p + n, t);
  }
  return out;
}

// One load path for every state_dict in Tandem: io/state_dict.cpp compares every name and shape
// first and copies only when all of it fits, with PyTorch's report naming this module's type.
LoadReport Module::load_state_dict(const StateDict& state, bool strict) {
  return tandem::load_state_dict(state_dict(), state, strict, name());
}

// ---- switches ----------------------------------------------------------------------------------------------

void Module::train(bool on) {
  training_ = on;
  for (auto& [n, c] : children_) c->train(on);
}

void Module::zero_grad(bool set_to_none) {
  for (const Tensor& p : parameters()) {
    if (!p.grad().defined()) continue;
    if (set_to_none) p.set_grad(Tensor());
    else p.grad().zero_();
  }
}

void Module::requires_grad_(bool on) {
  for (const Tensor& p : parameters()) p.requires_grad_(on);
}

namespace {
// Points t's implementation at moved's storage: every handle to t sees the moved values.
void replace_in_place(const Tensor& t, const Tensor& moved) {
  if (moved.impl_ptr() == t.impl_ptr()) return;
  TensorImpl& impl = t.impl();
  impl.storage = moved.storage();
  impl.shape = moved.shape();
  impl.strides = moved.strides();
  impl.offset = moved.offset();
  impl.dtype = moved.dtype();
  if (t.requires_grad()) t.set_grad(Tensor());
}
}  // namespace

void Module::to(Device device) {
  no_grad guard;
  for (const Tensor& t : parameters()) replace_in_place(t, t.to(device));
  for (const Tensor& t : buffers()) replace_in_place(t, t.to(device));
}

void Module::to(DType dtype) {
  if (!is_floating(dtype)) throw DTypeError(msg("Module::to: only floating dtypes are allowed, but got ", to_string(dtype)));
  no_grad guard;
  for (const Tensor& t : parameters()) replace_in_place(t, t.detach().to(dtype));
  for (const Tensor& t : buffers())
    if (t.is_floating_point()) replace_in_place(t, t.to(dtype));
}

// ---- printing ------------------------------------------------------------------------------------------------

std::string detail::type_name(const std::type_info& type) {
  const char* mangled = type.name();
  int status = 0;
  char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string n = status == 0 && demangled ? demangled : mangled;
  std::free(demangled);
  if (const size_t t = n.find('<'); t != std::string::npos) n.resize(t);  // a template's arguments
  if (const size_t c = n.rfind("::"); c != std::string::npos) n = n.substr(c + 2);
  if (n.size() > 4 && n.compare(n.size() - 4, 4, "Impl") == 0) n.resize(n.size() - 4);
  return n;
}

std::string Module::name() const { return detail::type_name(typeid(*this)); }

// Python's float repr: the shortest digits that read back to the same double, in fixed notation
// for exponents -4..15 (with ".0" on integers), else scientific with a two-digit exponent.
std::string detail::py_float(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  const std::string sci(buf, r.ptr);                 // "-1.2345e-05"
  const size_t e = sci.find('e');
  std::string mant = sci.substr(0, e);
  const int exp = std::stoi(sci.substr(e + 1));
  const bool neg = mant[0] == '-';
  if (neg) mant.erase(0, 1);
  std::string digits;
  for (char c : mant)
    if (c != '.') digits += c;                       // "12345": d.dddd x 10^exp
  std::string out;
  if (exp >= -4 && exp < 16) {
    const int point = exp + 1;                       // digits before the decimal point
    if (point <= 0) out = "0." + std::string(static_cast<size_t>(-point), '0') + digits;
    else if (point >= static_cast<int>(digits.size())) out = digits + std::string(point - digits.size(), '0') + ".0";
    else out = digits.substr(0, point) + "." + digits.substr(point);
  } else {
    out = digits.substr(0, 1) + (digits.size() > 1 ? "." + digits.substr(1) : "");
    out += (exp < 0 ? "e-" : "e+") + std::string(std::abs(exp) < 10 ? "0" : "") + std::to_string(std::abs(exp));
  }
  return neg ? "-" + out : out;
}

std::string detail::py_tuple(const Pair& p) { return msg("(", p[0], ", ", p[1], ")"); }

namespace {
// PyTorch's _addindent: every line but the first indented by `spaces`.
std::string add_indent(const std::string& s, int spaces) {
  std::string out;
  for (char c : s) {
    out += c;
    if (c == '\n') out += std::string(static_cast<size_t>(spaces), ' ');
  }
  return out;
}
}  // namespace

// PyTorch's nn.Module.__repr__, line for line.
std::string repr(const Module& m) {
  std::vector<std::string> extra_lines, child_lines;
  std::stringstream extra(m.extra_repr());
  for (std::string line; std::getline(extra, line);) extra_lines.push_back(line);
  for (const auto& [n, c] : m.named_children()) child_lines.push_back("(" + n + "): " + add_indent(repr(*c), 2));
  std::string s = m.name() + "(";
  if (extra_lines.size() == 1 && child_lines.empty()) {
    s += extra_lines[0];  // the one-liner most built-in layers print
  } else if (!extra_lines.empty() || !child_lines.empty()) {
    s += "\n";
    for (const auto& l : extra_lines) s += "  " + l + "\n";
    for (const auto& l : child_lines) s += "  " + l + "\n";
  }
  return s + ")";
}

std::ostream& operator<<(std::ostream& os, const Module& m) { return os << repr(m); }

// ---- graph mode --------------------------------------------------------------------------------------------------

std::string Module::local_name(const Tensor& state) const {
  for (const auto& list : {&params_, &buffers_})
    for (const auto& [n, t] : *list)
      if (t.is_same(state)) return n;
  throw Error(msg(name(), ": bind() needs a parameter or buffer of this module (registered with register_parameter "
                          "or register_buffer), but was given another tensor"));
}

// A new graph value for one tensor: a Variable, initialised from the tensor's value now — or, for
// summary(), a placeholder of its shape (nothing copied).
graph::Output Module::variable_for(const Tensor& state, graph::Graph& g) {
  auto& mine = variables_[g.serial()];
  if (auto it = mine.find(state.impl_ptr().get()); it != mine.end()) return it->second;
  const std::string name = local_name(state);
  graph::DefaultGraph use(g);
  const bool is_param =
      std::any_of(params_.begin(), params_.end(), [&](const auto& p) { return p.second.is_same(state); });
  const detail::CallObserver* o = detail::call_observer();
  const graph::Output v = o && o->shapes_only ? graph::placeholder(state.dtype(), state.shape(), name)
                                              : graph::Variable(state, is_param && state.requires_grad(), name);
  mine.emplace(state.impl_ptr().get(), v);
  return v;
}

void Module::bind_tree(graph::Graph& g, const std::string& prefix) {
  auto& mine = variables_[g.serial()];
  for (const auto& list : {&params_, &buffers_})
    for (const auto& [n, t] : *list) {
      if (mine.count(t.impl_ptr().get())) continue;
      graph::DefaultGraph use(g);
      const detail::CallObserver* o = detail::call_observer();
      const bool trainable = list == &params_ && t.requires_grad();
      mine.emplace(t.impl_ptr().get(), o && o->shapes_only ? graph::placeholder(t.dtype(), t.shape(), prefix + n)
                                                           : graph::Variable(t, trainable, prefix + n));
    }
  for (const auto& [n, c] : children_) c->bind_tree(g, prefix + n + "/");
}

std::vector<std::pair<std::string, graph::Output>> Module::named_variables(const graph::Graph& g) const {
  std::vector<std::pair<std::string, graph::Output>> out;
  for (const auto& [prefix, m] : named_modules()) {
    auto it = m->variables_.find(g.serial());
    if (it == m->variables_.end()) continue;
    const std::string p = prefix.empty() ? "" : prefix + ".";
    for (const auto& list : {&m->params_, &m->buffers_})
      for (const auto& [n, t] : *list)
        if (auto v = it->second.find(t.impl_ptr().get()); v != it->second.end()) out.emplace_back(p + n, v->second);
  }
  return out;
}

std::vector<graph::Output> Module::variables(const graph::Graph& g) const {
  std::vector<graph::Output> out;
  for (const auto& [n, v] : named_variables(g)) out.push_back(v);
  return out;
}

void Module::unbind(const graph::Graph& g) {
  variables_.erase(g.serial());
  for (auto& [n, c] : children_) c->unbind(g);
}


void Module::copy_from(const graph::Session& session) {
  const auto vars = named_variables(session.graph());
  if (vars.empty() && !state_dict().empty())
    throw Error(msg(name(), "::copy_from: this model has no Variables in the session's graph; run the model on an "
                            "Output of that graph first (its first call there makes them)"));
  no_grad guard;
  const StateDict mine = state_dict();  // the module's tensors, by the names named_variables() uses
  for (const auto& [n, v] : vars) {
    if (v.node()->kind != graph::Kind::variable) continue;  // summary()'s placeholders
    const Tensor value = session.variable_value(v);
    Tensor t = mine.at(n);
    t.copy_(value.to(t.device()));
  }
}

// TF1's Variable.load(value, session): run each Variable's initializer with its initial value FED
// (a feed may replace any node's value), so the session's Variable takes the tensor's current value.
void Module::copy_to(graph::Session& session) const {
  const auto vars = named_variables(session.graph());
  if (vars.empty() && !state_dict().empty())
    throw Error(msg(name(), "::copy_to: this model has no Variables in the session's graph; run the model on an "
                            "Output of that graph first (its first call there makes them)"));
  std::vector<graph::Output> inits;
  graph::FeedDict feeds;
  const StateDict mine = state_dict();
  for (const auto& [n, v] : vars) {
    const graph::Node* var = v.node();
    if (var->kind != graph::Kind::variable) continue;
    inits.emplace_back(var->initializer);
    feeds.emplace_back(var->initializer->inputs[1], mine.at(n).detach());
  }
  if (!inits.empty()) session.run(inits, feeds);
}

}  // namespace tandem::nn
