// optim/optim_state.cpp — an optimizer's state_dict: its state and hyper-parameters as named tensors.
//
// PyTorch's optimizer.state_dict() is a nested dictionary,
//
//     {'state':        {0: {'step': tensor(3.), 'exp_avg': ..., 'exp_avg_sq': ...}, 1: {...}},
//      'param_groups': [{'lr': 0.001, 'betas': (0.9, 0.999), 'eps': 1e-08, 'weight_decay': 0,
//                        'params': [0, 1]}]}
//
// Flattened with dots, it fits a StateDict (and so the checkpoint file) as it is:
//
//     state.0.step  state.0.exp_avg  state.0.exp_avg_sq  state.1.step ...
//     param_groups.0.lr  param_groups.0.betas  param_groups.0.eps  param_groups.0.weight_decay
//     param_groups.0.params
//
// Numbers become float64 scalars, betas a [2] float64 tensor, flags bool scalars, `params` the int64
// indices 0..n-1. Parameters are named by their index in the list the optimizer was built with,
// as in PyTorch: load into an optimizer built over the same parameters in the same order.
//
// Loading is stricter than PyTorch's, which takes an Adam state_dict into an SGD, or an exp_avg
// of the wrong shape, without a word: here every name must be one this optimizer writes, every
// shape the parameter's, every value one the constructor accepts — checked before anything
// changes, so that a refused load leaves the optimizer as it was.
//
// Read next: io/checkpoint.h (saving it with the model), io/saver.h (graph mode's slot variables).
#include <functional>
#include <optional>
#include <set>

#include "core/factories.h"
#include "core/ops.h"
#include "optim/optim.h"

namespace tandem::optim {

namespace {

const std::string kGroup = "param_groups.0.";

Tensor number(double v) { return tensor(v, kFloat64); }

// The names every optimizer writes for its parameter list, and its per-parameter state.
void write_params(StateDict& sd, size_t n) {
  sd.insert(kGroup + "params", arange(static_cast<int64_t>(n)));
}
std::string state_key(size_t k, const std::string& field) { return msg("state.", k, ".", field); }

// Reads a state_dict for one optimizer, checking each entry as it is taken, and at the end that
// no entry was left unread. Every failure throws before the optimizer is touched: the caller
// reads everything into locals first and assigns only after finish().
class Reading {
 public:
  Reading(const StateDict& sd, std::string who, const std::vector<Tensor>& params)
      : sd_(sd), who_(std::move(who)), params_(params) {
    const Tensor& ids = get(kGroup + "params", kInt64, {static_cast<int64_t>(params.size())}, [&] {
      return msg("the optimizer has ", params.size(), " parameters; was it saved by an optimizer over another "
                 "parameter list?");
    });
    for (int64_t k = 0; k < ids.numel(); ++k)
      if (ids.at({k}) != static_cast<double>(k)) fail(msg(kGroup, "params should be 0..", params.size() - 1));
  }

  double scalar(const std::string& hyper) { return get(kGroup + hyper, kFloat64, {}).item(); }
  bool flag(const std::string& hyper) { return get(kGroup + hyper, kBool, {}).item<bool>(); }
  std::vector<double> numbers(const std::string& hyper, int64_t n) {
    return get(kGroup + hyper, kFloat64, {n}).to_vector();
  }

  // Parameter k's state: a copy of each field's tensor on the parameter's device, with the shape
  // given (the parameter's when empty) and the dtype given (the parameter's when nullopt) — or
  // nothing at all when the state_dict has no state for k (it had taken no step). Some fields
  // and not others is an error.
  std::vector<Tensor> state(size_t k, const std::vector<std::string>& fields, const std::vector<bool>& scalar,
                            const std::vector<DType>& dtypes) {
    size_t present = 0;
    for (const std::string& f : fields) present += sd_.contains(state_key(k, f));
    if (present == 0) return {};
    std::vector<Tensor> out;
    const Tensor& p = params_[k];
    for (size_t i = 0; i < fields.size(); ++i) {
      const Shape shape = scalar[i] ? Shape{} : p.shape();
      const Tensor& t = get(state_key(k, fields[i]), std::nullopt, shape, [&] {
        return msg("parameter ", k, " has shape ", shape_str(p.shape()));
      });
      out.push_back(t.to(dtypes[i]).to(p.device()).clone());
    }
    return out;
  }

  // Every entry must have been read: anything else is a key this optimizer does not write.
  void finish() const {
    std::vector<std::string> unexpected;
    for (const auto& [name, t] : sd_)
      if (!used_.count(name)) unexpected.push_back(name);
    if (unexpected.empty()) return;
    std::string list;
    for (const std::string& n : unexpected) list += (list.empty() ? "\"" : ", \"") + n + "\"";
    fail(msg("unexpected key(s) ", list, " (a state_dict of another optimizer, or of a parameter list "
             "longer than this one's?)"));
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(msg(who_, ".load_state_dict: ", what, "; nothing was loaded, the optimizer is unchanged"));
  }

