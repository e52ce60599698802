// io/protobuf_reader.h — reading protobuf's wire format back, from bytes nobody vouches for.
//
// The format is the writer's (io/protobuf_writer.h); what changes is the attitude. An event file
// may be cut short, damaged, or not an event file at all, so this reader trusts nothing it reads:
//   - a varint may be at most 10 bytes long (64 bits);
//   - a length is compared with the bytes that remain *before* anything is taken (no allocation at
//     all: a LEN field is handed out as a view into the input);
//   - a field number 0 and the wire types protobuf never uses (6, 7) are errors, and so are the
//     long-deprecated groups (3, 4), which no TensorBoard message contains;
//   - fields the caller does not know are skipped by their wire type — protobuf's rule, so that
//     old readers can read newer messages.
// Every refusal is a tandem::Error naming `source`, the offset and what was wrong.
//
// Use: a loop over the fields of one message, switching on the field number.
//
//     ProtoReader r(bytes, "event");
//     while (auto f = r.next()) {
//       if (f->number == 2) event.step = f->as_int64();      // checks the wire type too
//       else if (f->number == 5) parse_summary(f->as_bytes());
//     }
//
// Read next: io/event.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/protobuf_writer.h"

namespace tandem::io {

// One field as read: its number and wire type, and its value — the raw bits of a VARINT, I64 or
// I32 field, or the bytes of a LEN field (a view into the reader's input).
struct ProtoField {
  uint32_t number = 0;
  WireType type = WireType::varint;
  uint64_t bits = 0;       // VARINT, I64, I32
  std::string_view bytes;  // LEN
  std::string_view source;  // for error messages

  // Typed views. Each checks that the wire type fits the type asked for: an Event whose `step`
  // arrives as a string is a damaged file, not a number.
  int64_t as_int64() const;
  uint64_t as_uint64() const;
  bool as_bool() const;
  double as_double() const;
  float as_float() const;
  std::string_view as_bytes() const;
  // A `repeated double`: packed (one LEN field) or, as parsers must also accept, one I64 field per
  // element. Appends to `out`.
  void append_doubles(std::vector<double>& out) const;
};

class ProtoReader {
 public:
  ProtoReader(std::string_view bytes, std::string_view source) : bytes_(bytes), source_(source) {}

  // The next field, or nullopt at the end of the message. Throws tandem::Error on malformed bytes.
  std::optional<ProtoField> next();

 private:
  uint64_t varint(const char* what);
  [[noreturn]] void fail(const std::string& what) const;

  std::string_view bytes_;
  size_t pos_ = 0;
  std::string_view source_;
};

}  // namespace tandem::io
