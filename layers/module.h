// layers/module.h — Module: parameters, buffers and submodules, with ONE forward for both modes.
//
// A model is a tree of Modules, as in PyTorch (nn.Module) and its C++ frontend (LibTorch, whose
// spelling this follows). A Module holds
//   - parameters: the tensors training changes (a Linear's weight and bias), registered by name;
//   - buffers: state that is not trained but belongs to the model (batch norm's running mean);
//   - submodules, registered by name — so every parameter has a dotted name: "fc1.weight",
//     "layer1.0.bn1.running_mean", as named_parameters() and state_dict() list them.
//
//     struct NetImpl : nn::Layer<NetImpl> {
//       nn::Linear fc1{nullptr}, fc2{nullptr};                      // empty holders, filled below
//       NetImpl() {
//         fc1 = register_module("fc1", nn::Linear(784, 64));
//         fc2 = register_module("fc2", nn::Linear(64, 10));
//       }
//       template <class T> T forward(const T& x) { return fc2(relu(fc1(x))); }   // ONE forward
//     };
//     TANDEM_MODULE(Net);             // Net: a holder of a shared NetImpl, as LibTorch's TORCH_MODULE
//
//     Net net;                                   // builds a NetImpl, weights drawn from the seed
//     Tensor y = net(x);                         // eager: computes now
//     g::Output z = net(g::placeholder(kFloat32, {-1, 784}));   // graph: adds nodes
//     std::cout << net;                          // PyTorch's print(model)
//
// ONE DEFINITION, TWO MODES. The user writes forward once, as a template over the tensor type T
// (like every op of core/ops.h). The base class nn::Layer<NetImpl> — the "curiously recurring
// template pattern", as Tensor and TensorMethods use it — turns that one template into the two
// virtual functions every Module has, forward(const Tensor&) and forward(const graph::Output&).
// So a container such as Sequential holds any module through a Module pointer and runs it in
// either mode; a module that only makes sense eagerly (it branches on values) derives from Module
// and overrides the Tensor forward alone, and graph mode then says so.
//
// THE HOLDER. A Module is shared: an optimizer, a parent and the user all refer to the same one.
// As in LibTorch, `nn::Linear` is a small handle holding a shared_ptr<LinearImpl>: copying it
// copies the pointer, `fc1->weight` reaches the module, `fc1(x)` calls it (PyTorch's __call__),
// and `nn::Linear fc1{nullptr}` is an empty holder to fill in a constructor. TANDEM_MODULE(Net)
// makes the holder `Net` for a user's NetImpl.
//
// GRAPH MODE. A forward on graph Outputs needs the parameters as graph values. In forward, a
// module writes `bind(weight, x)`: in eager mode that is `weight` itself; in graph mode it is the
// graph Variable bound to `weight` in x's graph. Binding INITIALISES FROM AND WRITES BACK (the
// choice; docs/layers.md says why):
//   - the first time a model runs on a graph, each of its parameters and buffers becomes a
//     Variable of that graph, named by its dotted name ("fc1/weight"), whose initial value is the
//     tensor's value at that moment (a copy: Variables live in Sessions, which TF1 keeps
//     independent of each other and of the program's tensors);
//   - model->copy_from(session) writes the session's trained values back into the module's
//     tensors (in place: eager optimizers holding them keep working), and model->copy_to(session)
//     sends the module's current values into a session (TF1's Variable.load).
// So a model trained in either mode can be evaluated, saved or exported in the other.
// Frozen parameters (requires_grad false) and buffers become non-trainable Variables.
//
// train() / eval() in graph mode: the flag is read when forward BUILDS the nodes, so a graph holds
// one path per mode, built from the one definition — call model->train() and build the training
// loss, model->eval() and build the predictions; both paths share the Variables. (The alternative,
// a bool placeholder fed on every run like Keras's learning phase, would need the graph to compute
// both branches or to have control flow; two paths keep every run's graph plain.)
//
// Read next: layers/linear.h (the simplest layer), layers/container.h (Sequential),
// layers/summary.h.
#pragma once

#include <concepts>
#include <cstdint>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "core/ops.h"
#include "graph/graph.h"
#include "io/state_dict.h"

namespace tandem::graph {
class Session;
}

