// assignments/a6/test_a6.cpp — the tests of assignment 6 (the memory planner of graph mode).
//
// [a6.t1] liveness, [a6.t2] slot assignment, [a6.t3] in-place reuse, all in
// graph/passes/memory_plan.cpp. Steps are numbered in plan order; a value lives from its step to
// its last reader. float32 is 4 bytes, so a [1000] value is 4000 B. Every other pass is off, so
// the plan holds exactly the nodes a test declares. Each test also runs the graph planned and
// unplanned and compares the values: a plan must never change what is computed.
//
// Read next: assignments/a6/README.md.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "graph/passes.h"
#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;

namespace {
g::SessionOptions planning(bool on) {
  g::SessionOptions o = g::SessionOptions::no_passes();
  o.plan_memory = on;
  return o;
}
int step_of(const g::Plan& plan, const g::Output& o) {
  for (size_t i = 0; i < plan.steps.size(); ++i)
    if (plan.steps[i].source == o.node()) return static_cast<int>(i);
  FAIL("the node is not a step of the plan");
  return -1;
}
// The memory plan when each placeholder in `fed` gets a float32 value of the given shape.
g::MemoryPlan plan_for(const g::Plan& plan, const std::vector<std::pair<g::Output, Shape>>& fed, bool in_place) {
  std::vector<std::optional<g::ValueInfo>> sources(plan.steps.size());
  for (const auto& [o, shape] : fed) sources[step_of(plan, o)] = g::ValueInfo{{shape, kFloat32}, Device::cpu()};
  return g::plan_memory(plan, sources, in_place);
}
Tensor wave(int n, double phase) {
  std::vector<float> v(n);
  for (int i = 0; i < n; ++i) v[i] = static_cast<float>(std::sin(i * 0.37 + phase));
  return from_vector(v, {n});
}
}  // namespace

// ---- t1: liveness --------------------------------------------------------------------------------

TEST_CASE("a6.t1: a value lives until its last reader", "[a6.t1]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {1000});  // step 0
  g::Output a = g::relu(x);                        // step 1, read by b and d
  g::Output b = g::exp(a);                         // step 2
  g::Output c = g::neg(b);                         // step 3
  g::Output d = c + a;                             // step 4: a's last reader
  g::Output e = g::sum(d);                         // step 5
  g::Session s(graph, planning(false));
  s.run(e, {{x, wave(1000, 0)}});
  const g::Plan& plan = s.last_plan();
  const g::MemoryPlan mp = plan_for(plan, {{x, {1000}}}, false);
  CHECK(mp.last_use[step_of(plan, a)] == step_of(plan, d));
  CHECK(mp.last_use[step_of(plan, b)] == step_of(plan, c));
  CHECK(mp.last_use[step_of(plan, c)] == step_of(plan, d));
  CHECK(mp.last_use[step_of(plan, x)] == step_of(plan, a));
}

TEST_CASE("a6.t1: a view's readers keep its buffer alive", "[a6.t1]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {1000});
  g::Output a = g::exp(x);
  g::Output v = g::reshape(a, {10, 100});  // no buffer of its own: it reads a's
  g::Output b = g::neg(x);
  g::Output c = g::sum(v) + g::sum(b);     // the last read of a's buffer, through v
  g::Session s(graph, planning(false));
  s.run(c, {{x, wave(1000, 1)}});
  const g::Plan& plan = s.last_plan();
  const g::MemoryPlan mp = plan_for(plan, {{x, {1000}}}, false);
  CHECK(mp.buffer_of[step_of(plan, v)] == step_of(plan, a));
  // a's buffer is read last by sum(v), which runs after v: a lives at least that long.
  CHECK(mp.last_use[step_of(plan, a)] > step_of(plan, v));
  CHECK(mp.last_use[step_of(plan, a)] > step_of(plan, b));
}

