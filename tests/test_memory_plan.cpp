// tests/test_memory_plan.cpp — graph-mode memory planning: liveness, slots, best fit, run statistics.
//
// Every count and byte figure below is worked out by hand in the comments, from the rules in
// graph/passes/memory_plan.cpp: a value lives from its step to its last reader; a slot is free
// once its occupant's readers have all run; an elementwise step writes over an input that dies at
// that step (same shape and dtype); otherwise a step takes the smallest free slot that fits, else
// the biggest free slot grows, else a new slot is made; fetched values never sit in a slot.
// float32 is 4 bytes, so [1000] is 4000 B. Unless a test says otherwise the other passes are
// switched off, so the plan holds exactly the nodes the test declares.
#include <catch2/catch.hpp>

#include <cmath>

#include "graph/passes.h"
#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;

namespace {

// Memory planning on or off, every other pass off.
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

// The memory plan of `plan` when each placeholder in `fed` gets a float32 value of the given shape.
// (Variables need no entry: their static shapes are complete.)
g::MemoryPlan plan_for_feeds(const g::Plan& plan, const std::vector<std::pair<g::Output, Shape>>& fed,
                             bool in_place = true) {
  std::vector<std::optional<g::ValueInfo>> sources(plan.steps.size());
  for (const auto& [o, shape] : fed) sources[step_of(plan, o)] = g::ValueInfo{{shape, kFloat32}, Device::cpu()};
  return g::plan_memory(plan, sources, in_place);
}

// A float32 tensor holding `v` in row-major order.
Tensor from_values(const std::vector<double>& v, const Shape& shape) {
  Tensor t = empty(shape);
  float* p = t.data<float>();
  for (size_t i = 0; i < v.size(); ++i) p[i] = static_cast<float>(v[i]);
  return t;
}

// x_i = (i - 500) / 100: negative and positive values, so relu clips half of them.
Tensor chain_input(double shift = 0) {
  std::vector<double> v(1000);
  for (int i = 0; i < 1000; ++i) v[i] = (i - 500) / 100.0 + shift;
  return from_values(v, {1000});
}

// Σ_i sigmoid(-exp(relu(x_i))), in double, straight from the definitions.
double chain_reference(const Tensor& x) {
  double total = 0;
  for (double v : x.to_vector<double>()) total += 1.0 / (1.0 + std::exp(std::exp(std::max(v, 0.0))));
  return total;
}

}  // namespace

TEST_CASE("a chain of unary ops runs in one buffer when planned, one per op when not", "[graph][memory]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {1000});
  g::Output a = g::relu(x);
  g::Output b = g::exp(a);
  g::Output c = g::neg(b);
  g::Output d = g::sigmoid(c);
  g::Output e = g::sum(d);
  const Tensor xv = chain_input();

  g::Session planned(graph, planning(true));
  const Tensor ep = planned.run(e, {{x, xv}});
  const g::Plan& plan = planned.last_plan();

  // Slots alone (in-place reuse off). Liveness (step numbers: x 0, a 1, b 2, c 3, d 4, e 5):
  // a [1,2]  b [2,3]  c [3,4]  d [4,5]. a and c never overlap, nor b and d: a -> slot 0,
  // b -> slot 1 (a is still read by b), c -> slot 0 (a's last reader b has run), d -> slot 1.
  // e is fetched: a buffer of its own, never a slot.
  const g::MemoryPlan two = plan_for_feeds(plan, {{x, {1000}}}, false);
  CHECK(two.slot_bytes == std::vector<size_t>{4000, 4000});
  CHECK(two.slot_of_step[step_of(plan, a)] == 0);
  CHECK(two.slot_of_step[step_of(plan, b)] == 1);
  CHECK(two.slot_of_step[step_of(plan, c)] == 0);
  CHECK(two.slot_of_step[step_of(plan, d)] == 1);
  CHECK(two.slot_of_step[step_of(plan, e)] == -1);
  CHECK(two.slot_of_step[step_of(plan, x)] == -1);

  // With in-place reuse (what the Session does): each op is elementwise and is the last reader of
  // its input, of the same shape and dtype, so b, c and d each write over their input: one slot.
  const g::MemoryPlan one = plan_for_feeds(plan, {{x, {1000}}});
  CHECK(one.slot_bytes == std::vector<size_t>{4000});
  CHECK(one.writes_over[step_of(plan, b)] == step_of(plan, a));
  CHECK(one.writes_over[step_of(plan, d)] == step_of(plan, c));
  CHECK(one.writes_over[step_of(plan, a)] == -1);  // x is fed: not a slot, never overwritten

  // First run: the slot (4000 B) + the fetched sum (4 B) = 2 buffers, both alive at the end: 4004 B.
  CHECK(planned.last_run_stats().buffers_allocated == 2);
  CHECK(planned.last_run_stats().peak_bytes == 4004);
  CHECK(planned.last_run_stats().kernels_launched == 5);
  CHECK(planned.last_run_stats().nodes_executed == 5);

  // Second run, same shapes: the slot is reused; only the fetched result is new. The peak is the
  // same — the slot is the run's memory even though the first run allocated it.
  const Tensor ep2 = planned.run(e, {{x, xv}});
  CHECK(planned.last_run_stats().buffers_allocated == 1);
  CHECK(planned.last_run_stats().peak_bytes == 4004);

  // Without planning the interpreter keeps every value to the end: 4 × 4000 + 4 = 16004 B, 5 buffers.
  g::Session unplanned(graph, planning(false));
  const Tensor eu = unplanned.run(e, {{x, xv}});
  CHECK(unplanned.last_run_stats().buffers_allocated == 5);
  CHECK(unplanned.last_run_stats().peak_bytes == 16004);

  // Same numbers either way, and the right ones.
  CHECK(ep.item<float>() == eu.item<float>());
  CHECK(ep2.item<float>() == eu.item<float>());
  CHECK(ep.item<double>() == Approx(chain_reference(xv)).epsilon(1e-5));
}

