// tests/test_thread_teams.cpp — thread teams sized to the cores to be had (core/threads.h, cpu_load.h).
//
// The decisions are checked as plain functions (how many threads for how many free cores; which
// environment variables mean "the user decides"; reading /proc/stat). The mechanism is checked
// for real: busy child processes on every CPU this process may use must shrink the team to one
// thread, whatever else the machine is doing, and must not when load-awareness is off.
#include <catch2/catch.hpp>

#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <thread>
#include <vector>

#include "core/cpu_load.h"
#include "core/error.h"
#include "core/ops/loops.h"
#include "core/threads.h"

using namespace tandem;

namespace {

// Child processes that each keep one CPU busy (pinned to it) until killed.
class BusyChildren {
 public:
  explicit BusyChildren(const std::vector<int>& cpus) {
    for (int cpu : cpus) {
      const pid_t pid = fork();
      if (pid == 0) {  // the child: no allocation, no locks, just spin
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        sched_setaffinity(0, sizeof(set), &set);
        volatile unsigned long spin = 0;
        for (;;) spin = spin + 1;
      }
      if (pid > 0) pids_.push_back(pid);
    }
  }
  ~BusyChildren() {
    for (pid_t pid : pids_) kill(pid, SIGKILL);
    for (pid_t pid : pids_) waitpid(pid, nullptr, 0);
  }
  size_t count() const { return pids_.size(); }

 private:
  std::vector<pid_t> pids_;
};

std::vector<int> my_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  sched_getaffinity(0, sizeof(set), &set);
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  return cpus;
}

// Runs parallel loops (as kernels do) until adapt_threads_to_load() returns `want` or `seconds`
// pass; returns the last answer.
int adapt_until(int want, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  std::vector<double> work(1 << 18, 1.0);
  int team = adapt_threads_to_load();
  while (team != want && std::chrono::steady_clock::now() < end) {
    for (int rep = 0; rep < 20; ++rep)  // a team working in lockstep, as in a training step
      loops::parallel_for(static_cast<int64_t>(work.size()), true,
                          [&](int64_t i) { work[i] = std::sqrt(work[i] + 1.0); });
    team = adapt_threads_to_load();
  }
  return team;
}

}  // namespace

TEST_CASE("the team shrinks when our threads wait for a CPU and grows back when cores are idle",
          "[teams]") {
  using detail::next_team;
  auto load = [](double others, double waiting) { return CpuLoad{others, waiting, true}; };
  const double waited = 1.0, calm = 0.0;  // the interval before: our threads waited, or not
  // 2 cores. Quiet: both threads, and nothing changes.
  CHECK(next_team(2, 2, 2, load(0.05, 0.01), waited) == 2);
  // A `yes` at our priority: three runnable threads share two cores, ours wait a third of the
  // time each (0.67), the other process got 2/3 of a core: one thread.
  CHECK(next_team(2, 2, 2, load(0.67, 0.67), waited) == 1);
  // ... and the team stays at one while the other process keeps its core (it now gets a whole one).
  CHECK(next_team(1, 2, 2, load(1.0, 0.0), waited) == 1);
  // It has stopped: the core is idle again.
  CHECK(next_team(1, 2, 2, load(0.02, 0.0), waited) == 2);
  // Busy lower-priority work (its time is in /proc/stat's nice column, not in `others`) delays
  // us little: the team stays.
  CHECK(next_team(2, 2, 2, load(0.1, 0.05), waited) == 2);
  // One interval of waiting is not enough: a passing burst must not shrink the team.
  CHECK(next_team(2, 2, 2, load(0.67, 0.67), calm) == 2);
  // Between the thresholds nothing changes, whichever way the last step went.
  CHECK(next_team(2, 2, 2, load(0.5, 0.2), waited) == 2);
  CHECK(next_team(1, 2, 2, load(0.4, 0.2), waited) == 1);
  // Our own extra threads compete too (others ~0): at least one fewer.
  CHECK(next_team(2, 2, 2, load(0.0, 0.5), waited) == 1);
  // A 16-core machine beside one busy process: leave it its core.
  CHECK(next_team(16, 16, 16, load(0.94, 0.94), waited) == 15);
  // Never more than set_num_threads' n, never fewer than one.
  CHECK(next_team(1, 4, 16, load(0.0, 0.0), waited) == 4);
  CHECK(next_team(1, 2, 2, load(2.0, 1.5), waited) == 1);
  // Without schedstat files the waiting is inferred: two threads, two cores, others 0.67 -> one.
  CHECK(detail::waiting(CpuLoad{0.67, 0.0, false}, 2, 2) == Approx(0.67));
  CHECK(next_team(2, 2, 2, CpuLoad{0.67, 0.0, false}, waited) == 1);
  CHECK(next_team(2, 2, 2, CpuLoad{0.05, 0.0, false}, waited) == 2);
}

TEST_CASE("OMP_DYNAMIC, OMP_WAIT_POLICY or GOMP_SPINCOUNT in the environment mean the user decides",
          "[teams]") {
  using detail::user_tunes_openmp;
  CHECK_FALSE(user_tunes_openmp(nullptr, nullptr, nullptr));
  CHECK_FALSE(user_tunes_openmp("", "", ""));  // set but empty counts as unset
  CHECK(user_tunes_openmp("false", nullptr, nullptr));
  CHECK(user_tunes_openmp(nullptr, "passive", nullptr));
  CHECK(user_tunes_openmp(nullptr, nullptr, "10000"));
}

