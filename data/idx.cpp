// data/idx.cpp — the IDX reader and the Fashion-MNIST loader.
#include "data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "core/factories.h"
#include "data/byte_order.h"
#include "core/ops.h"

namespace tandem::data {

const std::array<const char*, 10> kFashionMnistClasses = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

namespace {

// ---- where the bytes come from -----------------------------------------------------------------
// The parser reads through this interface, in order, so the same code reads a file and bytes in
// memory. read() returns how many bytes it gave (fewer than asked only at the end of the data)
// and throws when the data is damaged (a broken gzip stream).
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual size_t read(void* out, size_t n) = 0;
};

// A file through zlib's gzread, which reads a gzip file and a plain one alike.
class GzFileSource final : public ByteSource {
 public:
  explicit GzFileSource(const std::string& path) : f_(gzopen(path.c_str(), "rb")), path_(path) {
    if (!f_) throw Error(msg("read_idx: cannot open ", path, " (", std::strerror(errno), "); check the path"));
  }
  ~GzFileSource() override { gzclose(f_); }
  GzFileSource(const GzFileSource&) = delete;
  GzFileSource& operator=(const GzFileSource&) = delete;

  size_t read(void* out, size_t n) override {
    size_t done = 0;
    while (done < n) {
      const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - done, 1u << 30));
      const int got = gzread(f_, static_cast<char*>(out) + done, chunk);
      if (got < 0) {
        int code = 0;
        const char* why = gzerror(f_, &code);
        throw Error(msg("read_idx: ", path_, " is corrupt: ", why ? why : "read error",
                        ". Re-download or reinstall the file"));
      }
      if (got == 0) break;  // the end of the data
      done += static_cast<size_t>(got);
    }
    return done;
  }

 private:
  gzFile f_;
  std::string path_;
};

// Bytes in memory: copied out as they are, or inflated first when they start with gzip's magic
// bytes 1f 8b (zlib's inflate, the algorithm gzread runs on a file).
class MemorySource final : public ByteSource {
 public:
  MemorySource(std::string_view bytes, const std::string& source) : bytes_(bytes), source_(source) {
    gzip_ = bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
            static_cast<unsigned char>(bytes[1]) == 0x8b;
    if (gzip_ && inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK)  // 16 + : expect a gzip header
      throw Error(msg("read_idx: ", source, ": zlib could not start (out of memory?)"));
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  }
  ~MemorySource() override {
    if (gzip_) inflateEnd(&z_);
  }
  MemorySource(const MemorySource&) = delete;
  MemorySource& operator=(const MemorySource&) = delete;

  size_t read(void* out, size_t n) override {
    if (!gzip_) {
      const size_t got = std::min(n, bytes_.size() - at_);
      std::memcpy(out, bytes_.data() + at_, got);
      at_ += got;
      return got;
    }
    size_t done = 0;
    while (done < n && !ended_) {
      z_.avail_in = static_cast<uInt>(std::min<size_t>(bytes_.size() - at_, 1u << 30));
      z_.next_out = static_cast<Bytef*>(out) + done;
      z_.avail_out = static_cast<uInt>(std::min<size_t>(n - done, 1u << 30));
      const Bytef* before = z_.next_in;
      const uInt room = z_.avail_out;
      const int rc = inflate(&z_, Z_NO_FLUSH);
      at_ += static_cast<size_t>(z_.next_in - before);
      done += room - z_.avail_out;
      const bool progress = z_.next_in != before || z_.avail_out != room;
      if (rc == Z_STREAM_END) {
        ended_ = true;  // (bytes after the gzip stream are ignored, as gzread ignores them)
      } else if (rc == Z_BUF_ERROR && !progress) {
        ended_ = true;  // the compressed stream stops early: the parser reports the data as short
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        throw Error(msg("read_idx: ", source_, " is corrupt: its gzip data does not inflate (",
                        z_.msg ? z_.msg : "zlib error", "). Re-download or reinstall the file"));
      }
    }
    return done;
  }

 private:
  std::string_view bytes_;
  const std::string& source_;
  size_t at_ = 0;
  bool gzip_ = false, ended_ = false;
  z_stream z_{};
};

// ---- the format ----------------------------------------------------------------------------------

// Reads exactly n bytes, or throws naming what was expected.
void read_exact(ByteSource& in, void* out, size_t n, const std::string& name, const char* what) {
  const size_t got = in.read(out, n);
  if (got < n)
    throw Error(msg("read_idx: ", name, " is truncated or corrupt: could not read the ", what, " (",
                    got, " of ", n, " bytes read). Re-download or reinstall the file"));
}

// Reads up to n bytes into a vector that grows only as the bytes arrive: 64 KiB first, then pieces
// as large as what has arrived so far (doubling), so it never holds much more than twice the data
// that is really there. A header that promises gigabytes costs nothing until they come.
// (Faster when the header is honest: one vector of n bytes, filled in one read. That trusts the
// header with memory, which is exactly what an untrusted file must not be trusted with.)
std::vector<unsigned char> read_up_to(ByteSource& in, size_t n) {
  constexpr size_t kFirstPiece = size_t{1} << 16;
  std::vector<unsigned char> raw;
  while (raw.size() < n) {
    const size_t at = raw.size(), want = std::min(std::max(kFirstPiece, at), n - at);
    raw.resize(at + want);
    const size_t got = in.read(raw.data() + at, want);
    raw.resize(at + got);
    if (got < want) break;  // the end of the data
  }
  return raw;
}

