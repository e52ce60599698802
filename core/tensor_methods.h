// core/tensor_methods.h — the PyTorch-style methods (x.sum(), x.reshape(...), x.t()) shared by
// eager tensors and graph outputs.
//
// In PyTorch, `x.sum()` and `torch.sum(x)` are the same thing; in Tandem, too: each method below is
// the free function of core/ops.h with its first argument written before the dot. Both tandem::Tensor
// and tandem::graph::Output inherit them from this one class template, so a model written with
// methods — `h.relu().matmul(w).sum({1})` — runs in both modes, like one written with functions.
//
// (The pattern is the "curiously recurring template pattern": Tensor derives from
// TensorMethods<Tensor>, so the base knows the type its methods return. A side effect a reader may
// meet: because the base lives in namespace tandem, calling `relu(x)` or `x + y` on graph Outputs
// finds tandem's functions and operators by argument-dependent lookup.)
//
// The definitions are in core/ops.h, after the functions they call.
#pragma once

#include <cstdint>
#include <vector>

#include "core/scalar.h"
#include "core/shape.h"

namespace tandem {

template <class Self> class TensorMethods {
 public:
  // views and reshaping
  Self reshape(const Shape& shape) const;
  Self view(const Shape& shape) const;  // eager: always a view, or an error; a graph: reshape
  Self transpose(int64_t dim0, int64_t dim1) const;
  Self permute(const std::vector<int64_t>& dims) const;
  Self t() const;  // transpose of a matrix (rank <= 2)
  Self slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  Self narrow(int64_t dim, int64_t start, int64_t length) const;
  Self select(int64_t dim, int64_t index) const;
  Self operator[](int64_t index) const { return select(0, index); }
  Self squeeze() const;
  Self squeeze(int64_t dim) const;
  Self unsqueeze(int64_t dim) const;
  Self expand(const Shape& shape) const;  // -1 keeps a size
  Self flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  // copies
  Self contiguous() const;  // itself when already contiguous
  Self clone() const;
  Self to(DType dtype) const;  // itself when the dtype already matches
  // common ops
  Self sum() const;
  Self sum(const std::vector<int64_t>& dims, bool keepdim = false) const;
  Self mean() const;
  Self mean(const std::vector<int64_t>& dims, bool keepdim = false) const;
  Self max() const;
  Self min() const;
  Self argmax() const;
  Self argmax(int64_t dim, bool keepdim = false) const;
  Self matmul(const Self& other) const;
  Self pow(const Scalar& exponent) const;
  Self exp() const;
  Self log() const;
  Self relu() const;
  Self sigmoid() const;
  Self tanh() const;
  Self abs() const;
  Self sqrt() const;
  Self softmax(int64_t dim) const;
  Self log_softmax(int64_t dim) const;

 private:
  const Self& self() const { return static_cast<const Self&>(*this); }
};

}  // namespace tandem
