// core/graph/session.cpp — the executor: feeds in, steps in order, fetches out.
#include "core/graph/session.h"

#include "autograd/grad_mode.h"
#include "core/factories.h"
#include "core/graph/passes.h"
#include "core/ops.h"
#include "core/ops/copy.h"

namespace tandem::graph {

struct Session::CachedPlan {
  Plan plan;
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
  throw Error(e.what() + where);
}

bool compatible(const Shape& static_shape, const Shape& actual) {
  if (static_shape.size() != actual.size()) return false;
  for (size_t i = 0; i < actual.size(); ++i)
    if (static_shape[i] != kUnknown && static_shape[i] != actual[i]) return false;
  return true;
}

}  // namespace

Tensor Session::variable_value(const Output& variable) const {
  auto it = variables_.find(variable.node());
  if (it == variables_.end())
    throw Error(msg("Attempting to use uninitialized value ", variable.node()->name, "; run the "
                    "initializer (global_variables_initializer()) in this session first"));
  return it->second;
}

const Session::CachedPlan& Session::plan_for(const std::vector<Output>& fetches,
                                             const std::vector<Node*>& fed) {
  std::vector<const Node*> key;
  for (const Output& f : fetches) key.push_back(f.node());
  key.push_back(nullptr);  // separates fetches from feeds in the key
  for (const Node* n : fed) key.push_back(n);
  // A plan depends on the graph as it was when planned: replan when nodes were added since.
  key.push_back(reinterpret_cast<const Node*>(static_cast<intptr_t>(graph_.size())));
  auto& slot = plans_[key];
  if (!slot) {
    slot = std::make_shared<CachedPlan>();
    slot->plan = lower(graph_, fetches, fed);
    optimize(slot->plan, options_);
  }
  return *slot;
}

Tensor Session::run(const Output& fetch, const FeedDict& feeds) { return run(std::vector<Output>{fetch}, feeds)[0]; }

