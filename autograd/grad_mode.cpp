// autograd/grad_mode.cpp — the per-thread grad-mode flag and the anomaly switch.
#include "autograd/grad_mode.h"

namespace tandem::autograd {

namespace {
thread_local bool grad_enabled = true;
bool anomaly_enabled = false;
}  // namespace

bool is_grad_enabled() { return grad_enabled; }
void set_grad_enabled(bool enabled) { grad_enabled = enabled; }
bool is_anomaly_enabled() { return anomaly_enabled; }
void set_detect_anomaly(bool enabled) { anomaly_enabled = enabled; }

}  // namespace tandem::autograd
