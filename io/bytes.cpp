// io/bytes.cpp — the frame (magic, version, size, CRC), little-endian fields, a careful reader.
#include "io/bytes.h"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

namespace tandem::io {

namespace {

constexpr size_t kHeaderBytes = 8 + 4 + 8;  // magic, version, body size
constexpr size_t kChecksumBytes = 4;
constexpr uint32_t kMaxRank = 64;
constexpr DType kDTypeCodes[] = {kFloat32, kFloat64, kInt64, kBool};  // code = position

uint64_t read_le(const std::string& b, size_t at, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(b[at + i])) << (8 * i);
  return v;
}

}  // namespace

// ---- the frame ------------------------------------------------------------------------------------

uint32_t crc32_of(std::string_view bytes) {
  // zlib takes lengths as 32-bit numbers, so a large file is fed in chunks.
  uLong crc = crc32(0L, Z_NULL, 0);
  for (size_t at = 0; at < bytes.size();) {
    const size_t chunk = std::min<size_t>(bytes.size() - at, 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data() + at), static_cast<uInt>(chunk));
    at += chunk;
  }
  return static_cast<uint32_t>(crc);
}

std::string hex_bytes(std::string_view bytes, size_t n) {
  std::string out;
  char buf[4];
  for (size_t i = 0; i < std::min(n, bytes.size()); ++i) {
    std::snprintf(buf, sizeof buf, "%02x", static_cast<unsigned>(static_cast<uint8_t>(bytes[i])));
    if (i) out += ' ';
    out += buf;
  }
  return out;
}

std::string frame(const FileFormat& format, std::string_view body) {
  ByteWriter w;
  w.bytes().reserve(kHeaderBytes + body.size() + kChecksumBytes);
  w.bytes().append(format.magic, 8);
  w.u32(format.version);
  w.u64(body.size());
  w.bytes().append(body);
  w.u32(crc32_of(w.bytes()));
  return std::move(w.bytes());
}

std::pair<size_t, size_t> unframe(const FileFormat& f, const std::string& bytes, const std::string& source) {
  const std::string where = msg(f.loader, ": '", source, "'");
  // 1. Is this ours?
  if (bytes.empty())
    throw Error(msg(where, " is empty (0 bytes): nothing was saved in it; save the ", f.content, " again"));
  if (bytes.size() < 8 || std::memcmp(bytes.data(), f.magic, 8) != 0) {
    if (bytes.size() < 8 && std::memcmp(bytes.data(), f.magic, bytes.size()) == 0)
      throw Error(msg(where, " is truncated: it has only ", bytes.size(),
                      " bytes, not even a whole header; save or copy the file again"));
    throw Error(msg(where, " is not a Tandem ", f.file_kind, ": it should start with the bytes \"",
                    f.magic_text, "\" but starts with [", hex_bytes(bytes, 8), "]; load a file written by ",
                    f.writer));
  }
  if (bytes.size() < kHeaderBytes)
    throw Error(msg(where, " is truncated: it has only ", bytes.size(), " bytes, not even a whole ",
                    kHeaderBytes, "-byte header; save or copy the file again"));
  // 2. Can we read it? (Before the checksum: a newer file is reported as newer, not as damaged.)
  const uint32_t version = static_cast<uint32_t>(read_le(bytes, 8, 4));
  if (version != f.version)
    throw Error(msg(where, " is a version ", version, " ", f.file_kind, ", but this Tandem reads version ",
                    f.version, " only; save the ", f.content, " again with this version of Tandem"));
  // 3. Is it whole?
  const uint64_t body_size = read_le(bytes, 12, 8);
  const size_t available = bytes.size() - kHeaderBytes;
  if (body_size > available || available - body_size < kChecksumBytes)
    throw Error(msg(where, " is truncated: its header announces ", body_size, " bytes of ", f.content,
                    " and a ", kChecksumBytes, "-byte checksum, but only ", available,
                    " bytes follow the header; the file was cut short: save or copy it again"));
  if (available - body_size > kChecksumBytes)
    throw Error(msg(where, " has ", available - body_size - kChecksumBytes,
                    " unexpected bytes after its checksum; it is damaged or not one ", f.file_kind,
                    ": save or copy it again"));
  // 4. Is it undamaged?
  const size_t crc_at = kHeaderBytes + body_size;
  const uint32_t stored = static_cast<uint32_t>(read_le(bytes, crc_at, 4));
  const uint32_t actual = crc32_of(std::string_view(bytes).substr(0, crc_at));
  if (stored != actual) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "0x%08x but its contents give 0x%08x", stored, actual);
    throw Error(msg(where, " is corrupt: its CRC-32 checksum is ", buf,
                    "; the file was damaged after it was saved: save or copy it again"));
  }
  return {kHeaderBytes, crc_at};
}

std::string read_file(const FileFormat& f, const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw Error(msg(f.loader, ": '", path, "' is a folder, not a ", f.file_kind,
                    "; give the path of a file written by ", f.writer));
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in)
    throw Error(msg(f.loader, ": cannot open '", path, "' (", std::strerror(errno), "); check the path. A ",
                    f.file_kind, " is written by ", f.writer));
  // The file's size, then exactly that many bytes (a file that shrinks meanwhile reads short, and
  // the frame's checks then call it truncated).
  const std::streamoff size = in.tellg();
  if (size < 0) throw Error(msg(f.loader, ": cannot tell the size of '", path, "'; check the file"));
  std::string bytes(static_cast<size_t>(size), '\0');
  in.seekg(0);
  in.read(bytes.data(), size);
  bytes.resize(static_cast<size_t>(in.gcount()));
  if (in.bad()) throw Error(msg(f.loader, ": reading '", path, "' failed; check the file"));
  return bytes;
}

