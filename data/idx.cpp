// data/idx.cpp — the IDX reader and the Fashion-MNIST loader.
#include "data/idx.h"

#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "core/factories.h"
#include "core/ops.h"

namespace tandem::data {

const std::array<const char*, 10> kFashionMnistClasses = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

namespace {

struct GzFile {
  gzFile f;
  ~GzFile() {
    if (f) gzclose(f);
  }
};

// Reads exactly n bytes, or throws naming what was expected.
void read_exact(gzFile f, void* out, size_t n, const std::string& path, const char* what) {
  size_t done = 0;
  while (done < n) {
    const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - done, 1u << 30));
    const int got = gzread(f, static_cast<char*>(out) + done, chunk);
    if (got <= 0)
      throw Error(msg("read_idx: ", path, " is truncated or corrupt: could not read the ", what,
                      " (", done, " of ", n, " bytes read). Re-download or reinstall the file"));
    done += static_cast<size_t>(got);
  }
}

uint32_t big_endian_u32(const unsigned char* b) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

// Element type codes of the header, with their byte widths.
size_t element_bytes(unsigned char code) {
  switch (code) {
    case 0x08: case 0x09: return 1;
    case 0x0B: return 2;
    case 0x0C: case 0x0D: return 4;
    case 0x0E: return 8;
    default: return 0;
  }
}

}  // namespace

Tensor read_idx(const std::string& path) {
  if (!std::filesystem::exists(path)) throw Error(msg("read_idx: no such file: ", path));
  GzFile file{gzopen(path.c_str(), "rb")};
  if (!file.f) throw Error(msg("read_idx: cannot open ", path));
  unsigned char magic[4];
  read_exact(file.f, magic, 4, path, "4-byte header");
  const size_t width = element_bytes(magic[2]);
  if (magic[0] != 0 || magic[1] != 0 || width == 0 || magic[3] == 0 || magic[3] > 8)
    throw Error(msg("read_idx: ", path, " is not an IDX file (its header bytes are ", int(magic[0]), " ",
                    int(magic[1]), " ", int(magic[2]), " ", int(magic[3]), ")"));
  Shape shape(magic[3]);
  for (auto& d : shape) {
    unsigned char b[4];
    read_exact(file.f, b, 4, path, "dimension sizes");
    d = big_endian_u32(b);
  }
  const size_t n = static_cast<size_t>(numel(shape));
  std::vector<unsigned char> raw(n * width);
  read_exact(file.f, raw.data(), raw.size(), path, "data");

  // Convert from big-endian bytes to the tensor's dtype.
  auto be = [&](size_t i) {
    uint64_t v = 0;
    for (size_t k = 0; k < width; ++k) v = (v << 8) | raw[i * width + k];
    return v;
  };
  switch (magic[2]) {
    case 0x0D: {
      Tensor t = Tensor::empty(shape, kFloat32);
      for (size_t i = 0; i < n; ++i) {
        const auto bits = static_cast<uint32_t>(be(i));
        std::memcpy(t.data<float>() + i, &bits, 4);
      }
      return t;
    }
    case 0x0E: {
      Tensor t = Tensor::empty(shape, kFloat64);
      for (size_t i = 0; i < n; ++i) {
        const uint64_t bits = be(i);
        std::memcpy(t.data<double>() + i, &bits, 8);
      }
      return t;
    }
    default: {
      Tensor t = Tensor::empty(shape, kInt64);
      int64_t* p = t.data<int64_t>();
      for (size_t i = 0; i < n; ++i) {
        const uint64_t v = be(i);
        switch (magic[2]) {
          case 0x08: p[i] = static_cast<int64_t>(v); break;
          case 0x09: p[i] = static_cast<int8_t>(v); break;
          case 0x0B: p[i] = static_cast<int16_t>(v); break;
          default: p[i] = static_cast<int32_t>(v); break;
        }
      }
      return t;
    }
  }
}

FashionMnist load_fashion_mnist(bool train, const std::string& dir) {
  const std::string prefix = dir + (train ? "/train" : "/t10k");
  const std::string images_path = prefix + "-images-idx3-ubyte.gz";
  const std::string labels_path = prefix + "-labels-idx1-ubyte.gz";
  for (const std::string& p : {images_path, labels_path})
    if (!std::filesystem::exists(p))
      throw Error(msg("Fashion-MNIST not found: ", p, " does not exist. Install the dataset with "
                      "`sudo apt-get install dataset-fashion-mnist` (`make demo` does it for you), or "
                      "pass the folder that holds the four .gz files"));
  FashionMnist ds;
  const Tensor pixels = read_idx(images_path);
  ds.labels = read_idx(labels_path);
  if (pixels.dim() != 3 || pixels.size(1) != 28 || pixels.size(2) != 28 || ds.labels.dim() != 1 ||
      ds.labels.size(0) != pixels.size(0))
    throw Error(msg("Fashion-MNIST in ", dir, " looks wrong: images ", shape_str(pixels.shape()), ", labels ",
                    shape_str(ds.labels.shape()), " (expected [N, 28, 28] and [N])"));
  ds.images = pixels.to(kFloat32) / 255.0;
  return ds;
}

}  // namespace tandem::data
