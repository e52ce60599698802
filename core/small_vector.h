// core/small_vector.h — a vector that keeps its first few elements inside itself.
//
// Every tensor carries a shape and strides, every op computes an output shape, every record on
// the tape keeps the shapes of its inputs. With std::vector each of those is a heap allocation —
// a dozen or more per op — and in an eager training step at batch 1, where the arithmetic is
// small, malloc and free become a visible part of the time. But shapes are short: four numbers
// for a batch of images, two for a matrix. So Shape keeps up to kInline numbers *inline*, in the
// object itself, and only a longer one goes to the heap. Copying a short shape is then a copy of
// a few words. PyTorch does the same for sizes and strides (c10::SmallVector; LLVM's
// SmallVector is the original).
//
// SmallVector offers the part of std::vector's interface Tandem uses, for trivially copyable
// element types only (int64_t), and converts to and from std::vector where a caller needs one.
//
// Read next: core/shape.h.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <type_traits>
#include <vector>

namespace tandem {

template <typename T, size_t N> class SmallVector {
  static_assert(std::is_trivially_copyable_v<T>, "SmallVector holds trivially copyable values only");

 public:
  using value_type = T;
  using size_type = size_t;
  using difference_type = std::ptrdiff_t;
  using reference = T&;
  using const_reference = const T&;
  using pointer = T*;
  using const_pointer = const T*;
  using iterator = T*;
  using const_iterator = const T*;
  using reverse_iterator = std::reverse_iterator<iterator>;
  using const_reverse_iterator = std::reverse_iterator<const_iterator>;

  SmallVector() = default;
  explicit SmallVector(size_t n, const T& value = T()) { assign(n, value); }
  SmallVector(std::initializer_list<T> values) { assign(values.begin(), values.end()); }
  template <typename It, typename = std::enable_if_t<!std::is_integral_v<It>>>
  SmallVector(It first, It last) {
    assign(first, last);
  }
  SmallVector(const std::vector<T>& v) { assign(v.begin(), v.end()); }  // NOLINT: implicit on purpose
  SmallVector(const SmallVector& other) { copy_from(other); }
  SmallVector(SmallVector&& other) noexcept { take(other); }
  ~SmallVector() { release(); }

  SmallVector& operator=(const SmallVector& other) {
    if (this != &other) copy_from(other);
    return *this;
  }
  SmallVector& operator=(SmallVector&& other) noexcept {
    if (this != &other) {
      release();
      take(other);
    }
    return *this;
  }
  SmallVector& operator=(std::initializer_list<T> values) {
    assign(values.begin(), values.end());
    return *this;
  }
  operator std::vector<T>() const { return std::vector<T>(begin(), end()); }  // NOLINT: implicit

  // ---- size and elements -------------------------------------------------------------------------
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return capacity_; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T& front() { return data_[0]; }
  const T& front() const { return data_[0]; }
  T& back() { return data_[size_ - 1]; }
  const T& back() const { return data_[size_ - 1]; }

  iterator begin() { return data_; }
  iterator end() { return data_ + size_; }
  const_iterator begin() const { return data_; }
  const_iterator end() const { return data_ + size_; }
  const_iterator cbegin() const { return data_; }
  const_iterator cend() const { return data_ + size_; }
  reverse_iterator rbegin() { return reverse_iterator(end()); }
  reverse_iterator rend() { return reverse_iterator(begin()); }
  const_reverse_iterator rbegin() const { return const_reverse_iterator(end()); }
  const_reverse_iterator rend() const { return const_reverse_iterator(begin()); }

  // ---- changing it ---------------------------------------------------------------------------------
  void reserve(size_t n) {
    if (n <= capacity_) return;
    T* bigger = new T[n];
    if (size_) std::memcpy(bigger, data_, size_ * sizeof(T));
    if (data_ != inline_) delete[] data_;
    data_ = bigger;
    capacity_ = n;
  }
  void clear() { size_ = 0; }
  void resize(size_t n, const T& value = T()) {
    reserve(n);
    for (size_t i = size_; i < n; ++i) data_[i] = value;
    size_ = n;
  }
  void assign(size_t n, const T& value) {
    size_ = 0;
    resize(n, value);
  }
  template <typename It, typename = std::enable_if_t<!std::is_integral_v<It>>>
  void assign(It first, It last) {
    const auto n = static_cast<size_t>(std::distance(first, last));
    size_ = 0;
    reserve(n);
    std::copy(first, last, data_);
    size_ = n;
  }
  void push_back(const T& value) {
    if (size_ == capacity_) reserve(grown());
    data_[size_++] = value;
  }
  template <typename... Args> T& emplace_back(Args&&... args) {
    push_back(T(std::forward<Args>(args)...));
    return back();
  }
  void pop_back() { --size_; }

  iterator insert(const_iterator pos, const T& value) { return insert(pos, size_t{1}, value); }
  iterator insert(const_iterator pos, size_t count, const T& value) {
    const T copy = value;  // value may live in this vector
    const size_t at = open_gap(pos, count);
    std::fill(data_ + at, data_ + at + count, copy);
    return data_ + at;
  }
  template <typename It, typename = std::enable_if_t<!std::is_integral_v<It>>>
  iterator insert(const_iterator pos, It first, It last) {
    const SmallVector copy(first, last);  // the range may point into this vector
    const size_t at = open_gap(pos, copy.size());
    std::copy(copy.begin(), copy.end(), data_ + at);
    return data_ + at;
  }
  iterator insert(const_iterator pos, std::initializer_list<T> values) {
    return insert(pos, values.begin(), values.end());
  }
  iterator erase(const_iterator pos) { return erase(pos, pos + 1); }
  iterator erase(const_iterator first, const_iterator last) {
    const auto at = static_cast<size_t>(first - data_), n = static_cast<size_t>(last - first);
    std::copy(data_ + at + n, data_ + size_, data_ + at);
    size_ -= n;
    return data_ + at;
  }
  void swap(SmallVector& other) noexcept {
    SmallVector t(std::move(other));
    other = std::move(*this);
    *this = std::move(t);
  }

  friend bool operator==(const SmallVector& a, const SmallVector& b) {
    return a.size_ == b.size_ && std::equal(a.begin(), a.end(), b.begin());
  }
  friend bool operator==(const SmallVector& a, const std::vector<T>& b) {
    return a.size_ == b.size() && std::equal(a.begin(), a.end(), b.begin());
  }
  friend bool operator<(const SmallVector& a, const SmallVector& b) {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  size_t grown() const { return capacity_ * 2; }
  // Makes room for `count` elements at `pos`; returns the index of the first.
  size_t open_gap(const_iterator pos, size_t count) {
    const auto at = static_cast<size_t>(pos - data_);
    if (size_ + count > capacity_) reserve(std::max(size_ + count, grown()));
    std::copy_backward(data_ + at, data_ + size_, data_ + size_ + count);
    size_ += count;
    return at;
  }
  void release() {
    if (data_ != inline_) delete[] data_;
    data_ = inline_;
    capacity_ = N;
    size_ = 0;
  }
  // SPEED: a vector of at most N elements is copied as N elements, whatever its size: a copy of
  // constant size, which the compiler turns into a few vector moves, where copying size_ elements
  // is a call to memmove (4% of the time of an eager op, measured on bench_mlp_step --sizes
  // 8,8,8). Both blocks hold at least N elements (the inline array, or a heap block, which is
  // only made larger than N), so the extra ones read and written are within them; they are
  // past size_ and never read as elements.
  void copy_from(const SmallVector& other) {
    if (other.size_ > N) return assign(other.begin(), other.end());
    std::memcpy(data_, other.data_, N * sizeof(T));
    size_ = other.size_;
  }
  // Takes other's elements (its heap block, or a copy of its inline ones) and leaves it empty.
  void take(SmallVector& other) {
    if (other.data_ == other.inline_) {
      std::memcpy(inline_, other.inline_, N * sizeof(T));  // SPEED: as in copy_from
      data_ = inline_;
      capacity_ = N;
    } else {
      data_ = other.data_;
      capacity_ = other.capacity_;
      other.data_ = other.inline_;
      other.capacity_ = N;
    }
    size_ = other.size_;
    other.size_ = 0;
  }

  T* data_ = inline_;
  size_t size_ = 0;
  size_t capacity_ = N;
  T inline_[N];
};

}  // namespace tandem
