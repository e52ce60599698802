// io/crc32c.h — CRC-32C (Castagnoli), the checksum that guards every record of an event file.
//
// A CRC treats the bytes as one long binary polynomial and keeps the remainder of its division by
// a fixed polynomial of degree 32. Flip any bit, or any burst of up to 32 bits, and the remainder
// changes, so a reader can tell a damaged record from a good one. CRC-32C uses Castagnoli's
// polynomial 0x1EDC6F41 (0x82F63B78 with the bits reversed, which is how it is applied here,
// least significant bit first). It is *not* the CRC-32 of zlib and PNG (0xEDB88320): same idea,
// different polynomial, different answers — crc32c("123456789") is 0xE3069283.
//
// TensorFlow's record files (TFRecord, and so TensorBoard's event files) store each CRC *masked*:
//
//     masked = rotate_right(crc, 15) + 0xa282ead8        (uint32 arithmetic)
//
// because the CRC of data that itself contains CRCs has weak spots; the mask makes stored CRCs
// look unlike the bytes they guard. Unmasking undoes the two steps in reverse order.
//
// Read next: io/protobuf_writer.h (what the records hold), io/event_file.h (the framing).
#pragma once

#include <cstdint>
#include <string_view>

namespace tandem::io {

// CRC-32C of `bytes`. Extend: crc32c_extend(crc32c(a), b) == crc32c(a + b), so data arriving in
// pieces is checked without gluing it together first.
uint32_t crc32c(std::string_view bytes);
uint32_t crc32c_extend(uint32_t crc, std::string_view bytes);

// TFRecord's mask (see above), and its inverse: unmask_crc(mask_crc(c)) == c.
constexpr uint32_t kCrcMaskDelta = 0xa282ead8u;
constexpr uint32_t mask_crc(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kCrcMaskDelta; }
constexpr uint32_t unmask_crc(uint32_t masked) {
  const uint32_t rot = masked - kCrcMaskDelta;
  return (rot >> 17) | (rot << 15);
}

// The masked CRC-32C, what an event file stores.
inline uint32_t masked_crc32c(std::string_view bytes) { return mask_crc(crc32c(bytes)); }

}  // namespace tandem::io
