// graph/executor.cpp — the steps of a run, one function per kind (see graph/executor.h).
#include "graph/executor.h"

#include "core/ops.h"
#include "core/ops/copy.h"
#include "graph/control_flow.h"
#include "graph/session.h"

namespace tandem::graph {

// ---- the run's state --------------------------------------------------------------------------------

Run::Run(const Plan& p, const SessionOptions& o, std::map<const Node*, Tensor>& vars, const FeedDict& feeds)
    : plan(p), options(o), variables(vars), values(p.steps.size()), fed(p.steps.size(), false) {
  // The plan keeps only the feeds its fetches need (pruning drops the others), so each fed step
  // finds its value by node, not by position in the feed dict.
  for (int f : plan.feeds) {
    for (const auto& [out, value] : feeds)
      if (out.node() == plan.steps[f].source) values[f] = options.device ? value.to(*options.device) : value;
    fed[f] = true;
  }
}

std::vector<std::optional<ValueInfo>> Run::sources() const {
  std::vector<std::optional<ValueInfo>> out(plan.steps.size());
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    if (fed[i]) {
      out[i] = ValueInfo{meta_of(values[i]), values[i].device()};
    } else if (plan.steps[i].kind == Kind::variable) {
      auto it = variables.find(plan.steps[i].source);
      if (it != variables.end()) out[i] = ValueInfo{meta_of(it->second), it->second.device()};
    }
  }
  return out;
}

std::vector<int64_t> Run::signature() const {
  std::vector<int64_t> sig;
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    if (fed[i]) {
      append_signature(sig, i, meta_of(values[i]), values[i].device());
    } else if (plan.steps[i].kind == Kind::variable) {
      auto it = variables.find(plan.steps[i].source);
      if (it != variables.end()) append_signature(sig, i, meta_of(it->second), it->second.device());
    }
  }
  return sig;
}

void Run::start() {
  // Liveness: with memory planning on, a value is dropped as soon as its last reader has run. With
  // a memory plan, a read of a value's shape alone does not count (the plan knows every shape).
  // Values whose storage belongs to someone else (fed, constants, variables) are never dropped:
  // dropping them would free nothing. (With an arena, worked out on its first run and kept.)
  if (arena && !arena->readers.empty()) {
    remaining_ = arena->readers;
    keep_ = arena->kept;
    return;
  }
  const size_t n = plan.steps.size();
  remaining_.assign(n, 0);
  for (const Step& s : plan.steps)
    for (size_t k = 0; k < s.inputs.size(); ++k)
      if (!(arena && reads_only_shape(s, k))) ++remaining_[s.inputs[k]];
  keep_.assign(n, !options.plan_memory);
  for (int f : plan.fetches) keep_[f] = true;
  for (size_t i = 0; i < n; ++i) {
    const Kind k = plan.steps[i].kind;
    if (fed[i] || k == Kind::constant || k == Kind::variable || k == Kind::assign || k == Kind::assign_add ||
        k == Kind::update)
      keep_[i] = true;
  }
  if (arena) {
    arena->readers = remaining_;
    arena->kept = keep_;
  }
}

void Run::release_after(size_t i) {
  if (!options.plan_memory) return;
  const Step& s = plan.steps[i];
  for (size_t k = 0; k < s.inputs.size(); ++k) {
    if (arena && reads_only_shape(s, k)) continue;
    const int j = s.inputs[k];
    if (--remaining_[j] == 0 && !keep_[j]) values[j] = Tensor();
  }
  if (remaining_[i] == 0 && !keep_[i]) values[i] = Tensor();  // read by no step: ran for its effects
}

namespace {

// A fetched value that shares a variable's Storage is handed out as a handle of its own. The
// assign path writes into a variable in place only when nothing else holds its Storage; the
// caller's handle now counts, so a later assign gives the variable a fresh tensor and the fetched
// value stays as it was (copy on write) — as a fetched TF1 value is a snapshot.
Tensor as_result(const Tensor& value, const std::map<const Node*, Tensor>& variables) {
  if (!value.defined()) return value;
  for (const auto& [node, v] : variables)
    if (v.defined() && v.storage() == value.storage()) {
      auto impl = std::make_shared<TensorImpl>(value.impl());
      impl->autograd.reset();
      return Tensor(std::move(impl));
    }
  return value;
}

[[noreturn]] void uninitialized(const Node* var, const std::string& where) {
  throw Error(msg("Attempting to use uninitialized value ", var->name, where, ". Run the initializer "
                  "first: session.run(global_variables_initializer()); a variable created after "
                  "that run needs it run again"));
}

}  // namespace

std::vector<Tensor> Run::results() const {
  std::vector<Tensor> out;
  for (int f : plan.fetches) {
    const Step& s = plan.steps[f];
    if (s.kind == Kind::variable && !values[f].defined())
      uninitialized(s.source, "\n  [[" + s.source->describe() + "]]\n ");
    out.push_back(s.kind == Kind::no_op ? Tensor() : as_result(values[f], variables));
  }
  return out;
}

