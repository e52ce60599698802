// core/ops/inplace.cpp — ops that overwrite a tensor: add_, mul_, copy_, zero_ ...
//
// An in-place op writes into the tensor's own storage instead of allocating a result. That saves
// memory, and optimizers rely on it (`w.sub_(w.grad(), lr)` under no_grad). It also creates two
// hazards autograd must guard against, exactly as PyTorch does:
//
//   1. A leaf that requires grad (a weight) must not be overwritten while recording: its old
//      value is what the gradient is about. Outside no_grad this is an error — and so is writing
//      through a view of it (w[0].mul_(2)), which would change the leaf's bytes just the same.
//   2. A value saved for backward must not change before backward runs. Every in-place op bumps
//      the storage's version counter; a saved tensor remembers the version it was saved at, and
//      backward() refuses a mismatch (autograd/engine.cpp, EagerContext::unpack).
//
// When recording is needed (the tensor or the operand requires grad), the op is computed
// out of place through the catalogue — which records it on the tape — and the result is copied
// back; the tensor's history then continues from that new Node, as PyTorch "rebases" it.
#include <type_traits>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "core/factories.h"
#include "core/ops.h"
#include "core/ops/copy.h"
#include "core/ops/loops.h"
#include "core/ops/math.h"

namespace tandem {

namespace {

void check_leaf(const Tensor& self, const char* op) {
  if (!autograd::is_grad_enabled() || !self.requires_grad()) return;
  if (self.is_leaf())
    throw Error(msg(op, ": a leaf Variable that requires grad is being used in an in-place operation. "
                        "Update weights inside a no_grad scope: { no_grad guard; w.", op, "(...); }"));
  // A view of such a leaf (w[0], w.reshape(...)) shares the leaf's bytes: writing through it would
  // change the leaf just the same, behind autograd's back.
  if (autograd::is_view_of_leaf(self))
    throw Error(msg(op, ": a view of a leaf Variable that requires grad is being used in an in-place "
                        "operation (it would change the leaf). Write to the leaf itself inside a "
                        "no_grad scope, or work on a copy: v = v.clone()"));
}

void check_shape(const Tensor& self, const Tensor& other, const char* op) {
  if (!is_expandable_to(other.shape(), self.shape()))
    throw ShapeError(msg(op, ": output with shape ", shape_str(self.shape()),
                         " doesn't match the broadcast shape ",
                         shape_str(broadcast_shapes(self.shape(), other.shape(), op)),
                         "; an in-place op cannot change the shape of its tensor"));
}

// On another device (a GPU), the loops of this file cannot run: the new value is computed out of
// place by the device's kernels, then copied over the tensor's bytes (a device-to-device copy).
// One temporary more than a fused kernel would need, and the same result. The tensor must be
// contiguous, so that its bytes are one block.
void write_back(const Tensor& self, const Tensor& value, const char* op) {
  if (!self.is_contiguous())
    throw Error(msg(op, ": in-place ops on non-contiguous ", to_string(self.device()),
                    " tensors are not supported; make it contiguous first (x = x.contiguous())"));
  const Tensor v = value.dtype() == self.dtype() ? value.contiguous() : value.to(self.dtype()).contiguous();
  copy_bytes(self.raw_data(), self.device(), v.raw_data(), v.device(), self.nbytes());
  self.storage()->version++;
}

// self[i] = f(self[i], other[i]) over self's shape, other broadcast and converted to self's dtype.
template <typename F> void apply_inplace(const char* op, const Tensor& self, const Tensor& other_any, F f) {
  const Tensor other = other_any.dtype() == self.dtype() ? other_any : other_any.to(self.dtype());
  visit_dtype(self.dtype(), [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      throw DTypeError(msg(op, ": in-place arithmetic on bool tensors is not supported; convert first "
                           "(x = x.to(kInt64)), or use the out-of-place op"));
    } else {
      T* ps = static_cast<T*>(self.raw_data());
      const T* po = static_cast<const T*>(other.raw_data());
      loops::for_each_row<2>(
          self.shape(), {self.strides(), broadcast_strides(other.shape(), other.strides(), self.shape())},
          [&](const std::array<int64_t, 2>& off, int64_t n, const std::array<int64_t, 2>& st) {
            T* s = ps + off[0];
            const T* o = po + off[1];
            if (st[0] == 1 && st[1] == 1)
              for (int64_t i = 0; i < n; ++i) s[i] = f(s[i], o[i]);
            else
              for (int64_t i = 0; i < n; ++i) s[i * st[0]] = f(s[i * st[0]], o[i * st[1]]);
          });
    }
  });
}

// The recorded path: compute out of place (recorded), copy the values back, continue the history.
void rebase(const Tensor& self, const Tensor& result) {
  check_shape(self, result, "in-place op");
  if (self.device().is_cpu()) {
    copy_into(result, self);
    self.storage()->version++;
  } else {
    write_back(self, result, "in-place op");  // a device copy; copy_into is a CPU loop
  }
  self.impl().autograd = result.impl().autograd;
}

bool recording(const Tensor& self, const Tensor& other) {
  return autograd::is_grad_enabled() && (self.requires_grad() || other.requires_grad());
}

}  // namespace