TEST_CASE("a fetched intermediate (or a view of it) never sits in a slot", "[graph][memory]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {1000});
  g::Output a = g::relu(x);
  g::Output b = g::exp(a);
  g::Output c = g::neg(b);
  g::Output d = g::sigmoid(c);
  g::Output e = g::sum(d);
  g::Output a_view = g::reshape(a, {10, 100});  // a view: it lives in a's buffer

  g::Session s(graph, planning(true));
  const Tensor x1 = chain_input();
  auto out = s.run({a, e}, {{x, x1}});
  // a is fetched, so it gets a buffer of its own (and b may not write over it); b -> slot 0,
  // c and d write over it in place. Buffers: a (4000) + slot 0 (4000) + e (4) = 3, 8004 B.
  const g::MemoryPlan mp = plan_for_feeds(s.last_plan(), {{x, {1000}}});
  CHECK(mp.slot_of_step[step_of(s.last_plan(), a)] == -1);
  CHECK(mp.writes_over[step_of(s.last_plan(), b)] == -1);
  CHECK(mp.slot_bytes.size() == 1);
  CHECK(s.last_run_stats().buffers_allocated == 3);
  CHECK(s.last_run_stats().peak_bytes == 8004);

  // b, c and d were computed after a; a is intact: relu(x) by definition.
  auto is_relu_of = [](const Tensor& got, const Tensor& xv) {
    const std::vector<double> xs = xv.to_vector<double>(), ys = got.to_vector<double>();
    if (ys.size() != xs.size()) return false;
    for (size_t i = 0; i < xs.size(); ++i)
      if (static_cast<float>(std::max(xs[i], 0.0)) != static_cast<float>(ys[i])) return false;
    return true;
  };
  CHECK(is_relu_of(out[0], x1));
  // A second run with other values reuses the slot; what the first run returned does not change.
  const Tensor x2 = chain_input(3.0);
  auto out2 = s.run({a, e}, {{x, x2}});
  CHECK(s.last_run_stats().buffers_allocated == 2);  // a and e again, the slot is reused
  CHECK(is_relu_of(out[0], x1));
  CHECK(is_relu_of(out2[0], x2));
  CHECK(out[1].item<double>() == Approx(chain_reference(x1)).epsilon(1e-5));
  CHECK(out2[1].item<double>() == Approx(chain_reference(x2)).epsilon(1e-5));

  // Fetching only a view of a: a's buffer is what the caller gets, so a is not given a slot either.
  const Tensor v = s.run(a_view, {{x, x1}});
  const g::MemoryPlan mv = plan_for_feeds(s.last_plan(), {{x, {1000}}});
  CHECK(mv.slot_of_step[step_of(s.last_plan(), a)] == -1);
  CHECK(mv.buffer_of[step_of(s.last_plan(), a_view)] == step_of(s.last_plan(), a));
  s.run(e, {{x, x2}});  // another plan's slot is written; the fetched view must not change
  CHECK(is_relu_of(v.reshape({1000}), x1));
}