 private:
  const Tensor& get(const std::string& key, std::optional<DType> dtype, const Shape& shape,
                    const std::function<std::string()>& hint = {}) {
    if (!sd_.contains(key))
      fail(msg("the state_dict has no \"", key, "\" (was it saved by another kind of optimizer?)"));
    const Tensor& t = sd_.at(key);
    if (dtype && t.dtype() != *dtype)
      fail(msg("\"", key, "\" is a ", to_string(t.dtype()), " tensor where a ", to_string(*dtype), " one belongs"));
    if (t.shape() != shape)
      fail(msg("\"", key, "\" has shape ", shape_str(t.shape()), " where ", shape_str(shape), " belongs",
               hint ? "; " + hint() : std::string()));
    used_.insert(key);
    return t;
  }

  const StateDict& sd_;
  std::string who_;
  const std::vector<Tensor>& params_;
  std::set<std::string> used_;
};

}  // namespace

// ---- SGD ----------------------------------------------------------------------------------------------

StateDict SGD::state_dict() const {
  StateDict sd;
  for (size_t k = 0; k < params_.size(); ++k)
    if (momentum_buffer_[k].defined()) sd.insert(state_key(k, "momentum_buffer"), momentum_buffer_[k]);
  sd.insert(kGroup + "lr", number(options.lr));
  sd.insert(kGroup + "momentum", number(options.momentum));
  sd.insert(kGroup + "dampening", number(options.dampening));
  sd.insert(kGroup + "weight_decay", number(options.weight_decay));
  sd.insert(kGroup + "nesterov", tensor(options.nesterov));
  write_params(sd, params_.size());
  return sd;
}

void SGD::load_state_dict(const StateDict& sd) {
  Reading r(sd, "SGD", params_);
  SGDOptions o;
  o.lr = r.scalar("lr");
  o.momentum = r.scalar("momentum");
  o.dampening = r.scalar("dampening");
  o.weight_decay = r.scalar("weight_decay");
  o.nesterov = r.flag("nesterov");
  std::vector<Tensor> buffers(params_.size());
  for (size_t k = 0; k < params_.size(); ++k) {
    std::vector<Tensor> s = r.state(k, {"momentum_buffer"}, {false}, {params_[k].dtype()});
    if (!s.empty()) buffers[k] = s[0];
  }
  r.finish();
  try {
    (void)SGD(params_, o);  // the constructor's checks of the values (a negative lr, Nesterov without momentum...)
  } catch (const Error& e) {
    r.fail(msg("its hyper-parameters are refused: ", e.what()));
  }
  // Everything checked: now take it.
  options = o;
  momentum_buffer_ = std::move(buffers);
}

// ---- Adam, AdamW --------------------------------------------------------------------------------------

StateDict Adam::state_dict() const {
  StateDict sd;
  for (size_t k = 0; k < params_.size(); ++k) {
    const State& s = state_[k];
    if (!s.step.defined()) continue;
    sd.insert(state_key(k, "step"), s.step);
    sd.insert(state_key(k, "exp_avg"), s.exp_avg);
    sd.insert(state_key(k, "exp_avg_sq"), s.exp_avg_sq);
  }
  sd.insert(kGroup + "lr", number(options.lr));
  sd.insert(kGroup + "betas", tensor({options.beta1, options.beta2}, kFloat64));
  sd.insert(kGroup + "eps", number(options.eps));
  sd.insert(kGroup + "weight_decay", number(options.weight_decay));
  write_params(sd, params_.size());
  return sd;
}

void Adam::load_state_dict(const StateDict& sd) {
  const char* name = decoupled_ ? "AdamW" : "Adam";
  Reading r(sd, name, params_);
  AdamOptions o;
  o.lr = r.scalar("lr");
  const std::vector<double> betas = r.numbers("betas", 2);
  o.beta1 = betas[0];
  o.beta2 = betas[1];
  o.eps = r.scalar("eps");
  o.weight_decay = r.scalar("weight_decay");
  std::vector<State> states(params_.size());
  for (size_t k = 0; k < params_.size(); ++k) {
    const DType dt = params_[k].dtype();
    std::vector<Tensor> s = r.state(k, {"step", "exp_avg", "exp_avg_sq"}, {true, false, false}, {kFloat32, dt, dt});
    if (!s.empty()) states[k] = State{s[0], s[1], s[2]};
  }
  r.finish();
  try {
    (void)Adam(params_, o, decoupled_, name);  // the constructor's checks of the values
  } catch (const Error& e) {
    r.fail(msg("its hyper-parameters are refused: ", e.what()));
  }
  options = o;
  state_ = std::move(states);
}

}  // namespace tandem::optim

