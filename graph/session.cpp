// graph/session.cpp — the executor's loop: feeds in, steps in order, fetches out.
//
// One run, in order (Session::run below, a page):
//   1. check the fetches and the feeds (TF's errors: a foreign fetch, a wrong dtype or shape...);
//   2. the plan: the graph lowered to steps for these fetches and feeds, after the passes
//      (plan_for: made once per set of fetches and feeds, then cached);
//   3. the buffers: the memory plan for the shapes fed this time, and its slots (graph/arena.h);
//   4. each step once, in order (graph/executor.h: one function per kind of step), dropping each
//      value after its last reader;
//   5. the fetched values, and the run's statistics (graph/run_stats.h).
//
// Read next: graph/executor.cpp (what each step does), graph/gradients.h.
#include "graph/session.h"

#include "autograd/grad_mode.h"
#include "graph/executor.h"
#include "graph/passes.h"
#include "graph/run_arguments.h"

namespace tandem::graph {

struct Session::CachedPlan {
  Plan plan;
  bool writes_state = false;  // it assigns or updates variables: such a run runs alone
  ArenaCache arenas;          // memory plans and their buffers, by shape signature
};

Session::Session(Graph& g, SessionOptions options) : graph_(g), options_(options) {}
Session::~Session() = default;

Tensor Session::run(const Output& fetch, const FeedDict& feeds) { return run(std::vector<Output>{fetch}, feeds)[0]; }

std::vector<Tensor> Session::run(const std::vector<Output>& fetches, const FeedDict& feeds) {
  // 1. What were we given? (graph/run_arguments.h: TF's errors for a bad fetch or feed)
  const std::vector<Node*> fed = check_run_arguments(graph_, fetches, feeds);

  // 2. The plan (cached), and the right to touch the variables: alone if this run writes them.
  const std::shared_ptr<CachedPlan> cached = plan_for(fetches, fed);
  std::shared_lock<std::shared_mutex> reading(state_mutex_, std::defer_lock);
  std::unique_lock<std::shared_mutex> writing(state_mutex_, std::defer_lock);
  if (cached->writes_state) writing.lock();
  else reading.lock();
  no_grad no_recording;  // a session computes values; the tape is eager mode's business

  // 3. Feeds in, and the buffers for these shapes (none: run without a memory plan).
  Run run(cached->plan, options_, variables_, feeds);
  const ArenaCache::Lease lease =
      options_.plan_memory ? cached->arenas.lease(cached->plan, run.signature(), [&] { return run.sources(); })
                           : ArenaCache::Lease();
  run.arena = lease.get();
  run.start();
  const StatsRecorder stats(graph_.size(), static_cast<int64_t>(cached->plan.steps.size()), run.arena);

  // 4. Each step once, in order; a value is dropped after its last reader.
  int64_t executed = 0;
  // BEGIN SOLUTION a3.t1
  for (size_t i = 0; i < cached->plan.steps.size(); ++i) {
    if (run.fed[i]) continue;
    run_step(run, i);
    run.release_after(i);
    ++executed;
  }
  // END SOLUTION

  // 5. Fetches out.
  std::vector<Tensor> results = run.results();
  std::lock_guard<std::mutex> lock(mutex_);
  stats_ = stats.finish(executed, run.kernels);
  last_plan_ = cached;
  return results;
}

std::shared_ptr<Session::CachedPlan> Session::plan_for(const std::vector<Output>& fetches,
                                                       const std::vector<Node*>& fed) {
  std::vector<const Node*> key;
  for (const Output& f : fetches) key.push_back(f.node());
  key.push_back(nullptr);  // separates fetches from feeds in the key
  for (const Node* n : fed) key.push_back(n);
  // A plan depends on the graph as it was when planned: replan when nodes were added since.
  key.push_back(reinterpret_cast<const Node*>(static_cast<intptr_t>(graph_.size())));
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = plans_.find(key);
  if (found != plans_.end()) return found->second;
  // Plans made before the graph grew can never be asked for again: drop them and their buffers.
  std::erase_if(plans_, [&](const auto& entry) { return entry.first.back() != key.back(); });
  auto cached = std::make_shared<CachedPlan>();
  cached->plan = lower(graph_, fetches, fed);
  optimize(cached->plan, options_);
  // A session placed on a device keeps its constants there: copied once, here, not on every run.
  // (After the passes: constant folding and CSE work on the host values.)
  for (Step& s : cached->plan.steps) {
    if (options_.device && s.kind == Kind::constant && s.value.device() != *options_.device)
      s.value = s.value.to(*options_.device);
    cached->writes_state |= s.kind == Kind::assign || s.kind == Kind::assign_add || s.kind == Kind::update;
  }
  plans_[key] = cached;
  return cached;
}

Tensor Session::variable_value(const Output& variable) const {
  std::shared_lock<std::shared_mutex> reading(state_mutex_);
  auto it = variables_.find(variable.node());
  if (it == variables_.end())
    throw Error(msg("Attempting to use uninitialized value ", variable.node()->name, "; run the "
                    "initializer (global_variables_initializer()) in this session first"));
  // A handle of its own (see Run::results): later runs do not change it.
  auto impl = std::make_shared<TensorImpl>(it->second.impl());
  impl->autograd.reset();
  return Tensor(std::move(impl));
}

RunStats Session::last_run_stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

const Plan& Session::last_plan() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!last_plan_) throw Error("Session::last_plan: nothing has been run in this session yet");
  return last_plan_->plan;
}

}  // namespace tandem::graph