// BEGIN HIDDEN TESTS
TEST_CASE("a6.t1: a read of the shape alone does not keep a value alive", "[a6.t1][hidden]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {1000});
  g::Output a = g::exp(x);
  g::Output b = g::neg(a);          // a's last *value* reader
  g::Output z = zeros_like(a);      // reads a's shape only (OpDef::shape_only_inputs)
  g::Output c = b + z;
  g::Output e = g::sum(c);
  g::Session s(graph, planning(false));
  s.run(e, {{x, wave(1000, 2)}});
  const g::Plan& plan = s.last_plan();
  const g::MemoryPlan mp = plan_for(plan, {{x, {1000}}}, false);
  CHECK(mp.last_use[step_of(plan, a)] == step_of(plan, b));
  CHECK(mp.last_use[step_of(plan, z)] == step_of(plan, c));
}
// END HIDDEN TESTS

// ---- t2: slot assignment -------------------------------------------------------------------------

TEST_CASE("a6.t2: values that never overlap share a slot", "[a6.t2]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {1000});
  g::Output a = g::relu(x);  // live [1, 2]
  g::Output b = g::exp(a);   // live [2, 3]
  g::Output c = g::neg(b);   // live [3, 4]
  g::Output d = g::sigmoid(c);  // live [4, 5]
  g::Output e = g::sum(d);   // fetched: never a slot
  g::Session s(graph, planning(true));
  const Tensor xv = wave(1000, 0.5);
  const Tensor planned = s.run(e, {{x, xv}});
  const g::Plan& plan = s.last_plan();
  // In-place reuse off: a -> slot 0; b -> slot 1 (a is still being read); c -> slot 0 (a's last
  // reader b has run); d -> slot 1. Two slots of 4000 B.
  const g::MemoryPlan mp = plan_for(plan, {{x, {1000}}}, false);
  CHECK(mp.slot_bytes == std::vector<size_t>{4000, 4000});
  CHECK(mp.slot_of_step[step_of(plan, a)] == 0);
  CHECK(mp.slot_of_step[step_of(plan, b)] == 1);
  CHECK(mp.slot_of_step[step_of(plan, c)] == 0);
  CHECK(mp.slot_of_step[step_of(plan, d)] == 1);
  CHECK(mp.slot_of_step[step_of(plan, e)] == -1);
  g::Session off(graph, planning(false));
  CHECK(planned.item<float>() == off.run(e, {{x, xv}}).item<float>());
}

TEST_CASE("a6.t2: best fit keeps the big slot for the big value", "[a6.t2]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {10, 100});
  g::Output y = g::placeholder(kFloat32, {100});
  g::Output a = g::exp(x);   // 4000 B, live [2, 4]
  g::Output b = g::exp(y);   //  400 B, live [3, 4]
  g::Output c = a + b;       // 4000 B, live [4, 6]
  g::Output d = g::neg(y);   //  400 B, live [5, 6]
  g::Output e = c * d;       // 4000 B, live [6, 7]
  g::Output f = g::sum(e);
  g::Session s(graph, planning(true));
  s.run(f, {{x, wave(1000, 0).reshape({10, 100})}, {y, wave(100, 1)}});
  const g::Plan& plan = s.last_plan();
  const g::MemoryPlan mp = plan_for(plan, {{x, {10, 100}}, {y, {100}}}, false);
  // a -> slot 0 (4000), b -> slot 1 (400), c -> slot 2 (4000; a and b are read by c). At d, slots
  // 0 and 1 are free: best fit gives d the 400 B slot 1, which leaves slot 0 for e. (First fit
  // would put d in slot 0, and e would need a fourth slot.)
  CHECK(mp.slot_of_step[step_of(plan, d)] == 1);
  CHECK(mp.slot_of_step[step_of(plan, e)] == 0);
  CHECK(mp.slot_bytes == std::vector<size_t>{4000, 400, 4000});
}

