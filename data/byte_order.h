// data/byte_order.h — reading a file's multi-byte integers in the order the format fixes.
//
// A file format says in which order an integer's bytes are stored, whatever the machine reading
// it: IDX (data/idx.cpp) and PNG store the most significant byte first ("big-endian"), BMP the
// least significant first ("little-endian", like x86 itself). Assembling the value byte by byte
// gives the same result on any machine and needs no alignment. The caller has checked that the
// bytes are there.
#pragma once

#include <cstdint>

namespace tandem::data {

inline uint32_t big_endian_u32(const unsigned char* b) {
  return uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | uint32_t{b[3]};
}
inline uint32_t little_endian_u32(const unsigned char* b) {
  return uint32_t{b[0]} | uint32_t{b[1]} << 8 | uint32_t{b[2]} << 16 | uint32_t{b[3]} << 24;
}
inline uint16_t little_endian_u16(const unsigned char* b) { return static_cast<uint16_t>(b[0] | b[1] << 8); }

}  // namespace tandem::data