TEST_CASE("best fit keeps big slots for big values", "[graph][memory]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {10, 100});
  g::Output y = g::placeholder(kFloat32, {100});
  g::Output a = g::exp(x);   // [10, 100] 4000 B   live [2, 4]
  g::Output b = g::exp(y);   // [100]      400 B   live [3, 4]
  g::Output c = a + b;       // [10, 100] 4000 B   live [4, 6]
  g::Output d = g::neg(y);   // [100]      400 B   live [5, 6]
  g::Output e = c * d;       // [10, 100] 4000 B   live [6, 7]
  g::Output f = g::sum(e);   // fetched
  g::Session s(graph, planning(true));
  std::vector<double> xs(1000), ys(100);
  for (int i = 0; i < 1000; ++i) xs[i] = std::sin(i) * 0.5;
  for (int j = 0; j < 100; ++j) ys[j] = std::cos(j) * 0.5;
  const Tensor xv = from_values(xs, {10, 100});
  const Tensor yv = from_values(ys, {100});
  const Tensor fv = s.run(f, {{x, xv}, {y, yv}});
  const g::Plan& plan = s.last_plan();

  // Slots alone (in-place reuse off): a -> new slot 0 (4000); b -> new slot 1 (400); c -> new
  // slot 2 (4000: a and b are still read by c). At d both slot 0 and slot 1 are free: best fit
  // gives d the 400 B slot 1, so slot 0 is free again for e: 3 slots, 8400 B. First fit would give
  // d slot 0, and e would need a fourth slot: 12400 B.
  const g::MemoryPlan fit = plan_for_feeds(plan, {{x, {10, 100}}, {y, {100}}}, false);
  CHECK(fit.slot_bytes == std::vector<size_t>{4000, 400, 4000});
  CHECK(fit.total_bytes() == 8400);
  CHECK(fit.slot_of_step[step_of(plan, d)] == fit.slot_of_step[step_of(plan, b)]);
  CHECK(fit.slot_of_step[step_of(plan, e)] == fit.slot_of_step[step_of(plan, a)]);

  // With in-place reuse (the Session): c writes over a (a dies at c; same shape), d takes the free
  // 400 B slot of b, e writes over c. 2 slots: 4400 B; + the fetched sum: 3 buffers, 4404 B.
  const g::MemoryPlan mp = plan_for_feeds(plan, {{x, {10, 100}}, {y, {100}}});
  CHECK(mp.slot_bytes == std::vector<size_t>{4000, 400});
  CHECK(mp.writes_over[step_of(plan, c)] == step_of(plan, a));
  CHECK(mp.writes_over[step_of(plan, e)] == step_of(plan, c));
  CHECK(mp.slot_of_step[step_of(plan, d)] == mp.slot_of_step[step_of(plan, b)]);
  CHECK(s.last_run_stats().buffers_allocated == 3);
  CHECK(s.last_run_stats().peak_bytes == 4404);

  // f = Σ_ij (exp(x_ij) + exp(y_j)) · (-y_j)
  double ref = 0;
  for (int i = 0; i < 10; ++i)
    for (int j = 0; j < 100; ++j)
      ref += (std::exp(static_cast<float>(xs[i * 100 + j])) + std::exp(static_cast<float>(ys[j]))) *
             -static_cast<float>(ys[j]);
  CHECK(fv.item<double>() == Approx(ref).epsilon(1e-5));
}

