// tests/test_threads.cpp — what may be shared between threads, and what each thread has of its own.
//
// The threading model (docs/errors.md, "Threads"), as the frameworks' users expect it:
//   - separate tensors in separate threads are fine (PyTorch); grad mode is per thread;
//   - the memory counters are shared and atomic: every thread's tensors count, exactly;
//   - the default generator is shared and locked: each tensor's numbers are one unbroken stretch
//     of the seeded sequence, whichever thread draws it (PyTorch locks it the same way);
//   - the default graph is per thread (TF1): threads building their own graphs never meet;
//   - one graph is built by one thread at a time: two at once is an Error, not a corrupted graph;
//   - a finished graph may be run by Sessions in several threads.
// (One Session run from several threads at once is the Session's own test, in test_session_threads.cpp.)
//
// Every test here is tagged [threads]: CI runs them again under ThreadSanitizer (.ci/run), which
// reports any data race even when the values happen to come out right. (The worker threads only
// record what they see; the CHECKs run on the test's own thread, as Catch2 asks.)
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <latch>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tandem.h"

using namespace tandem;
namespace g = tandem::graph;

namespace {

// Runs body(0) and body(1) on two threads that start together (a latch), and waits for both.
template <typename F> void on_two_threads(F body) {
  std::latch start(2);
  auto run = [&](int k) {
    start.arrive_and_wait();
    body(k);
  };
  std::thread a(run, 0), b(run, 1);
  a.join();
  b.join();
}

std::vector<std::vector<double>> sorted(std::vector<std::vector<double>> rows) {
  std::sort(rows.begin(), rows.end());
  return rows;
}

}  // namespace

TEST_CASE("memory counters stay exact while two threads allocate and free", "[threads]") {
  const Tensor a = ones({64, 16}), b = ones({64, 16});
  const int64_t before = memory_stats().bytes_in_use;
  reset_peak_memory_stats();  // allocations counts from 0 again
  constexpr int kSteps = 5000;
  on_two_threads([&](int) {
    for (int i = 0; i < kSteps; ++i) {
      Tensor c = a + b;  // one Storage made and freed per step
      (void)c;
    }
  });
  // A plain int64 += from two threads loses updates: before the counters were atomic, this ended
  // thousands of bytes away from where it started (-31,924 once) and allocations fell short.
  CHECK(memory_stats().bytes_in_use == before);
  CHECK(memory_stats().allocations == 2 * kSteps);
  CHECK(memory_stats().peak_bytes >= before + static_cast<int64_t>(a.nbytes()));
}

TEST_CASE("the default generator is locked: two threads draw exactly the numbers one would", "[threads]") {
  // Sequentially, 2N dropout masks from seed 7. Then the same 2N drawn by two threads at once:
  // which thread gets which mask depends on timing, but each mask must be one of the sequential
  // ones, whole, and every one must appear once. Unlocked, the Mersenne Twister's state is torn
  // by concurrent draws and masks repeat or come out of nowhere.
  constexpr int kMasks = 200;
  const Tensor x = ones({256});
  manual_seed(7);
  std::vector<std::vector<double>> sequential;
  for (int i = 0; i < 2 * kMasks; ++i) sequential.push_back(dropout(x, 0.5, true).to_vector<double>());

  manual_seed(7);
  std::vector<std::vector<double>> drawn[2];
  on_two_threads([&](int k) {
    for (int i = 0; i < kMasks; ++i) drawn[k].push_back(dropout(x, 0.5, true).to_vector<double>());
  });
  std::vector<std::vector<double>> together = drawn[0];
  together.insert(together.end(), drawn[1].begin(), drawn[1].end());
  CHECK(sorted(together) == sorted(sequential));
}

TEST_CASE("rand, randn and randint from two threads: each tensor one stretch of the sequence", "[threads]") {
  // Each round: 2N tensors of one kind drawn in sequence, then by two threads at once; the same
  // tensors must come out (in some order). An even size for randn: Box-Muller makes normals in
  // pairs, so each tensor then starts on a fresh pair, whatever was drawn before it.
  auto round = [](auto draw) {
    manual_seed(3);
    std::vector<std::vector<double>> sequential;
    for (int i = 0; i < 100; ++i) sequential.push_back(draw().template to_vector<double>());
    manual_seed(3);
    std::vector<std::vector<double>> drawn[2];
    on_two_threads([&](int k) {
      for (int i = 0; i < 50; ++i) drawn[k].push_back(draw().template to_vector<double>());
    });
    drawn[0].insert(drawn[0].end(), drawn[1].begin(), drawn[1].end());
    return sorted(drawn[0]) == sorted(sequential);
  };
  CHECK(round([] { return rand({31}); }));
  CHECK(round([] { return randn({32}, kFloat64); }));
  CHECK(round([] { return randint(-5, 1000, {7}); }));
}

