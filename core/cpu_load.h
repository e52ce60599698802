// core/cpu_load.h — is this process waiting for CPUs that other programs hold?
//
// Tandem sizes its thread team to the cores it can actually get (core/threads.h says why). Two
// counters that Linux keeps answer that, sampled twice some time apart:
//
//   waiting = Σ over our threads of the time spent runnable but not running / wall time
//     from /proc/self/task/*/schedstat (the second number: "run delay", in ns). This is contention
//     as the scheduler itself sees it: 0 on a quiet machine, about 0.67 for two spinning threads
//     beside a `yes` on two cores (three runnable threads share two cores, each waits a third of
//     the time). Priorities are already in it: a nice-19 batch job hardly delays us, another
//     program at our priority does.
//
//   others = (busy time of our CPUs − our own CPU time) / wall time
//     from /proc/stat (per CPU: user, system, irq, softirq, steal; in ticks of 10 ms) and
//     CLOCK_PROCESS_CPUTIME_ID: how many cores other processes kept busy (a `yes` beside us: 1.0,
//     or its share when we compete). Work in the `nice` column (lower-priority processes) is not
//     counted: we take those cores back whenever we want them. Unless this process runs niced
//     itself (`nice make test`): then its own time lands in that column, and so does that of every
//     program at its level, which competes with it; the meter counts the column then.
//
// `waiting` says *whether* the team is too big; `others` says how many cores are left for it.
// Only the CPUs this process may run on count (its affinity mask: `taskset -c 0,1 ./app` sees two).
// The load average (/proc/loadavg, which OpenMP's own dynamic mode, OMP_DYNAMIC, reads: its
// 15-minute value) answers too slowly and counts our own threads.
//
// Read next: core/threads.cpp (what is done with the numbers).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace tandem {

// What one interval showed, in cores' (or threads') worth.
struct CpuLoad {
  double others = 0;           // cores other processes kept busy
  double waiting = 0;          // our threads' time waiting for a CPU, per second of the interval
  bool waiting_known = false;  // false where the kernel has no schedstat files
};

class CpuLoadMeter {
 public:
  // Takes the first sample. `cpus`: the CPU numbers to watch; empty means this process's
  // affinity mask (sched_getaffinity).
  explicit CpuLoadMeter(std::vector<int> cpus = {});

  // The load since the previous sample, and starts the next interval. nullopt when /proc/stat
  // cannot be read (not Linux, a sandbox) or when less than `min_interval_s` has passed (the
  // tick counters are too coarse for shorter intervals: 10 ms a tick).
  std::optional<CpuLoad> measure(double min_interval_s = 0.1);

  // The number of CPUs watched.
  int cpus() const { return static_cast<int>(cpus_.size()); }

 private:
  struct Sample {
    double wall_s = 0, busy_s = 0, own_s = 0, delay_s = -1;
    bool ok = false;
  };
  Sample sample() const;

  std::vector<int> cpus_;
  bool count_nice_;  // this process runs niced: the nice column holds its peers (above)
  Sample last_;
};

// The busy ticks (user + system + irq + softirq + steal, and nice where count_nice; never idle or
// iowait) of the listed CPUs, summed, from the text of /proc/stat ("cpu3 1200 4 560 98000 30 0 12
// 0 0 0" per CPU). -1 when a listed CPU has no line. (Separate from the meter so that tests can
// feed it text.)
int64_t busy_ticks(std::string_view proc_stat, const std::vector<int>& cpus, bool count_nice = false);

// The run delay (ns) in the text of one schedstat file ("cputime_ns run_delay_ns timeslices"),
// -1 if unreadable.
int64_t run_delay_ns(std::string_view schedstat);

}  // namespace tandem
