// core/factories.h — making tensors: from literals, from vectors, filled, ranged, random.
//
// `tensor({{3., 4., 8.}})` is the C++ spelling of torch.tensor([[3., 4., 8.]]): nested braces give
// the shape, the literals give the dtype (floating literals -> float32, the default; integer
// literals -> int64; true/false -> bool), just as Python numbers do in PyTorch.
//
// Random tensors come from one default generator (seeded with manual_seed), the same hidden
// global PyTorch has: with the same seed, the same program draws the same numbers.
//
// Read next: core/ops.h.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <random>
#include <type_traits>
#include <vector>

#include "core/tensor.h"

namespace tandem {

// ---- from values ---------------------------------------------------------------------------
// A copy of `values` laid out row-major in `shape`; the dtype follows T (float -> float32,
// double -> float64, int64_t -> int64, bool -> bool), like torch.from_numpy.
template <typename T> Tensor from_vector(const std::vector<T>& values, const Shape& shape);
template <> Tensor from_vector<bool>(const std::vector<bool>& values, const Shape& shape);

namespace detail {
// The element type inside any depth of nested initializer lists, and the depth itself.
template <typename T> struct Nested {
  using leaf = T;
  static constexpr int depth = 0;
};
template <typename T> struct Nested<std::initializer_list<T>> {
  using leaf = typename Nested<T>::leaf;
  static constexpr int depth = 1 + Nested<T>::depth;
};
// PyTorch's default dtype for a Python literal of C++ type T.
template <typename T> constexpr DType literal_dtype() {
  if constexpr (std::is_same_v<T, bool>) return kBool;
  else if constexpr (std::is_integral_v<T>) return kInt64;
  else return kFloat32;
}
void flatten_nested(double v, int level, Shape& shape, std::vector<double>& out);
template <typename L>
void flatten_nested(const std::initializer_list<L>& list, int level, Shape& shape,
                    std::vector<double>& out) {
  const auto n = static_cast<int64_t>(list.size());
  if (static_cast<int>(shape.size()) <= level) shape.push_back(n);
  else if (shape[level] != n)
    throw ShapeError(msg("tensor(): ragged nested list: expected sequence of length ",
                         shape[level], " at dim ", level, " (got ", n, ")"));
  for (const auto& item : list) {
    if constexpr (std::is_arithmetic_v<L>) flatten_nested(static_cast<double>(item), level + 1, shape, out);
    else flatten_nested(item, level + 1, shape, out);
  }
}
Tensor tensor_from_doubles(const std::vector<double>& values, const Shape& shape, DType dtype);
}  // namespace detail

// tensor(3.)  — a 0-dim tensor.
template <typename T, typename = std::enable_if_t<std::is_arithmetic_v<T>>>
Tensor tensor(T value, std::optional<DType> dtype = std::nullopt) {
  return detail::tensor_from_doubles({static_cast<double>(value)}, {},
                                     dtype.value_or(detail::literal_dtype<T>()));
}
// tensor({1., 2.}), tensor({{1., 2.}, {3., 4.}}), ... up to 4 levels of braces.
template <typename T>
Tensor tensor(std::initializer_list<T> values, std::optional<DType> dtype = std::nullopt) {
  Shape shape;
  std::vector<double> flat;
  detail::flatten_nested(values, 0, shape, flat);
  if (values.size() == 0) shape = {0};
  using Leaf = typename detail::Nested<std::initializer_list<T>>::leaf;
  return detail::tensor_from_doubles(flat, shape, dtype.value_or(detail::literal_dtype<Leaf>()));
}
template <typename T>
Tensor tensor(std::initializer_list<std::initializer_list<T>> values,
              std::optional<DType> dtype = std::nullopt) {
  return tensor<std::initializer_list<T>>(values, dtype);
}
template <typename T>
Tensor tensor(std::initializer_list<std::initializer_list<std::initializer_list<T>>> values,
              std::optional<DType> dtype = std::nullopt) {
  return tensor<std::initializer_list<std::initializer_list<T>>>(values, dtype);
}
template <typename T>
Tensor tensor(
    std::initializer_list<std::initializer_list<std::initializer_list<std::initializer_list<T>>>> values,
    std::optional<DType> dtype = std::nullopt) {
  return tensor<std::initializer_list<std::initializer_list<std::initializer_list<T>>>>(values, dtype);
}

// ---- filled --------------------------------------------------------------------------------
Tensor empty(const Shape& shape, DType dtype = kFloat32, Device device = Device::cpu());
Tensor zeros(const Shape& shape, DType dtype = kFloat32, Device device = Device::cpu());
Tensor ones(const Shape& shape, DType dtype = kFloat32, Device device = Device::cpu());
Tensor full(const Shape& shape, const Scalar& value, std::optional<DType> dtype = std::nullopt,
            Device device = Device::cpu());  // dtype defaults from the value, as torch.full
Tensor eye(int64_t n, std::optional<int64_t> m = std::nullopt, DType dtype = kFloat32);
// arange(end), arange(start, end, step): int64 when all are integers, else float32.
Tensor arange(const Scalar& end);
Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step = 1);

// ---- random (drawn from the default generator) ------------------------------------------------
// A Mersenne-Twister engine with our own uniform and normal transforms, so the numbers do not
// depend on the standard library's distribution code: same seed, same tensors, on any compiler.
class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : engine_(seed) {}
  void seed(uint64_t s) { engine_.seed(s); }
  double uniform();  // in [0, 1)
  double normal();   // mean 0, standard deviation 1 (Box-Muller)
  uint64_t next() { return engine_(); }

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;

 public:
  // Everything the next numbers depend on, to save in a checkpoint and put back (PyTorch's
  // torch.get_rng_state() / set_rng_state(), Python's random.getstate()): the Mersenne Twister's
  // block of 312 words and the position of the next word it will hand out, and normal()'s second
  // value of its last Box-Muller pair, waiting to be returned. core/rng_state.cpp.
  struct State {
    std::array<uint64_t, 312> words{};
    uint64_t position = 312;  // 0..312; 312: the block is used up, the next draw makes a new one
    bool has_spare = false;
    double spare = 0.0;
  };
  State state() const;
  void set_state(const State& state);
};
Generator& default_generator();
// The default generator's state (torch.get_rng_state / torch.set_rng_state): what a checkpoint
// saves so that a resumed run draws the very dropout masks the uninterrupted run would have drawn.
Generator::State get_rng_state();
void set_rng_state(const Generator::State& state);
void manual_seed(uint64_t seed);  // reseeds the default generator

Tensor rand(const Shape& shape, DType dtype = kFloat32);   // uniform in [0, 1)
Tensor randn(const Shape& shape, DType dtype = kFloat32);  // standard normal
Tensor randint(int64_t low, int64_t high, const Shape& shape);  // int64 in [low, high)

// ---- *_like: same shape (and dtype unless given) as another tensor ----------------------------
// (zeros_like(x), ones_like(x) and rand_like(x) are also ops of the catalogue, for both modes:
// core/ops.h. These take a dtype too, and are for eager tensors.)
Tensor empty_like(const Tensor& t, std::optional<DType> dtype = std::nullopt);
Tensor zeros_like(const Tensor& t, std::optional<DType> dtype = std::nullopt);
Tensor ones_like(const Tensor& t, std::optional<DType> dtype = std::nullopt);
Tensor full_like(const Tensor& t, const Scalar& value, std::optional<DType> dtype = std::nullopt);
Tensor randn_like(const Tensor& t);

}  // namespace tandem
