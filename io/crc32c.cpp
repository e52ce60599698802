// io/crc32c.cpp — CRC-32C one byte at a time, through a 256-entry table.
//
// THE PLAIN VERSION, one bit at a time. The running remainder `crc` takes in the next byte, then
// for each of its 8 bits: if the lowest bit is 1, the polynomial "divides" once (shift, then XOR
// the polynomial), otherwise just shift:
//
//     crc ^= byte;
//     repeat 8 times:  crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78 : crc >> 1;
//
// starting from crc = 0xFFFFFFFF and inverting at the end (so that leading zero bytes still count).
//
// THE TABLE. Those 8 steps depend only on the low byte of `crc ^ byte`, so they can be done once
// for all 256 values, ahead of time: table[i] is what the 8 steps turn i into. Then each byte costs
// one lookup:  crc = table[(crc ^ byte) & 0xff] ^ (crc >> 8).  The table is built at compile time
// from the plain loop above (table_entry), so the two versions cannot disagree.
// (Faster still, and not needed here — an event record is tens of bytes: "slicing-by-8" tables that
// take 8 bytes per step, or the SSE4.2 instruction crc32, which computes exactly this polynomial.)
//
// Read next: io/event_file.h.
#include "io/crc32c.h"

#include <array>

namespace tandem::io {
namespace {

constexpr uint32_t kPolynomial = 0x82F63B78u;  // Castagnoli's, bit-reversed

// The plain loop: 8 division steps for one byte's worth of bits.
constexpr uint32_t table_entry(uint32_t i) {
  uint32_t crc = i;
  for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) ? (crc >> 1) ^ kPolynomial : crc >> 1;
  return crc;
}

constexpr std::array<uint32_t, 256> make_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) t[i] = table_entry(i);
  return t;
}

constexpr std::array<uint32_t, 256> kTable = make_table();
static_assert(kTable[1] == 0xf26b8303u && kTable[128] == 0x82f63b78u);  // tensorboardX's table

}  // namespace

uint32_t crc32c_extend(uint32_t crc, std::string_view bytes) {
  crc = ~crc;  // undo the final inversion of the CRC so far, to continue where it stopped
  for (const char c : bytes) crc = kTable[(crc ^ static_cast<uint8_t>(c)) & 0xff] ^ (crc >> 8);
  return ~crc;
}

uint32_t crc32c(std::string_view bytes) { return crc32c_extend(0, bytes); }

}  // namespace tandem::io
