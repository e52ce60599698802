// core/factories.cpp — tensors from literals, constants, ranges and random numbers.
#include "core/factories.h"

#include <cmath>
#include <numbers>

namespace tandem {

namespace {
// The element count a caller's values must fill: the shape is checked first, so that an
// overflowing shape ([2^32, 2^32] has "0" elements in wrapped arithmetic) cannot match.
int64_t checked_count(const Shape& shape, DType dtype, const char* op) {
  check_shape(shape, itemsize(dtype), op);
  return numel(shape);
}
}  // namespace

template <typename T> Tensor from_vector(const std::vector<T>& values, const Shape& shape) {
  const int64_t n = checked_count(shape, dtype_of<T>(), "from_vector");
  if (static_cast<int64_t>(values.size()) != n)
    throw ShapeError(msg("from_vector(): ", values.size(), " values cannot fill shape ",
                         shape_str(shape), " (", n, " elements); give as many values as the shape "
                         "has elements"));
  Tensor t = Tensor::empty(shape, dtype_of<T>(), Device::cpu(), "from_vector");
  std::copy(values.begin(), values.end(), t.data<T>());
  return t;
}
template Tensor from_vector<float>(const std::vector<float>&, const Shape&);
template Tensor from_vector<double>(const std::vector<double>&, const Shape&);
template Tensor from_vector<int64_t>(const std::vector<int64_t>&, const Shape&);
template <> Tensor from_vector<bool>(const std::vector<bool>& values, const Shape& shape) {
  // std::vector<bool> packs bits, so it needs its own loop.
  const int64_t n = checked_count(shape, kBool, "from_vector");
  if (static_cast<int64_t>(values.size()) != n)
    throw ShapeError(msg("from_vector(): ", values.size(), " values cannot fill shape ",
                         shape_str(shape), " (", n, " elements); give as many values as the shape "
                         "has elements"));
  Tensor t = Tensor::empty(shape, kBool, Device::cpu(), "from_vector");
  for (size_t i = 0; i < values.size(); ++i) t.data<bool>()[i] = values[i];
  return t;
}

// ---- filled ------------------------------------------------------------------------------------
namespace {
// Every element = value, converted to the tensor's dtype. An integer value fills an int64 tensor
// exactly (through a double, 2^53 + 1 would become 2^53).
void fill(Tensor& t, const Scalar& value) {
  if (!t.device().is_cpu()) {  // build the values on the CPU, then copy them over
    Tensor host = Tensor::empty(t.shape(), t.dtype());
    fill(host, value);
    copy_bytes(t.raw_data(), t.device(), host.raw_data(), Device::cpu(), t.nbytes());
    return;
  }
  visit_dtype(t.dtype(), [&]<typename T>() {
    const T v = std::is_same_v<T, int64_t> && value.natural_dtype() != kFloat64
                    ? static_cast<T>(value.to_int64())
                    : static_cast<T>(value.to_double());
    std::fill_n(t.data<T>(), t.numel(), v);
  });
}

// full() under the name of the factory the user called, for its errors.
Tensor filled(const char* op, const Shape& shape, const Scalar& value, std::optional<DType> dtype,
              Device device) {
  // torch.full infers the dtype from the fill value: 7 -> int64, 7.0 -> float32, true -> bool.
  const DType natural = value.natural_dtype() == kFloat64 ? kFloat32 : value.natural_dtype();
  Tensor t = Tensor::empty(shape, dtype.value_or(natural), device, op);
  fill(t, value);
  return t;
}
}  // namespace

Tensor empty(const Shape& shape, DType dtype, Device device) { return Tensor::empty(shape, dtype, device); }
Tensor zeros(const Shape& shape, DType dtype, Device device) { return filled("zeros", shape, 0, dtype, device); }
Tensor ones(const Shape& shape, DType dtype, Device device) { return filled("ones", shape, 1, dtype, device); }
Tensor full(const Shape& shape, const Scalar& value, std::optional<DType> dtype, Device device) {
  return filled("full", shape, value, dtype, device);
}

Tensor eye(int64_t n, std::optional<int64_t> m, DType dtype) {
  if (n < 0) throw ShapeError(msg("eye(): n must be greater or equal to 0, got ", n));
  const int64_t cols = m.value_or(n);
  if (cols < 0) throw ShapeError(msg("eye(): m must be greater or equal to 0, got ", cols));
  Tensor t = filled("eye", {n, cols}, 0, dtype, Device::cpu());
  visit_dtype(dtype, [&]<typename T>() {
    for (int64_t i = 0; i < std::min(n, cols); ++i) t.data<T>()[i * cols + i] = T(1);
  });
  return t;
}

Tensor arange(const Scalar& end) { return arange(0, end, 1); }

Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step) {
  const double a = start.to_double(), b = end.to_double(), s = step.to_double();
  if (s == 0) throw Error("arange(): step must be nonzero");
  if (!std::isfinite(a) || !std::isfinite(b) || !std::isfinite(s))
    throw Error(msg("arange(): start, end and step must be finite, got ", a, ", ", b, ", ", s));
  if ((b - a) / s < 0)
    throw Error(msg("arange(): upper bound and larger bound inconsistent with step sign (start ",
                    a, ", end ", b, ", step ", s, ")"));
  const bool all_int = start.natural_dtype() != kFloat64 && end.natural_dtype() != kFloat64 &&
                       step.natural_dtype() != kFloat64;
  // The count, checked before the conversion to int64 (1e30 elements would not even convert).
  const double count = std::ceil((b - a) / s);
  if (count > static_cast<double>(kMaxShapeBytes))
    throw ShapeError(msg("arange(): [", a, ", ", b, ") in steps of ", s, " has ", count,
                         " elements: invalid size, possible overflow? Check the bounds and the step"));
  const auto n = static_cast<int64_t>(count);
  Tensor t = Tensor::empty({n}, all_int ? kInt64 : kFloat32, Device::cpu(), "arange");
  visit_dtype(t.dtype(), [&]<typename T>() {
    for (int64_t i = 0; i < n; ++i) t.data<T>()[i] = static_cast<T>(a + static_cast<double>(i) * s);
  });
  return t;
}