// ---- the inputs and the output buffer of a step ----------------------------------------------------

namespace {

// A stand-in for a value of meta m that was freed: one element, broadcast to m's shape (stride 0
// everywhere), so it has the shape and dtype and nothing else. The element is one shared 0-dim
// tensor per dtype, made at start-up: a stand-in allocates no tensor memory during a run.
const Tensor kElement[4] = {Tensor::empty({}, kFloat32), Tensor::empty({}, kFloat64),
                            Tensor::empty({}, kInt64), Tensor::empty({}, kBool)};

Tensor stand_in(const Meta& m) {
  for (const Tensor& e : kElement)
    if (e.dtype() == m.dtype) return e.expand(m.shape);
  return Tensor::empty({}, m.dtype).expand(m.shape);
}

// Step i's input values, into `in`. An input read only for its shape whose value is already freed
// (the memory plan frees a forward activation after its last *value* reader) gets a stand-in with
// that shape — which is all a shape-reading op looks at.
void gather_inputs(const Run& run, size_t i, std::vector<Tensor>& in) {
  const Step& s = run.plan.steps[i];
  in.clear();
  for (size_t k = 0; k < s.inputs.size(); ++k) {
    const int j = s.inputs[k];
    const Tensor& value = run.values[j];
    if (value.defined()) {
      in.push_back(value);
    } else if (run.arena && reads_only_shape(s, k)) {
      in.push_back(stand_in(run.arena->memory.metas[j]));
    } else {
      // Reading a variable that was never given a value is TF's "uninitialized value" error (an
      // Assign that initializes it does not read it).
      const Step& from = run.plan.steps[j];
      if (from.kind == Kind::variable && !(s.kind == Kind::assign && k == 0))
        uninitialized(from.source, " (" + from.source->describe() + ")");
      in.push_back(value);
    }
  }
}

// The buffer a compute step writes into: its slot when the memory plan gives it one, else new.
Tensor output_buffer(const Run& run, size_t i, const std::vector<Tensor>& in) {
  const Step& s = run.plan.steps[i];
  if (run.arena) {
    const MemoryPlan& mp = run.arena->memory;
    const int over = mp.writes_over[i];
    if (auto slot = run.arena->slot_for(i, mp.metas[i], over >= 0 ? run.values[over] : Tensor())) return *slot;
    return Tensor::empty(mp.metas[i].shape, mp.metas[i].dtype, mp.devices[i]);
  }
  std::vector<Meta> metas;
  for (const Tensor& t : in) metas.push_back(meta_of(t));
  const Meta m = runtime_meta(s, metas);
  return Tensor::empty(m.shape, m.dtype, in.empty() ? Device::cpu() : in[0].device());
}

// ---- one function per kind of step -------------------------------------------------------------------

// A catalogue op: a view (no buffer), a fused or otherwise replaced kernel, or the op's own kernel —
// the one for the inputs' device, exactly as eager mode's call() would pick — writing into its slot.
Tensor run_op(Run& run, size_t i, std::vector<Tensor>& in) {
  const Step& s = run.plan.steps[i];
  if (s.op->is_view() && !s.kernel_override) {
    Tensor v = call(*s.op, in, s.attrs);
    if (v.storage() != in[0].storage()) ++run.kernels;  // a view that had to copy (reshape)
    return v;
  }
  // BEGIN SOLUTION a3.t1
  Tensor out = output_buffer(run, i, in);
  if (s.kernel_override) {
    s.kernel_override(in, out);
  } else {
    check_same_device(*s.op, in, out.device());
    kernel_for(*s.op, out.device())(in, s.attrs, out);
  }
  ++run.kernels;
  return out;
  // END SOLUTION
}

// variable = value, or variable += value. Writes in place when no other value aliases the
// variable's storage; otherwise the variable gets a fresh tensor, so values already computed from
// the old one stay as they were. (In-place writes are CPU loops; a variable on another device
// always gets a new tensor.)
Tensor run_assign(Run& run, size_t i, std::vector<Tensor>& in) {
  const Step& s = run.plan.steps[i];
  const Node* var = run.plan.steps[s.inputs[0]].source;
  auto it = run.variables.find(var);
  const bool adds = s.kind == Kind::assign_add;
  if (s.kernel_override) {
    // An update fused with the product that computes its increment
    // (graph/passes/update_fusion.cpp): the kernel adds into the variable's tensor, in place when
    // nothing else holds its storage, else into a copy of it (matmul_accumulate: cuBLAS with
    // beta = 1 on the GPU).
    if (it == run.variables.end()) uninitialized(var, " in " + s.source->type);
    const bool in_place = it->second.storage().use_count() == 1;
    Tensor target = in_place ? it->second : it->second.clone();
    s.kernel_override(in, target);
    if (!in_place || target.impl_ptr() != it->second.impl_ptr()) it->second = target.to(var->meta.dtype);
    ++run.kernels;
    return it->second;
  }
  const Tensor& value = in[1];
  if (value.shape() != var->meta.shape)
    throw ShapeError(msg(s.source->type, ": cannot assign a value of shape ", shape_str(value.shape()),
                         " to variable '", var->name, "' of shape ", shape_str(var->meta.shape)));
  if (adds && it == run.variables.end()) uninitialized(var, " in AssignAdd");
  if (it != run.variables.end() && it->second.storage().use_count() == 1 && it->second.device().is_cpu() &&
      value.device().is_cpu()) {
    if (adds) {
      it->second.add_(value);
    } else {
      copy_into(value, it->second);
      it->second.storage()->version++;
    }
    ++run.kernels;
    return it->second;
  }
  Tensor fresh = adds ? it->second + value : value;
  if (adds) ++run.kernels;
  fresh = fresh.to(var->meta.dtype);
  if (run.options.device) fresh = fresh.to(*run.options.device);
  // Never share the assigned value's buffer: it may be a slot, a feed or a constant.
  if (fresh.storage() == value.storage()) fresh = fresh.clone();
  ++run.kernels;
  return run.variables[var] = fresh;
}

// An optimizer step (core/ops/update.cpp): the kernel writes the parameter and its state, which are
// variables, in place — on any device, since it is the device's own kernel. Copy on write, as for
// assign: a variable whose storage someone else holds (a fetched value, a view still to be read) is
// first given a copy, so what they hold stays as it was. Then the step runs exactly as eager mode's
// optimizers run it (call_update: the checks, the kernel, the version counters).
Tensor run_update(Run& run, size_t i, std::vector<Tensor>& in) {
  const Step& s = run.plan.steps[i];
  for (int k = 0; k < s.op->updates; ++k) {
    const Node* var = run.plan.steps[s.inputs[k]].source;
    auto it = run.variables.find(var);
    if (it == run.variables.end()) uninitialized(var, " in " + s.source->type);  // fed, but never initialized
    Tensor& state = it->second;
    if (state.storage().use_count() > 1 || !state.is_contiguous()) state = state.clone();
    in[k] = state;
  }
  if (static_cast<int>(in.size()) == s.op->arity) {
    call_update(*s.op, in, s.attrs);
  } else {  // a learning rate that is a tensor (optim/train.h): its value now, in place of attrs.lr
    Attrs attrs = s.attrs;
    attrs.lr = in.back().item();
    in.pop_back();
    call_update(*s.op, in, attrs);
  }
  ++run.kernels;
  return in[0];
}

// One result of a control step (graph/control_flow.h), handed over: each is taken exactly once.
Tensor take_result(Run& run, size_t i) {
  const Step& s = run.plan.steps[i];
  std::vector<Tensor>& results = run.results_of.at(static_cast<size_t>(s.inputs[0]));
  return std::move(results.at(static_cast<size_t>(s.attrs.dim)));
}

Tensor run_variable(const Run& run, size_t i) {
  // An uninitialized variable is only an error when something reads it (an Assign that initializes
  // it does not): inputs_of() checks.
  auto it = run.variables.find(run.plan.steps[i].source);
  return it == run.variables.end() ? Tensor() : it->second;
}

}  // namespace

