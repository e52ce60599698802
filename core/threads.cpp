// core/threads.cpp — the thread count of OpenMP and OpenBLAS, set together and sized to the
// cores other processes leave free (see threads.h).
#include "core/threads.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <utility>

#include "core/cpu_load.h"
#include "core/error.h"

#ifdef TANDEM_HAVE_OPENBLAS
// From OpenBLAS's cblas.h, declared here so that no OpenBLAS header is needed to build.
extern "C" void openblas_set_num_threads(int num_threads);
extern "C" int openblas_get_num_threads(void);
#endif

namespace tandem {

namespace detail {

double waiting(const CpuLoad& load, int team, int cpus) {
  // Without schedstat files, the waiting is what the usage figures imply: our threads beyond
  // the cores that others leave.
  return load.waiting_known ? load.waiting : std::max(0.0, team + load.others - cpus);
}

int next_team(int team, int cap, int cpus, const CpuLoad& load, double waited_before) {
  const int most = std::max(cap, 1);
  const int free = static_cast<int>(std::lround(cpus - load.others));
  const double waited = waiting(load, team, cpus);
  // One busy process at our priority beside a team of n on n cores leaves n + 1 runnable threads:
  // each of ours waits 1/(n+1) of the time, n/(n+1) >= 0.5 threads' worth in all. A quiet machine
  // measures 0 to 0.25 (kernel threads, daemons, short bursts).
  if (waited >= 0.4 && waited_before >= 0.4) return std::clamp(std::min(free, team - 1), 1, most);
  if (waited < 0.1 && free > team) return std::clamp(free, 1, most);
  return std::clamp(team, 1, most);
}

bool user_tunes_openmp(const char* omp_dynamic, const char* omp_wait_policy,
                       const char* gomp_spincount) {
  for (const char* v : {omp_dynamic, omp_wait_policy, gomp_spincount})
    if (v && *v) return true;
  return false;
}

}  // namespace detail

namespace {

// What every thread shares. `cap` is the most threads (set_num_threads' n); `team` is the size
// the load allows.
struct Threads {
  std::atomic<int> cap{omp_get_max_threads()};
  std::atomic<int> team{cap.load()};
  std::atomic<bool> load_aware{!detail::user_tunes_openmp(
      std::getenv("OMP_DYNAMIC"), std::getenv("OMP_WAIT_POLICY"), std::getenv("GOMP_SPINCOUNT"))};
  std::atomic<int64_t> next_check_ns{0};  // steady clock
#ifdef TANDEM_HAVE_OPENBLAS
  // OpenBLAS's own count (OPENBLAS_NUM_THREADS, or OMP_NUM_THREADS) is its cap until
  // set_num_threads says otherwise; blas_threads is what it was last told.
  std::atomic<int> blas_cap{openblas_get_num_threads()};
  std::atomic<int> blas_threads{blas_cap.load()};
#endif
  std::mutex meter_lock;  // one thread measures at a time; it guards the rest
  CpuLoadMeter meter;
  bool first_interval = true;  // it includes starting OpenMP's threads: not a fair sample
  double waited_before = 0;    // the previous interval's waiting
};

Threads& threads() {
  static Threads t;
  return t;
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

constexpr int64_t kCheckEveryNs = 100'000'000;  // 0.1 s: ten measurements a second, ~25 µs each

// Every 0.1 s at most: did our threads wait for a CPU, and how many cores do others leave us?
void measure_load(Threads& t) {
  const int64_t now = now_ns();
  if (now < t.next_check_ns.load(std::memory_order_relaxed))
    return;  // the common case: one clock read
  std::unique_lock lock(t.meter_lock, std::try_to_lock);
  if (!lock.owns_lock()) return;  // another thread is measuring
  t.next_check_ns.store(now + kCheckEveryNs, std::memory_order_relaxed);
  const auto load = t.meter.measure();
  if (!load) return;
  const int team = t.team.load();
  if (!std::exchange(t.first_interval, false))
    t.team.store(detail::next_team(team, t.cap.load(), t.meter.cpus(), *load, t.waited_before));
  t.waited_before = detail::waiting(*load, team, t.meter.cpus());
}

// OpenMP's thread count is a per-thread setting (an "ICV" of the calling thread), so each thread
// that runs kernels applies it for itself, once per change. OpenBLAS's is one global number.
void apply(Threads& t, int n) {
  thread_local int applied = 0;
  if (applied != n) {
    omp_set_num_threads(n);
    applied = n;
  }
#ifdef TANDEM_HAVE_OPENBLAS
  // The OpenMP build of OpenBLAS follows omp_set_num_threads down, but never back up from 1.
  const int blas = std::min(n, t.blas_cap.load(std::memory_order_relaxed));
  if (t.blas_threads.load(std::memory_order_relaxed) != blas &&
      t.blas_threads.exchange(blas) != blas)
    openblas_set_num_threads(blas);
#else
  (void)t;
#endif
}

}  // namespace

void set_num_threads(int n) {
  if (n < 1)
    throw Error(msg("set_num_threads: expected a positive number of threads, but got ", n));
  Threads& t = threads();
  t.cap.store(n);
#ifdef TANDEM_HAVE_OPENBLAS
  t.blas_cap.store(n);  // the caller's count is OpenBLAS's too, as torch.set_num_threads does
#endif
  t.team.store(n);  // from there, the load decides again
  t.next_check_ns.store(0);
  apply(t, n);
}

int get_num_threads() { return omp_get_max_threads(); }

void set_load_aware_threads(bool on) {
  Threads& t = threads();
  t.load_aware.store(on);
  t.team.store(t.cap.load());
  t.next_check_ns.store(0);
  apply(t, t.cap.load());
}

bool load_aware_threads() { return threads().load_aware.load(); }

int adapt_threads_to_load() {
  if (omp_in_parallel()) return 1;  // nested loops run on one thread (OpenMP's default too)
  Threads& t = threads();
  int n = t.cap.load(std::memory_order_relaxed);
  if (n > 1 &&
      t.load_aware.load(std::memory_order_relaxed)) {  // with one thread, nothing to decide
    measure_load(t);
    n = std::min(n, t.team.load(std::memory_order_relaxed));
  }
  apply(t, n);
  return n;
}

}  // namespace tandem
