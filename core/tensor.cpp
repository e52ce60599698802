// core/tensor.cpp — the Tensor handle: metadata, element access, and the PyTorch-style methods
// (each method simply calls the free function of core/ops.h).
#include "core/tensor.h"

#include "core/factories.h"
#include "core/ops.h"

namespace tandem {

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device, const char* op) {
  check_shape(shape, itemsize(dtype), op);  // sizes >= 0, byte count within int64: then allocate
  auto impl = std::make_shared<TensorImpl>();
  try {
    impl->storage = std::make_shared<Storage>(tandem::numel(shape) * itemsize(dtype), device);
  } catch (const OutOfMemoryError& e) {  // the allocator knows the bytes; say who asked, for what
    throw OutOfMemoryError(msg(op, ": cannot make a ", to_string(dtype), " tensor of shape ",
                               shape_str(shape), ": ", e.what(), ". Use a smaller shape or batch"));
  }
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

void Tensor::throw_undefined() {
  throw Error("this Tensor is undefined (default-constructed, or a gradient that was never "
              "computed); give it a value before using it");
}

int64_t Tensor::size(int64_t d) const { return shape()[normalize_dim(d, dim(), "size")]; }
int64_t Tensor::stride(int64_t d) const { return strides()[normalize_dim(d, dim(), "stride")]; }

bool Tensor::is_contiguous() const {
  // Size-1 dimensions may carry any stride: they are never stepped over.
  int64_t expected = 1;
  for (int64_t i = dim() - 1; i >= 0; --i) {
    if (shape()[i] == 1) continue;
    if (strides()[i] != expected) return false;
    expected *= shape()[i];
  }
  return true;
}

void* Tensor::raw_data() const {
  return static_cast<char*>(storage()->data()) + offset() * static_cast<int64_t>(itemsize(dtype()));
}

namespace {
// Offset (in elements) of a multi-index, with bounds checks that name the culprit.
int64_t element_offset(const Tensor& t, const std::vector<int64_t>& index) {
  if (static_cast<int64_t>(index.size()) != t.dim())
    throw IndexError(msg("at(): got ", index.size(), " indices for a tensor of rank ", t.dim(),
                         " (shape ", shape_str(t.shape()), ")"));
  int64_t off = 0;
  for (size_t d = 0; d < index.size(); ++d) {
    int64_t i = index[d];
    if (i < 0) i += t.shape()[d];
    if (i < 0 || i >= t.shape()[d])
      throw IndexError(msg("at(): index ", index[d], " is out of bounds for dimension ", d,
                           " with size ", t.shape()[d]));
    off += i * t.strides()[d];
  }
  return off;
}
void require_cpu(const Tensor& t, const char* what) {
  if (!t.device().is_cpu())
    throw Error(msg(what, "(): the tensor lives on ", to_string(t.device()),
                    "; copy it to the CPU first with .cpu()"));
}
}  // namespace

template <typename T> T Tensor::at(const std::vector<int64_t>& index) const {
  require_cpu(*this, "at");
  const int64_t off = element_offset(*this, index);
  return visit_dtype(dtype(), [&]<typename S>() {
    return static_cast<T>(static_cast<const S*>(raw_data())[off]);
  });
}

template <typename T> T Tensor::item() const {
  if (numel() != 1)
    throw Error(msg("item(): a Tensor with ", numel(), " elements (shape ", shape_str(shape()),
                    ") cannot be converted to a scalar; only one-element tensors can"));
  return at<T>(std::vector<int64_t>(dim(), 0));
}

template <typename T> std::vector<T> Tensor::to_vector() const {
  require_cpu(*this, "to_vector");
  const Tensor c = contiguous();
  std::vector<T> out(static_cast<size_t>(c.numel()));
  visit_dtype(dtype(), [&]<typename S>() {
    const S* p = static_cast<const S*>(c.raw_data());
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<T>(p[i]);
  });
  return out;
}

// The four element types a caller may ask for.
#define TANDEM_INSTANTIATE_ACCESS(T)                                     \
  template T Tensor::item<T>() const;                                    \
  template T Tensor::at<T>(const std::vector<int64_t>&) const;           \
  template std::vector<T> Tensor::to_vector<T>() const;
TANDEM_INSTANTIATE_ACCESS(float)
TANDEM_INSTANTIATE_ACCESS(double)
TANDEM_INSTANTIATE_ACCESS(int64_t)
TANDEM_INSTANTIATE_ACCESS(bool)
TANDEM_INSTANTIATE_ACCESS(int)
#undef TANDEM_INSTANTIATE_ACCESS

// ---- methods ----------------------------------------------------------------------------
// The shared ones (core/tensor_methods.h), compiled here once for eager tensors.
template class TensorMethods<Tensor>;

Tensor Tensor::to(Device d) const {
  if (d == device()) return *this;
  const Tensor src = contiguous();
  Tensor out = Tensor::empty(shape(), dtype(), d);
  copy_bytes(out.raw_data(), d, src.raw_data(), src.device(), nbytes());
  return out;
}

}  // namespace tandem
