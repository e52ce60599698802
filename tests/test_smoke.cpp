#include <catch2/catch.hpp>
#include "core/factories.h"
#include "core/ops.h"
using namespace tandem;
TEST_CASE("seed example: [[3,4,8]] * [[2],[3],[9]] broadcasts to 3x3", "[core][broadcast]") {
  Tensor a = tensor({{3., 4., 8.}});
  Tensor b = tensor({{2.}, {3.}, {9.}});
  Tensor c = a * b;
  REQUIRE(c.shape() == Shape{3, 3});
  CHECK(c.to_vector<float>() == std::vector<float>{6, 8, 16, 9, 12, 24, 27, 36, 72});
}
