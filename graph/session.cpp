// graph/session.cpp — the executor: feeds in, steps in order, fetches out.
//
// One run, in order:
//   1. plan_for():  lower the graph to a Plan for these fetches and feeds and run the passes
//                   (cached per set of fetches and feeds);
//   2. arena_for(): with memory planning on, the MemoryPlan for the shapes fed this time — runtime
//                   shape inference and slot assignment (graph/passes/memory_plan.cpp) — with the
//                   slots' Storage, cached per shape signature and kept from run to run;
//   3. the loop:    each step once, in order. A compute step's kernel writes straight into its slot
//                   (or into a fresh buffer without a plan); a value is dropped after its last reader;
//   4. statistics:  nodes executed, kernels launched, buffers allocated, peak bytes (RunStats).
//
// Read next: graph/gradients.h.
#include "graph/session.h"

#include <algorithm>

#include "autograd/grad_mode.h"
#include "core/factories.h"
#include "graph/passes.h"
#include "graph/run_arguments.h"
#include "core/ops.h"
#include "core/ops/copy.h"

namespace tandem::graph {

namespace {

// The memory plan for one shape signature, and the buffers of its slots. A slot's Storage is made
// on first use and then kept: the next run with the same shapes writes into the same bytes.
struct Arena {
  std::vector<int64_t> signature;
  MemoryPlan memory;
  std::vector<std::shared_ptr<Storage>> slots;
};

// How many shape signatures one plan keeps (most recently used first), like a bounded trace cache.
constexpr size_t kMaxSignatures = 4;

}  // namespace

struct Session::CachedPlan {
  Plan plan;
  // Memory plans by shape signature. A cache that run() fills, hence mutable.
  mutable std::vector<std::shared_ptr<Arena>> arenas;
};

Session::Session(Graph& g, SessionOptions options) : graph_(g), options_(options) {}

namespace {

// Re-throws an error raised while running a step, adding which node failed and where the user
// created it — the improvement over TF1's "far from your line" errors.
[[noreturn]] void rethrow_with_node(const Error& e, const Node* node) {
  const std::string where = node ? msg("\n  [[", node->describe(), "]]") : std::string();
  if (dynamic_cast<const ShapeError*>(&e)) throw ShapeError(e.what() + where);
  if (dynamic_cast<const DTypeError*>(&e)) throw DTypeError(e.what() + where);
  if (dynamic_cast<const IndexError*>(&e)) throw IndexError(e.what() + where);
  if (dynamic_cast<const OutOfMemoryError*>(&e)) throw OutOfMemoryError(e.what() + where);
  throw Error(e.what() + where);
}

// ---- memory plans by shape signature ------------------------------------------------------------

// The signature of a run: which steps the run provides values for (feeds, initialized variables)
// and their dtypes, devices and shapes, flattened into one key.
std::vector<int64_t> signature_of(const std::vector<std::optional<ValueInfo>>& sources) {
  std::vector<int64_t> sig;
  for (size_t i = 0; i < sources.size(); ++i) {
    if (!sources[i]) continue;
    const ValueInfo& v = *sources[i];
    sig.insert(sig.end(), {static_cast<int64_t>(i), static_cast<int64_t>(v.meta.dtype),
                           static_cast<int64_t>(v.device.type), v.device.index,
                           static_cast<int64_t>(v.meta.shape.size())});
    sig.insert(sig.end(), v.meta.shape.begin(), v.meta.shape.end());
  }
  return sig;
}

// The arena for this run's shapes: found in the cache, or planned now. Null when the shapes cannot
// be inferred (a missing feed, a shape error): the run then goes on without a plan and stops at the
// failing step with that step's own error.
std::shared_ptr<Arena> arena_for(const Plan& plan, std::vector<std::shared_ptr<Arena>>& arenas,
                                 const std::vector<Tensor>& values, const std::vector<bool>& is_fed,
                                 const std::map<const Node*, Tensor>& variables) {
  std::vector<std::optional<ValueInfo>> sources(plan.steps.size());
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    if (is_fed[i]) {
      sources[i] = ValueInfo{meta_of(values[i]), values[i].device()};
    } else if (plan.steps[i].kind == Kind::variable) {
      auto it = variables.find(plan.steps[i].source);
      if (it != variables.end()) sources[i] = ValueInfo{meta_of(it->second), it->second.device()};
    }
  }
  std::vector<int64_t> sig = signature_of(sources);
  for (size_t k = 0; k < arenas.size(); ++k)
    if (arenas[k]->signature == sig) {
      std::rotate(arenas.begin(), arenas.begin() + static_cast<std::ptrdiff_t>(k),
                  arenas.begin() + static_cast<std::ptrdiff_t>(k) + 1);  // most recent first
      return arenas.front();
    }
  auto arena = std::make_shared<Arena>();
  try {
    arena->memory = plan_memory(plan, sources);
  } catch (const Error&) {
    return nullptr;
  }
  arena->signature = std::move(sig);
  arena->slots.resize(arena->memory.slot_bytes.size());
  arenas.insert(arenas.begin(), arena);
  if (arenas.size() > kMaxSignatures) arenas.pop_back();
  return arena;
}

// A tensor over a slot's bytes, contiguous, with the step's shape. A slot whose Storage is still
// held by anyone else (a tensor that escaped the plan: say, a replaced kernel kept a view of its
// output) is never written over: it gets a new Storage, and the old one lives on with its holder.
// The one holder allowed is `overwritten`: the input an in-place step writes over, which dies here.
Tensor slot_tensor(std::shared_ptr<Storage>& slot, size_t bytes, Device device, const Meta& meta,
                   const Tensor& overwritten) {
  const bool only_input_holds_it =
      slot.use_count() == 2 && overwritten.defined() && overwritten.storage() == slot;
  if (!slot || (slot.use_count() > 1 && !only_input_holds_it)) slot = std::make_shared<Storage>(bytes, device);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = slot;
  impl->shape = meta.shape;
  impl->strides = contiguous_strides(meta.shape);
  impl->dtype = meta.dtype;
  return Tensor(std::move(impl));
}

// ---- running one step -----------------------------------------------------------------------------

// What call() (core/op.cpp) does for a compute op, minus the allocation: the kernel of the inputs'
// device writes into `out`, a buffer the executor chose (a slot, or a fresh tensor).
void run_kernel(const OpDef& op, std::span<const Tensor> in, const Attrs& attrs, Tensor& out) {
  check_same_device(op, in, out.device());
  kernel_for(op, out.device())(in, attrs, out);
}

// Sets every element of a contiguous buffer to v (zeros_like, ones_like, count_ratio).
void fill(const Tensor& out, double v) {
  if (out.device().is_cpu()) {
    visit_dtype(out.dtype(), [&]<typename T>() {
      T* p = static_cast<T*>(out.raw_data());
      std::fill(p, p + out.numel(), static_cast<T>(v));
    });
  } else {  // other devices: fill on the host, then one copy
    const Tensor host = full(out.shape(), v, out.dtype());
    copy_bytes(out.raw_data(), out.device(), host.raw_data(), Device::cpu(), out.nbytes());
  }
}

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

}  // namespace