TEST_CASE("busy_ticks adds user, system, irq, softirq and steal of the listed CPUs, and nice when asked",
          "[teams]") {
  const char* stat =
      "cpu  300 10 200 5000 40 0 6 0 0 0\n"
      "cpu0 100 0 50 2500 20 0 3 0 0 0\n"
      "cpu1 200 10 150 2500 20 1 3 2 0 0\n"
      "cpu10 1 1 1 1 1 1 1 1 0 0\n";
  CHECK(busy_ticks(stat, {0}) == 100 + 50 + 0 + 3 + 0);
  CHECK(busy_ticks(stat, {1}) == 200 + 150 + 1 + 3 + 2);  // its 10 ticks of nice are not counted
  CHECK(busy_ticks(stat, {0, 1}) == 153 + 356);
  CHECK(busy_ticks(stat, {10}) == 5);                // "cpu10", not "cpu1" followed by a 0
  CHECK(busy_ticks(stat, {2}) == -1);                // no such CPU
  CHECK(busy_ticks("cpu0 5 0 5\n", {0}) == 10);      // an old kernel's shorter line
  // A niced process (`nice make test`) finds its own time, and its peers', in the nice column.
  CHECK(busy_ticks(stat, {1}, /*count_nice=*/true) == 200 + 10 + 150 + 1 + 3 + 2);
  CHECK(busy_ticks(stat, {0, 1}, /*count_nice=*/true) == 153 + 366);
  CHECK(run_delay_ns("2981294 1500 12\n") == 1500);  // cputime_ns run_delay_ns timeslices
  CHECK(run_delay_ns("garbage") == -1);
}

TEST_CASE("the load meter sees another process keep a CPU busy", "[teams]") {
  const std::vector<int> cpus = my_cpus();
  REQUIRE(!cpus.empty());
  CpuLoadMeter meter({cpus[0]});
  CHECK(meter.cpus() == 1);
  CHECK_FALSE(meter.measure(0.1).has_value());  // too soon after the first sample
  BusyChildren child({cpus[0]});
  REQUIRE(child.count() == 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto load = meter.measure(0.1);
  REQUIRE(load.has_value());
  // The child (and whatever else runs there) keeps the CPU busy; none of it is ours (we slept).
  // Under `nice make test` too: the child inherits the level, and the meter counts that column.
  CHECK(load->others >= 0.5);
  CHECK(load->others <= 1.0);
  if (load->waiting_known) CHECK(load->waiting < 0.5);  // a sleeping thread waits for no CPU
}

TEST_CASE("busy processes on every CPU shrink the team to one thread, unless load-awareness is off",
          "[teams]") {
  const int before = get_num_threads();
  const bool aware = load_aware_threads();  // off if this run's environment sets OMP_DYNAMIC...
  set_num_threads(2);                       // at least two, so that there is something to shrink
  set_load_aware_threads(true);
  {
    BusyChildren children(my_cpus());
    CHECK(adapt_until(1, 3.0) == 1);
    CHECK(get_num_threads() == 1);  // what OpenMP (and OpenBLAS) now use on this thread

    set_load_aware_threads(false);  // the user's choice wins, load or not
    CHECK(adapt_threads_to_load() == 2);
    CHECK(get_num_threads() == 2);
  }
  set_load_aware_threads(aware);
  set_num_threads(before);
}

// Run by the next test in a child process, with OMP_DYNAMIC set in its environment ([.]: hidden,
// not run on its own).
TEST_CASE("child: load-awareness is off when OMP_DYNAMIC is set", "[.][threads-child]") {
  REQUIRE(std::getenv("OMP_DYNAMIC") != nullptr);
  CHECK_FALSE(load_aware_threads());
}

TEST_CASE("an explicit OMP_DYNAMIC turns load-awareness off, as the user asked", "[teams]") {
  const std::string command =
      "OMP_DYNAMIC=false '" TANDEM_BINARY_DIR "/tandem_tests' '[threads-child]' > /dev/null 2>&1";
  CHECK(std::system(command.c_str()) == 0);
}

TEST_CASE("an exception thrown inside a parallel loop comes out of it, after the loop, instead of stopping the program",
          "[teams]") {
  // Without the catch inside parallel_for, this would end in std::terminate (an exception may not
  // leave an OpenMP region). With it, the first exception is thrown again once the loop is over.
  std::vector<int> done(1000, 0);
  auto body = [&](int64_t i) {
    if (i == 537) throw Error("item 537 failed");
    done[static_cast<size_t>(i)] = 1;
  };
  for (const bool parallel : {true, false}) {
    std::fill(done.begin(), done.end(), 0);
    CHECK_THROWS_WITH(loops::parallel_for(1000, parallel, body), "item 537 failed");
    CHECK(done[0] == 1);  // the items before it ran
  }
}

TEST_CASE("a parallel loop with a team of one runs every item, in order, on the calling thread", "[teams]") {
  // parallel_for skips the OpenMP runtime when the team is one thread (set_num_threads(1), or a
  // busy machine): the plain loop, in order. With two threads it is the OpenMP loop. Either way
  // every item runs exactly once.
  const int before = get_num_threads();
  for (const int threads : {1, 2}) {
    set_num_threads(threads);
    INFO(threads << " threads");
    std::vector<int64_t> order;
    std::vector<int> runs(5000, 0);
    loops::parallel_for(5000, true, [&](int64_t i) {
      ++runs[static_cast<size_t>(i)];
      if (threads == 1) order.push_back(i);  // one thread: no data race on `order`
    });
    CHECK(std::count(runs.begin(), runs.end(), 1) == 5000);
    if (threads == 1) {
      CHECK(order.size() == 5000);
      CHECK(std::is_sorted(order.begin(), order.end()));
    }
  }
  set_num_threads(before);
}