// ---- random --------------------------------------------------------------------------------------
double Generator::uniform() {
  // The top 53 bits of one 64-bit draw, scaled to [0, 1): every double in the range is equally likely.
  return static_cast<double>(engine_() >> 11) * 0x1.0p-53;
}

double Generator::normal() {
  // Box-Muller: two uniforms u1, u2 give two independent normals
  //   r = sqrt(-2 ln u1),  z0 = r cos(2π u2),  z1 = r sin(2π u2).
  // We return z0 now and keep z1 for the next call.
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  const double u1 = 1.0 - uniform();  // in (0, 1], so the log is finite
  const double u2 = uniform();
  const double r = std::sqrt(-2.0 * std::log(u1));
  spare_ = r * std::sin(2.0 * std::numbers::pi * u2);
  has_spare_ = true;
  return r * std::cos(2.0 * std::numbers::pi * u2);
}

Generator& default_generator() {
  // The process-wide generator, as torch.default_generator. Seeded with 0 until manual_seed.
  static Generator g(0);
  return g;
}

void manual_seed(uint64_t seed) {
  Generator& g = default_generator();
  std::lock_guard<std::mutex> lock(g.mutex);
  g.seed(seed);
}

namespace {
Tensor random_floats(const Shape& shape, DType dtype, const char* op, double (Generator::*draw)()) {
  if (!is_floating(dtype))
    throw DTypeError(msg(op, "(): expected a floating dtype, got ", to_string(dtype)));
  Tensor t = Tensor::empty(shape, dtype, Device::cpu(), op);
  Generator& g = default_generator();
  std::lock_guard<std::mutex> lock(g.mutex);  // the whole tensor is one stretch of the sequence
  visit_floating(dtype, [&]<typename T>() {
    T* p = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<T>((g.*draw)());
  });
  return t;
}
}  // namespace

Tensor rand(const Shape& shape, DType dtype) { return random_floats(shape, dtype, "rand", &Generator::uniform); }
Tensor randn(const Shape& shape, DType dtype) { return random_floats(shape, dtype, "randn", &Generator::normal); }

Tensor randint(int64_t low, int64_t high, const Shape& shape) {
  if (high <= low)
    throw Error(msg("randint(): expected low < high, got low=", low, " high=", high));
  Tensor t = Tensor::empty(shape, kInt64, Device::cpu(), "randint");
  // high - low in unsigned arithmetic: it may not fit in int64 (low = -2^63, high = 2^63 - 1).
  const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  Generator& g = default_generator();
  std::lock_guard<std::mutex> lock(g.mutex);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data<int64_t>()[i] = static_cast<int64_t>(static_cast<uint64_t>(low) + g.next() % range);
  return t;
}

Tensor empty_like(const Tensor& t, std::optional<DType> dt) { return empty(t.shape(), dt.value_or(t.dtype()), t.device()); }
Tensor zeros_like(const Tensor& t, std::optional<DType> dt) { return zeros(t.shape(), dt.value_or(t.dtype()), t.device()); }
Tensor ones_like(const Tensor& t, std::optional<DType> dt) { return ones(t.shape(), dt.value_or(t.dtype()), t.device()); }
Tensor full_like(const Tensor& t, const Scalar& v, std::optional<DType> dt) {
  return full(t.shape(), v, dt.value_or(t.dtype()), t.device());
}
Tensor randn_like(const Tensor& t) { return randn(t.shape(), t.dtype()); }

}  // namespace tandem
