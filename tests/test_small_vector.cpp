// tests/test_small_vector.cpp — SmallVector (core/small_vector.h), the container of every Shape.
//
// A SmallVector keeps up to N elements inside itself and more on the heap. Its copies take a fast
// path for short vectors — all N inline slots copied at once, whatever the size — and the plain
// element-by-element path for long ones. These tests copy, assign and move vectors on both sides
// of N, and between inline and heap storage, and check that exactly the elements arrive.
#include <catch2/catch.hpp>

#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

#include "core/small_vector.h"

using namespace tandem;

namespace {

using Vec = SmallVector<int64_t, 6>;

// 1, 2, ..., n
Vec counting(size_t n) {
  Vec v;
  for (size_t i = 1; i <= n; ++i) v.push_back(static_cast<int64_t>(i));
  return v;
}

std::vector<int64_t> counting_std(size_t n) {
  std::vector<int64_t> v(n);
  std::iota(v.begin(), v.end(), int64_t{1});
  return v;
}

}  // namespace

TEST_CASE("SmallVector: copies of every size from empty to past the inline capacity", "[small_vector]") {
  for (size_t n = 0; n <= 9; ++n) {
    INFO("size " << n);
    const Vec source = counting(n);
    const Vec copied(source);  // copy constructor
    CHECK(copied == counting_std(n));
    CHECK(copied.size() == n);
    CHECK(copied.capacity() >= n);

    for (size_t m : {size_t{0}, size_t{3}, size_t{6}, size_t{8}}) {  // assign over inline and heap ones
      Vec target = counting(m);
      for (int64_t& x : target) x = -x;
      target = source;
      CHECK(target == counting_std(n));
    }

    Vec moved_from = counting(n);
    const Vec moved(std::move(moved_from));  // inline elements copied, a heap block taken
    CHECK(moved == counting_std(n));
  }
}

TEST_CASE("SmallVector: a heap-backed vector shrunk back to a few elements copies as a short one",
          "[small_vector]") {
  // Grown past 6 (so its elements moved to the heap), then cut back to 2: the fast copy reads its
  // heap block, which holds more than 6 elements, and must deliver exactly the 2.
  Vec v = counting(9);
  v.erase(v.begin() + 2, v.end());
  REQUIRE(v.size() == 2);
  REQUIRE(v.capacity() > 6);
  const Vec copy(v);
  CHECK(copy == std::vector<int64_t>{1, 2});
  Vec assigned = counting(7);
  assigned = v;
  CHECK(assigned == std::vector<int64_t>{1, 2});
  assigned.push_back(3);  // still a working vector afterwards
  CHECK(assigned == std::vector<int64_t>{1, 2, 3});

  Vec self = counting(4);
  const Vec& alias = self;
  self = alias;  // assignment to itself leaves it alone
  CHECK(self == counting_std(4));
}
