// core/threads.h — how many CPU threads Tandem's kernels use (torch.set_num_threads), and how
// Tandem shares a busy machine.
//
// Two thread pools work for Tandem on the CPU:
//   - OpenMP runs the elementwise loops, reductions and Eigen's own GEMM (int64, or every dtype
//     when OpenBLAS is not used);
//   - OpenBLAS, when Eigen forwards float/double GEMMs to it (EIGEN_USE_BLAS). Tandem links the
//     OpenMP build of OpenBLAS when it is installed, so its GEMMs use the same OpenMP threads;
//     Debian's default is the pthread build, with a pool of its own that competes with OpenMP's
//     for the cores (CMakeLists.txt says what that costs).
// Both read the environment at start-up: OMP_NUM_THREADS for OpenMP; OPENBLAS_NUM_THREADS, or
// failing that OMP_NUM_THREADS, for OpenBLAS. So `OMP_NUM_THREADS=2 ./program` sets both, and
// set_num_threads(n) below sets both from inside a program, as torch.set_num_threads does.
//
// SHARING A BUSY MACHINE. An OpenMP loop is a team working in lockstep: each thread takes a
// share, and the loop ends when the last share is done. Between loops GCC's OpenMP (libgomp)
// keeps its threads *spinning* for a while (GOMP_SPINCOUNT, 300000 polls, a few milliseconds)
// rather than sleeping, because waking a sleeping thread costs microseconds and an engine runs
// thousands of loops a second. On a quiet machine that is the right bet. With one other busy
// process on a 2-core machine it collapses: there are now three runnable threads for two cores,
// the scheduler parks one of ours for a time slice (milliseconds), and every loop waits for it
// while its teammate spins on the other core. Measured (bench/RESULTS.md): the seed ConvNet's
// eager step went from 5.8 ms to 110 ms beside `yes > /dev/null`; OMP_WAIT_POLICY=passive
// (sleep at once) cut that to 28 ms, and slowed the quiet machine by a third to a half.
//
// Tandem's answer: run as many threads as there are cores to be had. Every 0.1 s at most, the
// first kernel to start a team measures (core/cpu_load.h) whether our threads had to wait for a
// CPU — the scheduler's own verdict, priorities included — and how many cores other processes
// kept busy, then resizes the team:
//
//     our threads waited (>= 0.4 threads' worth,  ->  team = cpus - others, at least one fewer
//       two intervals running)
//     nobody waited (< 0.1), and cores are idle   ->  team = cpus - others, at most the cap
//
// (the cap: set_num_threads' n, else OMP_NUM_THREADS, else the CPU count), applied to OpenMP
// (omp_set_num_threads, on each thread that runs kernels) and to OpenBLAS. A team of one never
// waits for anyone. On a quiet machine nothing changes (the team is every thread). Beside one
// busy process on 2 cores the team is 1, and the ConvNet step takes its one-thread time, 9.4 ms:
// 1.6x its quiet time on two threads, where it took 110 ms before (bench/RESULTS.md).
// This is what OpenMP's own dynamic mode (OMP_DYNAMIC=true) means to do, but libgomp judges the
// load by the 15-minute load average, which counts our own threads and reacts in minutes.
//
// One thing changes with the team: a GEMM split between two threads rounds differently from one
// on a single thread (OpenBLAS cuts the work differently), so when the load changes the team, a
// run's numbers change in their last bits — as they would after torch.set_num_threads. For runs
// that must repeat bit for bit (the tests: tests/fixed_threads.cpp), fix the team.
//
// A user's explicit settings win: with OMP_DYNAMIC, OMP_WAIT_POLICY or GOMP_SPINCOUNT in the
// environment (OMP_DYNAMIC=false: "keep my team sizes fixed"), or after
// set_load_aware_threads(false), teams are exactly set_num_threads' n, as before.
// OMP_NUM_THREADS and set_num_threads(n) set the most threads used, on a quiet machine.
//
// What does not work, and why (tried, so that nobody tries again): setting OMP_WAIT_POLICY or
// GOMP_SPINCOUNT from inside the program. libgomp reads its environment in its own constructor,
// which runs before the program's static initialisers. Even a function in the executable's
// .preinit_array (ELF's earliest hook, before any library's constructor) is too late: glibc's own
// initialisation, which runs after it, resets `environ` to the block the kernel passed, and the
// variable is gone before libgomp looks. And libgomp has no call to change its spin count later.
//
// Read next: core/cpu_load.h (measuring the load), core/ops/loops.h (parallel_for, where teams
// start), core/ops/matmul.cpp (where the two pools meet).
#pragma once

#include "core/cpu_load.h"

namespace tandem {

// Use at most `n` threads (n >= 1) for OpenMP loops and, when built with OpenBLAS, for its GEMMs.
// Throws tandem::Error for n < 1.
void set_num_threads(int n);

// The number of threads an OpenMP loop started now on this thread would use
// (torch.get_num_threads): set_num_threads' n, or fewer while other processes keep cores busy.
int get_num_threads();

// Whether teams shrink while other processes keep cores busy (on by default, unless the
// environment sets OMP_DYNAMIC, OMP_WAIT_POLICY or GOMP_SPINCOUNT).
void set_load_aware_threads(bool on);
bool load_aware_threads();

// For the kernels, called just before they start a team (loops::parallel_for, the GEMMs):
// measures the load when 0.1 s has passed since the last measurement, applies the team size to
// this thread's OpenMP setting and to OpenBLAS, and returns it. 1 inside a parallel region.
int adapt_threads_to_load();

namespace detail {
// Threads' worth of our threads waiting for a CPU in an interval: measured, or (without schedstat
// files) inferred from the usage figures as the team's threads beyond the cores others leave.
double waiting(const CpuLoad& load, int team, int cpus);
// The team for the next 0.1 s, from the current one and what the last two intervals showed:
// shrink when our threads waited for a CPU in both (>= 0.4 threads' worth: one interval can be a
// passing burst), to the cores others leave and by at least one; grow when nobody waited (< 0.1)
// and more cores are free than the team uses; otherwise keep it (the gap between 0.1 and 0.4
// stops it flapping). Between 1 and cap.
int next_team(int team, int cap, int cpus, const CpuLoad& load, double waited_before);
// Whether the user has taken charge of OpenMP's waiting (any of these variables set, non-empty).
bool user_tunes_openmp(const char* omp_dynamic, const char* omp_wait_policy,
                       const char* gomp_spincount);
}  // namespace detail

}  // namespace tandem