TEST_CASE("eager training in two threads at once: each gets the single-threaded result", "[threads]") {
  // Separate tensors in separate threads (PyTorch's rule), each thread with its own grad mode:
  // one thread's no_grad() around its update must not switch off recording in the other.
  auto train = [](double scale) {
    Tensor w = tensor({0.5, -0.25, 1.0}, kFloat64).requires_grad_();
    const Tensor x = tensor({1.0, 2.0, 3.0}, kFloat64) * scale;
    for (int step = 0; step < 200; ++step) {
      Tensor loss = ((x * w).sum() - 1.0).pow(2);
      loss.backward();
      {
        no_grad guard;
        w.sub_(w.grad(), 0.01);
      }
      w.set_grad(Tensor());
    }
    return w.detach().to_vector<double>();
  };
  const std::vector<double> alone0 = train(1.0), alone1 = train(0.5);
  std::vector<double> together[2];
  on_two_threads([&](int k) { together[k] = train(k == 0 ? 1.0 : 0.5); });
  CHECK(together[0] == alone0);
  CHECK(together[1] == alone1);
}

TEST_CASE("each thread has its own default graph and its own DefaultGraph blocks", "[threads]") {
  g::Graph mine;
  g::DefaultGraph use(mine);  // this thread's default: not the workers'
  const g::Output here = g::constant(1.0, kFloat32);
  std::atomic<int> errors{0};
  std::vector<double> results(2);
  on_two_threads([&](int k) {
    try {
      // Before the default graph was per thread, the two threads appended to one global graph
      // (and one thread's DefaultGraph switched the other's): a use-after-free, or a SIGSEGV.
      if (&g::default_graph() == &mine) ++errors;
      g::Graph own;
      g::DefaultGraph use_own(own);
      g::Output x = g::placeholder(kFloat64, {3}, "x");
      g::Output y = x;
      for (int i = 0; i < 200; ++i) y = y + 1.0;
      if (own.size() <= 200) ++errors;  // x, then at least an add per step
      g::Session s(own);
      results[k] = s.run(g::sum(y), {{x, tensor({1.0, 2.0, 3.0}, kFloat64)}}).item();
    } catch (const Error&) {
      ++errors;
    }
  });
  CHECK(errors == 0);
  CHECK(results[0] == 606.0);  // (1 + 2 + 3) + 3 * 200
  CHECK(results[1] == 606.0);
  CHECK(&g::default_graph() == &mine);
  CHECK(mine.size() == 1);
  CHECK(here.graph().size() == 1);
}

TEST_CASE("two threads adding to one graph at once: an Error, and the graph stays whole", "[threads]") {
  g::Graph shared;
  std::atomic<bool> caught{false};
  std::atomic<int> other_errors{0};
  on_two_threads([&](int) {
    g::DefaultGraph use(shared);  // the same graph in both threads: not supported, detected
    try {
      g::Output c = g::constant(1.0, kFloat32);
      // Until the clash is seen (almost at once when the threads run side by side), with a bound
      // for a machine that runs them one after the other.
      for (int i = 0; i < 50000 && !caught; ++i) c = c + 1.0;
    } catch (const Error& e) {
      if (std::string(e.what()).find("two threads are adding nodes to one graph") != std::string::npos)
        caught = true;
      else
        ++other_errors;
    }
  });
  CHECK(caught);
  CHECK(other_errors == 0);
  // Whatever was added, was added whole: ids in order, names unique.
  std::set<std::string> names;
  for (int64_t i = 0; i < shared.size(); ++i) {
    CHECK(shared.nodes()[i]->id == i);
    names.insert(shared.nodes()[i]->name);
  }
  CHECK(static_cast<int64_t>(names.size()) == shared.size());
}

TEST_CASE("an Output from a thread's default graph is an error after the thread ends", "[threads]") {
  g::Output x;
  std::thread([&] { x = g::placeholder(kFloat32, {2}, "x"); }).join();  // its graph died with it
  CHECK(x.defined());
  CHECK_THROWS_WITH(x.shape(), Catch::Contains("belongs to a Graph that no longer exists"));
  CHECK_THROWS_AS(g::relu(x), Error);
}

TEST_CASE("a finished graph runs in Sessions of two threads at once", "[threads]") {
  g::Graph graph;
  g::DefaultGraph use(graph);
  g::Output x = g::placeholder(kFloat64, {-1, 3}, "x");
  g::Output w = g::constant(tensor({{1.0}, {2.0}, {3.0}}, kFloat64));
  g::Output y = g::sum(g::relu(g::matmul(x, w)) * 2.0);
  graph.finalize();
  const Tensor batch = tensor({{1.0, 1.0, 1.0}, {-1.0, 0.0, 0.5}}, kFloat64);
  const double expected = g::Session(graph).run(y, {{x, batch}}).item();
  CHECK(expected == 13.0);  // rows: 1 + 2 + 3 = 6 and -1 + 1.5 = 0.5; relu keeps both; (6 + 0.5) * 2
  std::atomic<int> wrong{0};
  on_two_threads([&](int) {
    g::Session s(graph);  // one Session per thread: each has its own variables, plans and buffers
    for (int i = 0; i < 300; ++i)
      if (s.run(y, {{x, batch}}).item() != expected) ++wrong;
  });
  CHECK(wrong == 0);
}
