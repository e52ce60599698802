// core/inline_list.h — a short list of objects that lives inside its owner: no heap for a few.
//
// An eager op's inputs ({a, b}), and a tape Node's per-input records (an edge, a shape, a saved
// value per input), are lists of one to three elements, made and thrown away for every op of
// every step. As std::vectors they cost a malloc and a free each: at batch 1, where the
// arithmetic is tiny, that is a visible share of a training step (bench_mlp_step --sizes 8,8,8).
// InlineList keeps up to N elements in an array inside itself and moves to a std::vector only
// when a longer list comes (cat of many tensors, add_n). It is SmallVector's twin
// (core/small_vector.h) for objects that are not plain bytes — Tensors, shared pointers —
// written plainly: array slots are real objects, default-constructed, assigned and destroyed as
// usual, so no manual lifetime management is needed.
//
// Only the part of std::vector's interface its users need. A std::vector passed in by value or
// moved is adopted as it is (no copy of the elements); one is given back by to_vector().
#pragma once

#include <array>
#include <cstddef>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <utility>
#include <vector>

namespace tandem {

template <typename T, size_t N> class InlineList {
 public:
  using value_type = T;
  using iterator = T*;
  using const_iterator = const T*;

  InlineList() = default;
  InlineList(std::initializer_list<T> values) {  // NOLINT: implicit, so that f({a, b}) works
    if (values.size() <= N) {
      for (const T& v : values) few_[size_++] = v;
    } else {
      adopt(std::vector<T>(values));
    }
  }
  InlineList(std::vector<T> values) { adopt(std::move(values)); }  // NOLINT: implicit on purpose
  InlineList(const InlineList& other) { *this = other; }
  InlineList(InlineList&& other) noexcept { *this = std::move(other); }
  InlineList& operator=(const InlineList& other) {
    if (this == &other) return *this;
    clear();
    if (other.on_heap_) adopt(std::vector<T>(other.begin(), other.end()));
    else for (const T& v : other) few_[size_++] = v;
    return *this;
  }
  InlineList& operator=(InlineList&& other) noexcept {
    if (this == &other) return *this;
    clear();
    if (other.on_heap_) adopt(std::move(other.many_));
    else for (T& v : other) few_[size_++] = std::move(v);
    other.clear();
    return *this;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T* data() { return on_heap_ ? many_.data() : few_.data(); }
  const T* data() const { return on_heap_ ? many_.data() : few_.data(); }
  T& operator[](size_t i) { return data()[i]; }
  const T& operator[](size_t i) const { return data()[i]; }
  T& at(size_t i) { return i < size_ ? data()[i] : out_of_range(); }
  const T& at(size_t i) const { return i < size_ ? data()[i] : out_of_range(); }
  T& back() { return data()[size_ - 1]; }
  iterator begin() { return data(); }
  iterator end() { return data() + size_; }
  const_iterator begin() const { return data(); }
  const_iterator end() const { return data() + size_; }
  operator std::span<const T>() const { return {data(), size_}; }  // NOLINT: kernels take spans
  std::vector<T> to_vector() const { return std::vector<T>(begin(), end()); }

  void reserve(size_t n) {
    if (n > N) spill(n);
  }
  void push_back(T value) {
    if (!on_heap_ && size_ < N) {
      few_[size_++] = std::move(value);
      return;
    }
    spill(size_ + 1);
    many_.push_back(std::move(value));
    ++size_;
  }
  void resize(size_t n) {
    if (on_heap_ || n > N) {
      spill(n);
      many_.resize(n);
    } else {
      for (size_t i = n; i < size_; ++i) few_[i] = T();
    }
    size_ = n;
  }
  void clear() {
    for (size_t i = 0; i < size_ && !on_heap_; ++i) few_[i] = T();
    many_.clear();
    on_heap_ = false;
    size_ = 0;
  }

 private:
  // From here on the elements live in many_ (moved there from the array if they were inline).
  void spill(size_t capacity) {
    if (!on_heap_) {
      std::vector<T> moved;
      moved.reserve(capacity > 2 * N ? capacity : 2 * N);
      for (size_t i = 0; i < size_; ++i) moved.push_back(std::move(few_[i])), few_[i] = T();
      many_ = std::move(moved);
      on_heap_ = true;
    } else {
      many_.reserve(capacity);
    }
  }
  void adopt(std::vector<T> values) {
    size_ = values.size();
    many_ = std::move(values);
    on_heap_ = true;
  }
  [[noreturn]] static T& out_of_range() { throw std::out_of_range("InlineList::at: index out of range"); }

  std::array<T, N> few_{};
  std::vector<T> many_;
  size_t size_ = 0;
  bool on_heap_ = false;
};

}  // namespace tandem
