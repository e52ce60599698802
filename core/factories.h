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
#include <mutex>
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
// The literals are collected in their own type V (int64 literals stay integers: through a double,
// 2^53 + 1 would silently become 2^53), and converted once, to the tensor's dtype.
template <typename V> void flatten_nested(V v, int, Shape&, std::vector<V>& out) { out.push_back(v); }
template <typename L, typename V>
void flatten_nested(const std::initializer_list<L>& list, int level, Shape& shape, std::vector<V>& out) {
  const auto n = static_cast<int64_t>(list.size());
  if (static_cast<int>(shape.size()) <= level) shape.push_back(n);
  else if (shape[level] != n)
    throw ShapeError(msg("tensor(): ragged nested list: expected sequence of length ",
                         shape[level], " at dim ", level, " (got ", n, ")"));
  for (const auto& item : list) {
    if constexpr (std::is_arithmetic_v<L>) flatten_nested(static_cast<V>(item), level + 1, shape, out);
    else flatten_nested(item, level + 1, shape, out);
  }
}
template <typename V>
Tensor tensor_from_values(const std::vector<V>& values, const Shape& shape, DType dtype) {
  Tensor t = Tensor::empty(shape, dtype, Device::cpu(), "tensor");
  visit_dtype(dtype, [&]<typename T>() {
    T* p = t.data<T>();
    for (size_t i = 0; i < values.size(); ++i) p[i] = static_cast<T>(values[i]);
  });
  return t;
}
// Integer literals as int64_t, floating ones as double, bools as bool.
template <typename T>
using literal_t = std::conditional_t<std::is_same_v<T, bool>, bool,
                                     std::conditional_t<std::is_integral_v<T>, int64_t, double>>;
}  // namespace detail

// tensor(3.)  — a 0-dim tensor.
template <typename T, typename = std::enable_if_t<std::is_arithmetic_v<T>>>
Tensor tensor(T value, std::optional<DType> dtype = std::nullopt) {
  using V = detail::literal_t<T>;
  return detail::tensor_from_values(std::vector<V>{static_cast<V>(value)}, {},
                                    dtype.value_or(detail::literal_dtype<T>()));
}
// tensor({1., 2.}), tensor({{1., 2.}, {3., 4.}}), ... up to 4 levels of braces.
template <typename T>
Tensor tensor(std::initializer_list<T> values, std::optional<DType> dtype = std::nullopt) {
  using Leaf = typename detail::Nested<std::initializer_list<T>>::leaf;
  Shape shape;
  std::vector<detail::literal_t<Leaf>> flat;
  detail::flatten_nested(values, 0, shape, flat);
  if (values.size() == 0) shape = {0};
  return detail::tensor_from_values(flat, shape, dtype.value_or(detail::literal_dtype<Leaf>()));
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
//
// Threads: a Generator is one sequence of numbers, and drawing changes its state, so two threads
// drawing from one Generator at once would corrupt it (the same numbers twice, or torn state). As
// in PyTorch, whoever draws holds the generator's `mutex` for a whole tensor's worth of numbers —
// rand(), randn(), randint() and rand_like (dropout) do. Each tensor is then one unbroken stretch
// of the sequence; which thread gets which stretch depends on who asks first.
class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : engine_(seed) {}
  // A copy is a second generator in the same state (the same numbers from here on), with a mutex
  // of its own: data loaders keep generators per epoch and per worker this way (data/random.h).
  Generator(const Generator& other) { *this = other; }
  Generator& operator=(const Generator& other) {
    if (this == &other) return *this;
    std::lock_guard<std::mutex> lock(other.mutex);
    engine_ = other.engine_;
    has_spare_ = other.has_spare_;
    spare_ = other.spare_;
    return *this;
  }
  void seed(uint64_t s) {  // as if newly made with this seed
    engine_.seed(s);
    has_spare_ = false;
  }
  double uniform();  // in [0, 1)
  double normal();   // mean 0, standard deviation 1 (Box-Muller)
  uint64_t next() { return engine_(); }

  mutable std::mutex mutex;  // held while drawing (see above), and while being copied

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
void manual_seed(uint64_t seed);  // reseeds the default generator (holding its mutex)

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
