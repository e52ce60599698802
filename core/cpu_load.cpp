// core/cpu_load.cpp — reading /proc/stat and the process CPU clock (see cpu_load.h).
#include "core/cpu_load.h"

#include <dirent.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iterator>
#include <string>

namespace tandem {
namespace {

// The CPUs this process may run on.
std::vector<int> affinity_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  return cpus;
}

// The per-CPU lines of /proc/stat come first ("cpu " for the total, then "cpu0", "cpu1", ...);
// the rest (interrupt counts: kilobytes on a big machine) is not read.
std::string read_cpu_lines() {
  std::ifstream in("/proc/stat");
  std::string text, line;
  while (std::getline(in, line) && line.starts_with("cpu")) text += line + '\n';
  return text;
}

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Σ run delay of this process's threads, in seconds; -1 without schedstat files.
double threads_run_delay_seconds() {
  DIR* dir = opendir("/proc/self/task");
  if (!dir) return -1;
  int64_t total = 0;
  bool any = false;
  while (const dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream in(std::string("/proc/self/task/") + e->d_name + "/schedstat");
    std::string line;
    if (!std::getline(in, line)) continue;  // the thread has just exited
    if (const int64_t d = run_delay_ns(line); d >= 0) total += d, any = true;
  }
  closedir(dir);
  return any ? 1e-9 * static_cast<double>(total) : -1;
}

// Whether this process runs at a nice level above 0 (`nice ./app`, `nice make test`): the kernel
// then counts its CPU time in /proc/stat's nice column.
bool runs_niced() {
  errno = 0;
  const int level = getpriority(PRIO_PROCESS, 0);  // -1 is a valid level: errno tells an error
  return errno == 0 && level > 0;
}

double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

int64_t busy_ticks(std::string_view text, const std::vector<int>& cpus, bool count_nice) {
  int64_t total = 0;
  for (int cpu : cpus) {
    const std::string tag = "cpu" + std::to_string(cpu) + " ";
    const size_t at = text.starts_with(tag) ? 0 : text.find("\n" + tag);
    if (at == std::string_view::npos) return -1;
    std::string_view rest = text.substr(at + (at == 0 ? 0 : 1) + tag.size());
    rest = rest.substr(0, rest.find('\n'));
    // Fields: user nice system idle iowait irq softirq steal (guest and guest_nice are already
    // inside user and nice). Idle and iowait are not busy; nice is lower-priority work, unless we
    // are niced ourselves (count_nice).
    int64_t field[8] = {};
    for (int64_t& f : field) {
      while (rest.starts_with(' ')) rest.remove_prefix(1);
      const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), f);
      if (ec != std::errc()) break;  // older kernels list fewer fields; the missing ones are 0
      rest.remove_prefix(static_cast<size_t>(end - rest.data()));
    }
    total += field[0] + field[2] + field[5] + field[6] + field[7] + (count_nice ? field[1] : 0);
  }
  return total;
}

int64_t run_delay_ns(std::string_view text) {
  while (text.starts_with(' ')) text.remove_prefix(1);
  const size_t gap = text.find(' ');
  if (gap == std::string_view::npos) return -1;
  text.remove_prefix(gap + 1);  // past the CPU time
  int64_t delay = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), delay);
  return ec == std::errc() ? delay : -1;
}

CpuLoadMeter::CpuLoadMeter(std::vector<int> cpus)
    : cpus_(cpus.empty() ? affinity_cpus() : std::move(cpus)), count_nice_(runs_niced()) {
  last_ = sample();
}

CpuLoadMeter::Sample CpuLoadMeter::sample() const {
  static const double tick_s = 1.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
  Sample s;
  s.wall_s = wall_seconds();
  s.own_s = process_cpu_seconds();
  s.delay_s = threads_run_delay_seconds();
  const int64_t ticks = cpus_.empty() ? -1 : busy_ticks(read_cpu_lines(), cpus_, count_nice_);
  s.busy_s = static_cast<double>(ticks) * tick_s;
  s.ok = ticks >= 0;
  return s;
}

std::optional<CpuLoad> CpuLoadMeter::measure(double min_interval_s) {
  if (wall_seconds() - last_.wall_s < min_interval_s) return std::nullopt;
  const Sample now = sample(), before = last_;
  last_ = now;
  if (!now.ok || !before.ok) return std::nullopt;
  const double wall = now.wall_s - before.wall_s, cores = static_cast<double>(cpus_.size());
  CpuLoad load;
  load.others =
      std::clamp((now.busy_s - before.busy_s - (now.own_s - before.own_s)) / wall, 0.0, cores);
  load.waiting_known = now.delay_s >= 0 && before.delay_s >= 0;
  // A thread that exited takes its delay out of the sum: never below zero.
  if (load.waiting_known) load.waiting = std::max(0.0, (now.delay_s - before.delay_s) / wall);
  return load;
}

}  // namespace tandem