TEST_CASE("when nothing free is big enough, the biggest free slot grows", "[graph][memory]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {100});
  g::Output a = g::exp(x);                                                       // [100]   400 B
  g::Output s1 = g::sum(a);                                                      // []        4 B
  g::Output outer = g::matmul(g::reshape(x, {100, 1}), g::reshape(x, {1, 100}));  // [100, 100] 40000 B
  g::Output s2 = g::sum(outer);                                                  // []        4 B
  g::Output f = s1 + s2;                                                         // fetched
  // a -> new slot 0 (400); s1 -> new slot 1 (4: a is read by s1). At outer, slot 0 is free (a's
  // last reader s1 has run) but too small: it grows to 40000 B instead of a new 40000 B slot.
  // s2 -> new slot 2 (4: slot 0 holds outer, which s2 reads; slot 1 holds s1, read by f).
  // Slots: 40000 + 4 + 4 = 40008 B (without growth: 400 + 4 + 40000 + 4 = 40408 B).
  // Run: 3 slots (each allocated once, at its final size) + f = 4 buffers, 40012 B.
  g::Session s(graph, planning(true));
  std::vector<double> xs(100);
  for (int i = 0; i < 100; ++i) xs[i] = (i % 10) / 10.0 - 0.3;
  const Tensor fv = s.run(f, {{x, from_values(xs, {100})}});
  const g::MemoryPlan mp = plan_for_feeds(s.last_plan(), {{x, {100}}});
  CHECK(mp.slot_bytes == std::vector<size_t>{40000, 4, 4});
  CHECK(mp.slot_of_step[step_of(s.last_plan(), outer)] == mp.slot_of_step[step_of(s.last_plan(), a)]);
  CHECK(s.last_run_stats().buffers_allocated == 4);
  CHECK(s.last_run_stats().peak_bytes == 40012);
  // f = Σ exp(x_i) + Σ_ij x_i x_j = Σ exp(x_i) + (Σ x_i)²
  double sum_exp = 0, sum_x = 0;
  for (double v : xs) {
    sum_exp += std::exp(static_cast<float>(v));
    sum_x += static_cast<float>(v);
  }
  CHECK(fv.item<double>() == Approx(sum_exp + sum_x * sum_x).epsilon(1e-5));
}

TEST_CASE("an elementwise step never writes over an input it also reads through a view", "[graph][memory]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat32, {3, 3});
  g::Output a = g::exp(x);
  g::Output y = a + g::transpose(a, 0, 1);  // y[i][j] = a[i][j] + a[j][i]
  g::Output s = g::sum(y * y);
  g::Session sess(graph, planning(true));
  const Tensor xv = from_values({0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9}, {3, 3});
  const float got = sess.run(s, {{x, xv}}).item<float>();
  const g::MemoryPlan mp = plan_for_feeds(sess.last_plan(), {{x, {3, 3}}});
  CHECK(mp.writes_over[step_of(sess.last_plan(), y)] == -1);  // writing y[0][1] would clobber a[0][1],
                                                               // which y[1][0] still needs
  double ref = 0;
  const std::vector<double> v = xv.to_vector<double>();
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      const double yij = std::exp(v[i * 3 + j]) + std::exp(v[j * 3 + i]);
      ref += yij * yij;
    }
  CHECK(got == Approx(ref).epsilon(1e-5));
}