std::vector<Tensor> Session::run(const std::vector<Output>& fetches, const FeedDict& feeds) {
  // ---- check what we were given ------------------------------------------------------------------
  for (const Output& f : fetches) {
    if (!f.defined()) throw Error("Session::run: a fetch is undefined (a missing gradient?)");
    if (f.node()->graph != &graph_)
      throw Error(msg("Session::run: fetch '", f.name(), "' is not an element of this graph; a Session "
                      "runs only the graph it was created with"));
  }
  std::vector<Node*> fed;
  for (const auto& [out, value] : feeds) {
    if (out.node()->graph != &graph_)
      throw Error(msg("Session::run: feed key '", out.name(), "' is not an element of this graph"));
    if (!value.defined()) throw Error(msg("Session::run: the value fed for '", out.name(), "' is undefined"));
    if (value.dtype() != out.dtype())
      throw DTypeError(msg("Cannot feed value of dtype ", to_string(value.dtype()), " for Tensor '",
                           out.name(), "', which has dtype ", to_string(out.dtype()),
                           "; convert it with .to(", to_string(out.dtype()), ") first"));
    if (!compatible(out.shape(), value.shape()))
      throw ShapeError(msg("Cannot feed value of shape ", tf_shape_str(value.shape()), " for Tensor '",
                           out.name(), "', which has shape '", tf_shape_str(out.shape()), "'"));
    fed.push_back(out.node());
  }

  const CachedPlan& cached = plan_for(fetches, fed);
  const Plan& plan = cached.plan;
  last_plan_ = &plan;
  no_grad no_recording;  // a session computes values; the tape is eager mode's business

  stats_ = RunStats{};
  stats_.nodes_in_graph = graph_.size();
  stats_.steps_planned = static_cast<int64_t>(plan.steps.size());
  reset_peak_memory_stats();
  const MemoryStats before = memory_stats();

  std::vector<Tensor> values(plan.steps.size());
  std::vector<bool> is_fed(plan.steps.size(), false);
  for (size_t k = 0; k < plan.feeds.size(); ++k) {
    values[plan.feeds[k]] = feeds[k].second;
    is_fed[plan.feeds[k]] = true;
  }
  // Liveness: when memory planning is on, a value is dropped as soon as its last reader has run.
  std::vector<int> remaining = plan.reader_counts();
  std::vector<bool> keep(plan.steps.size(), !options_.plan_memory);
  for (int f : plan.fetches) keep[f] = true;

  // ---- execute ---------------------------------------------------------------------------------------
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    const Step& s = plan.steps[i];
    if (is_fed[i]) continue;
    std::vector<Tensor> in;
    in.reserve(s.inputs.size());
    for (int j : s.inputs) in.push_back(values[j]);
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
          Tensor value = in[1];
          if (value.shape() != var->meta.shape)
            throw ShapeError(msg(s.source->type, ": cannot assign a value of shape ", shape_str(value.shape()),
                                 " to variable '", var->name, "' of shape ", shape_str(var->meta.shape)));
          auto it = variables_.find(var);
          if (s.kind == Kind::assign_add) {
            if (it == variables_.end())
              throw Error(msg("Attempting to use uninitialized value ", var->name, " in AssignAdd"));
            value = it->second + value;
          }
          // Write in place when no other value aliases the variable's storage; otherwise give the
          // variable a fresh tensor, so values already computed from the old one stay as they were.
          if (it != variables_.end() && it->second.storage().use_count() == 1) {
            copy_into(value, it->second);
            it->second.storage()->version++;
          } else {
            variables_[var] = value.to(var->meta.dtype).clone();
          }
          values[i] = variables_[var];
          ++stats_.kernels_launched;
          break;
        }
        case Kind::identity:
        case Kind::stop_gradient:
          values[i] = in[0];
          break;
        case Kind::no_op:
          break;
        case Kind::add_n: {
          Tensor total = in[0];
          for (size_t k = 1; k < in.size(); ++k) total = total + in[k];
          values[i] = total;
          stats_.kernels_launched += static_cast<int64_t>(in.size()) - 1;
          break;
        }
        case Kind::sum_to_like:
          values[i] = in[0].shape() == in[1].shape() ? in[0] : sum_to(in[0], in[1].shape());
          ++stats_.kernels_launched;
          break;
        case Kind::expand_like:
          values[i] = in[0].shape() == in[1].shape() ? in[0] : expand(in[0], in[1].shape());
          break;
        case Kind::reshape_like:
          values[i] = reshape(in[0], in[1].shape());
          break;
        case Kind::zeros_like:
          values[i] = zeros(in[0].shape(), in[0].dtype(), in[0].device());
          ++stats_.kernels_launched;
          break;
        case Kind::ones_like:
          values[i] = ones(in[0].shape(), in[0].dtype(), in[0].device());
          ++stats_.kernels_launched;
          break;
        case Kind::count_ratio:
          values[i] = full({}, in[1].numel() == 0 ? 0.0 : static_cast<double>(in[0].numel()) / in[1].numel(), kFloat64);
          break;
        case Kind::op:
          if (s.kernel_override) {
            Tensor out = Tensor::empty(s.meta.shape, s.meta.dtype, in.empty() ? Device::cpu() : in[0].device());
            s.kernel_override(in, out);
            values[i] = out;
          } else {
            values[i] = call(*s.op, in, s.attrs);
          }
          if (!s.op->is_view()) ++stats_.kernels_launched;
          break;
      }
    } catch (const Error& e) {
      rethrow_with_node(e, s.source);
    }
    ++stats_.nodes_executed;
    if (options_.plan_memory)
      for (int j : s.inputs)
        if (--remaining[j] == 0 && !keep[j]) values[j] = Tensor();
  }

  std::vector<Tensor> results;
  for (int f : plan.fetches) {
    const Step& s = plan.steps[f];
    if (s.kind == Kind::variable && !values[f].defined())
      throw Error(msg("Attempting to use uninitialized value ", s.source->name, "\n  [[",
                      s.source->describe(), "]]\n  Run the initializer first: "
                      "session.run(global_variables_initializer())"));
    results.push_back(s.kind == Kind::no_op ? Tensor() : values[f]);
  }
  const MemoryStats after = memory_stats();
  stats_.buffers_allocated = after.allocations;
  stats_.peak_bytes = after.peak_bytes - before.bytes_in_use;
  return results;
}

}  // namespace tandem::graph
