// tests/test_inline_list.cpp — InlineList (core/inline_list.h), the container of an op's inputs
// and of a tape Node's per-input records.
//
// An InlineList keeps up to N objects in an array inside itself and moves them to a std::vector
// when the list grows past N. Its elements here are shared pointers, so that each test can also
// check ownership: every element given up (a resize down, a clear, a move out, the list's end)
// must let go of its object, and nothing may be held twice or lost on the way between the array
// and the vector.
#include <catch2/catch.hpp>

#include <memory>
#include <span>
#include <stdexcept>
#include <utility>
#include <vector>

#include "core/inline_list.h"

using namespace tandem;

namespace {

using P = std::shared_ptr<int>;
using List = InlineList<P, 3>;

std::vector<P> objects(int n) {
  std::vector<P> v;
  for (int i = 0; i < n; ++i) v.push_back(std::make_shared<int>(i));
  return v;
}

// The values of the list, in order (-1 for an empty slot).
std::vector<int> values(const List& l) {
  std::vector<int> v;
  for (const P& p : l) v.push_back(p ? *p : -1);
  return v;
}

}  // namespace

TEST_CASE("InlineList holds short lists inside itself and long ones in a vector, in order") {
  const std::vector<P> o = objects(7);
  for (int n = 0; n <= 7; ++n) {
    List pushed;
    for (int i = 0; i < n; ++i) pushed.push_back(o[i]);
    std::vector<int> want;
    for (int i = 0; i < n; ++i) want.push_back(i);
    CHECK(values(pushed) == want);
    CHECK(pushed.size() == static_cast<size_t>(n));
    CHECK(pushed.empty() == (n == 0));
    // The same list from a braced list (the op-call form, f({a, b})) and from a vector.
    List from_vector(std::vector<P>(o.begin(), o.begin() + n));
    CHECK(values(from_vector) == want);
    const std::span<const P> s = pushed;
    CHECK(s.size() == static_cast<size_t>(n));
  }
  List braced{o[0], o[1]};
  CHECK(values(braced) == std::vector<int>{0, 1});
  List long_braced{o[0], o[1], o[2], o[3]};
  CHECK(values(long_braced) == std::vector<int>{0, 1, 2, 3});
  // Each object is held by o and by the three lists above that contain it, no more.
  CHECK(o[0].use_count() == 3);
  CHECK(o[3].use_count() == 2);
}

TEST_CASE("InlineList copies, moves and lets go of exactly what it holds") {
  const std::vector<P> o = objects(5);
  for (int n : {2, 3, 5}) {  // inside, full, spilled to the vector
    INFO("n = " << n);
    List a(std::vector<P>(o.begin(), o.begin() + n));
    List b = a;
    CHECK(values(b) == values(a));
    CHECK(o[0].use_count() == 3);
    List c = std::move(b);
    CHECK(b.empty());
    CHECK(values(c) == values(a));
    CHECK(o[0].use_count() == 3);  // moved, not copied: b gave up its share
    c = a;                         // copy-assign over a list of the same length
    CHECK(o[0].use_count() == 3);
    List small{o[4]};
    small = std::move(c);  // move-assign over a shorter list: o[4]'s share in it is let go
    CHECK(values(small) == values(a));
    CHECK(o[4].use_count() == (n == 5 ? 3 : 1));
    small.clear();
    CHECK(small.empty());
    CHECK(o[0].use_count() == 2);
  }
  for (const P& p : o) CHECK(p.use_count() == 1);  // every list gone: nothing kept
}

TEST_CASE("InlineList resizes and reserves across the inline limit, keeping its elements") {
  const std::vector<P> o = objects(4);
  List l{o[0], o[1]};
  l.resize(3);
  CHECK(values(l) == std::vector<int>{0, 1, -1});
  l[2] = o[2];
  l.resize(5);  // spills: the three elements move to the vector
  CHECK(values(l) == std::vector<int>{0, 1, 2, -1, -1});
  CHECK(o[2].use_count() == 2);
  l.resize(1);
  CHECK(values(l) == std::vector<int>{0});
  CHECK(o[1].use_count() == 1);  // the dropped elements let go
  List r;
  r.reserve(10);
  for (const P& p : o) r.push_back(p);
  CHECK(values(r) == std::vector<int>{0, 1, 2, 3});
  CHECK(r.to_vector().size() == 4);
  CHECK(*r.at(3) == 3);
  CHECK(*r.back() == 3);
  CHECK_THROWS_AS(r.at(4), std::out_of_range);
  List shrink{o[0], o[1], o[2]};
  shrink.resize(1);
  CHECK(o[2].use_count() == 2);  // r's share only: the slot given up in shrink's array is empty
}