TEST_CASE("a small MLP forward: buffers and peak bytes by hand", "[graph][memory]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  // Weights with simple closed forms, so the reference below is plain arithmetic.
  std::vector<double> w1(4 * 16), b1(16), w2(16 * 2), b2(2);
  for (int i = 0; i < 64; ++i) w1[i] = ((i * 7) % 11 - 5) / 10.0;
  for (int i = 0; i < 16; ++i) b1[i] = (i % 3 - 1) / 10.0;
  for (int i = 0; i < 32; ++i) w2[i] = ((i * 5) % 7 - 3) / 10.0;
  b2 = {0.25, -0.5};
  g::Output x = g::placeholder(kFloat32, {-1, 4});
  g::Output W1 = g::Variable(from_values(w1, {4, 16}));
  g::Output B1 = g::Variable(from_values(b1, {16}));
  g::Output W2 = g::Variable(from_values(w2, {16, 2}));
  g::Output B2 = g::Variable(from_values(b2, {2}));
  g::Output mm1 = g::matmul(x, W1);  // [8, 16] 512 B
  g::Output add1 = mm1 + B1;         // [8, 16] 512 B
  g::Output h = g::relu(add1);       // [8, 16] 512 B
  g::Output mm2 = g::matmul(h, W2);  // [8, 2]   64 B
  g::Output y = mm2 + B2;            // [8, 2]   64 B, fetched
  g::Output init = g::global_variables_initializer();

  std::vector<double> xs(8 * 4);
  for (int i = 0; i < 32; ++i) xs[i] = (i % 9 - 4) / 4.0;
  const Tensor xv = from_values(xs, {8, 4});

  g::Session planned(graph, planning(true)), unplanned(graph, planning(false));
  planned.run(init);
  unplanned.run(init);
  const Tensor yp = planned.run(y, {{x, xv}});
  const g::Plan& plan = planned.last_plan();
  CHECK(plan.steps[step_of(plan, mm2)].meta.shape == Shape{-1, 2});  // static: the batch is unknown

  // Slots alone: mm1 -> slot 0; add1 -> slot 1 (mm1 is read by add1); h -> slot 0 (mm1 is dead);
  // mm2 (64 B) -> slot 1: the 512 B slot is free (add1 was last read by h) and big enough, so no
  // new buffer for it. y is fetched: its own buffer.
  const g::MemoryPlan fit = plan_for_feeds(plan, {{x, {8, 4}}}, false);
  CHECK(fit.slot_bytes == std::vector<size_t>{512, 512});
  CHECK(fit.slot_of_step[step_of(plan, mm2)] == fit.slot_of_step[step_of(plan, add1)]);
  CHECK(fit.metas[step_of(plan, mm2)].shape == Shape{8, 2});  // the runtime shape of [?, 2]

  // In place (the Session): add1 writes over mm1, h over add1 (both elementwise, last readers);
  // mm2 is a matmul, and the only slot is busy with h, which mm2 reads: a new 64 B slot.
  // Planned: slot 512 + slot 64 + y 64 = 3 buffers, 640 B.
  // Unplanned: 5 buffers, all kept: 3 × 512 + 2 × 64 = 1664 B.
  const g::MemoryPlan mp = plan_for_feeds(plan, {{x, {8, 4}}});
  CHECK(mp.slot_bytes == std::vector<size_t>{512, 64});
  CHECK(planned.last_run_stats().buffers_allocated == 3);
  CHECK(planned.last_run_stats().peak_bytes == 640);
  const Tensor yu = unplanned.run(y, {{x, xv}});
  CHECK(unplanned.last_run_stats().buffers_allocated == 5);
  CHECK(unplanned.last_run_stats().peak_bytes == 1664);

  // Reference: y = relu(x·W1 + b1)·W2 + b2, in double.
  const std::vector<double> gp = yp.to_vector<double>(), gu = yu.to_vector<double>();
  for (int r = 0; r < 8; ++r) {
    double hid[16];
    for (int j = 0; j < 16; ++j) {
      double acc = b1[j];
      for (int k = 0; k < 4; ++k) acc += xs[r * 4 + k] * w1[k * 16 + j];
      hid[j] = std::max(acc, 0.0);
    }
    for (int o = 0; o < 2; ++o) {
      double acc = b2[o];
      for (int j = 0; j < 16; ++j) acc += hid[j] * w2[j * 2 + o];
      CHECK(gp[r * 2 + o] == Approx(acc).margin(1e-5));
      CHECK(gp[r * 2 + o] == gu[r * 2 + o]);
    }
  }
}

namespace {

// The MLP 784-256-128-10 of the issue, one SGD step per run, in graph mode.
struct GraphMlp {
  g::Graph graph;
  g::Output x, t, loss, train;
  std::vector<g::Output> params, grads;
  g::Output init;