namespace tandem::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;  // modules are shared through holders, never copied
  Module& operator=(const Module&) = delete;

  // ---- forward, in both modes --------------------------------------------------------------------
  // What the module computes. Layer<Derived> implements both from one template; a Module that
  // overrides neither cannot be called.
  virtual Tensor forward(const Tensor& input);
  virtual graph::Output forward(const graph::Output& input);
  // PyTorch's __call__: forward, plus what surrounds it — in graph mode the name scope of the
  // module ("fc1/MatMul"), the binding of the whole model's variables on its first call in a graph,
  // and what summary() records. Holders call this: `fc1(x)`.
  Tensor call(const Tensor& input);
  graph::Output call(const graph::Output& input);

  // ---- registering state -------------------------------------------------------------------------
  // A parameter: a leaf tensor that training updates (requires_grad set as asked). Returns the
  // registered tensor; keep that handle (it IS the parameter). Names are single words: no dots.
  Tensor register_parameter(const std::string& name, const Tensor& value, bool requires_grad = true);
  // A buffer: state that is saved and moved with the model but not trained.
  Tensor register_buffer(const std::string& name, const Tensor& value);
  // A submodule (a holder or a shared_ptr to a module), returned as given.
  template <class M> M register_module(const std::string& name, M module);

  // ---- reading state (dotted names, each tensor once, in registration order: own first) ------------
  NamedTensors named_parameters(bool recurse = true) const;
  std::vector<Tensor> parameters(bool recurse = true) const;
  NamedTensors named_buffers(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const { return children_; }
  std::vector<std::shared_ptr<Module>> children() const;
  // This module (name "") and every module below it, depth first.
  std::vector<std::pair<std::string, const Module*>> named_modules() const;
  // Parameters and buffers by dotted name, module by module (PyTorch's state_dict order), as the
  // StateDict of io/state_dict.h: the live tensors, not copies (clone() it for a snapshot; save()
  // it for a file).
  StateDict state_dict() const;
  // Copies values in (io/state_dict.h's load_state_dict: all or nothing, PyTorch's report). strict:
  // every key of the model must be given, and no other; otherwise unknown keys are ignored and
  // missing ones keep their values, and the returned report lists them. Shapes must always match.
  LoadReport load_state_dict(const StateDict& state, bool strict = true);

  // ---- training switches -------------------------------------------------------------------------
  void train(bool on = true);  // this module and all below it (dropout drops, batch norm uses batches)
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void zero_grad(bool set_to_none = true);     // every parameter's grad: undefined, or zeros
  void requires_grad_(bool on = true);         // freeze (false) or unfreeze every parameter
  // Moves every parameter and buffer to the device (or floating ones to the dtype) IN PLACE: the
  // handles the module, its layers and an optimizer hold see the moved tensors. Gradients are
  // dropped.
  void to(Device device);
  void to(DType dtype);

  // ---- printing (PyTorch's repr) -------------------------------------------------------------------
  // The type's name: the class name without namespaces and without a trailing "Impl" ("Linear").
  virtual std::string name() const;
  // What PyTorch's extra_repr() says inside the parentheses: "in_features=784, out_features=64,
  // bias=True". Empty by default.
  virtual std::string extra_repr() const { return ""; }

  // ---- graph mode: the module's tensors as graph values ------------------------------------------
  // `state` (a parameter or buffer of THIS module) as a T beside `like`: state itself in eager
  // mode; in graph mode the Variable bound to it in like's graph (made on first use).
  template <TensorLike T> T bind(const Tensor& state, const T& like);
  // The Variables this module and those below it have in graph g, by dotted name.
  std::vector<std::pair<std::string, graph::Output>> named_variables(const graph::Graph& g) const;
  std::vector<graph::Output> variables(const graph::Graph& g) const;
  // The session's values of those Variables, written into the module's tensors (in place).
  void copy_from(const graph::Session& session);
  // The module's current values, written into the session's Variables (TF1's Variable.load).
  void copy_to(graph::Session& session) const;
  // Forgets the Variables of this module and those below it in graph g (a graph about to go away,
  // or one to bind afresh: the next call there makes new ones).
  void unbind(const graph::Graph& g);

  // The name this module was registered under in its parent ("fc1"), "" for a model's root:
  // its name scope in graphs.
  const std::string& registered_name() const { return registered_name_; }

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> child);
  void check_new_name(const std::string& name, const char* what) const;
  void collect(NamedTensors& out, bool params, bool recurse, const std::string& prefix,
               std::vector<const TensorImpl*>& seen) const;
  graph::Output variable_for(const Tensor& state, graph::Graph& g);
  void bind_tree(graph::Graph& g, const std::string& prefix);
  std::string local_name(const Tensor& state) const;

  NamedTensors params_, buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
  std::string registered_name_;
  // Graph mode: per graph (by serial, graph/graph.h), the Variable of each of this module's tensors.
  std::map<uint64_t, std::map<const TensorImpl*, graph::Output>> variables_;
};

// PyTorch's print(model): the type, extra_repr(), and each submodule as "(name): ...", indented.
std::ostream& operator<<(std::ostream& os, const Module& m);
std::string repr(const Module& m);

// ---- one template, both modes: Layer<Derived> --------------------------------------------------------
//
// Derive from Layer<YourImpl> and write `template <class T> T forward(const T& x)`; this class
// turns it into the two virtual forwards (the CRTP: the base calls the derived class's template).
template <class Derived> class Layer : public Module {
 public:
  Tensor forward(const Tensor& x) override { return self().template forward<Tensor>(x); }
  graph::Output forward(const graph::Output& x) override { return self().template forward<graph::Output>(x); }

 private:
  Derived& self() {
    static_assert(requires(Derived& d, const Tensor& t) { d.template forward<Tensor>(t); },
                  "nn::Layer<Derived>: Derived must define `template <class T> T forward(const T& x)`");
    return static_cast<Derived&>(*this);
  }
};