// ---- dtypes and sizes -------------------------------------------------------------------------------

uint8_t dtype_code(DType dt) {
  return static_cast<uint8_t>(std::find(std::begin(kDTypeCodes), std::end(kDTypeCodes), dt) -
                              std::begin(kDTypeCodes));
}

bool sizes_fit(const Shape& sizes) {
  constexpr uint64_t kLimit = uint64_t{1} << 62;
  uint64_t product = 1;
  for (int64_t d : sizes) {
    if (d == std::numeric_limits<int64_t>::min()) return false;
    const uint64_t m = static_cast<uint64_t>(d < 0 ? -d : d);
    if (m > 1 && product > kLimit / m) return false;
    product *= m > 1 ? m : 1;
  }
  return true;
}

// ---- ByteWriter -------------------------------------------------------------------------------------

void ByteWriter::le(uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void ByteWriter::f64(double v) { u64(std::bit_cast<uint64_t>(v)); }

void ByteWriter::str(std::string_view s) {
  u32(static_cast<uint32_t>(s.size()));
  out_ += s;
}

void ByteWriter::shape(const Shape& s) {
  u32(static_cast<uint32_t>(s.size()));
  for (int64_t d : s) i64(d);
}

void ByteWriter::elements(const Tensor& tensor) {
  const Tensor t = tensor.cpu().contiguous();
  const auto* p = static_cast<const char*>(t.raw_data());
  const size_t size = itemsize(t.dtype()), n = t.nbytes();
  u64(n);
  if constexpr (std::endian::native == std::endian::little) {
    out_.append(p, n);
  } else {  // a big-endian machine reverses each element's bytes
    for (size_t e = 0; e < n; e += size)
      for (size_t b = size; b-- > 0;) out_.push_back(p[e + b]);
  }
}

// ---- ByteReader -------------------------------------------------------------------------------------

void ByteReader::need(uint64_t n, const std::string& what) const {
  if (n > remaining())
    fail(msg(what, " needs ", n, " bytes at offset ", pos_, " but only ", remaining(), " remain"));
}

void ByteReader::fail(const std::string& what) const { throw Error(prefix_ + what + advice_); }

uint64_t ByteReader::le(int n, const char* what) {
  need(n, what);
  const uint64_t v = read_le(b_, pos_, n);
  pos_ += n;
  return v;
}

uint8_t ByteReader::u8(const char* what) { return static_cast<uint8_t>(le(1, what)); }

double ByteReader::f64(const char* what) { return std::bit_cast<double>(u64(what)); }

bool ByteReader::flag(const char* what) {
  const uint8_t v = u8(what);
  if (v > 1) fail(msg(what, " is ", int(v), " where 0 or 1 belongs"));
  return v == 1;
}

std::string ByteReader::str(const char* what) {
  const uint32_t n = u32(what);
  need(n, what);
  std::string s = b_.substr(pos_, n);
  pos_ += n;
  return s;
}

uint32_t ByteReader::count(const char* what, size_t min_bytes) {
  const uint32_t n = u32(what);
  if (static_cast<uint64_t>(n) * min_bytes > remaining())
    fail(msg(what, " is ", n, ", more than the ", remaining(), " bytes left can hold"));
  return n;
}

DType ByteReader::dtype(const char* what) {
  const uint8_t c = u8(what);
  if (c >= std::size(kDTypeCodes)) fail(msg(what, " has the unknown dtype code ", int(c)));
  return kDTypeCodes[c];
}

Shape ByteReader::shape(const char* what) {
  const uint32_t rank = u32(what);
  if (rank > kMaxRank) fail(msg(what, " has rank ", rank, " (at most ", kMaxRank, ")"));
  need(uint64_t{rank} * 8, what);
  Shape s;
  for (uint32_t k = 0; k < rank; ++k) {
    const int64_t d = i64(what);
    if (d < 0) fail(msg(what, " has the negative size ", d));
    s.push_back(d);
  }
  if (!sizes_fit(s))
    fail(msg(what, " has sizes whose product does not fit in 62 bits"));
  return s;
}

Tensor ByteReader::elements(const Shape& shape, DType dtype, const std::string& what) {
  const uint64_t n = u64("a byte count");
  const uint64_t expected = static_cast<uint64_t>(numel(shape)) * itemsize(dtype);
  if (n != expected)
    fail(msg(what, " holds ", n, " bytes for a ", to_string(dtype), " tensor of shape ", shape_str(shape),
             ", which takes ", expected));
  need(n, what);  // before the allocation: no tensor larger than the bytes that back it
  Tensor t = Tensor::empty(shape, dtype);
  const size_t size = itemsize(dtype);
  auto* p = static_cast<char*>(t.raw_data());
  if constexpr (std::endian::native == std::endian::little) {
    if (n) std::memcpy(p, b_.data() + pos_, n);
  } else {
    for (size_t e = 0; e < n; e += size)
      for (size_t k = 0; k < size; ++k) p[e + k] = b_[pos_ + e + size - 1 - k];
  }
  // A bool is one byte, 0 or 1; any other byte would break the kernels' assumptions.
  if (dtype == kBool)
    for (size_t i = 0; i < n; ++i) p[i] = p[i] != 0;
  pos_ += n;
  return t;
}

}  // namespace tandem::io