// Element type codes of the header, with their byte widths and names.
size_t element_bytes(unsigned char code) {
  switch (code) {
    case 0x08: case 0x09: return 1;
    case 0x0B: return 2;
    case 0x0C: case 0x0D: return 4;
    case 0x0E: return 8;
    default: return 0;
  }
}
const char* element_name(unsigned char code) {
  switch (code) {
    case 0x08: return "uint8";
    case 0x09: return "int8";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    default: return "float64";
  }
}

// Big-endian elements of `width` bytes, converted to the tensor's dtype.
Tensor convert(const std::vector<unsigned char>& raw, const Shape& shape, unsigned char code, size_t width) {
  const size_t n = raw.size() / width;
  auto be = [&](size_t i) {
    uint64_t v = 0;
    for (size_t k = 0; k < width; ++k) v = (v << 8) | raw[i * width + k];
    return v;
  };
  switch (code) {
    case 0x0D: {
      Tensor t = Tensor::empty(shape, kFloat32, Device::cpu(), "read_idx");
      for (size_t i = 0; i < n; ++i) {
        const auto bits = static_cast<uint32_t>(be(i));
        std::memcpy(t.data<float>() + i, &bits, 4);
      }
      return t;
    }
    case 0x0E: {
      Tensor t = Tensor::empty(shape, kFloat64, Device::cpu(), "read_idx");
      for (size_t i = 0; i < n; ++i) {
        const uint64_t bits = be(i);
        std::memcpy(t.data<double>() + i, &bits, 8);
      }
      return t;
    }
    default: {
      Tensor t = Tensor::empty(shape, kInt64, Device::cpu(), "read_idx");
      int64_t* p = t.data<int64_t>();
      for (size_t i = 0; i < n; ++i) {
        const uint64_t v = be(i);
        switch (code) {
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

// The whole format: header, sizes (checked), data (as much as there really is), nothing after.
Tensor parse(ByteSource& in, const std::string& name) {
  unsigned char magic[4];
  read_exact(in, magic, 4, name, "4-byte header");
  const size_t width = element_bytes(magic[2]);
  if (magic[0] != 0 || magic[1] != 0 || width == 0 || magic[3] == 0 || magic[3] > 8)
    throw Error(msg("read_idx: ", name, " is not an IDX file (its header bytes are ", int(magic[0]), " ",
                    int(magic[1]), " ", int(magic[2]), " ", int(magic[3]), "); give an IDX file such as "
                    "Fashion-MNIST's train-images-idx3-ubyte.gz"));
  Shape shape(magic[3]);
  for (auto& d : shape) {
    unsigned char b[4];
    read_exact(in, b, 4, name, "dimension sizes");
    d = big_endian_u32(b);
  }
  try {
    check_shape(shape, width, "read_idx");
  } catch (const ShapeError& e) {
    throw Error(msg("read_idx: ", name, " is corrupt: its header declares the ", element_name(magic[2]),
                    " shape ", shape_str(shape), ", too large to be real (", e.what(), ")"));
  }
  const size_t expected = static_cast<size_t>(numel(shape)) * width;
  const std::vector<unsigned char> raw = read_up_to(in, expected);
  if (raw.size() < expected)
    throw Error(msg("read_idx: ", name, " is truncated: its header declares ", element_name(magic[2]),
                    " data of shape ", shape_str(shape), " (", expected, " bytes), but only ", raw.size(),
                    " bytes follow. Re-download or reinstall the file"));
  unsigned char extra[64];
  if (const size_t more = in.read(extra, sizeof extra); more > 0)
    throw Error(msg("read_idx: ", name, " has ", more == sizeof extra ? "many" : std::to_string(more),
                    " more bytes than its header declares (", element_name(magic[2]), " ",
                    shape_str(shape), "): the header or the data is wrong. Re-download the file"));
  return convert(raw, shape, magic[2], width);
}

// Anything else a library below might throw (std::bad_alloc, std::length_error...) becomes a
// tandem::Error naming the file, so callers catch one type.
template <typename F> Tensor naming_failures(const std::string& name, F read) {
  try {
    return read();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(msg("read_idx: reading ", name, " failed: ", e.what()));
  }
}

}  // namespace

Tensor read_idx(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw Error(msg("read_idx: no such file: ", path, "; check the path"));
  if (std::filesystem::is_directory(path, ec))
    throw Error(msg("read_idx: ", path, " is a folder; give the path of an IDX file inside it"));
  return naming_failures(path, [&] {
    GzFileSource file(path);
    return parse(file, path);
  });
}

Tensor parse_idx(std::string_view bytes, const std::string& source) {
  return naming_failures(source, [&] {
    MemorySource memory(bytes, source);
    return parse(memory, source);
  });
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
