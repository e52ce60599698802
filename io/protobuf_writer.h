// io/protobuf_writer.h — protocol buffers' wire format, written by hand in a page.
//
// TensorBoard reads Event messages, defined in TensorFlow's .proto files. Google's protobuf
// library would generate the code to write them; Tandem writes the few messages it needs by hand,
// because the wire format is small enough to learn whole:
//
//   A message is a sequence of fields. Each field is a KEY, then a VALUE:
//
//     key   = (field_number << 3) | wire_type, as a varint
//     wire_type 0  VARINT   int32, int64, bool, enum          value: a varint
//               1  I64      double, fixed64                   value: 8 bytes, little-endian
//               2  LEN      string, bytes, a message, packed  value: a varint length, then the bytes
//               5  I32      float, fixed32                    value: 4 bytes, little-endian
//
//   A VARINT holds 7 bits per byte, least significant group first; the top bit of each byte says
//   "more bytes follow". 1 is 01, 150 is 96 01, and a negative int64 (two's complement, 64 bits)
//   always takes 10 bytes.
//
//   A sub-message is a LEN field whose bytes are the inner message. So messages nest by length
//   prefixes, and a writer encodes the inside first (to know its length), then wraps it.
//
//   proto3 leaves out fields that hold their default value (0, "", empty) — except fields inside
//   a `oneof`, which are always written (a scalar summary of 0.0 must still say "simple_value").
//   That choice is the caller's (io/event.cpp), not this writer's: every call here writes.
//
// Example, the field `step = 2` (field 2, an int64) of an Event:  key (2 << 3) | 0 = 0x10, then
// the varint 02 — the two bytes 10 02.
//
// Read next: io/protobuf_reader.h (the same rules, read back from untrusted bytes), io/event.h.
#pragma once

#include <bit>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace tandem::io {

enum class WireType : uint8_t { varint = 0, i64 = 1, len = 2, i32 = 5 };

class ProtoWriter {
 public:
  // int32, int64, uint64, bool and enum fields: a varint. (A negative int32 or int64 is written
  // as its 64-bit two's complement, 10 bytes, as protobuf does.)
  void varint_field(int field, uint64_t value) {
    key(field, WireType::varint);
    varint(value);
  }
  void int64_field(int field, int64_t value) { varint_field(field, static_cast<uint64_t>(value)); }
  void bool_field(int field, bool value) { varint_field(field, value ? 1 : 0); }

  // double: 8 bytes; float: 4 bytes. Both little-endian, whatever the machine.
  void double_field(int field, double value) {
    key(field, WireType::i64);
    fixed(std::bit_cast<uint64_t>(value), 8);
  }
  void float_field(int field, float value) {
    key(field, WireType::i32);
    fixed(std::bit_cast<uint32_t>(value), 4);
  }

  // string, bytes, or an already-encoded sub-message: its length, then its bytes.
  void bytes_field(int field, std::string_view bytes) {
    key(field, WireType::len);
    varint(bytes.size());
    out_.append(bytes);
  }
  void message_field(int field, const ProtoWriter& message) { bytes_field(field, message.bytes()); }

  // `repeated double` in proto3 is packed: one LEN field holding the doubles back to back.
  void packed_doubles_field(int field, std::span<const double> values) {
    key(field, WireType::len);
    varint(values.size() * 8);
    for (const double v : values) fixed(std::bit_cast<uint64_t>(v), 8);
  }

  const std::string& bytes() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void key(int field, WireType type) { varint((static_cast<uint64_t>(field) << 3) | static_cast<uint8_t>(type)); }
  // 7 bits at a time, low bits first; the high bit of a byte says another byte follows.
  void varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void fixed(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }

  std::string out_;
};

}  // namespace tandem::io