Tensor Session::variable_value(const Output& variable) const {
  auto it = variables_.find(variable.node());
  if (it == variables_.end())
    throw Error(msg("Attempting to use uninitialized value ", variable.node()->name, "; run the "
                    "initializer (global_variables_initializer()) in this session first"));
  return as_result(it->second, variables_);  // a snapshot: later runs do not change it
}

const Session::CachedPlan& Session::plan_for(const std::vector<Output>& fetches,
                                             const std::vector<Node*>& fed) {
  std::vector<const Node*> key;
  for (const Output& f : fetches) key.push_back(f.node());
  key.push_back(nullptr);  // separates fetches from feeds in the key
  for (const Node* n : fed) key.push_back(n);
  // A plan depends on the graph as it was when planned: replan when nodes were added since.
  key.push_back(reinterpret_cast<const Node*>(static_cast<intptr_t>(graph_.size())));
  auto found = plans_.find(key);
  if (found != plans_.end()) return *found->second;
  // Plans made before the graph grew can never be asked for again: drop them and their buffers.
  const size_t erased = std::erase_if(plans_, [&](const auto& entry) { return entry.first.back() != key.back(); });
  if (erased > 0) last_plan_ = nullptr;
  auto cached = std::make_shared<CachedPlan>();
  cached->plan = lower(graph_, fetches, fed);
  optimize(cached->plan, options_);
  // A session placed on a device keeps its constants there: copied once, here, not on every run.
  // (After the passes: constant folding and CSE work on the host values.)
  if (options_.device)
    for (Step& s : cached->plan.steps)
      if (s.kind == Kind::constant && s.value.device() != *options_.device)
        s.value = s.value.to(*options_.device);
  plans_[key] = cached;
  return *cached;
}

