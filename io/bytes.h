// io/bytes.h — what Tandem's binary files share: little-endian numbers, a framed body, a CRC-32.
//
// Two file formats are built from these pieces: the graph file (docs/graph_file_format.md) and the
// checkpoint (docs/checkpoint_format.md). Both are *framed* the same way:
//
//   magic (8 bytes) | version (u32) | body size B (u64) | body (B bytes) | CRC-32 of all before (u32)
//
// and the frame answers the first four questions a loader must ask of bytes it did not write,
// before it reads a single field of the body:
//   1. is this ours?          the magic word           ("not a Tandem checkpoint")
//   2. can we read it?        the version              ("a version 2 checkpoint")
//   3. is it whole?           B against the bytes there ("truncated")
//   4. is it undamaged?       the CRC-32               ("corrupt")
// The body is then read with a ByteReader, which asks before every read whether enough bytes
// remain, and checks every count against the bytes left before anything of that size is
// allocated: a file, however made, can neither make the loader read past its end nor allocate more
// than the bytes it holds.
//
// Read next: io/checkpoint.h (a format built on this), io/graph_file.cpp (the other one).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "core/tensor.h"

namespace tandem::io {

// ---- what a format is -----------------------------------------------------------------------------
// The words a format's errors use, so that every loader says the same things the same way:
//   "load_checkpoint: 'run/model.tckpt' is not a Tandem checkpoint: it should start with ..."
struct FileFormat {
  const char* loader;      // the function named first in errors: "load_checkpoint"
  const char* content;     // what the file holds: "save the checkpoint again", "B bytes of checkpoint"
  const char* file_kind;   // "a version 2 checkpoint file", "not a Tandem checkpoint file"
  const char* writer;      // what writes it, for advice: "save_checkpoint()"
  const char* magic;       // the first 8 bytes
  const char* magic_text;  // the same, as printed in errors: "TCHKPT1\\0"
  uint32_t version;
};

// header + body + CRC-32: the bytes of a whole file.
std::string frame(const FileFormat& format, std::string_view body);

// Checks the frame of a file's bytes (the four questions above) and returns where its body is,
// [first, second). Throws a tandem::Error naming `source` (a file name) at the first problem.
std::pair<size_t, size_t> unframe(const FileFormat& format, const std::string& bytes,
                                  const std::string& source);

// The bytes of the file at `path`, or a tandem::Error naming it (missing, a folder, unreadable).
// Reads exactly the file's size: no more is allocated than the file holds.
std::string read_file(const FileFormat& format, const std::string& path);

// zlib's CRC-32 (the one of gzip and PNG) of bytes [0, n).
uint32_t crc32_of(std::string_view bytes);

// "54 47 52 41" — the first n bytes, for error messages.
std::string hex_bytes(std::string_view bytes, size_t n);

// ---- dtypes in files --------------------------------------------------------------------------------
// A dtype's code in every Tandem file: 0 float32, 1 float64, 2 int64, 3 bool. Written out here,
// not taken from the enum's order, so that reordering the enum can never change an old file.
uint8_t dtype_code(DType dtype);

// True when the product of the sizes' magnitudes fits in 2^62 (0 and -1 count as 1): then no shape
// arithmetic on them — numel, numel × itemsize, a shape rule's products — can overflow.
bool sizes_fit(const Shape& sizes);

// ---- writing ---------------------------------------------------------------------------------------
// Numbers least significant byte first, whatever the machine, so that a file written on one
// computer reads the same on any other.
class ByteWriter {
 public:
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(uint32_t v) { le(v, 4); }
  void u64(uint64_t v) { le(v, 8); }
  void i64(int64_t v) { le(static_cast<uint64_t>(v), 8); }
  void f64(double v);  // the IEEE 754 bits, as a u64
  void str(std::string_view s);  // u32 byte count, then the bytes
  void dtype(DType d) { u8(dtype_code(d)); }
  void shape(const Shape& s);    // u32 rank, then the sizes as i64
  // u64 byte count, then a tensor's elements in row-major order, each little-endian (any device,
  // any strides: a contiguous CPU copy is made when needed).
  void elements(const Tensor& t);
  std::string& bytes() { return out_; }

 private:
  void le(uint64_t v, int n);
  std::string out_;
};

// ---- reading ---------------------------------------------------------------------------------------
// Reads the same, refusing to go past `end`: each read first checks what remains. Every failure
// is a tandem::Error "<corrupt_prefix><what><advice>": the body of a file whose frame checked out
// can only be wrong if it was *written* wrong, and the advice says so.
class ByteReader {
 public:
  ByteReader(const std::string& bytes, size_t begin, size_t end, std::string corrupt_prefix, std::string advice)
      : b_(bytes), pos_(begin), end_(end), prefix_(std::move(corrupt_prefix)), advice_(std::move(advice)) {}

  size_t remaining() const { return end_ - pos_; }
  size_t position() const { return pos_; }
  void need(uint64_t n, const std::string& what) const;
  [[noreturn]] void fail(const std::string& what) const;

  uint8_t u8(const char* what);
  uint32_t u32(const char* what) { return static_cast<uint32_t>(le(4, what)); }
  uint64_t u64(const char* what) { return le(8, what); }
  int64_t i64(const char* what) { return static_cast<int64_t>(le(8, what)); }
  double f64(const char* what);
  bool flag(const char* what);  // a u8 that must be 0 or 1
  std::string str(const char* what);
  // A count of items that take at least `min_bytes` each: more than the bytes left can hold is a
  // corrupt file, caught before anything of that size is allocated.
  uint32_t count(const char* what, size_t min_bytes);
  DType dtype(const char* what);
  // A shape of known sizes (>= 0), rank at most 64, whose element count fits in 62 bits.
  Shape shape(const char* what);
  // A u64 byte count that must be numel(shape) × itemsize(dtype), then that many bytes of elements
  // into a new CPU tensor. A bool byte other than 0 or 1 reads as 1.
  Tensor elements(const Shape& shape, DType dtype, const std::string& what);

 private:
  uint64_t le(int n, const char* what);
  const std::string& b_;
  size_t pos_, end_;
  std::string prefix_, advice_;
};

}  // namespace tandem::io
