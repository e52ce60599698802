// data/image.h — image files in and out: PNG, JPEG and BMP as [C, H, W] tensors.
//
// Decoding is done by stb_image and encoding by stb_image_write (Sean Barrett's public-domain
// single-file libraries, from Debian's libstb-dev). What Tandem adds is the part a loader of
// untrusted files must own (DESIGN.md, "Untrusted input"): before stb allocates anything, the
// bytes are checked to be a PNG, JPEG or BMP whose header describes an image of sensible size for
// the bytes present, and a truncated file is refused instead of being decoded into a half-grey
// picture (stb's JPEG and BMP readers quietly fill missing bytes with zeros).
//
// The layout is torchvision's: channels first, [C, H, W], with C = 1 (grey), 2 (grey + alpha),
// 3 (RGB) or 4 (RGBA). Tandem has no uint8 dtype, so a decoded image is an int64 tensor of the
// bytes 0-255 — what torchvision.io.read_image gives as uint8 — and the ToTensor transform
// (data/transforms.h) turns it into float32 in [0, 1].
//
//     Tensor img = data::read_image("cat.jpg", data::ImageMode::rgb);  // [3, H, W] int64, 0-255
//     data::write_png(transforms::ToTensor()(img), "copy.png");        // floats in [0, 1] work too
//
// Read next: data/transforms.h.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/tensor.h"

namespace tandem::data {

// torchvision.io.ImageReadMode: keep the file's channels, or convert to grey or RGB.
enum class ImageMode { unchanged, gray, rgb };

// Limits on what a file may ask the decoder to allocate. An image may have at most kMaxPixels
// pixels, and at most kMaxExpansion decoded bytes per byte of file: compressed formats shrink
// flat pictures a lot (deflate by at most ~1032:1, times 8 for 1-bit PNGs), but a 100-byte file
// that claims to be 60000 x 60000 is an attack, not a picture.
inline constexpr int64_t kMaxPixels = int64_t{1} << 28;
inline constexpr int64_t kMaxExpansion = int64_t{1} << 14;

// The image in `bytes` (the contents of a PNG, JPEG or BMP file) as an int64 [C, H, W] tensor of
// values 0-255. `source` names the bytes in error messages (a path, "upload #3"). Throws
// tandem::Error — never crashes — on anything that is not a complete image of those formats.
Tensor decode_image(std::span<const uint8_t> bytes, const std::string& source,
                    ImageMode mode = ImageMode::unchanged);

// decode_image of a file's contents; a missing or unreadable file is an Error naming it.
Tensor read_image(const std::string& path, ImageMode mode = ImageMode::unchanged);

// The PNG encoding of an image: [C, H, W] (C = 1-4) or [H, W]; int64 values must be 0-255, float
// values are taken as [0, 1] and stored as round(255·x), clamped (torchvision's save_image).
std::string encode_png(const Tensor& image);

// Writes encode_png(image) to `path` through io::write_file_atomic (a crash never leaves half a
// file, and never loses the file that was there).
void write_png(const Tensor& image, const std::string& path);

// The JPEG encoding of an image, as encode_png takes it (torchvision.io.encode_jpeg). JPEG is
// lossy: it stores 8x8 blocks of cosine frequencies, the fine ones rounded away, more of them the
// lower the quality (1-100; torchvision's default 75), so a decoded JPEG is close to the image but
// not equal. stb's encoder always stores colour (YCbCr) and no alpha: a grey image comes back from
// read_image as three equal channels (ImageMode::gray gives one), and an alpha channel is dropped.
std::string encode_jpeg(const Tensor& image, int quality = 75);

// Writes encode_jpeg(image, quality) to `path`, atomically as write_png.
void write_jpeg(const Tensor& image, const std::string& path, int quality = 75);

}  // namespace tandem::data
