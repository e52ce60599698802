// core/tensor.h — the Tensor: a view (shape, strides, offset, dtype) onto shared Storage.
//
// This is the one data type of Tandem. A Tensor object is a cheap *handle*: copying it copies a
// pointer, exactly like assigning a tensor to a new name in Python. Two handles to one tensor see
// the same values; `clone()` makes a real copy.
//
//      Tensor ──► TensorImpl { shape {2,3}, strides {3,1}, offset 0, float32 } ──► Storage (24 B)
//      t.t()  ──► TensorImpl { shape {3,2}, strides {1,3}, offset 0, float32 } ──┘  (same bytes)
//
// Element (i, j) lives at  data + (offset + i*strides[0] + j*strides[1]) * itemsize.
// Everything else — views, broadcasting, transposed GEMM operands — follows from that formula.
//
// The operations (add, matmul, sum, reshape...) are free functions in core/ops.h; the methods
// (t.sum(), t.reshape(...)) are the same functions spelled the PyTorch way (core/tensor_methods.h).
//
// Read next: core/op.h (the op catalogue), then core/ops.h.
#pragma once

#include <iosfwd>
#include <memory>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/scalar.h"
#include "core/shape.h"
#include "core/storage.h"
#include "core/tensor_methods.h"

namespace tandem {

namespace autograd {
struct AutogradMeta;  // autograd/node.h: requires_grad, grad, grad_fn — absent for plain tensors
struct Node;          // autograd/node.h: one recorded op of the tape
}  // namespace autograd

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Strides strides;  // in elements, not bytes
  int64_t offset = 0;
  DType dtype = DType::float32;
  std::shared_ptr<autograd::AutogradMeta> autograd;  // null until the tensor takes part in autograd
};

class Tensor : public TensorMethods<Tensor> {
 public:
  Tensor() = default;  // an undefined tensor (like an empty optional); most calls on it throw
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // A fresh, contiguous, uninitialised tensor. Prefer the factories in core/factories.h. The shape
  // is checked first (core/shape.h: check_shape); errors name `op`, the caller (a factory or op).
  static Tensor empty(const Shape& shape, DType dtype = kFloat32, Device device = Device::cpu(),
                      const char* op = "empty");

  // ---- metadata ---------------------------------------------------------------------------
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  const Shape& sizes() const { return impl().shape; }
  int64_t size(int64_t dim) const;  // dim may be negative
  int64_t dim() const { return static_cast<int64_t>(impl().shape.size()); }
  int64_t numel() const { return tandem::numel(impl().shape); }
  const Strides& strides() const { return impl().strides; }
  int64_t stride(int64_t dim) const;
  int64_t offset() const { return impl().offset; }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device(); }
  bool is_contiguous() const;
  bool is_floating_point() const { return is_floating(dtype()); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * itemsize(dtype()); }

  const std::shared_ptr<Storage>& storage() const { return impl().storage; }
  // SPEED: inline, because every accessor above goes through it, dozens of times per eager op: the
  // check stays, the call goes. (With SmallVector's short copies, core/small_vector.h, it took
  // bench_mlp_step's batch-1 eager step from 65.7 to 62.8 µs at one thread.)
  TensorImpl& impl() const {
    if (!impl_) [[unlikely]] throw_undefined();
    return *impl_;
  }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  // True when both handles refer to the very same tensor (not just equal values).
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }

  // ---- raw data --------------------------------------------------------------------------
  // Pointer to element 0 (storage start + offset). T must match the dtype, or this throws.
  template <typename T> T* data() const;
  void* raw_data() const;

  // ---- reading values --------------------------------------------------------------------
  // The single value of a one-element tensor, converted to T (PyTorch's .item()).
  template <typename T = double> T item() const;
  // One element by index, converted to T:  t.at({1, 2}).
  template <typename T = double> T at(const std::vector<int64_t>& index) const;
  // All elements in row-major order, converted to T.
  template <typename T = double> std::vector<T> to_vector() const;

  // ---- views, copies and common ops as methods: t.reshape(...), t.sum() (core/tensor_methods.h,
  // shared with graph outputs) — and the ones only values have:
  using TensorMethods<Tensor>::to;
  Tensor to(Device device) const;
  Tensor cpu() const { return to(Device::cpu()); }

  // ---- autograd (autograd/tensor_autograd.cpp) ---------------------------------------------
  // A tensor the user marks with requires_grad_() is a *leaf*: backward() accumulates into its
  // grad(). Results of ops on such tensors record a grad_fn (the tape) and are not leaves.
  bool requires_grad() const;
  const Tensor& requires_grad_(bool on = true) const;  // floating dtypes only
  bool is_leaf() const;
  Tensor grad() const;                      // undefined until a backward reached this tensor
  void set_grad(const Tensor& grad) const;  // set_grad(Tensor()) clears it, like `p.grad = None`
  std::shared_ptr<autograd::Node> grad_fn() const;
  void retain_grad() const;  // make a non-leaf keep its grad too
  // Backpropagates from this tensor. A non-scalar needs `gradient` (dL/dthis) of the same shape.
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false,
                bool create_graph = false) const;
  Tensor detach() const;  // same storage, no history, requires_grad false
  uint64_t version() const { return storage()->version; }  // bumped by in-place ops

  // ---- in-place ops (core/ops/inplace.cpp): modify this tensor's storage --------------------
  // `other` broadcasts to this tensor's shape. They bump the version counter; on a leaf that
  // requires grad they are allowed only under no_grad (how optimizers update weights).
  const Tensor& add_(const Tensor& other, const Scalar& alpha = 1) const;  // this += alpha * other
  const Tensor& sub_(const Tensor& other, const Scalar& alpha = 1) const;  // this -= alpha * other
  const Tensor& mul_(const Tensor& other) const;
  const Tensor& mul_(const Scalar& factor) const;
  const Tensor& div_(const Scalar& divisor) const;
  const Tensor& copy_(const Tensor& src) const;
  const Tensor& fill_(const Scalar& value) const;
  const Tensor& zero_() const;

 private:
  [[noreturn]] static void throw_undefined();  // the error impl() throws for an undefined Tensor
  std::shared_ptr<TensorImpl> impl_;
};

// Arithmetic and comparison operators (a + b, x * 2, x > 0) are templates for both modes, in
// core/ops.h.

// Prints like PyTorch: tensor([[ 6.,  8., 16.], ...]) — see core/print.cpp.
std::ostream& operator<<(std::ostream& os, const Tensor& t);

// The methods are compiled once, in core/tensor.cpp; other files only call them.
extern template class TensorMethods<Tensor>;

// ---- template definitions ----------------------------------------------------------------

template <typename T> T* Tensor::data() const {
  if (dtype_of<std::remove_const_t<T>>() != dtype())
    throw DTypeError(msg("data<", to_string(dtype_of<std::remove_const_t<T>>()),
                         ">(): the tensor's dtype is ", to_string(dtype()),
                         "; read it with the matching type or convert it first with .to(dtype)"));
  return static_cast<T*>(raw_data());
}

}  // namespace tandem