void run_step(Run& run, size_t i) {
  const Step& s = run.plan.steps[i];
  // One input vector for the whole run, refilled per step: a run of a small graph is mostly such
  // bookkeeping, and a fresh vector per step was a visible part of it.
  std::vector<Tensor>& in = run.inputs;
  try {
    gather_inputs(run, i, in);
    switch (s.kind) {
      case Kind::placeholder:
        throw Error(msg("You must feed a value for placeholder tensor '", s.source->name, "' with dtype ",
                        to_string(s.meta.dtype), " and shape ", shape_str(s.meta.shape)));
      case Kind::constant: run.values[i] = s.value; break;
      case Kind::variable: run.values[i] = run_variable(run, i); break;
      case Kind::assign:
      case Kind::assign_add: run.values[i] = run_assign(run, i, in); break;
      case Kind::update: run.values[i] = run_update(run, i, in); break;
      case Kind::no_op: break;
      case Kind::op: run.values[i] = run_op(run, i, in); break;
      case Kind::control: run.results_of[i] = run_control(run, i, in); break;
      case Kind::result: run.values[i] = take_result(run, i); break;
    }
    // The static shape is a promise made when the node was declared (with ? where nothing was
    // known): a value that breaks it would flow on, silently wrong, so the run stops here.
    if (run.values[i].defined() && !fits_static_shape(s.meta.shape, run.values[i].shape()))
      throw ShapeError(msg(s.label, " computed a value of shape ", shape_str(run.values[i].shape()),
                           ", but the graph declared its shape ", shape_str(s.meta.shape)));
    in.clear();  // before liveness drops values: a slot must not stay held by this step's inputs
  } catch (const Error& e) {
    in.clear();
    // Add which node failed and where the user created it — the improvement over TF1's "far from
    // your line" errors.
    rethrow_with_context(e, s.source ? msg("\n  [[", s.source->describe(), "]]") : std::string());
  }
}

}  // namespace tandem::graph
