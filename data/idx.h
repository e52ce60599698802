// data/idx.h — reading IDX files, the format of MNIST and Fashion-MNIST.
//
// An IDX file is a tiny header and then raw numbers in row-major order:
//   bytes 0-1   zero
//   byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
//   byte  3     number of dimensions N
//   N x 4 bytes the size of each dimension, big-endian
//   then the data (multi-byte values big-endian as well)
// Fashion-MNIST ships them gzip-compressed; zlib's gzread reads both forms.
// Images are 28x28 uint8 (train: 60000, test: 10000); labels are uint8 class numbers 0-9.
//
// A file is untrusted input: its header may declare far more data than follows (a truncated
// download, or a damaged or hostile file). The reader never believes the header with memory: it
// checks the declared shape for overflow, then reads the data in pieces, so what it allocates
// grows with the bytes actually there — an 8-byte file that declares 16 GB is refused at once,
// not after allocating 16 GB. Every failure is a tandem::Error naming the file.
// (tests/fuzz/fuzz_idx.cpp feeds it random bytes to keep it that way.)
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "core/tensor.h"

namespace tandem::data {

// The tensor stored in an IDX file (.gz or not): integer types become int64, floats keep their
// width. Throws tandem::Error naming the file on a missing, truncated or malformed file.
Tensor read_idx(const std::string& path);
// The same from bytes in memory (gzip-compressed or not); `source` names them in errors.
Tensor parse_idx(std::string_view bytes, const std::string& source = "<bytes>");

// Where Debian's dataset-fashion-mnist package puts the files.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct FashionMnist {
  Tensor images;  // [N, 28, 28] float32, pixel values scaled to [0, 1]
  Tensor labels;  // [N] int64, 0-9
};

// The training set (60000 images) or the test set (10000). A clear error says how to install the
// dataset when the files are missing.
FashionMnist load_fashion_mnist(bool train, const std::string& dir = kFashionMnistDir);

// "T-shirt/top", "Trouser", ... indexed by label.
extern const std::array<const char*, 10> kFashionMnistClasses;

}  // namespace tandem::data