  GraphMlp(const std::vector<Tensor>& initial, double lr) {
    g::DefaultGraph use(graph);
    x = g::placeholder(kFloat32, {-1, 784});
    t = g::placeholder(kFloat32, {-1, 10});  // one-hot targets
    for (const Tensor& p : initial) params.push_back(g::Variable(p));
    g::Output h1 = g::relu(g::matmul(x, params[0]) + params[1]);
    g::Output h2 = g::relu(g::matmul(h1, params[2]) + params[3]);
    g::Output z = g::matmul(h2, params[4]) + params[5];
    loss = -g::mean(g::sum(t * g::log_softmax(z, 1), {1}));  // cross-entropy
    grads = g::gradients({loss}, params);
    std::vector<g::Output> updates;
    for (size_t k = 0; k < params.size(); ++k) updates.push_back(g::assign_sub(params[k], grads[k] * lr));
    train = g::group(updates);
    init = g::global_variables_initializer();
  }
};

std::vector<Tensor> mlp_initial(const std::vector<int64_t>& sizes) {
  manual_seed(7);
  std::vector<Tensor> p;
  for (size_t k = 0; k + 1 < sizes.size(); ++k) {
    p.push_back(randn({sizes[k], sizes[k + 1]}) * (1.0 / std::sqrt(static_cast<double>(sizes[k]))));
    p.push_back(zeros({sizes[k + 1]}));
  }
  return p;
}

// A batch of inputs and one-hot targets.
std::pair<Tensor, Tensor> mlp_batch(int64_t batch, uint64_t seed) {
  manual_seed(seed);
  const Tensor xv = rand({batch, 784});
  std::vector<double> onehot(batch * 10, 0.0);
  for (int64_t r = 0; r < batch; ++r) onehot[r * 10 + (r * 3 + static_cast<int64_t>(seed)) % 10] = 1.0;
  return {xv, from_values(onehot, {batch, 10})};
}

}  // namespace

TEST_CASE("planned and unplanned training give identical losses, gradients and weights", "[graph][memory]") {
  const std::vector<Tensor> initial = mlp_initial({784, 256, 128, 10});
  GraphMlp on_model(initial, 0.1), off_model(initial, 0.1);
  g::Session on(on_model.graph, planning(true)), off(off_model.graph, planning(false));
  on.run(on_model.init);
  off.run(off_model.init);
  for (int step = 0; step < 4; ++step) {
    const auto [xv, tv] = mlp_batch(64, static_cast<uint64_t>(step));
    // Every few steps also fetch the gradients, which changes the plan (they may not sit in slots).
    std::vector<g::Output> fetch_on{on_model.loss, on_model.train}, fetch_off{off_model.loss, off_model.train};
    if (step % 2 == 1) {
      fetch_on.insert(fetch_on.end(), on_model.grads.begin(), on_model.grads.end());
      fetch_off.insert(fetch_off.end(), off_model.grads.begin(), off_model.grads.end());
    }
    auto a = on.run(fetch_on, {{on_model.x, xv}, {on_model.t, tv}});
    auto b = off.run(fetch_off, {{off_model.x, xv}, {off_model.t, tv}});
    INFO("step " << step);
    CHECK(a[0].item<float>() == b[0].item<float>());  // the same kernels on the same values: bit for bit
    for (size_t k = 2; k < a.size(); ++k) CHECK(a[k].to_vector<float>() == b[k].to_vector<float>());
  }
  for (size_t k = 0; k < initial.size(); ++k) {
    const std::vector<float> w = on.variable_value(on_model.params[k]).to_vector<float>();
    CHECK(w == off.variable_value(off_model.params[k]).to_vector<float>());
    CHECK(w != initial[k].to_vector<float>());  // the steps did train
  }
}

TEST_CASE("the second run of a training step allocates only what it returns", "[graph][memory]") {
  GraphMlp model(mlp_initial({784, 256, 128, 10}), 0.1);
  g::Session s(model.graph, planning(true));
  s.run(model.init);
  const auto [xv, tv] = mlp_batch(64, 1);
  s.run({model.loss, model.train}, {{model.x, xv}, {model.t, tv}});
  const int64_t first = s.last_run_stats().buffers_allocated;
  const int64_t peak = s.last_run_stats().peak_bytes;
  s.run({model.loss, model.train}, {{model.x, xv}, {model.t, tv}});
  INFO("first run: " << first << " buffers; second run: " << s.last_run_stats().buffers_allocated);
  // Every value reuses a slot, and each assign_sub adds into its variable in place. What is left
  // is the fetched loss, a new 4-byte scalar each run (the caller keeps it). (Mean's gradient
  // divides by the element count, made in the gradient's dtype: no kernel converts it into a
  // temporary of its own.)
  CHECK(s.last_run_stats().buffers_allocated == 1);
  // The same peak as the first run: the slots count as the run's own.
  CHECK(std::abs(s.last_run_stats().peak_bytes - peak) <= 4);
  CHECK(first > 1);
  // Only the train op: nothing at all.
  s.run(model.train, {{model.x, xv}, {model.t, tv}});
  s.run(model.train, {{model.x, xv}, {model.t, tv}});
  CHECK(s.last_run_stats().buffers_allocated == 0);
  // A new batch size is a new shape signature: a new plan and new slots, then reuse again.
  const auto [x32, t32] = mlp_batch(32, 2);
  s.run(model.train, {{model.x, x32}, {model.t, t32}});
  CHECK(s.last_run_stats().buffers_allocated > 0);
  s.run(model.train, {{model.x, x32}, {model.t, t32}});
  CHECK(s.last_run_stats().buffers_allocated == 0);
  s.run(model.train, {{model.x, xv}, {model.t, tv}});  // the batch-64 plan is still cached
  CHECK(s.last_run_stats().buffers_allocated == 0);
}

