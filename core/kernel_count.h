// core/kernel_count.h — how many kernels eager mode has run: the eager twin of a Session's
// RunStats::kernels_launched (graph/run_stats.h).
//
// A graph Session counts the kernels of each run for you. Eager mode has no run to count in: each
// op computes when it is called. So core/op.cpp counts there, in the two places every eager kernel
// starts — call() for an op with a result (a view that copies nothing runs no kernel) and
// call_update() for an optimizer's in-place step. Read the counter before and after any piece of
// eager code and the difference is what it launched:
//
//     const int64_t before = eager_kernels_run();
//     optimizer.zero_grad(); loss = ...; loss.backward(); optimizer.step();
//     std::cout << eager_kernels_run() - before << " kernels in one training step\n";
//
// The count is per thread (eager ops run on the thread that calls them; a kernel's own OpenMP
// team is still one kernel), so another thread's work never shows in yours. It also counts the
// views a Session runs through call() on this thread, so read it around eager code only.
//
// Read next: examples/12_fashion_mnist.cpp (both modes' counts in one table).
#pragma once

#include <cstdint>

namespace tandem {

// Kernels started by eager calls on this thread since the thread began.
int64_t eager_kernels_run();

}  // namespace tandem
