// data/image.cpp — checks that make stb_image safe on untrusted bytes, the decode itself, and PNG
// and JPEG encoding through the atomic save helper.
//
// Debian's libstb-dev ships stb compiled (libstb.so), so Tandem links it and defines no
// STB_IMAGE_IMPLEMENTATION of its own; CMakeLists.txt falls back to compiling the implementation
// here (TANDEM_STB_IMPLEMENTATION) on a system that has only the headers.
#include "data/image.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

#include "core/factories.h"
#include "data/byte_order.h"
#include "io/atomic_file.h"

#if defined(TANDEM_STB_IMPLEMENTATION)
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#endif
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

namespace tandem::data {

namespace {

enum class Format { png, jpeg, bmp };

[[noreturn]] void refuse(const std::string& source, const std::string& why) {
  throw Error(msg("decode_image: ", source, ": ", why));
}

bool starts_with(std::span<const uint8_t> b, std::initializer_list<uint8_t> magic) {
  if (b.size() < magic.size()) return false;
  size_t i = 0;
  for (uint8_t m : magic)
    if (b[i++] != m) return false;
  return true;
}

// Which of the three formats the first bytes announce (their "magic numbers").
Format sniff(std::span<const uint8_t> b, const std::string& source) {
  if (starts_with(b, {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'})) return Format::png;
  if (starts_with(b, {0xFF, 0xD8, 0xFF})) return Format::jpeg;
  if (starts_with(b, {'B', 'M'})) return Format::bmp;
  std::string first;
  for (size_t i = 0; i < std::min<size_t>(b.size(), 4); ++i) first += msg(i ? " " : "", int(b[i]));
  refuse(source, msg("not a PNG, JPEG or BMP file (", b.size(), " bytes, starting ",
                     b.empty() ? "with nothing" : first, "); Tandem reads those three formats"));
}

// Where `needle` last occurs in `b`, or npos.
size_t rfind(std::span<const uint8_t> b, std::initializer_list<uint8_t> needle) {
  const size_t n = needle.size();
  for (size_t i = b.size() >= n ? b.size() - n + 1 : 0; i-- > 0;)
    if (std::memcmp(b.data() + i, needle.begin(), n) == 0) return i;
  return std::string::npos;
}

// Is the file complete? stb decodes what it can of a truncated JPEG or BMP and fills the rest with
// zeros, so Tandem looks for each format's end itself.
void check_complete(std::span<const uint8_t> b, Format f, const std::string& source) {
  if (f == Format::png) {
    // After the 8-byte signature, a PNG is a list of chunks up to IEND, each a 4-byte big-endian
    // length, a 4-byte type, the data and a 4-byte CRC. Every length is checked against the bytes
    // left before stb sees the file: stb grows its buffer for the image data (IDAT) to the length
    // a chunk *claims*, before reading it, so a 214-byte file whose IDAT claimed 2.1 GB made it
    // allocate 2 GiB (found by fuzz_image; the input is in tests/fuzz/corpus/image/).
    size_t at = 8;
    for (;;) {
      if (b.size() - at < 12)
        refuse(source, msg("truncated PNG: no IEND chunk in its ", b.size(), " bytes"));
      const uint32_t length = big_endian_u32(b.data() + at);
      if (length > b.size() - at - 12)
        refuse(source, msg("corrupt or truncated PNG: the chunk at byte ", at, " claims ", length,
                           " bytes of data, and only ", b.size() - at - 12, " follow it"));
      if (std::memcmp(b.data() + at + 4, "IEND", 4) == 0) break;
      at += 12 + size_t{length};
    }
  } else if (f == Format::jpeg) {
    // Entropy-coded data starts after an SOS marker (FF DA) and the image ends with EOI (FF D9).
    const size_t sos = rfind(b, {0xFF, 0xDA});
    const size_t eoi = rfind(b, {0xFF, 0xD9});
    if (sos == std::string::npos || eoi == std::string::npos || eoi < sos)
      refuse(source, msg("truncated JPEG: no end-of-image marker after its image data (", b.size(), " bytes)"));
  } else {
    // BMP: a 14-byte file header (pixel data offset at byte 10), then an info header whose first
    // 4 bytes give its size. Uncompressed rows are padded to 4 bytes, so the pixels need exactly
    // offset + row_bytes * |height| bytes.
    if (b.size() < 26) refuse(source, msg("truncated BMP: ", b.size(), " bytes is less than its headers"));
    const uint8_t* p = b.data();
    const uint32_t offset = little_endian_u32(p + 10), info = little_endian_u32(p + 14);
    if (info != 12 && info != 40 && info != 56 && info != 108 && info != 124)
      refuse(source, msg("not a BMP stb can read: info header of ", info, " bytes"));
    int64_t width, height, bpp, compression = 0;
    if (info == 12) {
      width = little_endian_u16(p + 18), height = little_endian_u16(p + 20), bpp = little_endian_u16(p + 24);
    } else {
      if (b.size() < 34) refuse(source, msg("truncated BMP: ", b.size(), " bytes is less than its headers"));
      width = static_cast<int32_t>(little_endian_u32(p + 18));
      height = static_cast<int32_t>(little_endian_u32(p + 22));
      bpp = little_endian_u16(p + 28), compression = little_endian_u32(p + 30);
    }
    if (width <= 0 || height == 0 || height == INT32_MIN || width > (1 << 24) || std::abs(height) > (1 << 24))
      refuse(source, msg("BMP header gives a size of ", width, " x ", height));
    if (compression != 0 && compression != 3)  // BI_RGB, BI_BITFIELDS; stb reads no RLE
      refuse(source, msg("BMP with compression method ", compression, " (only uncompressed BMPs are read)"));
    const int64_t row = (bpp * width + 31) / 32 * 4;
    const int64_t need = int64_t{offset} + row * std::abs(height);
    if (static_cast<int64_t>(b.size()) < need)
      refuse(source, msg("truncated BMP: its ", width, " x ", std::abs(height), " pixels at ", bpp,
                         " bits need ", need, " bytes, the file has ", b.size()));
  }
}

int wanted_channels(ImageMode mode) { return mode == ImageMode::gray ? 1 : mode == ImageMode::rgb ? 3 : 0; }

}  // namespace

Tensor decode_image(std::span<const uint8_t> bytes, const std::string& source, ImageMode mode) {
  const Format format = sniff(bytes, source);
  check_complete(bytes, format, source);
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) refuse(source, "larger than 2 GiB");
  const int length = static_cast<int>(bytes.size());

  // The header first: stb_info reads the size without decoding (or allocating for) the pixels.
  int w = 0, h = 0, stored = 0;
  if (!stbi_info_from_memory(bytes.data(), length, &w, &h, &stored))
    refuse(source, msg("unreadable image header (", stbi_failure_reason(), ")"));
  const int channels = wanted_channels(mode) ? wanted_channels(mode) : stored;
  const int64_t pixels = int64_t{w} * h;
  if (w <= 0 || h <= 0 || pixels > kMaxPixels)
    refuse(source, msg("the header claims ", w, " x ", h, " pixels; at most ", kMaxPixels, " are read"));
  if (pixels * channels > kMaxExpansion * static_cast<int64_t>(bytes.size()))
    refuse(source, msg("the header claims ", w, " x ", h, " pixels, too many to come from ", bytes.size(),
                       " bytes: the file is corrupt or hostile"));

  int dw = 0, dh = 0, dc = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels_hwc(
      stbi_load_from_memory(bytes.data(), length, &dw, &dh, &dc, wanted_channels(mode)), stbi_image_free);
  if (!pixels_hwc) refuse(source, msg("corrupt image data (", stbi_failure_reason(), ")"));
  if (dw != w || dh != h) refuse(source, msg("the header said ", w, " x ", h, " but the data decoded to ", dw, " x ", dh));

  // stb gives rows of interleaved channels (H, W, C); Tandem's images are planes (C, H, W).
  Tensor out = Tensor::empty({channels, h, w}, kInt64);
  int64_t* p = out.data<int64_t>();
  const stbi_uc* src = pixels_hwc.get();
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t i = 0; i < pixels; ++i) p[c * pixels + i] = src[i * channels + c];
  return out;
}

Tensor read_image(const std::string& path, ImageMode mode) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw Error(msg("read_image: ", path, " is a folder, not an image file; to read every image in a folder, "
                    "use data::ImageFolder (data/image_folder.h) or list its files"));
  if (!std::filesystem::is_regular_file(path, ec))
    throw Error(msg("read_image: no such file: ", path));
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw Error(msg("read_image: cannot read the size of ", path, " (", ec.message(), ")"));
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  std::ifstream in(path, std::ios::binary);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size())))
    throw Error(msg("read_image: cannot read ", path));
  return decode_image(bytes, path, mode);
}

