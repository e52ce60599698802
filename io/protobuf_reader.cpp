// io/protobuf_reader.cpp — the checks io/protobuf_reader.h promises, one read at a time.
#include "io/protobuf_reader.h"

#include <bit>

#include "core/error.h"

namespace tandem::io {
namespace {

const char* wire_name(WireType t) {
  switch (t) {
    case WireType::varint: return "a varint (int, bool, enum)";
    case WireType::i64: return "8 bytes (double)";
    case WireType::len: return "length-delimited bytes (string, message, packed list)";
    case WireType::i32: return "4 bytes (float)";
  }
  return "?";
}

uint64_t little_endian(std::string_view b) {
  uint64_t v = 0;
  for (size_t i = 0; i < b.size(); ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(b[i])) << (8 * i);
  return v;
}

void expect(const ProtoField& f, WireType want, const char* type) {
  if (f.type != want)
    throw Error(msg(f.source, ": protobuf field ", f.number, " should be a ", type, ", stored as ",
                    wire_name(want), ", but it is stored as ", wire_name(f.type),
                    ": the message is damaged, or not the message it is read as"));
}

}  // namespace

int64_t ProtoField::as_int64() const { return static_cast<int64_t>(as_uint64()); }
uint64_t ProtoField::as_uint64() const {
  expect(*this, WireType::varint, "integer");
  return bits;
}
bool ProtoField::as_bool() const { return as_uint64() != 0; }
double ProtoField::as_double() const {
  expect(*this, WireType::i64, "double");
  return std::bit_cast<double>(bits);
}
float ProtoField::as_float() const {
  expect(*this, WireType::i32, "float");
  return std::bit_cast<float>(static_cast<uint32_t>(bits));
}
std::string_view ProtoField::as_bytes() const {
  expect(*this, WireType::len, "string, bytes or message");
  return bytes;
}

void ProtoField::append_doubles(std::vector<double>& out) const {
  if (type == WireType::i64) {
    out.push_back(std::bit_cast<double>(bits));
    return;
  }
  expect(*this, WireType::len, "packed list of doubles");
  if (bytes.size() % 8 != 0)
    throw Error(msg(source, ": protobuf field ", number, " is a packed list of doubles of ", bytes.size(),
                    " bytes, not a multiple of 8: the message is damaged"));
  // The count comes from bytes that are present, so this reserve is bounded by the input's size.
  out.reserve(out.size() + bytes.size() / 8);
  for (size_t i = 0; i < bytes.size(); i += 8) out.push_back(std::bit_cast<double>(little_endian(bytes.substr(i, 8))));
}

void ProtoReader::fail(const std::string& what) const {
  throw Error(msg(source_, ": not a valid protobuf message: ", what, " at byte ", pos_, " of ", bytes_.size(),
                  ". The bytes are damaged, cut short, or not the message they are read as"));
}

uint64_t ProtoReader::varint(const char* what) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ >= bytes_.size()) fail(msg(what, " (a varint) runs past the end"));
    const auto byte = static_cast<uint8_t>(bytes_[pos_++]);
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return v;
  }
  fail(msg(what, " (a varint) is longer than 10 bytes"));
}

std::optional<ProtoField> ProtoReader::next() {
  if (pos_ == bytes_.size()) return std::nullopt;
  const uint64_t key = varint("a field's key");
  ProtoField f;
  f.source = source_;
  const uint64_t number = key >> 3;
  if (number == 0 || number > 0x1fffffff) fail(msg("field number ", number, " is out of protobuf's range"));
  f.number = static_cast<uint32_t>(number);
  switch (key & 7) {
    case 0:
      f.type = WireType::varint;
      f.bits = varint("a varint field");
      break;
    case 1:
    case 5: {
      const size_t n = (key & 7) == 1 ? 8 : 4;
      if (bytes_.size() - pos_ < n) fail(msg("field ", number, " needs ", n, " bytes, ", bytes_.size() - pos_, " remain"));
      f.type = n == 8 ? WireType::i64 : WireType::i32;
      f.bits = little_endian(bytes_.substr(pos_, n));
      pos_ += n;
      break;
    }
    case 2: {
      const uint64_t n = varint("a length");
      if (n > bytes_.size() - pos_)
        fail(msg("field ", number, " says it holds ", n, " bytes, but only ", bytes_.size() - pos_, " remain"));
      f.type = WireType::len;
      f.bytes = bytes_.substr(pos_, n);
      pos_ += n;
      break;
    }
    default:
      fail(msg("field ", number, " has wire type ", key & 7,
               (key & 7) == 3 || (key & 7) == 4 ? " (a group, which no TensorBoard message uses)" : " (unknown)"));
  }
  return f;
}

}  // namespace tandem::io