// ---- RMSprop, Adagrad -----------------------------------------------------------------------------------
//
// RMSprop's state holds square_avg, and momentum_buffer / grad_avg only when momentum > 0 / centered,
// as PyTorch's does; its step (a Python number in PyTorch 1.13) is written as PyTorch 2 writes it,
// a float32 tensor. Adagrad's state exists for every parameter from the start.

namespace tandem::optim {

StateDict RMSprop::state_dict() const {
  StateDict sd;
  for (size_t k = 0; k < params_.size(); ++k) {
    const State& s = state_[k];
    if (!s.square_avg.defined()) continue;
    sd.insert(state_key(k, "step"), tensor(static_cast<float>(s.step)));
    sd.insert(state_key(k, "square_avg"), s.square_avg);
    if (s.momentum_buffer.defined()) sd.insert(state_key(k, "momentum_buffer"), s.momentum_buffer);
    if (s.grad_avg.defined()) sd.insert(state_key(k, "grad_avg"), s.grad_avg);
  }
  sd.insert(kGroup + "lr", number(options.lr));
  sd.insert(kGroup + "alpha", number(options.alpha));
  sd.insert(kGroup + "eps", number(options.eps));
  sd.insert(kGroup + "weight_decay", number(options.weight_decay));
  sd.insert(kGroup + "momentum", number(options.momentum));
  sd.insert(kGroup + "centered", tensor(options.centered));
  write_params(sd, params_.size());
  return sd;
}

void RMSprop::load_state_dict(const StateDict& sd) {
  Reading r(sd, "RMSprop", params_);
  RMSpropOptions o;
  o.lr = r.scalar("lr");
  o.alpha = r.scalar("alpha");
  o.eps = r.scalar("eps");
  o.weight_decay = r.scalar("weight_decay");
  o.momentum = r.scalar("momentum");
  o.centered = r.flag("centered");
  // The fields these hyper-parameters keep, all of them or none per parameter.
  std::vector<std::string> fields = {"step", "square_avg"};
  if (o.momentum > 0) fields.push_back("momentum_buffer");
  if (o.centered) fields.push_back("grad_avg");
  std::vector<State> states(params_.size());
  for (size_t k = 0; k < params_.size(); ++k) {
    const DType dt = params_[k].dtype();
    std::vector<bool> scalar(fields.size(), false);
    std::vector<DType> dtypes(fields.size(), dt);
    scalar[0] = true;
    dtypes[0] = kFloat32;
    std::vector<Tensor> s = r.state(k, fields, scalar, dtypes);
    if (s.empty()) continue;
    State& st = states[k];
    st.step = s[0].item();
    st.square_avg = s[1];
    size_t next = 2;
    if (o.momentum > 0) st.momentum_buffer = s[next++];
    if (o.centered) st.grad_avg = s[next++];
  }
  r.finish();
  try {
    (void)RMSprop(params_, o);  // the constructor's checks of the values
  } catch (const Error& e) {
    r.fail(msg("its hyper-parameters are refused: ", e.what()));
  }
  options = o;
  state_ = std::move(states);
}

StateDict Adagrad::state_dict() const {
  StateDict sd;
  for (size_t k = 0; k < params_.size(); ++k) {
    sd.insert(state_key(k, "step"), state_[k].step);
    sd.insert(state_key(k, "sum"), state_[k].sum);
  }
  sd.insert(kGroup + "lr", number(options.lr));
  sd.insert(kGroup + "lr_decay", number(options.lr_decay));
  sd.insert(kGroup + "eps", number(options.eps));
  sd.insert(kGroup + "weight_decay", number(options.weight_decay));
  sd.insert(kGroup + "initial_accumulator_value", number(options.initial_accumulator_value));
  write_params(sd, params_.size());
  return sd;
}

void Adagrad::load_state_dict(const StateDict& sd) {
  Reading r(sd, "Adagrad", params_);
  AdagradOptions o;
  o.lr = r.scalar("lr");
  o.lr_decay = r.scalar("lr_decay");
  o.eps = r.scalar("eps");
  o.weight_decay = r.scalar("weight_decay");
  o.initial_accumulator_value = r.scalar("initial_accumulator_value");
  std::vector<State> states;
  for (size_t k = 0; k < params_.size(); ++k) {
    const Tensor& p = params_[k];
    std::vector<Tensor> s = r.state(k, {"step", "sum"}, {true, false}, {kFloat32, p.dtype()});
    // A state_dict without this parameter's state (PyTorch's always has it) starts it afresh.
    if (s.empty())
      s = {zeros({}, kFloat32, p.device()), full(p.shape(), o.initial_accumulator_value, p.dtype(), p.device())};
    states.push_back({s[0], s[1]});
  }
  r.finish();
  try {
    (void)Adagrad(params_, o);
  } catch (const Error& e) {
    r.fail(msg("its hyper-parameters are refused: ", e.what()));
  }
  options = o;
  state_ = std::move(states);
}

}  // namespace tandem::optim