const Tensor& Tensor::add_(const Tensor& other, const Scalar& alpha) const {
  check_leaf(*this, "add_");
  check_shape(*this, other, "add_");
  if (recording(*this, other)) {
    rebase(*this, alpha.to_double() == 1.0 ? add(*this, other) : add(*this, other * alpha));
    return *this;
  }
  const double a = alpha.to_double();
  if (!device().is_cpu()) {
    write_back(*this, a == 1.0 ? add(*this, other) : add(*this, other * alpha), "add_");
    return *this;
  }
  // A floating tensor computes in its own type, as PyTorch does: alpha is converted once, so the
  // loop stays in float for float32 (w.sub_(g, lr), every optimizer step) and vectorises 8 wide.
  // Integer tensors compute in double, then truncate.
  if (a == 1.0) apply_inplace("add_", *this, other, math::Add{});  // int64 wraps around (math.h)
  else apply_inplace("add_", *this, other, [a](auto s, auto o) {
    using T = decltype(s);
    if constexpr (std::is_floating_point_v<T>) return static_cast<T>(s + static_cast<T>(a) * o);
    else return static_cast<T>(s + a * o);
  });
  storage()->version++;
  return *this;
}

const Tensor& Tensor::sub_(const Tensor& other, const Scalar& alpha) const {
  check_leaf(*this, "sub_");  // before add_ does, so that the error names the op the user called
  return add_(other, -alpha.to_double());
}

const Tensor& Tensor::mul_(const Tensor& other) const {
  check_leaf(*this, "mul_");
  check_shape(*this, other, "mul_");
  if (recording(*this, other)) {
    rebase(*this, mul(*this, other));
    return *this;
  }
  if (!device().is_cpu()) {
    write_back(*this, mul(*this, other), "mul_");
    return *this;
  }
  apply_inplace("mul_", *this, other, math::Mul{});
  storage()->version++;
  return *this;
}

const Tensor& Tensor::mul_(const Scalar& factor) const { return mul_(scalar_like(factor, *this)); }

const Tensor& Tensor::div_(const Scalar& divisor) const {
  check_leaf(*this, "div_");
  if (!is_floating_point())
    throw DTypeError("div_: true division of an integer tensor cannot be done in place; use div()");
  return mul_(1.0 / divisor.to_double());
}

const Tensor& Tensor::copy_(const Tensor& src) const {
  check_leaf(*this, "copy_");
  check_shape(*this, src, "copy_");
  if (recording(*this, src)) {
    // d(copy_)/d(self) is 0 and d/d(src) is g (summed to src's shape): an expand + cast of src.
    // Moving between devices (to(Device)) records no history, so a src that needs its gradient
    // must already be on self's device.
    if (src.device() != device() && src.requires_grad())
      throw Error(msg("copy_: copying from a ", to_string(src.device()), " tensor that requires grad into a ",
                      to_string(device()), " tensor cannot pass the gradient back across devices; "
                      "move it first (src.to(", to_string(device()), ")) inside the computation, or copy "
                      "under no_grad"));
    rebase(*this, tandem::to(tandem::expand(src.to(device()), shape()), dtype()).clone());
    return *this;
  }
  if (!device().is_cpu()) {  // broadcast and convert with the device's copy kernel (clone)
    write_back(*this, tandem::to(tandem::expand(src.to(device()), shape()), dtype()).clone(), "copy_");
    return *this;
  }
  copy_into(src.device() == device() ? src : src.to(device()), *this);
  storage()->version++;
  return *this;
}

const Tensor& Tensor::fill_(const Scalar& value) const {
  check_leaf(*this, "fill_");
  if (device().is_cpu()) {
    copy_into(full({}, value, dtype()), *this);
    storage()->version++;
  } else {
    write_back(*this, full(shape(), value, dtype()), "fill_");  // filled on the host, copied over
  }
  if (requires_grad() && !is_leaf()) impl().autograd.reset();  // a constant now: no history
  return *this;
}

const Tensor& Tensor::zero_() const { return fill_(0); }

}  // namespace tandem