namespace detail {
// A class's name as a reader writes it: no namespaces, no template arguments, no "Impl" suffix.
std::string type_name(const std::type_info& type);
// Values as Python's repr() writes them, for extra_repr(): 0.1, 1e-05, 1.0; True; (5, 5).
std::string py_float(double v);
inline const char* py_bool(bool b) { return b ? "True" : "False"; }
std::string py_tuple(const Pair& p);
}  // namespace detail

// ---- the holder ---------------------------------------------------------------------------------------
template <class Impl> class ModuleHolder {
 public:
  using ImplType = Impl;
  // A fresh module from Impl's default constructor (when it has one).
  ModuleHolder() requires std::default_initializable<Impl> : impl_(std::make_shared<Impl>()) {}
  // An empty holder, to be assigned later: `nn::Linear fc1{nullptr};`.
  ModuleHolder(std::nullptr_t) {}  // NOLINT: implicit, as LibTorch's
  ModuleHolder(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}  // NOLINT
  // A fresh module from Impl's constructor: `nn::Linear(784, 64)`.
  template <class First, class... Rest>
    requires(!std::is_same_v<std::remove_cvref_t<First>, std::nullptr_t> &&
             !std::is_convertible_v<First, std::shared_ptr<Impl>> &&
             !std::is_base_of_v<ModuleHolder, std::remove_cvref_t<First>> &&
             std::constructible_from<Impl, First, Rest...>)
  explicit ModuleHolder(First&& first, Rest&&... rest)
      : impl_(std::make_shared<Impl>(std::forward<First>(first), std::forward<Rest>(rest)...)) {}

  Impl* operator->() const { return get(); }
  Impl& operator*() const { return *get(); }
  Impl* get() const {
    if (!impl_)
      throw Error(msg("this ", detail::type_name(typeid(Impl)), " holder is empty (made with nullptr): assign a module to it "
                      "first, e.g. fc1 = register_module(\"fc1\", nn::Linear(784, 64))"));
    return impl_.get();
  }
  const std::shared_ptr<Impl>& ptr() const { return impl_; }
  bool is_empty() const { return impl_ == nullptr; }
  operator std::shared_ptr<Module>() const { return impl_; }  // NOLINT: holders go where modules go

  // model(x): Module::call (forward, in either mode); model(input, target) for the losses.
  template <class... Args> decltype(auto) operator()(Args&&... args) const {
    if constexpr (sizeof...(Args) == 1 && (TensorLike<std::remove_cvref_t<Args>> && ...))
      return get()->call(std::forward<Args>(args)...);
    else
      return get()->forward(std::forward<Args>(args)...);
  }
  // seq[i] for containers.
  template <class I> decltype(auto) operator[](I&& i) const { return (*get())[std::forward<I>(i)]; }

 private:
  std::shared_ptr<Impl> impl_;
};

template <class Impl> std::ostream& operator<<(std::ostream& os, const ModuleHolder<Impl>& m) { return os << *m; }
inline std::ostream& operator<<(std::ostream& os, const std::shared_ptr<Module>& m) { return os << *m; }

// TANDEM_MODULE(Net) declares the holder `Net` of a NetImpl (LibTorch's TORCH_MODULE).
#define TANDEM_MODULE(Name)                                                  \
  class Name : public ::tandem::nn::ModuleHolder<Name##Impl> {               \
   public:                                                                   \
    using ::tandem::nn::ModuleHolder<Name##Impl>::ModuleHolder;              \
    using Impl = Name##Impl;                                                 \
  }

// A module pointer from a holder or a shared_ptr.
template <class M> std::shared_ptr<Module> module_ptr(const M& m) {
  if constexpr (requires { m.ptr(); }) return m.ptr();
  else return std::shared_ptr<Module>(m);
}

// ---- template definitions -------------------------------------------------------------------------------

template <class M> M Module::register_module(const std::string& name, M module) {
  add_child(name, module_ptr(module));
  return module;
}

template <TensorLike T> T Module::bind(const Tensor& state, const T& like) {
  if constexpr (is_eager<T>) return state;
  else return variable_for(state, like.graph());
}

// What summary() (layers/summary.cpp) learns from a graph-mode call: hooks for the outputs.
namespace detail {
struct CallObserver {
  virtual ~CallObserver() = default;
  // Called after each Module::call on graph Outputs; depth 1 is the outermost module called.
  virtual void called(const Module& m, const graph::Output& output, int depth) = 0;
  // Bind parameters as placeholders of their shape (nothing copied, nothing to initialize).
  bool shapes_only = false;
};
// The observer of this thread (null: none). summary() installs one for its duration.
CallObserver*& call_observer();
}  // namespace detail

}  // namespace tandem::nn