// ---- writing ------------------------------------------------------------------------------------

namespace {

// An image [C, H, W] or [H, W] (int64 0-255, or floats in [0, 1]) as the interleaved rows of bytes
// (H, W, C) that stb_image_write encodes. `who` names the encoder in error messages.
struct InterleavedBytes {
  std::vector<uint8_t> hwc;
  int channels, height, width;
};

InterleavedBytes interleaved_bytes(const Tensor& image, const char* who) {
  if (!image.defined() || (image.dim() != 2 && image.dim() != 3))
    throw ShapeError(msg(who, ": expected an image [C, H, W] or [H, W], got ",
                         image.defined() ? shape_str(image.shape()) : "an undefined tensor"));
  const Tensor chw = (image.dim() == 2 ? image.unsqueeze(0) : image).cpu().contiguous();
  const int64_t c = chw.size(0), h = chw.size(1), w = chw.size(2);
  if (c < 1 || c > 4 || h < 1 || w < 1 || h > (1 << 24) || w > (1 << 24))
    throw ShapeError(msg(who, ": an image needs 1-4 channels and a non-empty size, got ", shape_str(image.shape())));
  // Planes (C, H, W) back to interleaved rows (H, W, C) of bytes.
  std::vector<uint8_t> hwc(static_cast<size_t>(c * h * w));
  const std::vector<double> v = chw.to_vector<double>();
  const bool floating = chw.is_floating_point();
  for (int64_t k = 0; k < c; ++k)
    for (int64_t i = 0; i < h * w; ++i) {
      double x = v[static_cast<size_t>(k * h * w + i)];
      if (floating) {
        x = std::floor(x * 255 + 0.5);  // torchvision's save_image: mul(255).add_(0.5).clamp_(0, 255)
        x = std::isnan(x) ? 0 : std::clamp(x, 0.0, 255.0);
      } else if (x < 0 || x > 255) {
        throw Error(msg(who, ": an integer image must hold values 0-255, found ", x,
                        "; clamp it, or convert floats in [0, 1]"));
      }
      hwc[static_cast<size_t>(i * c + k)] = static_cast<uint8_t>(x);
    }
  return {std::move(hwc), static_cast<int>(c), static_cast<int>(h), static_cast<int>(w)};
}

// stb_image_write hands its output to a callback in pieces; this one appends them to a string.
void append_to_string(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<size_t>(size));
}

}  // namespace

