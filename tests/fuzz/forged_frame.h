// tests/fuzz/forged_frame.h — the fuzz targets' way past the frame every Tandem file shares.
//
// A graph file and a checkpoint are framed alike (io/bytes.h): magic (8 bytes) | version (u32) |
// body size B (u64) | body | CRC-32 of all before (u32). Nearly every mutation a fuzzer makes is
// refused at the checksum, so the body's parser behind it would hardly be reached. Each target
// therefore parses every input twice: as it is (the frame's checks), and forged: with a body size
// and a CRC-32 rewritten to fit (a file that passes the frame, which the body's parser must
// survive on its own).
#pragma once

#include <cstdint>
#include <string>

#include "io/bytes.h"

namespace tandem::fuzz {

// The same bytes with the body size (bytes 12-19) and the trailing CRC-32 made to fit them.
inline std::string forged(std::string bytes) {
  constexpr size_t kHeader = 20, kCrc = 4;
  if (bytes.size() < kHeader + kCrc) return bytes;
  const uint64_t body = bytes.size() - kHeader - kCrc;
  for (int i = 0; i < 8; ++i) bytes[12 + i] = static_cast<char>((body >> (8 * i)) & 0xff);
  const uint32_t crc = io::crc32_of(std::string_view(bytes).substr(0, bytes.size() - kCrc));
  for (int i = 0; i < 4; ++i) bytes[bytes.size() - kCrc + i] = static_cast<char>((crc >> (8 * i)) & 0xff);
  return bytes;
}

}  // namespace tandem::fuzz