// BEGIN HIDDEN TESTS
TEST_CASE("a6.t2: when nothing free is big enough, the biggest free slot grows", "[a6.t2][hidden]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {100});
  g::Output big = g::placeholder(kFloat32, {10, 100});
  g::Output a = g::exp(x);            // 400 B, live [2, 3]
  g::Output b = g::neg(a);            // 400 B, live [3, 4]: a dies here
  g::Output c = g::exp(big) + b;      // exp(big) 4000 B at step 4: slot 0 (a's, free) grows to 4000
  g::Output f = g::sum(c);
  g::Session s(graph, planning(true));
  s.run(f, {{x, wave(100, 0)}, {big, wave(1000, 1).reshape({10, 100})}});
  const g::Plan& plan = s.last_plan();
  const g::MemoryPlan mp = plan_for(plan, {{x, {100}}, {big, {10, 100}}}, false);
  CHECK(mp.slot_of_step[step_of(plan, a)] == 0);
  CHECK(mp.slot_bytes.size() == 3);   // a/exp(big) (grown), b, and c
  CHECK(mp.slot_bytes[0] == 4000);
}
// END HIDDEN TESTS

// ---- t3: in place --------------------------------------------------------------------------------

TEST_CASE("a6.t3: a chain of elementwise ops runs in one buffer", "[a6.t3]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {1000});
  g::Output a = g::relu(x);
  g::Output b = g::exp(a);
  g::Output c = g::neg(b);
  g::Output e = g::sum(c);
  g::Session s(graph, planning(true));
  const Tensor xv = wave(1000, 3);
  const Tensor planned = s.run(e, {{x, xv}});
  const g::Plan& plan = s.last_plan();
  const g::MemoryPlan mp = plan_for(plan, {{x, {1000}}}, true);
  // b is elementwise, of a's shape and dtype, and a's last reader: b writes over a, c over b.
  CHECK(mp.writes_over[step_of(plan, b)] == step_of(plan, a));
  CHECK(mp.writes_over[step_of(plan, c)] == step_of(plan, b));
  CHECK(mp.writes_over[step_of(plan, a)] == -1);  // x is fed: the caller's, never overwritten
  CHECK(mp.slot_bytes == std::vector<size_t>{4000});
  g::Session off(graph, planning(false));
  CHECK(planned.item<float>() == off.run(e, {{x, xv}}).item<float>());
}

TEST_CASE("a6.t3: no writing over an input that is read again later", "[a6.t3]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {1000});
  g::Output a = g::relu(x);
  g::Output b = g::exp(a);      // a is still read by c: b may not overwrite it
  g::Output c = b + a;          // a's last reader: c may overwrite a (or b)
  g::Output e = g::sum(c);
  g::Session s(graph, planning(true));
  const Tensor xv = wave(1000, 4);
  const Tensor planned = s.run(e, {{x, xv}});
  const g::Plan& plan = s.last_plan();
  const g::MemoryPlan mp = plan_for(plan, {{x, {1000}}}, true);
  CHECK(mp.writes_over[step_of(plan, b)] == -1);
  CHECK(mp.writes_over[step_of(plan, c)] >= 0);
  g::Session off(graph, planning(false));
  CHECK(planned.item<float>() == off.run(e, {{x, xv}}).item<float>());
}

// BEGIN HIDDEN TESTS
TEST_CASE("a6.t3: a bool result or a changed shape never takes over", "[a6.t3][hidden]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {10, 100});
  g::Output a = g::exp(x);
  g::Output m = a > g::constant(1.5, kFloat32);  // bool: never written over a float buffer
  g::Output s1 = g::sum(a, {1});                 // a reduction: another shape
  g::Output e = g::sum(where(m, a, 0.0)) + g::sum(s1);
  g::Session s(graph, planning(true));
  s.run(e, {{x, wave(1000, 5).reshape({10, 100})}});
  const g::Plan& plan = s.last_plan();
  const g::MemoryPlan mp = plan_for(plan, {{x, {10, 100}}}, true);
  CHECK(mp.writes_over[step_of(plan, m)] == -1);
  CHECK(mp.writes_over[step_of(plan, s1)] == -1);
}
// END HIDDEN TESTS