std::string encode_png(const Tensor& image) {
  const InterleavedBytes img = interleaved_bytes(image, "encode_png");
  std::string png;
  if (!stbi_write_png_to_func(append_to_string, &png, img.width, img.height, img.channels, img.hwc.data(),
                              img.width * img.channels))
    throw Error(msg("encode_png: stb_image_write could not encode the ", shape_str(image.shape()), " image"));
  return png;
}

std::string encode_jpeg(const Tensor& image, int quality) {
  if (quality < 1 || quality > 100)
    throw Error(msg("encode_jpeg: quality must be 1-100 (torchvision's default is 75), got ", quality));
  const InterleavedBytes img = interleaved_bytes(image, "encode_jpeg");
  std::string jpeg;
  if (!stbi_write_jpg_to_func(append_to_string, &jpeg, img.width, img.height, img.channels, img.hwc.data(), quality))
    throw Error(msg("encode_jpeg: stb_image_write could not encode the ", shape_str(image.shape()), " image"));
  return jpeg;
}

void write_png(const Tensor& image, const std::string& path) {
  io::write_file_atomic(path, encode_png(image), "write_png");
}

void write_jpeg(const Tensor& image, const std::string& path, int quality) {
  io::write_file_atomic(path, encode_jpeg(image, quality), "write_jpeg");
}

}  // namespace tandem::data
