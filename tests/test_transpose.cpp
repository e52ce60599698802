// tests/test_transpose.cpp — core/ops/transpose.h, the 8 x 8 shuffles against the plain loop.
#include <catch2/catch.hpp>

#include <vector>

#include "core/ops/transpose.h"

using namespace tandem;

TEST_CASE("transpose turns a matrix over: whole 8 x 8 blocks, the edges, rows of any length", "[transpose]") {
  // Sizes with and without whole blocks, one row or column, and leading dimensions past the width
  // (the convolution's filters padded to whole vectors): every float lands where dst[j][i] = src[i][j]
  // puts it, and the places past each row are left alone.
  struct Case {
    int64_t rows, cols, src_ld, dst_ld;
  };
  for (const Case& c : {Case{8, 8, 8, 8}, Case{16, 784, 784, 16}, Case{49, 64, 64, 49}, Case{13, 11, 16, 21},
                        Case{1, 9, 9, 1}, Case{9, 1, 1, 9}, Case{30, 17, 32, 32}, Case{0, 5, 5, 1}}) {
    INFO(c.rows << " x " << c.cols << ", ld " << c.src_ld << " and " << c.dst_ld);
    std::vector<float> src(static_cast<size_t>(c.rows * c.src_ld));
    for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<float>(i) + 0.5f;
    const float kUntouched = -1.0f;
    std::vector<float> dst(static_cast<size_t>(c.cols * c.dst_ld), kUntouched);
    transpose(src.data(), c.rows, c.cols, c.src_ld, dst.data(), c.dst_ld);
    for (int64_t j = 0; j < c.cols; ++j)
      for (int64_t i = 0; i < c.dst_ld; ++i) {
        INFO("dst[" << j << "][" << i << "]");
        const float want = i < c.rows ? src[static_cast<size_t>(i * c.src_ld + j)] : kUntouched;
        REQUIRE(dst[static_cast<size_t>(j * c.dst_ld + i)] == want);
      }
  }
}