Tensor Session::run(const Output& fetch, const FeedDict& feeds) { return run(std::vector<Output>{fetch}, feeds)[0]; }

std::vector<Tensor> Session::run(const std::vector<Output>& fetches, const FeedDict& feeds) {
  // ---- check what we were given (graph/run_arguments.h) ------------------------------------------
  const std::vector<Node*> fed = check_run_arguments(graph_, fetches, feeds);

  const CachedPlan& cached = plan_for(fetches, fed);
  const Plan& plan = cached.plan;
  last_plan_ = &plan;
  no_grad no_recording;  // a session computes values; the tape is eager mode's business
  const size_t n = plan.steps.size();

  std::vector<Tensor> values(n);
  std::vector<bool> is_fed(n, false);
  // The plan keeps only the feeds its fetches need (pruning drops the others), so each fed step
  // finds its value by node, not by position in the feed dict.
  for (int f : plan.feeds) {
    const Tensor* value = nullptr;
    for (const auto& [out, v] : feeds)
      if (out.node() == plan.steps[f].source) value = &v;
    if (!value) throw Error(msg("Session::run: no value found for the fed step '", plan.steps[f].label, "'"));
    values[f] = options_.device ? value->to(*options_.device) : *value;
    is_fed[f] = true;
  }

  // ---- the memory plan for these shapes (null: run without one) ------------------------------------
  const std::shared_ptr<Arena> arena =
      options_.plan_memory ? arena_for(plan, cached.arenas, values, is_fed, variables_) : nullptr;
  const MemoryPlan* mp = arena ? &arena->memory : nullptr;

  // ---- statistics: count from here ------------------------------------------------------------------
  // peak_bytes is measured above what was in use before the run, except that the slots this plan
  // kept from an earlier run count as the run's own memory (they are what it computes in): so a
  // second run reports the same peak as the first, only without allocating.
  stats_ = RunStats{};
  stats_.nodes_in_graph = graph_.size();
  stats_.steps_planned = static_cast<int64_t>(n);
  constexpr Device::Type kTypes[2] = {Device::Type::cpu, Device::Type::cuda};
  int64_t baseline[2];
  for (int t = 0; t < 2; ++t) {
    reset_peak_memory_stats(kTypes[t]);
    baseline[t] = memory_stats(kTypes[t]).bytes_in_use;
  }
  if (arena)
    for (const auto& slot : arena->slots)
      if (slot && slot.use_count() == 1) baseline[static_cast<int>(slot->device().type)] -= static_cast<int64_t>(slot->nbytes());

  // Liveness: with memory planning on, a value is dropped as soon as its last reader has run. With
  // a memory plan, a read of a value's shape alone does not count (the plan knows every shape).
  // Values whose storage belongs to someone else (fed, constants, variables) are never dropped:
  // dropping them would free nothing.
  std::vector<int> remaining(n, 0);
  for (const Step& s : plan.steps)
    for (size_t k = 0; k < s.inputs.size(); ++k)
      if (!(mp && reads_only_shape(s, k))) ++remaining[s.inputs[k]];
  std::vector<bool> keep(n, !options_.plan_memory);
  for (int f : plan.fetches) keep[f] = true;
  for (size_t i = 0; i < n; ++i) {
    const Kind k = plan.steps[i].kind;
    if (is_fed[i] || k == Kind::constant || k == Kind::variable || k == Kind::assign || k == Kind::assign_add ||
        k == Kind::update)
      keep[i] = true;
  }

  // ---- execute ---------------------------------------------------------------------------------------
  // One `in` and `in_meta` for the whole run, refilled per step: a run of a small graph is mostly
  // such bookkeeping, and two fresh vectors per step were a visible part of it. An op step with a
  // memory plan reads its shapes from the plan, so it skips copying the inputs' metas.
  std::vector<Tensor> in;
  std::vector<Meta> in_meta;  // the inputs' shapes: from the plan, or from the values themselves
  for (size_t i = 0; i < n; ++i) {
    const Step& s = plan.steps[i];
    if (is_fed[i]) continue;
    in.clear();
    in_meta.clear();
    const bool need_meta = !mp || s.kind != Kind::op;
    for (int j : s.inputs) {
      in.push_back(values[j]);
      if (need_meta) in_meta.push_back(mp ? mp->metas[j] : values[j].defined() ? meta_of(values[j]) : Meta{});
    }
    // The buffer a compute step writes into: its slot when the memory plan gives it one, else new.
    auto meta = [&] { return mp ? mp->metas[i] : runtime_meta(s, in_meta); };
    auto output_buffer = [&](const Meta& m) {
      if (mp && mp->slot_of_step[i] >= 0) {
        const int k = mp->slot_of_step[i];
        const int over = mp->writes_over[i];
        return slot_tensor(arena->slots[k], mp->slot_bytes[k], mp->slot_devices[k], m,
                           over >= 0 ? values[over] : Tensor());
      }
      const Device device = mp ? mp->devices[i] : in.empty() || !in[0].defined() ? Device::cpu() : in[0].device();
      return Tensor::empty(m.shape, m.dtype, device);
    };
    try {
      const bool initializes = s.kind == Kind::assign;
      for (size_t k = initializes ? 1 : 0; k < in.size(); ++k)
        if (!in[k].defined() && plan.steps[s.inputs[k]].kind == Kind::variable)
          throw Error(msg("Attempting to use uninitialized value ", plan.steps[s.inputs[k]].source->name,
                          " (", plan.steps[s.inputs[k]].source->describe(), "). Run the initializer "
                          "first: session.run(global_variables_initializer()); a variable created after "
                          "that run needs it run again"));
      switch (s.kind) {
        case Kind::placeholder:
          throw Error(msg("You must feed a value for placeholder tensor '", s.source->name, "' with dtype ",
                          to_string(s.meta.dtype), " and shape ", shape_str(s.meta.shape)));
        case Kind::constant:
          values[i] = s.value;
          break;
        case Kind::variable: {
          // An uninitialized variable is only an error when something reads it (an Assign that
          // initializes it does not): see the check on inputs above.
          auto it = variables_.find(s.source);
          values[i] = it == variables_.end() ? Tensor() : it->second;
          break;
        }
        case Kind::assign:
        case Kind::assign_add: {
          const Node* var = plan.steps[s.inputs[0]].source;
          if (s.kernel_override) {
            // An update fused with the product that computes its increment
            // (graph/passes/update_fusion.cpp): the kernel adds into the variable's tensor,
            // in place when nothing else holds its storage, else into a copy of it.
            auto it = variables_.find(var);
            if (it == variables_.end())
              throw Error(msg("Attempting to use uninitialized value ", var->name, " in ", s.source->type));
            // (matmul_accumulate adds into it on either device: cuBLAS with beta = 1 on the GPU.)
            const bool in_place = it->second.storage().use_count() == 1;
            Tensor target = in_place ? it->second : it->second.clone();
            s.kernel_override(in, target);
            if (!in_place || target.impl_ptr() != it->second.impl_ptr())
              variables_[var] = target.to(var->meta.dtype);
            ++stats_.kernels_launched;
            values[i] = variables_[var];
            break;
          }
          const Tensor& value = in[1];
          if (value.shape() != var->meta.shape)
            throw ShapeError(msg(s.source->type, ": cannot assign a value of shape ", shape_str(value.shape()),
                                 " to variable '", var->name, "' of shape ", shape_str(var->meta.shape)));
          auto it = variables_.find(var);
          if (s.kind == Kind::assign_add && it == variables_.end())
            throw Error(msg("Attempting to use uninitialized value ", var->name, " in AssignAdd"));
          // Write in place when no other value aliases the variable's storage; otherwise give the
          // variable a fresh tensor, so values already computed from the old one stay as they were.
          // (In-place writes are CPU loops; a variable on another device always gets a new tensor.)
          if (it != variables_.end() && it->second.storage().use_count() == 1 &&
              it->second.device().is_cpu() && value.device().is_cpu()) {
            if (s.kind == Kind::assign_add) {
              it->second.add_(value);
            } else {
              copy_into(value, it->second);
              it->second.storage()->version++;
            }
            ++stats_.kernels_launched;
          } else {
            Tensor fresh = s.kind == Kind::assign_add ? it->second + value : value;
            if (s.kind == Kind::assign_add) ++stats_.kernels_launched;
            fresh = fresh.to(var->meta.dtype);
            if (options_.device) fresh = fresh.to(*options_.device);
            // Never share the assigned value's buffer: it may be a slot, a feed or a constant.
            if (fresh.storage() == value.storage()) fresh = fresh.clone();
            ++stats_.kernels_launched;
            variables_[var] = fresh;
          }
          values[i] = variables_[var];
          break;
        }
        case Kind::update: {
          // An optimizer step (core/ops/update.cpp): the kernel writes the parameter and its state,
          // which are variables, in place — on any device, since it is the device's own kernel.
          // Copy on write, as for assign: a variable whose storage someone else holds (a fetched
          // value, a view still to be read) is first given a copy, so what they hold stays as it
          // was. Then the step runs exactly as eager mode's optimizers run it (call_update: the
          // checks, the kernel, the version counters).
          for (int k = 0; k < s.op->updates; ++k) {
            const Node* var = plan.steps[s.inputs[k]].source;
            auto it = variables_.find(var);
            if (it == variables_.end())  // fed, say, but never initialized in this session
              throw Error(msg("Attempting to use uninitialized value ", var->name, " in ", s.source->type));
            Tensor& state = it->second;
            if (state.storage().use_count() > 1 || !state.is_contiguous()) state = state.clone();
            in[k] = state;
          }
          call_update(*s.op, in, s.attrs);
          ++stats_.kernels_launched;
          values[i] = in[0];
          break;
        }
        case Kind::identity:
        case Kind::stop_gradient:
          values[i] = in[0];
          break;
        case Kind::no_op:
          break;
        case Kind::add_n: {
          if (in.size() == 1) {
            values[i] = in[0];
            break;
          }
          // The whole sum in one buffer: out = x0 + x1, then out = out + xk. An elementwise kernel
          // may write over an input laid out exactly like its output (each element is read before
          // it is written, at the same index). When x0 + x1 is not yet the full shape or dtype
          // (broadcasting inputs), out starts as a broadcasting copy of x0 instead.
          Tensor out = output_buffer(meta());
          const Meta first[2] = {in_meta[0], in_meta[1]};
          const Meta m01 = ops::add.shape(std::span<const Meta>(first, 2), {});
          size_t k = 1;
          if (m01.shape == out.shape() && m01.dtype == out.dtype()) {
            run_kernel(ops::add, std::span<const Tensor>(in.data(), 2), {}, out);
            k = 2;
          } else {
            out.copy_(in[0]);  // a broadcasting copy, with the kernel of out's device
          }
          ++stats_.kernels_launched;
          for (; k < in.size(); ++k) {
            const Tensor pair[2] = {out, in[k]};
            run_kernel(ops::add, pair, {}, out);
            ++stats_.kernels_launched;
          }
          values[i] = out;
          break;
        }
        case Kind::sum_to_like:
          if (runtime_alias(s, in_meta) == 0) {
            values[i] = in[0];
          } else {
            Attrs target;
            target.dims = in_meta[1].shape;
            Tensor out = output_buffer(meta());
            run_kernel(ops::sum_to, std::span<const Tensor>(in.data(), 1), target, out);
            values[i] = out;
            ++stats_.kernels_launched;
          }
          break;
        case Kind::expand_like:
          values[i] = in_meta[0].shape == in_meta[1].shape ? in[0] : expand(in[0], in_meta[1].shape);
          break;
        case Kind::reshape_like:
          values[i] = reshape(in[0], in_meta[1].shape);
          if (values[i].storage() != in[0].storage()) ++stats_.kernels_launched;  // it had to copy
          break;
        case Kind::zeros_like:
        case Kind::ones_like: {
          Tensor out = output_buffer(meta());
          fill(out, s.kind == Kind::ones_like ? 1.0 : 0.0);
          values[i] = out;
          ++stats_.kernels_launched;
          break;
        }
        case Kind::count_ratio: {
          const int64_t den = numel(in_meta[1].shape);
          Tensor out = output_buffer(meta());
          fill(out, den == 0 ? 0.0 : static_cast<double>(numel(in_meta[0].shape)) / static_cast<double>(den));
          values[i] = out;
          ++stats_.kernels_launched;
          break;
        }
        case Kind::op:
          if (s.kernel_override) {  // a fused loop (or another replaced kernel): same buffer rules
            Tensor out = output_buffer(meta());
            s.kernel_override(in, out);
            values[i] = out;
            ++stats_.kernels_launched;
          } else if (s.op->is_view()) {
            values[i] = call(*s.op, in, s.attrs);
            if (values[i].storage() != in[0].storage()) ++stats_.kernels_launched;  // reshape copied
          } else {
            Tensor out = output_buffer(meta());
            run_kernel(*s.op, in, s.attrs, out);
            values[i] = out;
            ++stats_.kernels_launched;
          }
          break;
      }
    } catch (const Error& e) {
      rethrow_with_node(e, s.source);
    }
    ++stats_.nodes_executed;
    in.clear();  // before the values are dropped: a slot must not stay held by this step's inputs
    if (options_.plan_memory) {
      for (size_t k = 0; k < s.inputs.size(); ++k) {
        if (mp && reads_only_shape(s, k)) continue;
        const int j = s.inputs[k];
        if (--remaining[j] == 0 && !keep[j]) values[j] = Tensor();
      }
      if (remaining[i] == 0 && !keep[i]) values[i] = Tensor();  // read by no step: ran for its effects
    }
  }

  std::vector<Tensor> results;
  for (int f : plan.fetches) {
    const Step& s = plan.steps[f];
    if (s.kind == Kind::variable && !values[f].defined())
      throw Error(msg("Attempting to use uninitialized value ", s.source->name, "\n  [[",
                      s.source->describe(), "]]\n  Run the initializer first: "
                      "session.run(global_variables_initializer())"));
    results.push_back(s.kind == Kind::no_op ? Tensor() : as_result(values[f], variables_));
  }
  for (int t = 0; t < 2; ++t) {
    const MemoryStats after = memory_stats(kTypes[t]);
    stats_.buffers_allocated += after.allocations;
    stats_.peak_bytes += after.peak_bytes - baseline[t];
  }
  return results;
}

}  // namespace tandem::graph