TEST_CASE("a fetched variable is a snapshot: a later assign does not change it", "[graph][memory]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output v = g::Variable(tensor({1.f, 2.f}));
  g::Output bump = g::assign_add(v, g::constant(tensor({10.f, 10.f})));
  g::Session s(graph);
  s.run(g::global_variables_initializer());
  const Tensor before = s.run(v);
  s.run(bump);  // `before` holds the variable's storage: the variable gets a new tensor, v + 10
  CHECK(s.last_run_stats().buffers_allocated == 1);
  CHECK(before.to_vector<double>() == std::vector<double>{1, 2});
  CHECK(s.run(v).to_vector<double>() == std::vector<double>{11, 12});
  s.run(bump);  // nothing holds the variable now: updated in place, no buffer
  CHECK(s.last_run_stats().buffers_allocated == 0);
  CHECK(s.variable_value(v).to_vector<double>() == std::vector<double>{21, 22});
}

TEST_CASE("memory planning lowers the peak of an MLP training step (graph vs eager)", "[graph][memory]") {
  const std::vector<Tensor> initial = mlp_initial({784, 256, 128, 10});
  const auto [xv, tv] = mlp_batch(64, 3);
  const double lr = 0.1;

  GraphMlp on_model(initial, lr), off_model(initial, lr);
  g::Session on(on_model.graph, planning(true)), off(off_model.graph, planning(false));
  on.run(on_model.init);
  off.run(off_model.init);
  const float loss_on = on.run({on_model.loss, on_model.train}, {{on_model.x, xv}, {on_model.t, tv}})[0].item<float>();
  const int64_t peak_on = on.last_run_stats().peak_bytes;
  const float loss_off = off.run({off_model.loss, off_model.train}, {{off_model.x, xv}, {off_model.t, tv}})[0].item<float>();
  const int64_t peak_off = off.last_run_stats().peak_bytes;

  // The same step in eager mode: forward, backward, SGD update, grads cleared (as zero_grad does).
  std::vector<Tensor> p;
  for (const Tensor& w : initial) p.push_back(w.clone().requires_grad_());
  reset_peak_memory_stats();
  const int64_t eager_before = memory_stats().bytes_in_use;
  float loss_eager = 0;
  {
    Tensor h1 = relu(matmul(xv, p[0]) + p[1]);
    Tensor h2 = relu(matmul(h1, p[2]) + p[3]);
    Tensor z = matmul(h2, p[4]) + p[5];
    Tensor loss = -mean(sum(tv * log_softmax(z, 1), {1}));
    loss.backward();
    loss_eager = loss.item<float>();
    no_grad guard;
    for (Tensor& w : p) {
      w.sub_(w.grad(), lr);
      w.set_grad(Tensor());
    }
  }
  const int64_t peak_eager = memory_stats().peak_bytes - eager_before;

  // Where the bytes go: the first layer's weight gradient alone is 784·256·4 = 802,816 B, and both
  // modes hold it whole (eager in W1.grad, the graph in a slot). Eager also keeps every gradient
  // until the update and every saved activation until backward reaches it; the planned graph
  // frees each value after its last reader and scales the gradient in place. The unplanned graph
  // keeps all ~70 values to the end of the run.
  INFO("MLP 784-256-128-10, batch 64, one SGD step: peak bytes graph planned " << peak_on
       << ", graph unplanned " << peak_off << ", eager " << peak_eager << "; planned/eager = "
       << static_cast<double>(peak_on) / static_cast<double>(peak_eager));
  CHECK(loss_on == loss_off);
  CHECK(loss_on == Approx(loss_eager).epsilon(1e-5));
  CHECK(peak_on < peak_off);
  CHECK(peak_eager > 0);
}
