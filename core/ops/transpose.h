// core/ops/transpose.h — a float matrix turned over: dst[j][i] = src[i][j].
//
// The convolution's filter loops (core/ops/conv.cpp, gather_tile) want the filters side by side in
// memory, and a layer's output and gradient come channel by channel: each call turns one image's
// [O, P] plane into [P, O] or back. The plain loop moves one float at a time, with every load or
// every store a stride apart:
//
//     for i: for j: dst[j * dst_ld + i] = src[i * src_ld + j];
//
// SPEED TRICK: eight at a time. Load eight rows of eight floats (eight vectors), turn the 8 x 8
// block over with shuffles inside the registers, store eight rows. Three rounds of interleaving do
// it, each pairing vectors a step apart and swapping blocks of 1, then 2, then 4 floats:
//
//     a0 a1 a2 a3 a4 a5 a6 a7          a0 b0 a1 b1 | a4 b4 a5 b5      (round 1, rows a and b)
//     b0 b1 b2 b3 b4 b5 b6 b7    ->    a2 b2 a3 b3 | a6 b6 a7 b7
//
// after which row k holds column k. Measured on one image's gradient of the ResNet's first block
// (16 x 784 floats), 1.4 µs against 4.5 µs for the plain loop. The edges (rows or columns past the
// last whole block) take the plain loop.
#pragma once

#include <cstdint>
#include <cstring>

namespace tandem::transpose_detail {

typedef float Vec8 __attribute__((vector_size(32)));  // eight floats (GCC and clang vector extension)

// The three rounds: a and b exchange blocks of 1, 2 or 4 floats (lo takes a's first block of each
// pair of blocks and b's beside it; hi the second ones).
inline void interleave_1(Vec8& a, Vec8& b) {
  const Vec8 lo = __builtin_shufflevector(a, b, 0, 8, 1, 9, 4, 12, 5, 13);
  const Vec8 hi = __builtin_shufflevector(a, b, 2, 10, 3, 11, 6, 14, 7, 15);
  a = lo, b = hi;
}
inline void interleave_2(Vec8& a, Vec8& b) {
  const Vec8 lo = __builtin_shufflevector(a, b, 0, 1, 8, 9, 4, 5, 12, 13);
  const Vec8 hi = __builtin_shufflevector(a, b, 2, 3, 10, 11, 6, 7, 14, 15);
  a = lo, b = hi;
}
inline void interleave_4(Vec8& a, Vec8& b) {
  const Vec8 lo = __builtin_shufflevector(a, b, 0, 1, 2, 3, 8, 9, 10, 11);
  const Vec8 hi = __builtin_shufflevector(a, b, 4, 5, 6, 7, 12, 13, 14, 15);
  a = lo, b = hi;
}

// One 8 x 8 block: dst[j][i] = src[i][j] for i, j < 8.
inline void transpose_8x8(const float* src, int64_t src_ld, float* dst, int64_t dst_ld) {
  Vec8 r[8];
  for (int i = 0; i < 8; ++i) std::memcpy(&r[i], src + i * src_ld, sizeof(Vec8));
  for (int i = 0; i < 8; i += 2) interleave_1(r[i], r[i + 1]);
  for (int i = 0; i < 8; i += 4) interleave_2(r[i], r[i + 2]), interleave_2(r[i + 1], r[i + 3]);
  for (int i = 0; i < 4; ++i) interleave_4(r[i], r[i + 4]);
  // Column k of src now fills register kRegister[k]: rounds 1 and 2, done in place, leave the
  // middle two of each four swapped (trace a0 through the rounds to see it).
  constexpr int kRegister[8] = {0, 2, 1, 3, 4, 6, 5, 7};
  for (int k = 0; k < 8; ++k) std::memcpy(dst + k * dst_ld, &r[kRegister[k]], sizeof(Vec8));
}

}  // namespace tandem::transpose_detail

namespace tandem {

// dst[j * dst_ld + i] = src[i * src_ld + j] for i < rows, j < cols.
inline void transpose(const float* src, int64_t rows, int64_t cols, int64_t src_ld, float* dst, int64_t dst_ld) {
  const int64_t whole_rows = rows / 8 * 8, whole_cols = cols / 8 * 8;
  for (int64_t i = 0; i < whole_rows; i += 8)
    for (int64_t j = 0; j < whole_cols; j += 8)
      transpose_detail::transpose_8x8(src + i * src_ld + j, src_ld, dst + j * dst_ld + i, dst_ld);
  // The edges, one float at a time: the columns past the last whole block, then the rows.
  for (int64_t i = 0; i < whole_rows; ++i)
    for (int64_t j = whole_cols; j < cols; ++j) dst[j * dst_ld + i] = src[i * src_ld + j];
  for (int64_t i = whole_rows; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) dst[j * dst_ld + i] = src[i * src_ld + j];
}

}  // namespace tandem
