// autograd/grad_mode.cpp — the per-thread grad-mode flag and the anomaly switch.
#include "autograd/grad_mode.h"

#include <atomic>

namespace tandem::autograd {

namespace {
thread_local bool grad_enabled = true;
// Process-wide, as PyTorch's: set by one thread, read by every recording op on any thread (so it
// is atomic; relaxed is enough, the flag orders nothing else).
std::atomic<bool> anomaly_enabled{false};
}  // namespace

bool is_grad_enabled() { return grad_enabled; }
void set_grad_enabled(bool enabled) { grad_enabled = enabled; }
bool is_anomaly_enabled() { return anomaly_enabled.load(std::memory_order_relaxed); }
void set_detect_anomaly(bool enabled) { anomaly_enabled.store(enabled, std::memory_order_relaxed); }

}  // namespace tandem::autograd
