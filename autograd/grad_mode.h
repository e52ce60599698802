// autograd/grad_mode.h — the two switches of autograd: grad mode and anomaly mode.
//
// Grad mode decides whether ops record themselves on the tape at all. It is on by default; a
// `no_grad` guard turns it off for a scope (an optimizer's update, evaluating a model), exactly as
// `with torch.no_grad():`. It is one of the few pieces of global state, and like PyTorch's it is
// per thread.
//
// Anomaly mode (off by default, slow) makes every recorded op remember where in the user's program
// it was created, and makes backward() stop at the first NaN a derivative produces, naming the op
// and that place — PyTorch's torch.autograd.set_detect_anomaly(True).
#pragma once

namespace tandem::autograd {

bool is_grad_enabled();
void set_grad_enabled(bool enabled);

bool is_anomaly_enabled();
void set_detect_anomaly(bool enabled);

}  // namespace tandem::autograd

namespace tandem {

// RAII guard:  { no_grad guard; w.sub_(...); }   — ops inside record nothing.
class no_grad {
 public:
  no_grad() : previous_(autograd::is_grad_enabled()) { autograd::set_grad_enabled(false); }
  ~no_grad() { autograd::set_grad_enabled(previous_); }
  no_grad(const no_grad&) = delete;
  no_grad& operator=(const no_grad&) = delete;

 private:
  bool previous_;
};

// The opposite guard, to turn recording back on inside a no_grad scope.
class enable_grad {
 public:
  enable_grad() : previous_(autograd::is_grad_enabled()) { autograd::set_grad_enabled(true); }
  ~enable_grad() { autograd::set_grad_enabled(previous_); }
  enable_grad(const enable_grad&) = delete;
  enable_grad& operator=(const enable_grad&) = delete;

 private:
  bool previous_;
};

}  // namespace tandem
